%% stanza_client against a scripted XMPP server on loopback
%% (stanza_fake_xmpp): login, natter's API shapes, routing by peer and
%% id under concurrency, late, duplicate and forged replies, disconnects
%% and reconnects, and fault injection. The same client against a real
%% ejabberd is in stanza_client_ejabberd_SUITE.
-module(stanza_client_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").
-include("stanza_xmlel.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([login_scram_sha256/1, login_scram_sha1/1, wrong_password/1, refused/1,
         starttls_required_by_default/1, natter_shapes/1, concurrent_requests_to_one_peer/1,
         late_reply_is_dropped/1, duplicate_reply_is_dropped/1, foreign_reply_is_dropped/1,
         peer_case_does_not_matter/1, disconnect_fails_waiters_at_once/1,
         reconnects_and_keeps_exchanges/1, unrouted_get_is_answered/1,
         random_faults_one_outcome_each/1, async_request/1, bad_arguments/1]).

all() ->
    [login_scram_sha256, login_scram_sha1, wrong_password, refused,
     starttls_required_by_default, natter_shapes, concurrent_requests_to_one_peer,
     late_reply_is_dropped, duplicate_reply_is_dropped, foreign_reply_is_dropped,
     peer_case_does_not_matter, disconnect_fails_waiters_at_once,
     reconnects_and_keeps_exchanges, unrouted_get_is_answered,
     random_faults_one_outcome_each, async_request, bad_arguments].

-define(USERS, #{<<"foo">> => <<"bar">>, <<"peer">> => <<"secret">>}).

init_per_testcase(Case, Config) ->
    {ok, Server} = stanza_fake_xmpp:start(#{users => ?USERS, handler => handler(Case),
                                             mechanisms => mechanisms(Case)}),
    [{server, Server} | Config].

end_per_testcase(_, Config) ->
    stanza_fake_xmpp:stop(?config(server, Config)).

mechanisms(login_scram_sha1) -> [<<"SCRAM-SHA-1">>];
mechanisms(_) -> [<<"SCRAM-SHA-256">>, <<"SCRAM-SHA-1">>].

handler(concurrent_requests_to_one_peer) ->
    %% Replies in a shuffled order, some after others sent later.
    fun(El, Send) -> spawn(fun() -> timer:sleep(rand:uniform(50)), reply(El, Send) end) end;
handler(late_reply_is_dropped) ->
    fun(El, Send) -> spawn(fun() -> timer:sleep(300), reply(El, Send) end) end;
handler(duplicate_reply_is_dropped) ->
    fun(El, Send) -> reply(El, Send), reply(El, Send) end;
handler(foreign_reply_is_dropped) ->
    fun(#xmlel{attrs = A} = El, Send) ->
            Forged = El#xmlel{attrs = [{<<"to">>, <<"mallory@localhost/x">>}
                                       | lists:keydelete(<<"to">>, 1, A)]},
            reply(Forged, Send)
    end;
handler(peer_case_does_not_matter) ->
    fun(#xmlel{attrs = A} = El, Send) ->
            reply(El#xmlel{attrs = [{<<"to">>, <<"PEER@LocalHost/r">>}
                                    | lists:keydelete(<<"to">>, 1, A)]}, Send)
    end;
handler(disconnect_fails_waiters_at_once) ->
    fun(_, _) -> ok end;
handler(_) ->
    fun reply/2.

