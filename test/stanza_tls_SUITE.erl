%% Common Test suite for stanza_tls: stanza_tls on both ends, against
%% OTP ssl on both sides, against Debian's `openssl s_server' and
%% `s_client', and hostile peers. Everything listens on 127.0.0.1 on
%% ports chosen free at run time; certificates are made at run time in
%% the suite's priv_dir. Every test ends with the live-connection counter
%% back at its baseline.
-module(stanza_tls_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-compile([export_all, nowarn_export_all]).

-define(LOCAL, {127, 0, 0, 1}).
-define(T, 10000).

all() ->
    [echo_tls13, echo_tls12, negotiated_and_bindings, recv_length, active_once,
     big_transfer, alpn, sni, session_resumption, xmpp_names,
     expired_cert, self_signed_cert, unknown_ca_cert, wrong_host_cert,
     verify_none_accepts_anything, server_name_required, bad_options,
     client_cert_required, client_cert_unrequested,
     garbage_bytes, plaintext_xmpp, plaintext_http, truncated_record,
     huge_record_claim, stalled_handshake, closed_mid_handshake,
     churn,
     otp_ssl_server, otp_ssl_client,
     openssl_s_server, openssl_s_client, openssl_close_notify,
     openssl_renegotiation_refused, openssl_client_cert_unrequested,
     openssl_memory_routing].

init_per_suite(Config) ->
    Dir = filename:join(?config(priv_dir, Config), "certs"),
    {ok, _} = application:ensure_all_started(ssl),
    Certs = stanza_tls_test_certs:make(Dir),
    [{certs, Certs} | Config].

end_per_suite(_Config) ->
    stanza_tls:clear_cache(),
    ok.

init_per_testcase(_Case, Config) ->
    [{live, stanza_tls:live()} | Config].

end_per_testcase(_Case, Config) ->
    Base = ?config(live, Config),
    ok = wait_live(Base, 50).

%% GC frees what a test dropped without close/1; a leak shows as a
%% count that stays above the baseline.
wait_live(Base, 0) ->
    {fail, {live_connections, stanza_tls:live(), baseline, Base}};
wait_live(Base, N) ->
    [erlang:garbage_collect(P) || P <- processes()],
    case stanza_tls:live() =< Base of
        true -> ok;
        false -> timer:sleep(20), wait_live(Base, N - 1)
    end.

%% ---------------------------------------------------------------------
%% Helpers

certs(Config) -> ?config(certs, Config).

server_opts(Config) ->
    #{server := #{certfile := C, keyfile := K}} = certs(Config),
    #{certfile => C, keyfile => K}.

server_opts(Config, Name) ->
    #{certfile := C, keyfile := K} = maps:get(Name, certs(Config)),
    #{certfile => C, keyfile => K}.

client_opts(Config) ->
    #{server_name => "localhost", cafile => maps:get(cafile, certs(Config))}.

listen() ->
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {ip, ?LOCAL}, {reuseaddr, true},
                                 {backlog, 128}]),
    {ok, Port} = inet:port(L),
    {L, Port}.

free_port() ->
    {L, Port} = listen(),
    ok = gen_tcp:close(L),
    Port.

tcp_connect(Port) ->
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary, {active, false}], ?T),
    S.

%% A stanza_tls server for N connections: each handshake result goes to
%% the test process; established ones echo until the peer closes.
tls_server(Opts, N) ->
    {L, Port} = listen(),
    Test = self(),
    Pid = spawn_link(fun() -> accept_loop(L, Opts, N, Test) end),
    {Pid, Port}.

accept_loop(L, _Opts, 0, _Test) ->
    gen_tcp:close(L);
accept_loop(L, Opts, N, Test) ->
    {ok, A} = gen_tcp:accept(L),
    case stanza_tls:accept(A, Opts) of
        {ok, Tls} ->
            Test ! {accepted, self(), {ok, Tls}},
            echo(Tls);
        Error ->
            Test ! {accepted, self(), Error}
    end,
    accept_loop(L, Opts, N - 1, Test).

echo(Tls) ->
    case stanza_tls:recv(Tls, 0, ?T) of
        {ok, Data} ->
            ok = stanza_tls:send(Tls, Data),
            echo(Tls);
        {error, _} ->
            stanza_tls:close(Tls)
    end.

accepted(Pid) ->
    receive {accepted, Pid, Result} -> Result
    after ?T -> error(no_accept)
    end.

connect(Port, Opts) ->
    stanza_tls:connect(tcp_connect(Port), Opts).

roundtrip(Tls, Data) ->
    ok = stanza_tls:send(Tls, Data),
    recv_exactly(Tls, iolist_size(Data)).

recv_exactly(Tls, N) ->
    {ok, Got} = stanza_tls:recv(Tls, N, ?T),
    Got.

%% One client handshake against a fresh one-shot stanza_tls server;
%% returns both results.
pair(Config, ServerOpts, ClientOpts) ->
    {Pid, Port} = tls_server(ServerOpts, 1),
    Client = connect(Port, maps:merge(client_opts(Config), ClientOpts)),
    Server = accepted(Pid),
    {Client, Server}.

close_all(Results) ->
    [stanza_tls:close(T) || {ok, T} <- Results],
    ok.

%% ---------------------------------------------------------------------
%% stanza_tls on both ends

echo_tls13(Config) ->
    echo_version(Config, 'tlsv1.3').

echo_tls12(Config) ->
    echo_version(Config, 'tlsv1.2').

echo_version(Config, Version) ->
    {Pid, Port} = tls_server(server_opts(Config), 1),
    {ok, Tls} = connect(Port, (client_opts(Config))#{versions => [Version]}),
    {ok, _} = accepted(Pid),
    ?assertMatch({ok, #{version := Version}}, stanza_tls:negotiated(Tls)),
    ?assertEqual(<<"hello">>, roundtrip(Tls, <<"hello">>)),
    ?assertEqual(<<"xy">>, roundtrip(Tls, [$x, <<"y">>])),
    ok = stanza_tls:close(Tls).

negotiated_and_bindings(Config) ->
    [begin
         {{ok, C}, {ok, S}} = pair(Config, server_opts(Config), #{versions => [V]}),
         {ok, #{cipher := Cipher, resumed := false}} = stanza_tls:negotiated(C),
         true = is_binary(Cipher),
         {ok, E1} = stanza_tls:channel_binding(C, tls_exporter),
         {ok, E2} = stanza_tls:channel_binding(S, tls_exporter),
         ?assertEqual(32, byte_size(E1)),
         ?assertEqual(E1, E2),
         case V of
             'tlsv1.3' ->
                 ?assertEqual({error, undefined}, stanza_tls:channel_binding(C, tls_unique));
             'tlsv1.2' ->
                 {ok, U1} = stanza_tls:channel_binding(C, tls_unique),
                 ?assertEqual({ok, U1}, stanza_tls:channel_binding(S, tls_unique))
         end,
         {ok, Der} = stanza_tls:peercert(C),
         #{server := #{der := Der}} = certs(Config),
         ?assertEqual({error, no_peercert}, stanza_tls:peercert(S)),
         close_all([{ok, C}])
     end || V <- ['tlsv1.3', 'tlsv1.2']],
    ok.

recv_length(Config) ->
    {{ok, C}, {ok, S}} = pair(Config, server_opts(Config), #{}),
    ok = stanza_tls:send(S, <<"0123456789">>),
    ?assertEqual({ok, <<"0123">>}, stanza_tls:recv(C, 4, ?T)),
    ?assertEqual({ok, <<"456789">>}, stanza_tls:recv(C, 6, ?T)),
    ?assertEqual({error, timeout}, stanza_tls:recv(C, 1, 100)),
    close_all([{ok, C}]).

active_once(Config) ->
    {{ok, C}, {ok, _S}} = pair(Config, server_opts(Config), #{}),
    ok = stanza_tls:send(C, <<"ping">>),
    ok = stanza_tls:setopts(C, [{active, once}]),
    Sock = stanza_tls:socket(C),
    Got = active_recv(C, Sock, <<>>, 4),
    ?assertEqual(<<"ping">>, Got),
    close_all([{ok, C}]).

active_recv(_C, _Sock, Acc, N) when byte_size(Acc) >= N ->
    Acc;
active_recv(C, Sock, Acc, N) ->
    receive
        {tcp, Sock, Bytes} ->
            {ok, Plain} = stanza_tls:recv_data(C, Bytes),
            ok = stanza_tls:setopts(C, [{active, once}]),
            active_recv(C, Sock, <<Acc/binary, Plain/binary>>, N)
    after ?T -> error({active_timeout, Acc})
    end.

big_transfer(Config) ->
    {{ok, C}, {ok, _}} = pair(Config, server_opts(Config), #{}),
    Data = crypto:strong_rand_bytes(3 * 1024 * 1024 + 17),
    Self = self(),
    Reader = spawn_link(fun() -> Self ! {read, recv_exactly(C, byte_size(Data))} end),
    ok = stanza_tls:send(C, Data),
    receive {read, Got} -> ?assertEqual(Data, Got) after 30000 -> error(timeout) end,
    unlink(Reader),
    close_all([{ok, C}]).

alpn(Config) ->
    {{ok, C}, {ok, S}} = pair(Config, (server_opts(Config))#{alpn => [<<"xmpp-client">>]},
                              #{alpn => [<<"h2">>, <<"xmpp-client">>]}),
    ?assertMatch({ok, #{alpn := <<"xmpp-client">>}}, stanza_tls:negotiated(C)),
    ?assertMatch({ok, #{alpn := <<"xmpp-client">>}}, stanza_tls:negotiated(S)),
    close_all([{ok, C}]).

sni(Config) ->
    #{wrong_host := #{certfile := WC, keyfile := WK, der := WDer},
      server := #{der := Der}} = certs(Config),
    Opts = (server_opts(Config))#{sni => #{"elsewhere.example" => {WC, WK}}},
    {{ok, C1}, {ok, _}} = pair(Config, Opts, #{server_name => "elsewhere.example"}),
    ?assertEqual({ok, WDer}, stanza_tls:peercert(C1)),
    {{ok, C2}, {ok, _}} = pair(Config, Opts, #{}),
    ?assertEqual({ok, Der}, stanza_tls:peercert(C2)),
    %% Only SNI certificates: a client naming none of them is refused.
    {{error, _}, {error, _}} =
        pair(Config, #{sni => #{"elsewhere.example" => {WC, WK}}}, #{}),
    close_all([{ok, C1}, {ok, C2}]).

session_resumption(Config) ->
    SOpts = (server_opts(Config))#{session_tickets => true},
    {Pid, Port} = tls_server(SOpts, 2),
    {ok, C1} = connect(Port, client_opts(Config)),
    {ok, _} = accepted(Pid),
    %% TLS 1.3 tickets come after the handshake: read once to take them.
    <<"a">> = roundtrip(C1, <<"a">>),
    {ok, Session} = stanza_tls:session(C1),
    ok = stanza_tls:close(C1),
    {ok, C2} = connect(Port, (client_opts(Config))#{session => Session}),
    {ok, _} = accepted(Pid),
    ?assertMatch({ok, #{resumed := true}}, stanza_tls:negotiated(C2)),
    close_all([{ok, C2}]).

xmpp_names(Config) ->
    {{ok, C1}, {ok, _}} = pair(Config, server_opts(Config, xmpp_addr),
                               #{server_name => "xmpp.example"}),
    {{ok, C2}, {ok, _}} = pair(Config, server_opts(Config, srv_name),
                               #{server_name => "srv.example"}),
    {{error, {hostname_mismatch, <<"nope.example">>}}, _} =
        pair(Config, server_opts(Config, xmpp_addr), #{server_name => "nope.example"}),
    close_all([{ok, C1}, {ok, C2}]).

expired_cert(Config) ->
    bad_cert(Config, expired, {verify_failed, <<"certificate has expired">>}).

self_signed_cert(Config) ->
    bad_cert(Config, self_signed, {verify_failed, <<"self-signed certificate">>}).

unknown_ca_cert(Config) ->
    bad_cert(Config, unknown_ca, {verify_failed, <<"unable to get local issuer certificate">>}).

wrong_host_cert(Config) ->
    bad_cert(Config, wrong_host, {hostname_mismatch, <<"localhost">>}).

bad_cert(Config, Which, Expected) ->
    {Client, Server} = pair(Config, server_opts(Config, Which), #{}),
    ?assertEqual({error, Expected}, Client),
    %% The server hears why: the client's alert.
    ?assertMatch({error, {tls_alert, _}}, Server).

verify_none_accepts_anything(Config) ->
    {{ok, C}, {ok, _}} = pair(Config, server_opts(Config, self_signed),
                              #{verify => none, server_name => "whatever"}),
    close_all([{ok, C}]).

server_name_required(Config) ->
    S = tcp_connect(element(2, listen())),
    ?assertEqual({error, {bad_option, server_name}},
                 stanza_tls:connect(S, #{cafile => maps:get(cafile, certs(Config))})),
    gen_tcp:close(S).

bad_options(Config) ->
    {L, Port} = listen(),
    Bad = [#{verify => maybe}, #{versions => ['tlsv1.1']}, #{alpn => [<<>>]},
           #{server_name => binary:copy(<<"a">>, 300)}, #{server_name => <<"a", 0, "b">>},
           #{certfile => "/nonexistent/cert.pem"}, #{ciphers => "NOPE-NOTHING"}],
    [begin
         S = tcp_connect(Port),
         ?assertMatch({error, {E, _}} when E =:= bad_option; E =:= tls_config,
                      stanza_tls:connect(S, maps:merge(client_opts(Config), O))),
         gen_tcp:close(S)
     end || O <- Bad],
    gen_tcp:close(L).

client_cert_required(Config) ->
    #{client := #{certfile := CC, keyfile := CK, der := CDer}, cafile := CA} = certs(Config),
    SOpts = (server_opts(Config))#{verify => peer, cafile => CA},
    {{ok, C1}, {ok, S1}} = pair(Config, SOpts, #{certfile => CC, keyfile => CK}),
    ?assertEqual({ok, CDer}, stanza_tls:peercert(S1)),
    close_all([{ok, C1}]),
    %% No certificate: the server refuses; a TLS 1.3 client learns it
    %% at its first read (its handshake ended before the server's).
    {Client, Server} = pair(Config, SOpts, #{}),
    ?assertMatch({error, {tls_error, _}}, Server),
    case Client of
        {ok, C2} -> ?assertMatch({error, {tls_alert, certificate_required}},
                                 stanza_tls:recv(C2, 0, ?T)),
                    stanza_tls:close(C2);
        {error, _} -> ok
    end.

client_cert_unrequested(Config) ->
    #{client := #{certfile := CC, keyfile := CK}} = certs(Config),
    {{ok, C}, {ok, S}} = pair(Config, server_opts(Config), #{certfile => CC, keyfile => CK}),
    ?assertEqual({error, no_peercert}, stanza_tls:peercert(S)),
    close_all([{ok, C}]).

%% ---------------------------------------------------------------------
%% Hostile peers against a stanza_tls server

raw_against_server(Config, Bytes, Then, Opts) ->
    {Pid, Port} = tls_server(maps:merge(server_opts(Config), Opts), 1),
    S = tcp_connect(Port),
    ok = gen_tcp:send(S, Bytes),
    case Then of
        close -> gen_tcp:close(S);
        wait -> ok
    end,
    Result = accepted(Pid),
    gen_tcp:close(S),
    Result.

garbage_bytes(Config) ->
    ?assertMatch({error, {tls_error, _}},
                 raw_against_server(Config, crypto:strong_rand_bytes(600), wait, #{})).

plaintext_xmpp(Config) ->
    Open = <<"<?xml version='1.0'?><stream:stream to='localhost' "
             "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
             "version='1.0'>">>,
    ?assertMatch({error, {tls_error, _}}, raw_against_server(Config, Open, wait, #{})).

plaintext_http(Config) ->
    ?assertEqual({error, {tls_error, <<"http request">>}},
                 raw_against_server(Config, <<"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n">>,
                                    wait, #{})).

truncated_record(Config) ->
    Hello = client_hello(Config),
    Half = binary:part(Hello, 0, byte_size(Hello) div 2),
    ?assertEqual({error, closed}, raw_against_server(Config, Half, close, #{})).

huge_record_claim(Config) ->
    %% A handshake record whose ClientHello claims 16 MB - 1 bytes.
    Claim = <<22, 3, 1, 0, 4, 1, 255, 255, 255>>,
    ?assertMatch({error, {tls_error, _}}, raw_against_server(Config, Claim, wait, #{})),
    %% A record header claiming more than TLS allows (18 KB).
    Long = <<22, 3, 3, 16#48, 0, 0:8/unit:8>>,
    ?assertMatch({error, {tls_error, _}}, raw_against_server(Config, Long, wait, #{})).

stalled_handshake(Config) ->
    Hello = client_hello(Config),
    Part = binary:part(Hello, 0, 10),
    T0 = erlang:monotonic_time(millisecond),
    ?assertEqual({error, timeout}, raw_against_server(Config, Part, wait, #{timeout => 300})),
    ?assert(erlang:monotonic_time(millisecond) - T0 < 5000).

closed_mid_handshake(Config) ->
    %% The client sends its hello, reads nothing and goes.
    ?assertEqual({error, closed},
                 raw_against_server(Config, client_hello(Config), close, #{})).

%% A real ClientHello from stanza_tls, captured by a plain listener.
client_hello(Config) ->
    {L, Port} = listen(),
    Test = self(),
    spawn_link(fun() ->
                       S = tcp_connect(Port),
                       _ = stanza_tls:connect(S, (client_opts(Config))#{timeout => 500}),
                       Test ! client_done
               end),
    {ok, A} = gen_tcp:accept(L),
    {ok, Hello} = gen_tcp:recv(A, 0, ?T),
    receive client_done -> ok after ?T -> error(client_stuck) end,
    gen_tcp:close(A),
    gen_tcp:close(L),
    Hello.

%% Many connections opened and dropped at every stage; the counter must
%% come back down (end_per_testcase).
churn(Config) ->
    N = list_to_integer(os:getenv("STANZA_TLS_CHURN", "10000")),
    {Pid, Port} = tls_server((server_opts(Config))#{timeout => 2000}, N),
    Hello = client_hello(Config),
    [begin
         S = tcp_connect(Port),
         case I rem 3 of
             0 -> ok;
             1 -> gen_tcp:send(S, Hello);
             2 -> gen_tcp:send(S, binary:part(Hello, 0, 7))
         end,
         gen_tcp:close(S),
         {error, _} = accepted(Pid)
     end || I <- lists:seq(1, N)],
    ct:pal("~b connections opened and dropped; live ~b", [N, stanza_tls:live()]).

%% ---------------------------------------------------------------------
%% OTP ssl on the other side

otp_ssl_server(Config) ->
    #{server := #{certfile := C, keyfile := K}} = certs(Config),
    [begin
         {ok, L} = ssl:listen(0, [binary, {active, false}, {ip, ?LOCAL}, {certfile, C},
                                  {keyfile, K}, {versions, [V]}, {reuseaddr, true}]),
         {ok, {_, Port}} = ssl:sockname(L),
         Test = self(),
         spawn_link(fun() ->
                            {ok, T} = ssl:transport_accept(L),
                            {ok, S} = ssl:handshake(T, ?T),
                            {ok, D} = ssl:recv(S, 0, ?T),
                            ok = ssl:send(S, D),
                            Test ! {otp_closed, ssl:recv(S, 0, ?T)}
                    end),
         {ok, Tls} = connect(Port, client_opts(Config)),
         ?assertMatch({ok, #{version := V}}, stanza_tls:negotiated(Tls)),
         ?assertEqual(<<"otp">>, roundtrip(Tls, <<"otp">>)),
         ok = stanza_tls:close(Tls),
         receive {otp_closed, R} -> ?assertEqual({error, closed}, R) after ?T -> error(t) end,
         ssl:close(L)
     end || V <- ['tlsv1.3', 'tlsv1.2']],
    ok.

otp_ssl_client(Config) ->
    CA = maps:get(cafile, certs(Config)),
    [begin
         {Pid, Port} = tls_server(server_opts(Config), 1),
         {ok, S} = ssl:connect(?LOCAL, Port,
                               [binary, {active, false}, {verify, verify_peer},
                                {cacertfile, CA}, {server_name_indication, "localhost"},
                                {versions, [V]}], ?T),
         {ok, _} = accepted(Pid),
         ok = ssl:send(S, <<"from otp">>),
         ?assertEqual({ok, <<"from otp">>}, ssl:recv(S, 8, ?T)),
         ssl:close(S)
     end || V <- ['tlsv1.3', 'tlsv1.2']],
    ok.

%% ---------------------------------------------------------------------
%% Debian's openssl on the other side

openssl() ->
    os:find_executable("openssl").

%% Starts `openssl Args', waits for Ready in its output; the port and
%% its OS pid, so the test can stop exactly what it started.
openssl_start(Args, Ready) ->
    P = open_port({spawn_executable, openssl()},
                  [{args, Args}, binary, stderr_to_stdout, exit_status, use_stdio]),
    {os_pid, OsPid} = erlang:port_info(P, os_pid),
    case wait_output(P, Ready, <<>>) of
        {ok, Out} -> {P, OsPid, Out};
        Error -> openssl_stop({P, OsPid, <<>>}), error({openssl_not_ready, Error})
    end.

