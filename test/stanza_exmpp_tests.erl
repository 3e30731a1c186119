%% stanza_exmpp: exmpp_xml's helpers on stanza's elements.
-module(stanza_exmpp_tests).

-include_lib("eunit/include/eunit.hrl").

-define(IQ, {xmlel, <<"iq">>, [{<<"type">>, <<"get">>}, {<<"id">>, <<"1">>}],
             [{xmlcdata, <<"t">>},
              {xmlel, <<"query">>, [{<<"xmlns">>, <<"jabber:iq:roster">>}],
               [{xmlel, <<"item">>, [{<<"jid">>, <<"a@b">>}], [{xmlcdata, <<"A">>}]},
                {xmlel, <<"item">>, [{<<"jid">>, <<"c@d">>}], []}]}]}).
-define(LEGACY, {xmlelement, "iq", [{"type", "get"}], [{xmlcdata, <<"t">>}]}).

get_attribute_test_() ->
    [?_assertEqual(<<"get">>, stanza_exmpp:get_attribute(?IQ, <<"type">>, none)),
     ?_assertEqual(<<"get">>, stanza_exmpp:get_attribute(?IQ, "type", none)),
     ?_assertEqual(<<"get">>, stanza_exmpp:get_attribute(?IQ, type, none)),
     ?_assertEqual(none, stanza_exmpp:get_attribute(?IQ, <<"to">>, none)),
     ?_assertEqual(<<>>, stanza_exmpp:get_attribute(?IQ, <<"to">>, <<>>)),
     ?_assertEqual("get", stanza_exmpp:get_attribute(?LEGACY, <<"type">>, none))].

set_attribute_test_() ->
    [?_assertEqual([{<<"type">>, <<"result">>}, {<<"id">>, <<"1">>}],
                   element(3, stanza_exmpp:set_attribute(?IQ, <<"type">>, <<"result">>))),
     ?_assertEqual([{<<"type">>, <<"get">>}, {<<"id">>, <<"1">>}, {<<"to">>, <<"x@y">>}],
                   element(3, stanza_exmpp:set_attribute(?IQ, to, "x@y"))),
     ?_assertEqual([{<<"type">>, <<"get">>}, {<<"id">>, <<"42">>}],
                   element(3, stanza_exmpp:set_attribute(?IQ, id, 42))),
     ?_assertEqual([{<<"type">>, <<"set">>}, {<<"id">>, <<"1">>}],
                   element(3, stanza_exmpp:set_attribute(?IQ, type, set))),
     %% Duplicates collapse into the one set.
     ?_assertEqual({xmlel, <<"a">>, [{<<"k">>, <<"3">>}, {<<"j">>, <<"2">>}], []},
                   stanza_exmpp:set_attribute({xmlel, <<"a">>, [{<<"k">>, <<"1">>}, {<<"j">>, <<"2">>},
                                                                {<<"k">>, <<"x">>}], []}, k, 3)),
     %% 2.x terms keep string values.
     ?_assertEqual({xmlelement, "iq", [{"type", "result"}], [{xmlcdata, <<"t">>}]},
                   stanza_exmpp:set_attribute(?LEGACY, type, result))].

remove_attribute_test_() ->
    [?_assertEqual([{<<"id">>, <<"1">>}], element(3, stanza_exmpp:remove_attribute(?IQ, type))),
     ?_assertEqual(?IQ, stanza_exmpp:remove_attribute(?IQ, <<"missing">>)),
     ?_assertEqual({xmlel, <<"a">>, [{<<"j">>, <<"2">>}], []},
                   stanza_exmpp:remove_attribute({xmlel, <<"a">>, [{<<"k">>, <<"1">>}, {<<"j">>, <<"2">>},
                                                                   {<<"k">>, <<"x">>}], []}, "k"))].

elements_test_() ->
    Query = stanza_exmpp:get_element(?IQ, query),
    [?_assertMatch({xmlel, <<"query">>, _, _}, Query),
     ?_assertEqual(undefined, stanza_exmpp:get_element(?IQ, <<"nope">>)),
     ?_assertEqual(undefined, stanza_exmpp:get_element({xmlel, <<"a">>, [], []}, <<"a">>)),
     ?_assertEqual(2, length(stanza_exmpp:get_elements(Query, <<"item">>))),
     ?_assertEqual([], stanza_exmpp:get_elements(Query, <<"group">>)),
     ?_assertEqual([], stanza_exmpp:get_elements(?IQ, <<"item">>))].

