%% stanza_component against a real ejabberd 23.01 (started privately by
%% stanza_ejabberd on loopback, free ports) and against a fake server on
%% a local socket that misbehaves on purpose.
%%
%% ejabberd group: the handshake; the wrong secret, an unknown domain; a
%% real client (slixmpp, test/stanza_component_SUITE_data/xmpp_client.py)
%% talking to the tutorial-style component and to examples/echo_component
%% (message echo, IQ result, disco#info); the same echo component on the
%% fast_xml codec used by `make load'; ejabberd stopped and started again
%% while a self-connecting component queues (bounded) and reconnects.
%%
%% fake group: garbage, an oversized stanza, stream errors (in the
%% handshake and later), a silent server (in the handshake and later), a
%% closed socket, duplicates, the id send_packet/2 fills in.
-module(stanza_component_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").
-include("stanza_component.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_group/2, end_per_group/2, init_per_testcase/2,
         end_per_testcase/2]).
-export([handshake/1, wrong_secret/1, unknown_domain/1, quiet_but_alive/1,
         tutorial_component/1,
         echo_example/1, echo_example_fast_xml/1, reconnect_after_restart/1]).
-export([garbage/1, oversized/1, stream_error_in_handshake/1,
         stream_error_later/1, silent_in_handshake/1, silent_later/1,
         closed/1, refused/1, retries_until_up/1, backs_off/1, legacy_format/1,
         duplicates/1, fills_id/1, new_owner/1,
         not_connected/1, owner_exit/1]).

-define(DOMAIN, "echo.localhost").
-define(SECRET, "s3cret").
-define(TUTORIAL, "tutorial.localhost").
-define(FX, "fx.localhost").
-define(USER, "alice").
-define(PASSWORD, "alice-pw").

all() -> [{group, fake}, {group, ejabberd}].

groups() ->
    [{fake, [], [garbage, oversized, stream_error_in_handshake,
                 stream_error_later, silent_in_handshake, silent_later,
                 closed, refused, retries_until_up, backs_off, duplicates, fills_id,
                 not_connected, owner_exit, legacy_format, new_owner]},
     %% reconnect_after_restart restarts ejabberd: it runs last
     {ejabberd, [], [handshake, wrong_secret, unknown_domain, quiet_but_alive, tutorial_component,
                     echo_example, echo_example_fast_xml, reconnect_after_restart]}].

init_per_suite(Config) ->
    Config.

end_per_suite(_Config) ->
    ok.

init_per_group(ejabberd, Config) ->
    case stanza_ejabberd:available() of
        {false, Why} -> {skip, Why};
        true ->
            Opts = #{components => [{?DOMAIN, ?SECRET}, {?TUTORIAL, ?SECRET},
                                    {?FX, ?SECRET}],
                     users => [{?USER, "localhost", ?PASSWORD}],
                     loglevel => warning},
            {ok, E} = stanza_ejabberd:start(Opts),
            [{ejabberd, E} | Config]
    end;
init_per_group(fake, Config) ->
    Config.

end_per_group(ejabberd, Config) ->
    stanza_ejabberd:stop(?config(ejabberd, Config));
end_per_group(fake, _Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    Config.

%% A failed case logs ejabberd's error log (crash reports, refusals).
end_per_testcase(_Case, Config) ->
    case {?config(tc_status, Config), ?config(ejabberd, Config)} of
        {{failed, _}, E} when E =/= undefined ->
            ct:log("ejabberd error.log:~n~s", [stanza_ejabberd:error_log(E)]);
        _ -> ok
    end.

%%====================================================================
%% Against ejabberd
%%====================================================================

handshake(Config) ->
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, ?DOMAIN, ?SECRET),
    StreamId = stanza_component:connect(S, "127.0.0.1", service_port(Config)),
    ct:log("stream id ~p", [StreamId]),
    true = is_list(StreamId) andalso StreamId =/= [],
    ok = stanza_component:handshake(S),
    {error, already_connected} = stanza_component:handshake(S),
    %% a stanza to ourselves comes back through the server
    Id = stanza_component:send_packet(S, message(?DOMAIN, ?DOMAIN, <<"loop">>)),
    #received_packet{packet_type = message, type_attr = "chat",
                     from = <<?DOMAIN>>, id = Id} = receive_packet(),
    ok = stanza_component:stop(S),
    false = is_process_alive(S).

wrong_secret(Config) ->
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, ?DOMAIN, "not the secret"),
    [_ | _] = stanza_component:connect(S, "127.0.0.1", service_port(Config)),
    {error, not_authorized} = stanza_component:handshake(S),
    %% and the self-connecting way refuses to start
    {error, not_authorized} =
        stanza_component:start_link(#{host => "127.0.0.1", port => service_port(Config),
                                      domain => ?DOMAIN, secret => "wrong",
                                      reconnect => true}),
    ok = stanza_component:stop(S).

unknown_domain(Config) ->
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, "nobody.localhost", ?SECRET),
    Result = case stanza_component:connect(S, "127.0.0.1", service_port(Config)) of
                 {error, _} = E -> E;
                 _StreamId -> stanza_component:handshake(S)
             end,
    ct:log("unknown domain: ~p", [Result]),
    {error, Reason} = Result,
    true = lists:member(Reason, [host_unknown, not_authorized]),
    ok = stanza_component:stop(S).

%% A quiet connection to a live server stays up: the component's pings to
%% its own domain come back through ejabberd and are not delivered.
quiet_but_alive(Config) ->
    {ok, S} = stanza_component:start_link(#{host => "127.0.0.1", port => service_port(Config),
                                            domain => ?DOMAIN, secret => ?SECRET,
                                            ping_interval => 200, ping_timeout => 1000}),
    connected = receive_event(S, 5000),
    receive
        {stanza_component, S, Event} -> error({unexpected, Event});
        #received_packet{} = P -> error({ping_delivered, P})
    after 3000 -> ok
    end,
    #{in := 0, connects := 1} = stanza_component:stats(S),
    ok = stanza_component:stop(S).

tutorial_component(Config) ->
    {ok, C} = stanza_tutorial_component:start_link(?TUTORIAL, ?SECRET, "127.0.0.1",
                                                   service_port(Config)),
    try
        ok = run_client(Config, ?TUTORIAL, ["echo", "iq"])
    after
        stanza_tutorial_component:stop(C)
    end.

echo_example(Config) ->
    echo_example(Config, ?DOMAIN, stanza_component_codec).

%% The codec `make load' compares with: the same component on fast_xml.
echo_example_fast_xml(Config) ->
    echo_example(Config, ?FX, stanza_component_fxml).

echo_example(Config, Domain, Codec) ->
    ok = compile_example(Config),
    {ok, C} = echo_component:start_link(#{host => "127.0.0.1", port => service_port(Config),
                                          domain => Domain, secret => ?SECRET,
                                          codec => Codec}),
    try
        ok = run_client(Config, Domain, ["echo", "iq", "disco"]),
        Stats = echo_component:stats(C),
        ct:log("~p", [Stats]),
        #{echoed := 1, answered := 2, in := 3, out := 3, connects := 1} = Stats
    after
        echo_component:stop(C)
    end.

