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

%% Names that no atom has yet, different on every run.
fresh(Prefix) ->
    iolist_to_binary([Prefix, integer_to_list(erlang:unique_integer([positive]))]).

%% The issue's reproducer: a document whose names were not atoms yet
%% answers an XPath query the first time, as it does the second time.
to_xmerl_fresh_names_work_with_xpath_test() ->
    [Iq, Query, Item, Jid] = [fresh(P) || P <- ["qqiq", "qqquery", "qqitem", "qqjid"]],
    ?assertError(badarg, binary_to_existing_atom(Item, utf8)),
    El = {xmlel, Iq, [], [{xmlel, Query, [], [{xmlel, Item, [{Jid, <<"a@b">>}], []}]}]},
    Doc = stanza_xmerl:to_xmerl(El),
    Path = lists:flatten(io_lib:format("/~s/~s/~s/@~s", [Iq, Query, Item, Jid])),
    ?assertMatch([#xmlAttribute{value = "a@b"}], xmerl_xpath:string(Path, Doc)),
    ?assertEqual(Doc, stanza_xmerl:to_xmerl(El)).

%% Every name is an atom, so xmerl:export_simple/2 writes any document,
%% and what it writes reads back as the element.
to_xmerl_export_simple_test_() ->
    Fresh = fresh("qqitem"),
    Els = [{xmlel, <<"message">>, [{fresh("qqattr"), <<"1 < 2 & \"3\"">>}],
            [{xmlel, Fresh, [], [{xmlcdata, <<"caf\xc3\xa9 <&>">>}]}]},
           {xmlel, <<"stream:features">>, [{<<"xmlns:stream">>, <<"urn:s">>}],
            [{xmlel, <<"starttls">>, [{<<"xmlns">>, <<"urn:t">>}], []}]}
           | [parse(P, xmlel) || P <- ?PACKETS]],
    [?_assertEqual({ok, El},
                   stanza_stream:parse_element(
                     unicode:characters_to_binary(
                       xmerl:export_simple([stanza_xmerl:to_xmerl(El)], xmerl_xml,
                                           [{prolog, []}])),
                     #{format => xmlel}))
     || El <- Els].

%% nsinfo as xmerl_scan gives it, so XPath on prefixed names agrees.
to_xmerl_prefixed_names_test() ->
    Bin = <<"<s:a xmlns:s='urn:s' s:k='v'><b x='1'>t</b></s:a>">>,
    Ours = stanza_xmerl:to_xmerl(parse(Bin)),
    Theirs = scan(Bin),
    ?assertEqual({"s", "a"}, Ours#xmlElement.nsinfo),
    ?assertEqual([{"xmlns", "s"}, {"s", "k"}],
                 [A#xmlAttribute.nsinfo || A <- Ours#xmlElement.attributes]),
    [?assertEqual(strip(xmerl_xpath:string(Q, Theirs)), strip(xmerl_xpath:string(Q, Ours)))
     || Q <- ["/s:a/@s:k", "//b/text()", "/s:a/b/@x", "count(//b)"]].

%% Values only: positions and file names differ between the two makers.
strip(Nodes) when is_list(Nodes) ->
    [case N of
         #xmlAttribute{name = Name, value = V} -> {Name, V};
         #xmlText{value = V} -> V
     end || N <- Nodes];
strip(Other) ->
    Other.

%% No new atom once the table is past the share asked for; existing
%% atoms still work; the result does not depend on history otherwise.
to_xmerl_atom_table_guard_test_() ->
    Name = fresh("qqguard"),
    [?_assertError({atom_table_nearly_full, Name},
                   stanza_xmerl:to_xmerl({xmlel, Name, [], []}, #{max_atom_table_use => 0.0})),
     ?_assertMatch(#xmlElement{name = message},
                   stanza_xmerl:to_xmerl({xmlel, <<"message">>, [], []},
                                         #{max_atom_table_use => 0.0})),
     ?_assertError({name_too_long, _},
                   stanza_xmerl:to_xmerl({xmlel, binary:copy(<<"n">>, 256), [], []})),
     ?_assertMatch(#xmlElement{},
                   stanza_xmerl:to_xmerl({xmlel, binary:copy(<<"\xc3\xa9">>, 255), [], []})),
     ?_assertMatch(#xmlElement{name = a},
                   stanza_xmerl:to_xmerl({xmlel, <<"a">>, [], []}, #{atoms => create})),
     ?_assertError({bad_option, atoms, existing},
                   stanza_xmerl:to_xmerl({xmlel, <<"a">>, [], []}, #{atoms => existing})),
     ?_assertError({bad_options, [x]}, stanza_xmerl:to_xmerl({xmlel, <<"a">>, [], []}, [x]))].

%% xmerl accepts comments inside a stanza; stanza refuses them unless told
%% to drop them (doc/migrating-from-xmerl.md).
comments_inside_a_stanza_test_() ->
    Bin = <<"<message><!-- c --><body>hi</body></message>">>,
    [?_assertMatch(#xmlElement{name = message}, scan(Bin)),
     ?_assertEqual({error, {restricted_xml, comment}}, stanza_stream:parse_element(Bin)),
     ?_assertEqual({ok, stanza_xmerl:from_xmerl(scan(Bin))},
                   stanza_stream:parse_element(Bin, #{restricted => drop}))].

parse(Bin, Format) ->
    {ok, El} = stanza_stream:parse_element(Bin, #{format => Format}),
    El.

scan(Bin) ->
    {Doc, []} = xmerl_scan:string(binary_to_list(Bin)),
    Doc.
