%% The constant contexts of the common stream headers are the very terms
%% the general path builds (so sharing them changes nothing but memory).
-module(stanza_fxml_ns_tests).

-include_lib("eunit/include/eunit.hrl").

-define(STREAM_NS, <<"http://etherx.jabber.org/streams">>).

common_contexts_equal_built_test_() ->
    [?_assertEqual(stanza_fxml_ns:built_context(stanza_fxml_ns:declarations(H)),
                   stanza_fxml_ns:root(H))
     || Ns <- [<<"jabber:client">>, <<"jabber:server">>, <<"jabber:component:accept">>],
        H <- [[{<<"xmlns">>, Ns}, {<<"xmlns:stream">>, ?STREAM_NS}],
              [{<<"xmlns:stream">>, ?STREAM_NS}, {<<"xmlns">>, Ns}, {<<"to">>, <<"x">>},
               {<<"version">>, <<"1.0">>}]]].

%% Other headers still get their own context: another default namespace,
%% a second prefix, a stream prefix bound elsewhere.
other_headers_test_() ->
    [?_assertEqual(stanza_fxml_ns:built_context(stanza_fxml_ns:declarations(H)),
                   stanza_fxml_ns:root(H))
     || H <- [[{<<"xmlns">>, <<"urn:other">>}, {<<"xmlns:stream">>, ?STREAM_NS}],
              [{<<"xmlns">>, <<"jabber:server">>}, {<<"xmlns:stream">>, ?STREAM_NS},
               {<<"xmlns:db">>, <<"jabber:server:dialback">>}],
              [{<<"xmlns">>, <<"jabber:client">>}, {<<"xmlns:stream">>, <<"urn:x">>}],
              []]].