openssl_stop({P, OsPid, _}) ->
    catch port_close(P),
    _ = os:cmd("kill " ++ integer_to_list(OsPid) ++ " 2>/dev/null"),
    ok.

wait_output(P, Want, Acc) ->
    case binary:match(Acc, Want) of
        nomatch ->
            receive
                {P, {data, D}} -> wait_output(P, Want, <<Acc/binary, D/binary>>);
                {P, {exit_status, S}} -> {exited, S, Acc}
            after ?T -> {timeout, Acc}
            end;
        _ -> {ok, Acc}
    end.

s_server(Config, Extra) ->
    #{server := #{certfile := C, keyfile := K}} = certs(Config),
    Port = free_port(),
    Srv = openssl_start(["s_server", "-accept", "127.0.0.1:" ++ integer_to_list(Port),
                         "-cert", C, "-key", K | Extra], <<"ACCEPT">>),
    {Srv, Port}.

openssl_s_server(Config) ->
    [begin
         {{P, _, _} = Srv, Port} = s_server(Config, [Flag]),
         try
             {ok, Tls} = connect(Port, client_opts(Config)),
             ok = stanza_tls:send(Tls, <<"to s_server\n">>),
             {ok, _} = wait_output(P, <<"to s_server">>, <<>>),
             true = port_command(P, <<"from s_server\n">>),
             ?assertEqual(<<"from s_server\n">>, recv_exactly(Tls, 14)),
             ?assertMatch({ok, #{version := V}}, stanza_tls:negotiated(Tls)),
             stanza_tls:close(Tls)
         after
             openssl_stop(Srv)
         end
     end || {Flag, V} <- [{"-tls1_3", 'tlsv1.3'}, {"-tls1_2", 'tlsv1.2'}]],
    ok.

openssl_close_notify(Config) ->
    {{P, _, _} = Srv, Port} = s_server(Config, []),
    try
        {ok, Tls} = connect(Port, client_opts(Config)),
        ok = stanza_tls:send(Tls, <<"bye\n">>),
        ok = stanza_tls:close(Tls),
        %% s_server reports a clean close as DONE, a missing close_notify
        %% as an error ("unexpected eof while reading").
        {ok, Out} = wait_output(P, <<"DONE">>, <<>>),
        ?assertEqual(nomatch, binary:match(Out, <<"unexpected eof">>))
    after
        openssl_stop(Srv)
    end.

s_client(Config, Port, Extra) ->
    CA = maps:get(cafile, certs(Config)),
    openssl_start(["s_client", "-connect", "127.0.0.1:" ++ integer_to_list(Port),
                   "-servername", "localhost", "-CAfile", CA, "-verify_return_error" | Extra],
                  <<"Verify return code: 0">>).

openssl_s_client(Config) ->
    [begin
         {Pid, Port} = tls_server(server_opts(Config), 1),
         {P, _, _} = Cli = s_client(Config, Port, [Flag]),
         try
             {ok, _} = accepted(Pid),
             true = port_command(P, <<"echo me\n">>),
             {ok, _} = wait_output(P, <<"echo me\necho me">>, <<"echo me\n">>)
         after
             openssl_stop(Cli)
         end
     end || Flag <- ["-tls1_3", "-tls1_2"]],
    ok.

%% s_client's "R" command asks for a renegotiation (TLS 1.2): the server
%% must refuse it and stay up.
openssl_renegotiation_refused(Config) ->
    {Pid, Port} = tls_server(server_opts(Config), 1),
    {P, _, _} = Cli = s_client(Config, Port, ["-tls1_2"]),
    try
        {ok, _} = accepted(Pid),
        true = port_command(P, <<"R\n">>),
        Result = wait_output(P, <<"no renegotiation">>, <<>>),
        ct:pal("s_client after R: ~p", [Result]),
        ?assertMatch({ok, _}, Result)
    after
        openssl_stop(Cli)
    end.

openssl_client_cert_unrequested(Config) ->
    #{client := #{certfile := CC, keyfile := CK}} = certs(Config),
    {Pid, Port} = tls_server(server_opts(Config), 1),
    Cli = s_client(Config, Port, ["-cert", CC, "-key", CK]),
    try
        {ok, S} = accepted(Pid),
        ?assertEqual({error, no_peercert}, stanza_tls:peercert(S)),
        {_, _, Out} = Cli,
        ?assertNotEqual(nomatch, binary:match(Out, <<"No client certificate CA names sent">>))
    after
        openssl_stop(Cli)
    end.

%% ---------------------------------------------------------------------
%% Where OpenSSL's memory goes (doc/tls.md): routed through enif_alloc
%% when asked and stanza_tls loads before anything touched libcrypto;
%% malloc when OTP crypto came first, and by default.

openssl_memory_routing(_Config) ->
    Ebin = filename:dirname(code:which(stanza_tls)),
    Routed = fresh_node(Ebin, ["-stanza", "tls_openssl_memory", "enif"]),
    try
        ?assertEqual(enif, peer:call(Routed, stanza_tls_nif, memory_routed, [])),
        Before = peer:call(Routed, erlang, memory, [system]),
        %% The system CA store, parsed by OpenSSL into routed memory.
        {ok, _} = peer:call(Routed, stanza_tls, context, [client, #{}]),
        Grown = peer:call(Routed, erlang, memory, [system]) - Before,
        ct:pal("erlang:memory(system) grew by ~b bytes for the CA store", [Grown]),
        ?assert(Grown > 100000),
        %% OTP crypto keeps working on the routed allocator.
        32 = byte_size(peer:call(Routed, crypto, hash, [sha256, <<"x">>]))
    after
        peer:stop(Routed)
    end,
    CryptoFirst = fresh_node(Ebin, ["-stanza", "tls_openssl_memory", "enif"]),
    try
        _ = peer:call(CryptoFirst, crypto, strong_rand_bytes, [8]),
        ?assertEqual(malloc, peer:call(CryptoFirst, stanza_tls_nif, memory_routed, []))
    after
        peer:stop(CryptoFirst)
    end,
    Default = fresh_node(Ebin, []),
    try ?assertEqual(malloc, peer:call(Default, stanza_tls_nif, memory_routed, []))
    after peer:stop(Default)
    end.

fresh_node(Ebin, Args) ->
    {ok, Peer, _} = peer:start_link(#{connection => standard_io, args => ["-pa", Ebin | Args]}),
    Peer.