reconnect_after_restart(Config) ->
    E = ?config(ejabberd, Config),
    {ok, S} = stanza_component:start_link(#{host => "127.0.0.1", port => service_port(Config),
                                            domain => ?DOMAIN, secret => ?SECRET,
                                            reconnect => #{min_ms => 100, max_ms => 1000},
                                            queue_max => 3}),
    connected = receive_event(S, 5000),
    ok = stanza_ejabberd:stop_server(E),
    {disconnected, Why} = receive_event(S, 30000),
    ct:log("disconnected: ~p", [Why]),
    %% while disconnected: three stanzas queue, the fourth is refused
    Ids = [stanza_component:send_packet(S, message(?DOMAIN, ?DOMAIN, integer_to_binary(N)))
           || N <- [1, 2, 3]],
    true = lists:all(fun is_binary/1, Ids),
    {error, queue_full} = stanza_component:send_packet(S, message(?DOMAIN, ?DOMAIN, <<"4">>)),
    #{queued := 3, refused := 1} = stanza_component:stats(S),
    ok = stanza_ejabberd:start_server(E),
    connected = receive_event(S, 60000),
    %% the queued stanzas went out in order and came back through ejabberd
    Ids = [Id || #received_packet{id = Id} <- [receive_packet(), receive_packet(),
                                               receive_packet()]],
    #{queued := 0, connects := 2} = stanza_component:stats(S),
    %% and a real client gets its echo from a component started now
    ok = compile_example(Config),
    ok = stanza_component:stop(S),
    {ok, C} = echo_component:start_link(#{host => "127.0.0.1", port => service_port(Config),
                                          domain => ?DOMAIN, secret => ?SECRET}),
    try ok = run_client(Config, ?DOMAIN, ["echo"])
    after echo_component:stop(C)
    end.

