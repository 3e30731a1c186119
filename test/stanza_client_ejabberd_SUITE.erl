%% stanza_client against a real ejabberd 23.01 (a private one on
%% loopback, test/stanza_ejabberd.erl): STARTTLS with certificate
%% checking, SCRAM, roster, disco, ping, two clients answering each
%% other, 1,000 concurrent requests to one peer, a server that goes away
%% mid-flight and comes back, and random faults.
-module(stanza_client_ejabberd_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").
-include("stanza_xmlel.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([login_starttls_scram/1, wrong_password/1, unverifiable_certificate/1,
         roster_get/1, disco_info/1, ping/1, natter_snippet_two_clients/1,
         concurrent_requests_to_one_peer/1, server_stops_mid_flight/1,
         random_faults/1, no_crash_reports/1, legacy_auth_login/1]).

all() ->
    [login_starttls_scram, wrong_password, unverifiable_certificate, roster_get, disco_info,
     ping, natter_snippet_two_clients, concurrent_requests_to_one_peer, random_faults,
     server_stops_mid_flight, no_crash_reports, legacy_auth_login].

init_per_suite(Config) ->
    case stanza_ejabberd:start(#{users => [{"foo", "localhost", "bar"},
                                           {"peer", "localhost", "secret"}]}) of
        {ok, E} -> [{ejabberd, E} | Config];
        {error, {unavailable, Why}} -> {skip, Why}
    end.

end_per_suite(Config) ->
    stanza_ejabberd:stop(?config(ejabberd, Config)).

init_per_testcase(_, Config) ->
    process_flag(trap_exit, true),
    Config.

end_per_testcase(_, _Config) ->
    ok.