reply(#xmlel{name = <<"iq">>} = El, Send) ->
    case stanza_xml:get_tag_attr_s(<<"type">>, El) of
        T when T =:= <<"get">>; T =:= <<"set">> -> Send(stanza_fake_xmpp:result(El));
        _ -> ok
    end;
reply(_, _) ->
    ok.

%% Extra options first: as with natter's proplists, the first wins.
config(Config, Extra) ->
    Extra ++
    [{host, "127.0.0.1"}, {port, stanza_fake_xmpp:port(?config(server, Config))},
     {domain, "localhost"}, {user, "foo"}, {password, "bar"}, {resource, "foo"},
     {starttls, never}, {presence, false}].

%%--------------------------------------------------------------------

login_scram_sha256(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ?assertEqual(<<"foo@localhost/foo">>, stanza_client:jid(Cn)),
    stanza_client:close(Cn).

login_scram_sha1(Config) ->
    login_scram_sha256(Config).

wrong_password(Config) ->
    process_flag(trap_exit, true),
    ?assertEqual({error, {sasl_failure, not_authorized}},
                 stanza_client:start_link(config(Config, [{password, "wrong"}]))).

refused(Config) ->
    process_flag(trap_exit, true),
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    gen_tcp:close(L),
    ?assertEqual({error, {connect, econnrefused}},
                 stanza_client:start_link(config(Config, [{port, Port}]))).

%% The fake server offers no STARTTLS: without `{starttls, never}' the
%% client refuses to go on in clear.
starttls_required_by_default(Config) ->
    process_flag(trap_exit, true),
    ?assertEqual({error, starttls_unavailable},
                 stanza_client:start_link(lists:keydelete(starttls, 1, config(Config, [])))).

%% The natter snippet, with natter_connection renamed.
natter_shapes(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ok = stanza_client:register_default_exchange(self(), Cn),
    ok = stanza_client:register_exchange(Cn, "iq", "bar@localhost", self()),
    Payload = {xmlelement, "hello-world", [], []},
    ok = stanza_client:send_iq(Cn, "result", "100", "foo@localhost", Payload),
    {ok, Reply} = stanza_client:send_wait_iq(Cn, "set", "100", "peer@localhost/r", Payload),
    ?assertMatch({xmlelement, "iq", _, [{xmlelement, "hello-world", [], []}]}, Reply),
    {xmlelement, "iq", Attrs, _} = Reply,
    ?assertEqual("result", proplists:get_value("type", Attrs)),
    ?assertEqual("100", proplists:get_value("id", Attrs)),
    %% A request from the server reaches the exchange registered for its
    %% sender, and other stanzas the default one, as {packet, El}.
    ok = stanza_fake_xmpp:push(?config(server, Config),
                               <<"<iq type='get' id='101' from='bar@localhost/x'><q/></iq>"
                                 "<message from='z@localhost' id='m1'><body>hi</body></message>">>),
    ?assertMatch({xmlelement, "iq", [{"type", "get"}, {"id", "101"} | _], _}, packet()),
    ?assertMatch({xmlelement, "message", _, _}, packet()),
    stanza_client:close(Cn).

%% natter routed replies by sender only: concurrent requests to one peer
%% took each other's replies. Here 1,000 requests from 50 processes,
%% answered in shuffled order, each get their own.
concurrent_requests_to_one_peer(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    Self = self(),
    Workers = [spawn_link(fun() -> Self ! {done, self(), worker(Cn, W, 20)} end)
               || W <- lists:seq(1, 50)],
    Results = [receive {done, P, R} -> R after 30000 -> timeout end || P <- Workers],
    ?assertEqual(lists:duplicate(50, ok), Results),
    ?assertMatch(#{replies := 1000, replies_dropped := 0, waiting := 0},
                 stanza_client:stats(Cn)),
    stanza_client:close(Cn).

worker(Cn, W, N) ->
    lists:foreach(
      fun(I) ->
              Marker = iolist_to_binary(io_lib:format("w~b-~b", [W, I])),
              {ok, {xmlelement, "iq", _, [{xmlelement, "m", [{"v", V}], []}]}} =
                  stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r",
                                             #xmlel{name = <<"m">>, attrs = [{<<"v">>, Marker}]}),
              Marker = list_to_binary(V)
      end, lists:seq(1, N)),
    ok.

late_reply_is_dropped(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ok = stanza_client:register_default_exchange(Cn, self()),
    ?assertEqual({error, timeout},
                 stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", [], 100)),
    timer:sleep(400),
    ?assertMatch(#{replies := 0, replies_dropped := 1, waiting := 0}, stanza_client:stats(Cn)),
    ?assertEqual(none, receive {packet, P} -> P after 0 -> none end),
    stanza_client:close(Cn).

duplicate_reply_is_dropped(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    {ok, _} = stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", []),
    {ok, _} = stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", []),
    timer:sleep(100),
    ?assertMatch(#{replies := 2, replies_dropped := 2}, stanza_client:stats(Cn)),
    stanza_client:close(Cn).

foreign_reply_is_dropped(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ?assertEqual({error, timeout},
                 stanza_client:send_wait_iq(Cn, "get", "7", "peer@localhost/r", [], 300)),
    ?assertMatch(#{replies := 0, replies_dropped := 1}, stanza_client:stats(Cn)),
    stanza_client:close(Cn).

peer_case_does_not_matter(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ?assertMatch({ok, _}, stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", [], 2000)),
    stanza_client:close(Cn).

%% 100 requests wait; the server drops the connection; every waiter
%% gets {error, disconnected} at once, not at its 60 s timeout.
disconnect_fails_waiters_at_once(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    Self = self(),
    Waiters = [spawn_link(fun() ->
                                  Self ! {out, self(), stanza_client:send_wait_iq(
                                                        Cn, "get", "", "peer@localhost/r", [])}
                          end) || _ <- lists:seq(1, 100)],
    stanza_client_test:wait_until(fun() -> maps:get(waiting, stanza_client:stats(Cn)) =:= 100 end,
                                  5000),
    T0 = erlang:monotonic_time(millisecond),
    ok = stanza_fake_xmpp:drop_connections(?config(server, Config)),
    Outcomes = [receive {out, P, R} -> R after 5000 -> none end || P <- Waiters],
    Elapsed = erlang:monotonic_time(millisecond) - T0,
    ?assertEqual(lists:duplicate(100, {error, disconnected}), Outcomes),
    ?assert(Elapsed < 1000),
    ?assertEqual({error, disconnected},
                 stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", [])),
    stanza_client:close(Cn).

reconnects_and_keeps_exchanges(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [{reconnect, true}])),
    ok = stanza_client:subscribe(Cn, self()),
    ok = stanza_client:register_exchange(Cn, "iq", "bar@localhost", self()),
    ok = stanza_fake_xmpp:drop_connections(?config(server, Config)),
    receive {stanza_client, Cn, disconnected} -> ok after 5000 -> error(no_disconnect) end,
    receive {stanza_client, Cn, connected} -> ok after 10000 -> error(no_reconnect) end,
    ?assertMatch({ok, _}, stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", [])),
    stanza_client_test:wait_until(
      fun() -> stanza_fake_xmpp:sessions(?config(server, Config)) =:= 1 end, 5000),
    ok = stanza_fake_xmpp:push(?config(server, Config),
                               <<"<iq type='set' id='r1' from='bar@localhost/x'/>">>),
    ?assertMatch({xmlelement, "iq", _, _}, packet()),
    stanza_client:close(Cn).

%% A get nobody handles is answered with service-unavailable (RFC 6120
%% 8.2.3), so the requester does not wait for its timeout.
unrouted_get_is_answered(Config) ->
    Self = self(),
    Server = ?config(server, Config),
    ok = stanza_fake_xmpp:stop(Server),
    {ok, Server2} = stanza_fake_xmpp:start(
                      #{users => ?USERS,
                        handler => fun(El, _) -> Self ! {server_got, El} end}),
    {ok, Cn} = stanza_client:start_link(config([{server, Server2}], [])),
    ok = stanza_fake_xmpp:push(Server2, <<"<iq type='get' id='q1' from='x@localhost/y'>"
                                          "<query xmlns='urn:x'/></iq>">>),
    receive
        {server_got, #xmlel{name = <<"iq">>} = Err} ->
            ?assertEqual(<<"error">>, stanza_xml:get_tag_attr_s(<<"type">>, Err)),
            ?assertEqual(<<"q1">>, stanza_xml:get_tag_attr_s(<<"id">>, Err)),
            ?assertEqual(<<"x@localhost/y">>, stanza_xml:get_tag_attr_s(<<"to">>, Err)),
            ?assertMatch(#xmlel{}, stanza_xml:get_path_s(Err, [{elem, <<"error">>},
                                                               {elem, <<"service-unavailable">>}]))
    after 5000 -> error(no_error_reply)
    end,
    stanza_client:close(Cn),
    stanza_fake_xmpp:stop(Server2).

%% 10% of stanzas each way dropped, 10% delayed, 10% duplicated: every
%% one of 300 requests ends exactly once, as a reply or a timeout.
random_faults_one_outcome_each(Config) ->
    Inspector = {stanza_random_inspector, #{seed => 1234, drop => 0.1, delay => 0.1,
                                            duplicate => 0.1, max_delay_ms => 200}},
    {ok, Cn} = stanza_client:start_link(config(Config, [{inspector, Inspector}])),
    Outcomes = stanza_client_test:requests_with_outcomes(Cn, "peer@localhost/r", 300, 1500,
                                                         10000),
    #{inspector := Counts, waiting := 0} = stanza_client:stats(Cn),
    ct:pal("outcomes: ~p ok, ~p timeout; inspector ~p",
           [length([ok || {ok, _} <- Outcomes]), length([t || {error, timeout} <- Outcomes]),
            Counts]),
    [?assert(maps:get(K, Counts) > 0) || K <- [drop, delay, duplicate]],
    stanza_client:close(Cn).

async_request(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    {ok, Ref} = stanza_client:send_iq_async(Cn, "get", "peer@localhost/r", [], 5000),
    receive {stanza_client_reply, Ref, Reply} -> ?assertMatch({ok, {xmlelement, "iq", _, _}}, Reply)
    after 5000 -> error(no_async_reply)
    end,
    stanza_client:close(Cn).

bad_arguments(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, [])),
    ?assertEqual({error, {bad_type, "result"}},
                 stanza_client:send_wait_iq(Cn, "result", "", "peer@localhost/r", [])),
    ?assertEqual({error, bad_jid}, stanza_client:send_wait_iq(Cn, "get", "", "a@b@c/", [])),
    ?assertMatch({error, {bad_payload, _}},
                 stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/r", "<unclosed>")),
    ?assertError({bad_option, colour, blue},
                 stanza_client:start_link(config(Config, [{colour, blue}]))),
    stanza_client:close(Cn).

%%--------------------------------------------------------------------

packet() ->
    receive {packet, P} -> P after 5000 -> error(no_packet) end.