%%====================================================================
%% Against a fake server
%%====================================================================

garbage(_Config) ->
    {Port, _} = fake([header, handshake, {send, <<"<message><<<garbage">>}, hold]),
    {ok, S} = auto(Port, #{}),
    connected = receive_event(S, 5000),
    {disconnected, {not_well_formed, Detail}} = receive_event(S, 5000),
    ct:log("~p", [Detail]),
    #{in := 0} = stanza_component:stats(S),
    ok = stanza_component:stop(S).

oversized(_Config) ->
    Big = iolist_to_binary(["<message><body>", binary:copy(<<"x">>, 5000), "</body></message>"]),
    {Port, _} = fake([header, handshake, {send, <<"<message id='small'/>">>},
                      {send, Big}, hold]),
    {ok, S} = auto(Port, #{max_stanza_size => 1000}),
    connected = receive_event(S, 5000),
    #received_packet{id = <<"small">>} = receive_packet(),
    {disconnected, stanza_too_big} = receive_event(S, 5000),
    ok = stanza_component:stop(S).

stream_error_in_handshake(_Config) ->
    {Port, _} = fake([header, {recv, <<"</handshake>">>},
                      {send, stream_error(<<"conflict">>)}, hold]),
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, ?DOMAIN, ?SECRET),
    "4242" = stanza_component:connect(S, "127.0.0.1", Port),
    {error, conflict} = stanza_component:handshake(S),
    %% an undefined condition stays a binary, never a new atom
    {Port2, _} = fake([header, {recv, <<"</handshake>">>},
                       {send, stream_error(<<"made-up-condition-x">>)}, hold]),
    "4242" = stanza_component:connect(S, "127.0.0.1", Port2),
    {error, <<"made-up-condition-x">>} = stanza_component:handshake(S),
    ok = stanza_component:stop(S).

stream_error_later(_Config) ->
    {Port, _} = fake([header, handshake, {send, stream_error(<<"system-shutdown">>)}, hold]),
    {ok, S} = auto(Port, #{}),
    connected = receive_event(S, 5000),
    {disconnected, {stream_error, system_shutdown}} = receive_event(S, 5000),
    ok = stanza_component:stop(S).

silent_in_handshake(_Config) ->
    {Port, _} = fake([hold]),
    T0 = erlang:monotonic_time(millisecond),
    {error, timeout} = auto(Port, #{handshake_timeout => 500}),
    Elapsed = erlang:monotonic_time(millisecond) - T0,
    true = Elapsed < 3000,
    %% the exmpp way: a server that opens the stream, then says nothing to
    %% the handshake, gives timeout after the default 10 s, not a hang
    {Port2, _} = fake([header, hold]),
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, ?DOMAIN, ?SECRET),
    "4242" = stanza_component:connect(S, "127.0.0.1", Port2),
    {error, timeout} = stanza_component:handshake(S),
    ok = stanza_component:stop(S).

silent_later(_Config) ->
    {Port, _} = fake([header, handshake, hold]),
    {ok, S} = auto(Port, #{ping_interval => 200, ping_timeout => 300}),
    connected = receive_event(S, 5000),
    {disconnected, timeout} = receive_event(S, 5000),
    ok = stanza_component:stop(S).

closed(_Config) ->
    {Port, _} = fake([header, handshake, {send, <<"<message id='m1'/>">>}, close]),
    {ok, S} = auto(Port, #{}),
    connected = receive_event(S, 5000),
    #received_packet{id = <<"m1">>} = receive_packet(),
    {disconnected, closed} = receive_event(S, 5000),
    {error, not_connected} = stanza_component:send_packet(S, message(?DOMAIN, ?DOMAIN, <<"x">>)),
    ok = stanza_component:stop(S).

refused(_Config) ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    S = stanza_component:start_link(),
    ok = stanza_component:auth(S, ?DOMAIN, ?SECRET),
    {error, {socket_error, econnrefused}} = stanza_component:connect(S, "127.0.0.1", Port),
    {error, {socket_error, econnrefused}} = auto(Port, #{}),
    %% with reconnect it starts anyway and keeps trying
    {ok, S2} = auto(Port, #{reconnect => #{min_ms => 50, max_ms => 100}}),
    true = is_process_alive(S2),
    ok = stanza_component:stop(S2),
    ok = stanza_component:stop(S).

%% Refused first, then the server appears on that port: the component
%% finds it by itself and says connected.
retries_until_up(_Config) ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    {ok, S} = auto(Port, #{reconnect => #{min_ms => 50, max_ms => 200}}),
    timer:sleep(300),
    {Port, _} = fake_on(Port, [header, handshake, {send, <<"<message id='late'/>">>}, hold]),
    connected = receive_event(S, 5000),
    #received_packet{id = <<"late">>} = receive_packet(),
    ok = stanza_component:stop(S).

%% A server that accepts and hangs up at once: the retries slow down
%% (min 50 ms doubling to max 200 ms, each delay in its upper half: about
%% 8 attempts in 1.2 s; a fixed 50 ms would make about 24).
backs_off(_Config) ->
    {ok, L} = gen_tcp:listen(0, [binary, {ip, {127, 0, 0, 1}}, {active, false}]),
    {ok, Port} = inet:port(L),
    Test = self(),
    Acceptor = spawn_link(fun() -> accept_and_close(L, Test) end),
    ok = gen_tcp:controlling_process(L, Acceptor),
    {ok, S} = auto(Port, #{reconnect => #{min_ms => 50, max_ms => 200}}),
    timer:sleep(1200),
    ok = stanza_component:stop(S),
    Attempts = count_accepts(0),
    ct:log("~b attempts in 1.2 s", [Attempts]),
    true = Attempts >= 4 andalso Attempts =< 14,
    unlink(Acceptor),
    exit(Acceptor, kill).

accept_and_close(L, Test) ->
    {ok, Sock} = gen_tcp:accept(L),
    ok = gen_tcp:close(Sock),
    Test ! accepted,
    accept_and_close(L, Test).

count_accepts(N) ->
    receive accepted -> count_accepts(N + 1) after 0 -> N end.

%% raw_packet in 2.x's form; the record's fields stay binaries and strings.
legacy_format(_Config) ->
    {Port, _} = fake([header, handshake,
                      {send, <<"<iq from='a@b/c' id='q1' type='get'><query xmlns='urn:q'/></iq>">>},
                      hold]),
    {ok, S} = auto(Port, #{format => legacy}),
    connected = receive_event(S, 5000),
    #received_packet{packet_type = iq, type_attr = "get", from = <<"a@b/c">>, id = <<"q1">>,
                     queryns = <<"urn:q">>,
                     raw_packet = {xmlelement, "iq", [{"from", "a@b/c"} | _], _}} = receive_packet(),
    ok = stanza_component:stop(S).

duplicates(_Config) ->
    Msg = <<"<message from='a@b/c' id='dup1' type='chat'><body>1</body></message>">>,
    Other = <<"<message from='a@b/c' id='dup2' type='chat'><body>2</body></message>">>,
    {Port, _} = fake([header, handshake, {send, Msg}, {send, Msg}, {send, Other}, hold]),
    {ok, S} = auto(Port, #{dedup => true}),
    connected = receive_event(S, 5000),
    #received_packet{id = <<"dup1">>} = receive_packet(),
    #received_packet{id = <<"dup2">>} = receive_packet(),
    #{in := 2, duplicates := 1} = stanza_component:stats(S),
    ok = stanza_component:stop(S).

fills_id(_Config) ->
    Self = self(),
    {Port, _} = fake([header, handshake, {recv, <<"</message>">>}, {report, Self},
                      {recv, <<"id='given'/>">>}, {report, Self}, hold]),
    {ok, S} = auto(Port, #{}),
    connected = receive_event(S, 5000),
    Id = stanza_component:send_packet(S, message(?DOMAIN, "a@b", <<"hi">>)),
    <<_:22/binary>> = Id,
    Sent = receive {fake_received, D} -> D after 5000 -> error(nothing_sent) end,
    {ok, {xmlel, <<"message">>, _, _} = El} = stanza_stream:parse_element(Sent, #{format => xmlel}),
    Id = stanza_exmpp:get_attribute(El, id, undefined),
    %% an id that is there is kept, in the legacy string form too
    <<"given">> = stanza_component:send_packet(
                    S, {xmlelement, "iq", [{"type", "get"}, {"id", "given"}], []}),
    Sent2 = receive {fake_received, D2} -> D2 after 5000 -> error(nothing_sent) end,
    {match, _} = re:run(Sent2, "<iq type='get' id='given'/>"),
    %% a term that is no XML is refused, the connection stays up
    {error, {badxml, _, _}} = stanza_component:send_packet(
                                S, {xmlel, <<"a b">>, [{<<"id">>, <<"1">>}], []}),
    #{out := 2} = stanza_component:stats(S),
    ok = stanza_component:stop(S).

not_connected(_Config) ->
    S = stanza_component:start_link(),
    {error, no_auth} = stanza_component:connect(S, "127.0.0.1", 1),
    {error, not_connected} = stanza_component:handshake(S),
    {error, not_connected} = stanza_component:send_packet(S, message(?DOMAIN, "a@b", <<"x">>)),
    ok = stanza_component:stop(S).

%% After set_controlling_process/2 the packets go to the new owner only.
new_owner(_Config) ->
    {Port, _} = fake([header, handshake, {recv, <<"</message>">>},
                      {send, <<"<message id='for-the-new-owner'/>">>}, hold]),
    {ok, S} = auto(Port, #{}),
    connected = receive_event(S, 5000),
    Test = self(),
    Owner = spawn_link(fun() ->
                               receive #received_packet{id = Id} -> Test ! {new_owner_got, Id}
                               after 10000 -> Test ! new_owner_timeout
                               end,
                               receive stop -> ok end
                       end),
    ok = stanza_component:set_controlling_process(S, Owner),
    _ = stanza_component:send_packet(S, message(?DOMAIN, "a@b", <<"trigger">>)),
    {new_owner_got, <<"for-the-new-owner">>} = receive {new_owner_got, _} = M -> M;
                                                        new_owner_timeout -> error(timeout)
                                                end,
    receive #received_packet{} = P -> error({old_owner_got, P}) after 200 -> ok end,
    ok = stanza_component:stop(S),
    Owner ! stop.

%% The component ends when its owner does; the owner handed over first.
owner_exit(_Config) ->
    S = stanza_component:start(),
    Owner = spawn(fun() -> receive stop -> ok end end),
    ok = stanza_component:set_controlling_process(S, Owner),
    Ref = erlang:monitor(process, S),
    Owner ! stop,
    receive {'DOWN', Ref, process, S, normal} -> ok after 5000 -> error(still_alive) end.

%%====================================================================
%% Helpers
%%====================================================================

auto(Port, Extra) ->
    stanza_component:start_link(maps:merge(#{host => "127.0.0.1", port => Port,
                                             domain => ?DOMAIN, secret => ?SECRET,
                                             handshake_timeout => 3000},
                                           Extra)).

service_port(Config) ->
    stanza_ejabberd:port(?config(ejabberd, Config), service).

message(From, To, Body) ->
    {xmlel, <<"message">>, [{<<"from">>, iolist_to_binary(From)},
                            {<<"to">>, iolist_to_binary(To)},
                            {<<"type">>, <<"chat">>}],
     [{xmlel, <<"body">>, [], [{xmlcdata, Body}]}]}.

stream_error(Condition) ->
    iolist_to_binary(["<stream:error><", Condition,
                      " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"]).

receive_packet() ->
    receive #received_packet{} = P -> P
    after 10000 -> error(no_packet)
    end.

receive_event(S, Timeout) ->
    receive {stanza_component, S, Event} -> Event
    after Timeout -> error({no_event_within, Timeout})
    end.

compile_example(Config) ->
    Src = filename:join([code:lib_dir(stanza), "..", "..", "..", "..",
                         "examples", "echo_component", "echo_component.erl"]),
    Out = ?config(priv_dir, Config),
    {ok, echo_component} = compile:file(Src, [{outdir, Out}, return_errors]),
    code:purge(echo_component),
    {module, echo_component} = code:load_abs(filename:join(Out, "echo_component")),
    ok.

%% The real client: exit status 0 only if the login and every check passed.
run_client(Config, Component, Checks) ->
    E = ?config(ejabberd, Config),
    Script = filename:join(?config(data_dir, Config), "xmpp_client.py"),
    Args = [Script, ?USER ++ "@localhost/test", ?PASSWORD,
            "127.0.0.1", integer_to_list(stanza_ejabberd:port(E, c2s)),
            stanza_ejabberd:cert(E), Component | Checks],
    {Status, Out} = stanza_ejabberd:run("/usr/bin/python3", Args, 120000),
    ct:log("client ~p: exit ~p~n~s", [Checks, Status, Out]),
    case Status of
        0 -> ok;
        _ -> {error, {client_failed, Status, Out}}
    end.

%% A one-connection server on loopback that plays a script:
%%   header        wait for the client's stream header, answer with ours (id 4242)
%%   handshake     wait for <handshake>...</handshake>, answer <handshake/>
%%   {recv, Pat}   read until Pat has been seen
%%   {report, Pid} send Pid {fake_received, AllBytesSinceLastReport}
%%   {send, Bin}   write Bin
%%   close         close the socket
%%   hold          keep the socket open, silent, until the client goes
fake(Script) ->
    fake_on(0, Script).

fake_on(Wanted, Script) ->
    {ok, L} = gen_tcp:listen(Wanted, [binary, {ip, {127, 0, 0, 1}}, {active, false},
                                      {reuseaddr, true}]),
    {ok, Port} = inet:port(L),
    Pid = spawn_link(fun() ->
                             {ok, Sock} = gen_tcp:accept(L, 10000),
                             ok = gen_tcp:close(L),
                             play(Script, Sock, <<>>)
                     end),
    ok = gen_tcp:controlling_process(L, Pid),
    {Port, Pid}.

play([], Sock, _Buf) ->
    gen_tcp:close(Sock);
play([header | Rest], Sock, Buf) ->
    Buf1 = recv_until(Sock, <<"jabber:component:accept">>, Buf),
    Buf2 = recv_until(Sock, <<">">>, Buf1),
    ok = gen_tcp:send(Sock, <<"<?xml version='1.0'?><stream:stream "
                              "xmlns='jabber:component:accept' "
                              "xmlns:stream='http://etherx.jabber.org/streams' "
                              "id='4242' from='echo.localhost'>">>),
    play(Rest, Sock, Buf2);
play([handshake | Rest], Sock, Buf) ->
    Buf1 = recv_until(Sock, <<"</handshake>">>, Buf),
    ok = gen_tcp:send(Sock, <<"<handshake/>">>),
    play(Rest, Sock, after_match(Buf1, <<"</handshake>">>));
play([{recv, Pat} | Rest], Sock, Buf) ->
    play(Rest, Sock, recv_until(Sock, Pat, Buf));
play([{report, Pid} | Rest], Sock, Buf) ->
    Pid ! {fake_received, Buf},
    play(Rest, Sock, <<>>);
play([{send, Bin} | Rest], Sock, Buf) ->
    ok = gen_tcp:send(Sock, Bin),
    play(Rest, Sock, Buf);
play([close | _], Sock, _Buf) ->
    gen_tcp:close(Sock);
play([hold | _], Sock, _Buf) ->
    %% read and ignore until the client closes
    case gen_tcp:recv(Sock, 0) of
        {ok, _} -> play([hold], Sock, <<>>);
        {error, _} -> ok
    end.

recv_until(Sock, Pat, Buf) ->
    case binary:match(Buf, Pat) of
        nomatch ->
            {ok, Data} = gen_tcp:recv(Sock, 0, 10000),
            recv_until(Sock, Pat, <<Buf/binary, Data/binary>>);
        _ -> Buf
    end.

after_match(Buf, Pat) ->
    {Pos, Len} = binary:match(Buf, Pat),
    binary:part(Buf, Pos + Len, byte_size(Buf) - Pos - Len).
