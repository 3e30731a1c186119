%% stanza_exmpp_iq: exmpp_iq's payload, result and error on stanza's terms.
-module(stanza_exmpp_iq_tests).

-include_lib("eunit/include/eunit.hrl").

-define(QUERY, {xmlel, <<"query">>, [{<<"xmlns">>, <<"urn:x">>}], []}).
-define(IQ, {xmlel, <<"iq">>, [{<<"type">>, <<"get">>}, {<<"id">>, <<"7">>},
                               {<<"from">>, <<"a@b/c">>}, {<<"to">>, <<"echo.b">>}],
             [{xmlcdata, <<" ">>}, ?QUERY]}).
-define(LEGACY, {xmlelement, "iq", [{"type", "set"}, {"id", "9"}, {"from", "a@b/c"}],
                 [{xmlelement, "query", [{"xmlns", "urn:y"}], []}]}).

get_payload_test_() ->
    [?_assertEqual(?QUERY, stanza_exmpp_iq:get_payload(?IQ)),
     ?_assertEqual({xmlelement, "query", [{"xmlns", "urn:y"}], []}, stanza_exmpp_iq:get_payload(?LEGACY)),
     ?_assertEqual(undefined, stanza_exmpp_iq:get_payload({xmlel, <<"iq">>, [], [{xmlcdata, <<"x">>}]}))].

result_test_() ->
    Payload = {xmlel, <<"query">>, [{<<"xmlns">>, <<"urn:x">>}], [{xmlcdata, <<"r">>}]},
    [?_assertEqual({xmlel, <<"iq">>, [{<<"type">>, <<"result">>}, {<<"id">>, <<"7">>},
                                      {<<"to">>, <<"a@b/c">>}, {<<"from">>, <<"echo.b">>}], []},
                   stanza_exmpp_iq:result(?IQ)),
     ?_assertEqual([Payload], element(4, stanza_exmpp_iq:result(?IQ, Payload))),
     %% no `to' in the request: no `from' in the answer; the 2.x form stays
     ?_assertEqual({xmlelement, "iq", [{"type", "result"}, {"id", "9"}, {"to", "a@b/c"}], []},
                   stanza_exmpp_iq:result(?LEGACY))].

error_test_() ->
    [?_assertEqual(<<"<iq type='error' id='7' to='a@b/c' from='echo.b'><query xmlns='urn:x'/>"
                     "<error type='cancel'><service-unavailable "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>">>,
                   stanza_xml:element_to_binary(stanza_exmpp_iq:error(?IQ, 'service-unavailable'))),
     ?_assertMatch({xmlel, <<"iq">>, _, [?QUERY, {xmlel, <<"error">>, [{<<"type">>, <<"modify">>}], _}]},
                   stanza_exmpp_iq:error(?IQ, <<"bad-request">>)),
     ?_assertMatch({xmlel, <<"iq">>, _, [?QUERY, {xmlel, <<"error">>, [{<<"type">>, <<"auth">>}], _}]},
                   stanza_exmpp_iq:error(?IQ, forbidden)),
     ?_assertMatch({xmlel, <<"iq">>, _, [?QUERY, {xmlel, <<"error">>, [{<<"type">>, <<"wait">>}], _}]},
                   stanza_exmpp_iq:error(?IQ, 'resource-constraint')),
     ?_assertMatch({xmlel, <<"iq">>, _, [?QUERY, {xmlel, <<"error">>, [], []}]},
                   stanza_exmpp_iq:error(?IQ, {xmlel, <<"error">>, [], []}))].

is_request_test_() ->
    [?_assert(stanza_exmpp_iq:is_request(?IQ)),
     ?_assert(stanza_exmpp_iq:is_request(?LEGACY)),
     ?_assertNot(stanza_exmpp_iq:is_request(stanza_exmpp_iq:result(?IQ)))].