cdata_test_() ->
    [?_assertEqual(<<"t">>, stanza_exmpp:get_cdata(?IQ)),
     ?_assertEqual(<<"A">>, stanza_exmpp:get_cdata(
                              stanza_exmpp:get_element(stanza_exmpp:get_element(?IQ, query), item))),
     ?_assertEqual(<<>>, stanza_exmpp:get_cdata(stanza_exmpp:get_element(?IQ, <<"body">>))),
     ?_assertEqual(<<>>, stanza_exmpp:get_cdata(undefined)),
     ?_assertEqual(<<>>, stanza_exmpp:get_cdata({xmlel, <<"a">>, [], []}))].

element_test_() ->
    [?_assertEqual({xmlel, <<"presence">>, [], []}, stanza_exmpp:element(presence)),
     ?_assertEqual({xmlel, <<"presence">>, [], []}, stanza_exmpp:element("presence")),
     ?_assertEqual({xmlel, <<"query">>, [{<<"xmlns">>, <<"jabber:iq:version">>}], []},
                   stanza_exmpp:element('jabber:iq:version', query)),
     ?_assertEqual(<<"<query xmlns='urn:x'/>">>,
                   stanza_xml:element_to_binary(stanza_exmpp:element(<<"urn:x">>, <<"query">>)))].

ns_as_atom_test_() ->
    Fresh = <<"urn:stanza:test:", (integer_to_binary(erlang:unique_integer([positive])))/binary>>,
    [?_assertEqual('jabber:iq:roster',
                   begin _ = 'jabber:iq:roster',
                         stanza_exmpp:get_ns_as_atom(stanza_exmpp:get_element(?IQ, query))
                   end),
     ?_assertEqual(undefined, stanza_exmpp:get_ns_as_atom(?IQ)),
     %% No atom exists for it, and none is made.
     ?_assertEqual(undefined, stanza_exmpp:get_ns_as_atom({xmlel, <<"a">>, [{<<"xmlns">>, Fresh}], []})),
     ?_assertError(badarg, binary_to_existing_atom(Fresh, utf8)),
     ?_assertEqual('jabber:client',
                   stanza_exmpp:get_ns_as_atom({xmlelement, "a", [{"xmlns", "jabber:client"}], []}))].

%% exmpp_xml:element/4: namespace first, attributes after it; `undefined'
%% (what get_ns_as_atom/1 gives for none) means no xmlns.
element4_test_() ->
    [?_assertEqual({xmlel, <<"query">>, [{<<"xmlns">>, <<"urn:x">>}, {<<"node">>, <<"n">>}],
                    [{xmlcdata, <<"t">>}]},
                   stanza_exmpp:element('urn:x', 'query', [{node, "n"}], [{xmlcdata, <<"t">>}])),
     ?_assertEqual({xmlel, <<"r">>, [{<<"k">>, <<"3">>}], []},
                   stanza_exmpp:element(undefined, <<"r">>, [{<<"k">>, 3}], [])),
     ?_assertEqual(<<"<query xmlns='urn:x'><response xmlns='urn:x'>ok</response></query>">>,
                   stanza_xml:element_to_binary(
                     stanza_exmpp:element(<<"urn:x">>, query, [],
                                          [stanza_exmpp:element("urn:x", response, [],
                                                                [{xmlcdata, <<"ok">>}])])))].

%% get_ns_as_atom/1 reads atoms, never makes one, on every element form.
get_ns_as_atom_forms_test_() ->
    Fresh = <<"urn:stanza:never-an-atom-", (integer_to_binary(erlang:unique_integer([positive])))/binary>>,
    Count = erlang:system_info(atom_count),
    [?_assertEqual('jabber:iq:roster', stanza_exmpp:get_ns_as_atom(stanza_exmpp:get_element(?IQ, query))),
     ?_assertEqual('jabber:iq:roster',
                   stanza_exmpp:get_ns_as_atom({xmlelement, "query", [{"xmlns", "jabber:iq:roster"}], []})),
     ?_assertEqual(undefined, stanza_exmpp:get_ns_as_atom({xmlel, <<"q">>, [{<<"xmlns">>, Fresh}], []})),
     ?_assertEqual(undefined, stanza_exmpp:get_ns_as_atom({xmlelement, "q", [{"xmlns", binary_to_list(Fresh)}], []})),
     ?_assertEqual(undefined, stanza_exmpp:get_ns_as_atom({xmlel, <<"q">>, [], []})),
     ?_test(?assert(erlang:system_info(atom_count) - Count < 5))].
