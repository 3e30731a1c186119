%% The client's pure parts: exchanges, inspector actions, the random
%% inspector, IQ building and reading, options.
-module(stanza_client_parts_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_xmlel.hrl").

exchanges_route_full_then_bare_then_default_test() ->
    [A, B, D] = [spawn(fun() -> ok end) || _ <- [1, 2, 3]],
    T0 = stanza_client_exchanges:new(),
    ?assertEqual(none, stanza_client_exchanges:route(T0, <<"iq">>, {<<"a@b/c">>, <<"a@b">>})),
    T1 = stanza_client_exchanges:register(T0, <<"iq">>, <<"a@b">>, A),
    T2 = stanza_client_exchanges:register(T1, <<"iq">>, <<"a@b/c">>, B),
    T3 = stanza_client_exchanges:register_default(T2, D),
    ?assertEqual(B, stanza_client_exchanges:route(T3, <<"iq">>, {<<"a@b/c">>, <<"a@b">>})),
    ?assertEqual(A, stanza_client_exchanges:route(T3, <<"iq">>, {<<"a@b/other">>, <<"a@b">>})),
    ?assertEqual(D, stanza_client_exchanges:route(T3, <<"message">>, {<<"a@b/c">>, <<"a@b">>})),
    ?assertEqual(D, stanza_client_exchanges:route(T3, <<"iq">>, {<<"x@y/z">>, <<"x@y">>})),
    T4 = stanza_client_exchanges:remove_pid(T3, B),
    ?assertEqual(A, stanza_client_exchanges:route(T4, <<"iq">>, {<<"a@b/c">>, <<"a@b">>})),
    T5 = stanza_client_exchanges:unregister(stanza_client_exchanges:remove_pid(T4, D),
                                            <<"iq">>, <<"a@b">>),
    ?assertEqual(none, stanza_client_exchanges:route(T5, <<"iq">>, {<<"a@b/c">>, <<"a@b">>})),
    ?assertEqual([A, D], lists:sort(stanza_client_exchanges:sinks(T3)) -- [B]).

inspector_actions_test() ->
    ?assertEqual({[x], []}, stanza_inspector:apply_action(route, x)),
    ?assertEqual({[], []}, stanza_inspector:apply_action(drop, x)),
    ?assertEqual({[], [{5, x}]}, stanza_inspector:apply_action({delay, 5}, x)),
    ?assertEqual({[x, x, x], []}, stanza_inspector:apply_action({duplicate, 2}, x)),
    ?assertEqual({[y], []}, stanza_inspector:apply_action({replace, y}, x)),
    ?assertError({bad_inspector_action, {delay, -1}},
                 stanza_inspector:apply_action({delay, -1}, x)).

random_inspector_is_seeded_and_proportional_test() ->
    Opts = #{seed => 7, drop => 0.1, delay => 0.1, duplicate => 0.1, max_delay_ms => 50},
    Run = fun() ->
                  {ok, S0} = stanza_random_inspector:init(Opts),
                  lists:mapfoldl(fun(_, S) -> stanza_random_inspector:inspect(in, el, S) end,
                                 S0, lists:seq(1, 10000))
          end,
    {Actions, #{counts := Counts}} = Run(),
    ?assertMatch({Actions, _}, Run()),
    [?assert(abs(maps:get(K, Counts) - 1000) < 150) || K <- [drop, delay, duplicate]],
    ?assert(lists:all(fun({delay, Ms}) -> Ms >= 1 andalso Ms =< 50; (_) -> true end, Actions)),
    %% Directions it is not asked to touch are routed.
    {ok, S1} = stanza_random_inspector:init(Opts#{directions => [out], drop => 1.0,
                                                  delay => 0.0, duplicate => 0.0}),
    ?assertMatch({route, _}, stanza_random_inspector:inspect(in, el, S1)),
    ?assertMatch({drop, _}, stanza_random_inspector:inspect(out, el, S1)),
    ?assertError({bad_option, probabilities, _},
                 stanza_random_inspector:init(#{drop => 0.6, delay => 0.6})),
    ?assertError({bad_option, drop, 2}, stanza_random_inspector:init(#{drop => 2})).

iq_build_forms_test_() ->
    Expect = <<"<iq type='get' id='7' to='a@b'><q xmlns='urn:x'/></iq>">>,
    [?_assertEqual({ok, Expect}, stanza_client_iq:build("get", "7", "a@b",
                                                        {xmlelement, "q", [{"xmlns", "urn:x"}], []})),
     ?_assertEqual({ok, Expect}, stanza_client_iq:build(<<"get">>, <<"7">>, <<"a@b">>,
                                                        #xmlel{name = <<"q">>,
                                                               attrs = [{<<"xmlns">>, <<"urn:x">>}]})),
     ?_assertEqual({ok, Expect}, stanza_client_iq:build("get", "7", "a@b", "<q xmlns='urn:x'/>")),
     ?_assertEqual({ok, <<"<iq type='result'/>">>}, stanza_client_iq:build(result, "", "", [])),
     ?_assertEqual({ok, <<"<iq type='set' id='1'><a/>t<b/></iq>">>},
                   stanza_client_iq:build("set", "1", "", "<a/>t<b/>")),
     %% Raw payloads are parsed: nothing unbalanced or injected goes out.
     ?_assertMatch({error, {bad_payload, _}}, stanza_client_iq:build("set", "1", "", "<a>")),
     ?_assertMatch({error, {bad_payload, _}},
                   stanza_client_iq:build("set", "1", "", "</iq><iq type='set'>")),
     ?_assertEqual({ok, <<"<iq type='get' id='&apos;'/>">>},
                   stanza_client_iq:build("get", "'", "", [])),
     ?_assertMatch({error, {badxml, _}},
                   stanza_client_iq:build("get", "1", "", {xmlelement, "a b", [], []}))].

iq_classify_test() ->
    El = {xmlel, <<"iq">>, [{<<"type">>, <<"result">>}, {<<"id">>, <<"9">>},
                            {<<"from">>, <<"a@b/c">>}], []},
    S = stanza_client_iq:classify(El),
    ?assertEqual(#{name => <<"iq">>, type => <<"result">>, id => <<"9">>, from => <<"a@b/c">>}, S),
    ?assert(stanza_client_iq:is_reply(S)),
    ?assert(stanza_client_iq:is_reply(S#{type := <<"error">>})),
    ?assertNot(stanza_client_iq:is_reply(S#{type := <<"get">>})),
    ?assertNot(stanza_client_iq:is_reply(S#{name := <<"message">>})),
    ?assertEqual(#{name => <<"message">>, type => <<>>, id => <<>>, from => <<>>},
                 stanza_client_iq:classify({xmlelement, "message", [], []})).

config_test() ->
    C = stanza_client_config:normalize([{host, "localhost"}, {user, "foo"}, {password, "bar"},
                                        {resource, "foo"}]),
    ?assertMatch(#{host := "localhost", domain := <<"localhost">>, user := <<"foo">>,
                   password := <<"bar">>, resource := <<"foo">>, port := 5222,
                   starttls := required, format := legacy}, C),
    ?assertMatch(#{domain := <<"example.com">>, port := 5223},
                 stanza_client_config:normalize(#{host => {127, 0, 0, 1}, user => <<"u">>,
                                                  password => <<"p">>, port => 5223,
                                                  domain => "example.com"})),
    ?assertError({bad_option, password, missing},
                 stanza_client_config:normalize([{host, "h"}, {user, "u"}])),
    ?assertError({bad_option, colour, blue},
                 stanza_client_config:normalize([{host, "h"}, {user, "u"}, {password, "p"},
                                                 {colour, blue}])),
    ?assertError({bad_option, starttls, maybe},
                 stanza_client_config:normalize(#{host => "h", user => "u", password => "p",
                                                  starttls => maybe})),
    ?assertError({bad_option, config, [x]}, stanza_client_config:normalize([x])).