%% natter's configuration, plus the port of the private server and the
%% CA that signed its certificate (the client verifies it by default).
config(Config, User, Password, Extra) ->
    E = ?config(ejabberd, Config),
    Extra ++ [{host, "127.0.0.1"}, {domain, "localhost"},
              {port, stanza_ejabberd:port(E, c2s)},
              {user, User}, {password, Password}, {resource, User},
              {tls, #{cafile => stanza_ejabberd:cert(E)}}].

connect(Config, User, Password) ->
    {ok, Cn} = stanza_client:start_link(config(Config, User, Password, [])),
    Cn.

%%--------------------------------------------------------------------

login_starttls_scram(Config) ->
    {ok, Cn} = stanza_client:start_link(config(Config, "foo", "bar", [{format, xmlel}])),
    ?assertEqual(<<"foo@localhost/foo">>, stanza_client:jid(Cn)),
    stanza_client:close(Cn).

wrong_password(Config) ->
    ?assertEqual({error, {sasl_failure, not_authorized}},
                 stanza_client:start_link(config(Config, "foo", "nope", []))).

%% Without the CA file the server's self-signed certificate cannot be
%% verified: the client refuses it unless told `verify => none'.
unverifiable_certificate(Config) ->
    ?assertMatch({error, {tls, _}},
                 stanza_client:start_link(config(Config, "foo", "bar", [{tls, #{}}]))),
    {ok, Cn} = stanza_client:start_link(config(Config, "foo", "bar",
                                               [{tls, #{verify => none}}])),
    stanza_client:close(Cn).

roster_get(Config) ->
    Cn = connect(Config, "foo", "bar"),
    {ok, Reply} = stanza_client:send_wait_iq(Cn, "get", "", "",
                                             {xmlelement, "query", [{"xmlns", "jabber:iq:roster"}], []}),
    ?assertMatch({xmlelement, "iq", _, [{xmlelement, "query", _, _}]}, Reply),
    ?assertEqual("result", attr("type", Reply)),
    stanza_client:close(Cn).

disco_info(Config) ->
    Cn = connect(Config, "foo", "bar"),
    {ok, Reply} = stanza_client:send_wait_iq(
                    Cn, "get", "", "localhost",
                    <<"<query xmlns='http://jabber.org/protocol/disco#info'/>">>),
    ?assertEqual("result", attr("type", Reply)),
    {xmlelement, "iq", _, [{xmlelement, "query", _, Items}]} = Reply,
    Features = [V || {xmlelement, "feature", [{"var", V}], _} <- Items],
    ?assert(lists:member("urn:xmpp:ping", Features)),
    stanza_client:close(Cn).

ping(Config) ->
    Cn = connect(Config, "foo", "bar"),
    ?assertMatch({ok, {xmlelement, "iq", _, []}},
                 stanza_client:send_wait_iq(Cn, "get", "", "localhost",
                                            {xmlel, <<"ping">>, [{<<"xmlns">>, <<"urn:xmpp:ping">>}], []})),
    stanza_client:close(Cn).

%% natter's way in (XEP-0078 jabber:iq:auth), against an ejabberd of its
%% own that offers it and no SASL mechanism: mod_legacy_auth, passwords
%% stored plain, every mechanism disabled. Without `legacy_auth' the
%% client refuses to go on; with it, it logs in (inside TLS only) with the
%% resource bound by the auth itself, and the session works.
legacy_auth_login(_Config) ->
    Mechanisms = ["PLAIN", "DIGEST-MD5", "X-OAUTH2", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
                  "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS"],
    {ok, E} = stanza_ejabberd:start(
                #{users => [{"old", "localhost", "natter"}],
                  extra_yml => ["auth_password_format: plain\n",
                                "disable_sasl_mechanisms:\n",
                                [["  - \"", M, "\"\n"] || M <- Mechanisms]],
                  extra_modules_yml => "  mod_legacy_auth: {}\n"}),
    try
        Base = [{host, "127.0.0.1"}, {domain, "localhost"}, {port, stanza_ejabberd:port(E, c2s)},
                {user, "old"}, {password, "natter"}, {resource, "legacy"},
                {tls, #{cafile => stanza_ejabberd:cert(E)}}],
        ?assertMatch({error, {no_mechanism, []}}, stanza_client:start_link(Base)),
        {ok, Cn} = stanza_client:start_link([{legacy_auth, true} | Base]),
        ?assertEqual(<<"old@localhost/legacy">>, stanza_client:jid(Cn)),
        ?assertMatch(#{mechanism := <<"jabber:iq:auth">>}, stanza_client:stats(Cn)),
        {ok, Reply} = stanza_client:send_wait_iq(Cn, "get", "", "localhost",
                                                 <<"<ping xmlns='urn:xmpp:ping'/>">>),
        ?assertEqual("result", attr("type", Reply)),
        stanza_client:close(Cn)
    after
        stanza_ejabberd:stop(E)
    end.

%% The natter snippet: one client registers an exchange and answers the
%% IQs another sends it.
natter_snippet_two_clients(Config) ->
    Peer = connect(Config, "peer", "secret"),
    Answerer = start_answerer(Peer, "foo@localhost"),
    Cn = connect(Config, "foo", "bar"),
    ok = stanza_client:register_default_exchange(self(), Cn),
    Payload = {xmlelement, "hello-world", [], []},
    {ok, Reply} = stanza_client:send_wait_iq(Cn, "set", "100", "peer@localhost/peer", Payload),
    ?assertEqual("result", attr("type", Reply)),
    ?assertEqual("100", attr("id", Reply)),
    ?assertMatch({xmlelement, "iq", _, [{xmlelement, "hello-world", _, _}]}, Reply),
    stop_answerer(Answerer),
    stanza_client:close(Cn),
    stanza_client:close(Peer).

%% 1,000 requests from 50 processes to one peer: each gets its own reply
%% (natter gave them each other's).
concurrent_requests_to_one_peer(Config) ->
    Peer = connect(Config, "peer", "secret"),
    Answerer = start_answerer(Peer, "foo@localhost"),
    Cn = connect(Config, "foo", "bar"),
    Self = self(),
    Workers = [spawn_link(fun() -> Self ! {done, self(), worker(Cn, W, 20)} end)
               || W <- lists:seq(1, 50)],
    Results = [receive {done, P, R} -> R after 60000 -> timeout end || P <- Workers],
    ?assertEqual(lists:duplicate(50, ok), Results),
    ?assertMatch(#{replies := 1000, replies_dropped := 0, waiting := 0},
                 stanza_client:stats(Cn)),
    stop_answerer(Answerer),
    stanza_client:close(Cn),
    stanza_client:close(Peer).

worker(Cn, W, N) ->
    lists:foreach(
      fun(I) ->
              Marker = lists:flatten(io_lib:format("w~b-~b", [W, I])),
              {ok, Reply} = stanza_client:send_wait_iq(Cn, "get", "", "peer@localhost/peer",
                                                       {xmlelement, "m", [{"v", Marker}], []}),
              {xmlelement, "iq", _, [{xmlelement, "m", [{"v", Marker}], []}]} = Reply
      end, lists:seq(1, N)),
    ok.

%% 10% of stanzas each way dropped, delayed or duplicated: every request
%% ends exactly once.
random_faults(Config) ->
    Peer = connect(Config, "peer", "secret"),
    Answerer = start_answerer(Peer, "foo@localhost"),
    Inspector = {stanza_random_inspector, #{seed => 99, drop => 0.1, delay => 0.1,
                                            duplicate => 0.1, max_delay_ms => 300}},
    {ok, Cn} = stanza_client:start_link(config(Config, "foo", "bar", [{inspector, Inspector}])),
    Outcomes = stanza_client_test:requests_with_outcomes(Cn, "peer@localhost/peer", 200, 2000,
                                                         20000),
    ct:log("outcomes: ~p ok, ~p timeout; ~p",
           [length([ok || {ok, _} <- Outcomes]), length([t || {error, timeout} <- Outcomes]),
            stanza_client:stats(Cn)]),
    stop_answerer(Answerer),
    stanza_client:close(Cn),
    stanza_client:close(Peer).

%% ejabberd stops while 50 requests wait (the peer takes them and never
%% answers): every waiter gets {error, disconnected} within a second; the
%% client reconnects by itself when ejabberd is back.
server_stops_mid_flight(Config) ->
    E = ?config(ejabberd, Config),
    Peer = connect(Config, "peer", "secret"),
    Silent = spawn_link(fun() -> receive never -> ok end end),
    ok = stanza_client:register_exchange(Peer, "iq", "foo@localhost", Silent),
    {ok, Cn} = stanza_client:start_link(config(Config, "foo", "bar", [{reconnect, true}])),
    ok = stanza_client:subscribe(Cn, self()),
    Self = self(),
    Waiters = [spawn_link(fun() ->
                                  Self ! {out, self(), stanza_client:send_wait_iq(
                                                        Cn, "get", "", "peer@localhost/peer", [],
                                                        120000)}
                          end) || _ <- lists:seq(1, 50)],
    stanza_client_test:wait_until(fun() -> maps:get(waiting, stanza_client:stats(Cn)) =:= 50 end,
                                  10000),
    Stopper = spawn_link(fun() -> Self ! {stopped, stanza_ejabberd:stop_server(E)} end),
    receive {stanza_client, Cn, disconnected} -> ok after 30000 -> error(no_disconnect) end,
    T0 = erlang:monotonic_time(millisecond),
    Outcomes = [receive {out, P, R} -> {R, erlang:monotonic_time(millisecond) - T0}
                after 5000 -> none end || P <- Waiters],
    ?assertEqual(lists:duplicate(50, {error, disconnected}), [R || {R, _} <- Outcomes]),
    ?assert(lists:max([Ms || {_, Ms} <- Outcomes]) < 1000),
    receive {stopped, ok} -> ok after 60000 -> error({no_stop, Stopper}) end,
    %% While ejabberd was shutting down the client may have reconnected to
    %% it and been dropped again: only events after the restart count.
    _ = flush_events(Cn),
    ok = stanza_ejabberd:start_server(E),
    receive {stanza_client, Cn, connected} -> ok after 60000 -> error(no_reconnect) end,
    ?assertMatch({ok, _}, stanza_client:send_wait_iq(Cn, "get", "", "localhost",
                                                     <<"<ping xmlns='urn:xmpp:ping'/>">>)),
    unlink(Silent),
    exit(Silent, kill),
    stanza_client:close(Cn).

no_crash_reports(Config) ->
    Log = stanza_ejabberd:error_log(?config(ejabberd, Config)),
    ?assertEqual(nomatch, binary:match(Log, [<<"CRASH REPORT">>, <<"crash_report">>])).

%%--------------------------------------------------------------------

%% A process that answers every IQ get/set from From with a result
%% carrying the request's children back (the exchange of natter).
start_answerer(Cn, From) ->
    Pid = spawn_link(fun() -> answer(Cn) end),
    ok = stanza_client:register_exchange(Cn, "iq", From, Pid),
    Pid.

stop_answerer(Pid) ->
    unlink(Pid),
    exit(Pid, kill).

answer(Cn) ->
    receive
        {packet, {xmlelement, "iq", _, Children} = Iq} ->
            case attr("type", Iq) of
                T when T =:= "get"; T =:= "set" ->
                    ok = stanza_client:send_iq(Cn, "result", attr("id", Iq), attr("from", Iq),
                                               Children);
                _ -> ok
            end,
            answer(Cn)
    end.

attr(Name, {xmlelement, _, Attrs, _}) ->
    proplists:get_value(Name, Attrs).

flush_events(Cn) ->
    receive {stanza_client, Cn, E} -> [E | flush_events(Cn)] after 0 -> [] end.
