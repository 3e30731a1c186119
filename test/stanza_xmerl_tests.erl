%% stanza_xmerl's conversions, and the xmerl module against its stanza
%% version (mod_example_xmerl, mod_example_stanza).
-module(stanza_xmerl_tests).

-include_lib("eunit/include/eunit.hrl").
-include_lib("xmerl/include/xmerl.hrl").

-define(PACKETS,
        [<<"<iq type='get' id='v1' from='juliet@capulet.lit/balcony' to='capulet.lit'>"
           "<query xmlns='jabber:iq:version'/></iq>">>,
         <<"<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>"
           "<item jid='romeo@montague.lit' name='Romeo'><group>Friends</group></item>"
           "<item jid='nurse@capulet.lit'/></query></iq>">>,
         <<"<iq type='set' id='e1'/>">>,
         <<"<message to='romeo@montague.lit' type='chat'><body>Wherefore art thou &amp; "
           "caf\xc3\xa9 \xe4\xb8\xad &#x1F600; &lt;3</body></message>">>,
         <<"<message><subject>no body</subject></message>">>,
         <<"<message><body/></message>">>]).

%% xmerl holds characters, stanza UTF-8 binaries.
chars_to_bin(L) -> unicode:characters_to_binary(L).

same_answers_test_() ->
    [{binary_to_list(P),
      fun() ->
              X = binary_to_list(P), % xmerl_scan reads a string of UTF-8 bytes
              {T, I, Q} = mod_example_xmerl:iq_info(X),
              ?assertEqual({chars_to_bin(T), chars_to_bin(I), chars_to_bin(Q)},
                           mod_example_stanza:iq_info(P)),
              ?assertEqual(chars_to_bin(mod_example_xmerl:message_body(X)),
                           mod_example_stanza:message_body(P)),
              ?assertEqual([chars_to_bin(J) || J <- mod_example_xmerl:roster_jids(X)],
                           mod_example_stanza:roster_jids(P))
      end} || P <- ?PACKETS].

same_reply_test_() ->
    [?_assertEqual(parse(chars_to_bin(mod_example_xmerl:version_reply(
                                        binary_to_list(P), "stanza", "1.0 <beta>"))),
                   parse(mod_example_stanza:version_reply(P, <<"stanza">>, <<"1.0 <beta>">>)))
     || P <- ?PACKETS, binary:match(P, <<"<iq">>) =/= nomatch].

%% The answers themselves, so that the two cannot agree on nonsense.
answers_test_() ->
    [V, R, _, M, S, E] = ?PACKETS,
    [?_assertEqual({<<"get">>, <<"v1">>, <<"jabber:iq:version">>}, mod_example_stanza:iq_info(V)),
     ?_assertEqual([<<"romeo@montague.lit">>, <<"nurse@capulet.lit">>], mod_example_stanza:roster_jids(R)),
     ?_assertEqual(<<"Wherefore art thou & caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 <3">>,
                   mod_example_stanza:message_body(M)),
     ?_assertEqual(<<>>, mod_example_stanza:message_body(S)),
     ?_assertEqual(<<>>, mod_example_stanza:message_body(E)),
     ?_assertEqual(<<"<iq type='result' id='v1' to='juliet@capulet.lit/balcony'>"
                     "<query xmlns='jabber:iq:version'><name>s</name><version>1</version>"
                     "</query></iq>">>,
                   mod_example_stanza:version_reply(V, <<"s">>, <<"1">>))].

parse(Bin) ->
    {ok, El} = stanza_stream:parse_element(Bin),
    El.

%%--------------------------------------------------------------------
%% Conversions

from_xmerl_equals_parse_test_() ->
    [?_assertEqual(stanza_stream:parse_element(P, #{format => F}),
                   {ok, stanza_xmerl:from_xmerl(scan(P), F)})
     || P <- ?PACKETS ++ [<<"<a xmlns:p='urn:p' k='1' xmlns='urn:d'><p:b p:k='2'/>x<c/></a>">>],
        F <- [binary, legacy, xmlel]].

from_xmerl_default_format_test() ->
    ?assertEqual(stanza_xmerl:from_xmerl(scan(<<"<a/>">>), binary),
                 stanza_xmerl:from_xmerl(scan(<<"<a/>">>))).

%% Comments and processing instructions are dropped and the text around
%% them merged, as stanza_stream does with restricted => drop.
from_xmerl_drops_comments_test() ->
    X = #xmlElement{name = a, content = [#xmlText{value = "x"},
                                         #xmlComment{value = "c"},
                                         #xmlPI{name = p, value = "v"},
                                         #xmlText{value = "y"}]},
    ?assertEqual({xmlel, <<"a">>, [], [{xmlcdata, <<"xy">>}]},
                 stanza_xmerl:from_xmerl(X, xmlel)).

to_xmerl_round_trip_test_() ->
    [?_assertEqual({ok, stanza_xmerl:from_xmerl(stanza_xmerl:to_xmerl(El))}, {ok, El})
     || P <- ?PACKETS, {ok, El} <- [stanza_stream:parse_element(P)]].

to_xmerl_works_with_xpath_test() ->
    X = stanza_xmerl:to_xmerl(parse(lists:nth(2, ?PACKETS))),
    ?assertMatch([#xmlAttribute{value = "romeo@montague.lit"}, #xmlAttribute{value = "nurse@capulet.lit"}],
                 xmerl_xpath:string("/iq/query/item/@jid", X)),
    ?assertMatch([#xmlText{value = "Friends"}], xmerl_xpath:string("//group/text()", X)).

%% Existing atoms are used, nothing is created unless asked for.
to_xmerl_atoms_test() ->
    Name = <<"stanza_test_name_that_is_not_an_atom_", (integer_to_binary(erlang:unique_integer([positive])))/binary>>,
    El = {xmlel, <<"message">>, [{Name, <<"v">>}], [{xmlel, Name, [], []}]},
    #xmlElement{name = message, attributes = [#xmlAttribute{name = AttrName}],
                content = [#xmlElement{name = ChildName}]} = stanza_xmerl:to_xmerl(El),
    ?assertEqual(binary_to_list(Name), AttrName),
    ?assertEqual(binary_to_list(Name), ChildName),
    ?assertError(badarg, binary_to_existing_atom(Name, utf8)),
    #xmlElement{content = [#xmlElement{name = Atom}]} = stanza_xmerl:to_xmerl(El, #{atoms => create}),
    ?assertEqual(Name, atom_to_binary(Atom, utf8)).

scan(Bin) ->
    {Doc, []} = xmerl_scan:string(binary_to_list(Bin)),
    Doc.
