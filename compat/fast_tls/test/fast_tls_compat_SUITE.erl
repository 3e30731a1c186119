%% Common Test suite for the fast_tls compat application: the ejabberd
%% way of driving it (tcp_to_tls, then recv_data with what the socket
%% delivers), fast_tls's verification contract, the certfile registry and
%% SNI, and the deliberate differences (close_notify, no client
%% certificate request unless a cafile is given). The last cases run
%% Debian's real fast_tls 1.1.16 in a peer node (its code path does not
%% hold this application) against this one, both ways.
-module(fast_tls_compat_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-compile([export_all, nowarn_export_all]).

-define(LOCAL, {127, 0, 0, 1}).
-define(T, 10000).

all() ->
    [handshake_and_data, tls12_finished_and_exporter, verify_contract,
     no_client_cert_request, client_cert_with_cafile, certfile_registry_and_sni,
     send_before_handshake, close_sends_close_notify, tls_to_tcp_frees,
     no_certfile, passive_recv,
     real_fast_tls_server, real_fast_tls_client].

init_per_suite(Config) ->
    Dir = filename:join(?config(priv_dir, Config), "certs"),
    Certs = stanza_tls_test_certs:make(Dir),
    %% fast_tls takes the key in the certificate file, as ejabberd's are.
    Combined = maps:map(fun(_, #{certfile := C, keyfile := K} = V) ->
                                V#{pem => combine(Dir, C, K)};
                           (_, V) -> V
                        end, Certs),
    [{certs, Combined} | Config].

end_per_suite(_Config) ->
    [fast_tls:delete_certfile(D) || D <- ["elsewhere.example", "*.wild.example"]],
    fast_tls:clear_cache().

init_per_testcase(_Case, Config) ->
    [{live, stanza_tls:live()} | Config].

end_per_testcase(_Case, Config) ->
    flush(),
    wait_live(?config(live, Config), 50).

%% Messages holding connections (server_tls) would keep them alive.
flush() ->
    receive _ -> flush() after 0 -> ok end.

wait_live(Base, 0) ->
    {fail, {live_connections, stanza_tls:live(), baseline, Base}};
wait_live(Base, N) ->
    [erlang:garbage_collect(P) || P <- processes()],
    case stanza_tls:live() =< Base of
        true -> ok;
        false -> timer:sleep(20), wait_live(Base, N - 1)
    end.

combine(Dir, C, K) ->
    {ok, CB} = file:read_file(C),
    {ok, KB} = file:read_file(K),
    F = filename:join(Dir, filename:basename(C, "_cert.pem") ++ "_both.pem"),
    ok = file:write_file(F, [CB, KB]),
    F.

pem(Config, Name) ->
    maps:get(pem, maps:get(Name, ?config(certs, Config))).

der(Config, Name) ->
    maps:get(der, maps:get(Name, ?config(certs, Config))).

%% ---------------------------------------------------------------------
%% Driving fast_tls as ejabberd does

listen() ->
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {ip, ?LOCAL}, {reuseaddr, true}]),
    {ok, Port} = inet:port(L),
    {L, Port}.

%% A server process: accepts one connection, tcp_to_tls with ServerOpts,
%% then feeds every {tcp, _, Data} to recv_data (active once), reports
%% to the test what it decrypted and echoes it.
server(ServerOpts) ->
    {L, Port} = listen(),
    Test = self(),
    Pid = spawn_link(fun() ->
                             {ok, A} = gen_tcp:accept(L),
                             gen_tcp:close(L),
                             {ok, T} = fast_tls:tcp_to_tls(A, ServerOpts),
                             Test ! {server_tls, self(), T},
                             ok = fast_tls:setopts(T, [{active, once}]),
                             server_loop(Test, T, A)
                     end),
    {Pid, Port}.

server_loop(Test, T, A) ->
    receive
        {tcp, A, Data} ->
            case fast_tls:recv_data(T, Data) of
                {ok, <<>>} ->
                    ok;
                {ok, Plain} ->
                    Test ! {server_got, self(), Plain},
                    ok = fast_tls:send(T, Plain);
                {error, E} ->
                    Test ! {server_error, self(), E}
            end,
            ok = fast_tls:setopts(T, [{active, once}]),
            server_loop(Test, T, A);
        {tcp_closed, A} ->
            Test ! {server_closed, self()},
            fast_tls:close(T);
        stop ->
            fast_tls:close(T)
    end.

server_tls(Pid) ->
    receive {server_tls, Pid, T} -> T after ?T -> error(no_server) end.

%% A client: tcp_to_tls with connect, recv_data(T, <<>>) to start, then
%% passive recv + recv_data until the cipher is known.
client(Port, Opts) ->
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary, {active, false}], ?T),
    {ok, T} = fast_tls:tcp_to_tls(S, [connect | Opts]),
    {ok, <<>>} = fast_tls:recv_data(T, <<>>),
    client_wait(T, S).

client_wait(T, S) ->
    case fast_tls:get_negotiated_cipher(T) of
        {ok, _} ->
            {ok, T};
        error ->
            case gen_tcp:recv(S, 0, ?T) of
                {ok, Data} ->
                    case fast_tls:recv_data(T, Data) of
                        {ok, _} -> client_wait(T, S);
                        Error -> Error
                    end;
                Error -> Error
            end
    end.

echo(T, Data) ->
    ok = fast_tls:send(T, Data),
    {ok, Got} = fast_tls:recv(T, byte_size(Data), ?T),
    Got.

%% ---------------------------------------------------------------------
%% Cases

handshake_and_data(Config) ->
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, []),
    {ok, <<"TLSv1.3 ", _/binary>>} = fast_tls:get_negotiated_cipher(C),
    ?assertEqual(<<"hello">>, echo(C, <<"hello">>)),
    receive {server_got, Pid, <<"hello">>} -> ok after ?T -> error(no_data) end,
    {ok, {_, _}} = fast_tls:sockname(C),
    {ok, {?LOCAL, Port}} = fast_tls:peername(C),
    {ok, Der} = fast_tls:get_peer_certificate(C, der),
    ?assertEqual(der(Config, server), Der),
    {ok, _} = fast_tls:get_peer_certificate(C),
    {ok, _} = fast_tls:get_peer_certificate(C, otp),
    fast_tls:close(C).

tls12_finished_and_exporter(Config) ->
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, [{protocol_options, "no_sslv3|no_tlsv1_3"}]),
    S = server_tls(Pid),
    {ok, <<"TLSv1.2 ", _/binary>>} = fast_tls:get_negotiated_cipher(C),
    _ = echo(C, <<"x">>),
    {ok, Mine} = fast_tls:get_tls_last_message(self, C),
    {ok, Theirs} = fast_tls:get_tls_last_message(peer, S),
    ?assertEqual(Mine, Theirs),
    {ok, E1} = fast_tls:get_tls_cb_exporter(C),
    ?assertEqual({ok, E1}, fast_tls:get_tls_cb_exporter(S)),
    fast_tls:close(C).

%% fast_tls accepts any certificate and the caller checks: so does this.
%% The codes are OpenSSL's last verdict on each chain (the same as the
%% real fast_tls gives: real_fast_tls_client compares them).
verify_contract(Config) ->
    [begin
         {Pid, Port} = server([{certfile, pem(Config, Which)}]),
         {ok, C} = client(Port, [{cafile, maps:get(cafile, ?config(certs, Config))}]),
         ?assertEqual({Which, Code}, {Which, fast_tls:get_verify_result(C)}),
         {ok, Cert} = fast_tls:get_peer_certificate(C),
         ?assertEqual(Text, fast_tls:get_cert_verify_string(Code, Cert)),
         fast_tls:close(C),
         receive {server_closed, Pid} -> ok after ?T -> error(server_not_closed) end,
         ok
     end || {Which, Code, Text} <- [{server, 0, <<"ok">>},
                                    {wrong_host, 0, <<"ok">>},
                                    {self_signed, 26, <<"unsuitable certificate purpose">>},
                                    {expired, 10, <<"certificate has expired">>},
                                    {unknown_ca, 21, <<"unable to verify the first certificate">>}]],
    ok.

no_client_cert_request(Config) ->
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, [{certfile, pem(Config, client)}]),
    _ = echo(C, <<"x">>),
    ?assertEqual(error, fast_tls:get_peer_certificate(server_tls(Pid))),
    fast_tls:close(C).

client_cert_with_cafile(Config) ->
    CA = maps:get(cafile, ?config(certs, Config)),
    {Pid, Port} = server([{certfile, pem(Config, server)}, {cafile, CA}]),
    {ok, C} = client(Port, [{certfile, pem(Config, client)}]),
    _ = echo(C, <<"x">>),
    S = server_tls(Pid),
    ?assertEqual({ok, der(Config, client)}, fast_tls:get_peer_certificate(S, der)),
    ?assertEqual(0, fast_tls:get_verify_result(S)),
    fast_tls:close(C).

certfile_registry_and_sni(Config) ->
    ok = fast_tls:add_certfile("elsewhere.example", pem(Config, wrong_host)),
    ok = fast_tls:add_certfile(<<"*.wild.example">>, pem(Config, wrong_host)),
    File = list_to_binary(pem(Config, wrong_host)),
    ?assertEqual({ok, File}, fast_tls:get_certfile(<<"Elsewhere.Example">>)),
    ?assertEqual({ok, File}, fast_tls:get_certfile("a.wild.example")),
    ?assertEqual(error, fast_tls:get_certfile("nowhere.example")),
    {_Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, [{sni, "elsewhere.example"}]),
    ?assertEqual({ok, der(Config, wrong_host)}, fast_tls:get_peer_certificate(C, der)),
    fast_tls:close(C),
    ?assert(fast_tls:delete_certfile("elsewhere.example")),
    ?assertNot(fast_tls:delete_certfile("elsewhere.example")),
    ?assert(fast_tls:delete_certfile("*.wild.example")),
    ok = fast_tls:clear_cache().

send_before_handshake(Config) ->
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary, {active, false}], ?T),
    {ok, T} = fast_tls:tcp_to_tls(S, [connect]),
    {ok, <<>>} = fast_tls:recv_data(T, <<>>),
    ok = fast_tls:send(T, <<"early">>),
    {ok, T} = client_wait(T, S),
    receive {server_got, Pid, <<"early">>} -> ok after ?T -> error(not_sent) end,
    fast_tls:close(T).

close_sends_close_notify(Config) ->
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, []),
    _ = echo(C, <<"x">>),
    fast_tls:close(C),
    %% The server reads close_notify before the TCP close.
    receive {server_error, Pid, E} -> ?assertEqual(closed, E)
    after ?T -> error(no_close_notify)
    end.

tls_to_tcp_frees(Config) ->
    Before = stanza_tls:live(),
    {Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, C} = client(Port, []),
    _ = server_tls(Pid),
    ?assertEqual(Before + 2, stanza_tls:live()),
    S = fast_tls:tls_to_tcp(C),
    ?assertEqual(Before + 1, stanza_tls:live()),
    gen_tcp:close(S),
    receive {server_closed, Pid} -> ok after ?T -> error(server_not_closed) end.

no_certfile(_Config) ->
    {L, Port} = listen(),
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary], ?T),
    ?assertEqual({error, no_certfile}, fast_tls:tcp_to_tls(S, [])),
    {error, Bin} = fast_tls:tcp_to_tls(S, [{certfile, "/nonexistent.pem"}]),
    true = is_binary(Bin),
    gen_tcp:close(S),
    gen_tcp:close(L).

passive_recv(Config) ->
    {_Pid, Port} = server([{certfile, pem(Config, server)}]),
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary, {active, false}], ?T),
    {ok, T} = fast_tls:tcp_to_tls(S, [connect]),
    ok = fast_tls:finish_handshake(T, ?T),
    ?assertEqual(<<"abc">>, echo(T, <<"abc">>)),
    fast_tls:close(T).

%% ---------------------------------------------------------------------
%% Against Debian's real fast_tls, in a peer node

start_real(Config) ->
    {ok, Peer, _Node} = peer:start_link(#{connection => standard_io}),
    {Mod, Bin, File} = code:get_object_code(?MODULE),
    {module, Mod} = peer:call(Peer, code, load_binary, [Mod, File, Bin]),
    RealDir = peer:call(Peer, code, which, [fast_tls]),
    ct:pal("real fast_tls in the peer: ~s", [RealDir]),
    ?assertMatch("/usr/lib/erlang/lib/p1_tls-" ++ _, RealDir),
    ?assertNotEqual(code:which(fast_tls), RealDir),
    _ = Config,
    Peer.

real_fast_tls_server(Config) ->
    Peer = start_real(Config),
    {L, Port} = listen(),
    ok = gen_tcp:close(L),
    ok = peer:call(Peer, ?MODULE, real_server, [Port, pem(Config, self_signed)]),
    {ok, C} = client(Port, []),
    %% Without a cafile the last error OpenSSL records for this root
    %% certificate is its purpose (26), as the real fast_tls client says
    %% (real_fast_tls_client compares them).
    ?assertEqual(26, fast_tls:get_verify_result(C)),
    ?assertEqual(<<"real">>, echo(C, <<"real">>)),
    {ok, <<"TLSv1.3 ", _/binary>>} = fast_tls:get_negotiated_cipher(C),
    fast_tls:close(C),
    peer:stop(Peer).

real_fast_tls_client(Config) ->
    Peer = start_real(Config),
    {Pid, Port} = server([{certfile, pem(Config, self_signed)}]),
    Result = peer:call(Peer, ?MODULE, real_client, [Port], ?T),
    ?assertMatch({ok, _, <<"TLSv1.3 ", _/binary>>, <<"from real">>}, Result),
    receive {server_got, Pid, <<"from real">>} -> ok after ?T -> error(no_data) end,
    %% The same verdict on the same certificates, from the real client
    %% and from this one.
    CA = maps:get(cafile, ?config(certs, Config)),
    [begin
         {_, P2} = server([{certfile, pem(Config, Which)}]),
         {ok, Real, _, _} = peer:call(Peer, ?MODULE, real_client, [P2, Opts], ?T),
         {_, P3} = server([{certfile, pem(Config, Which)}]),
         {ok, C} = client(P3, Opts),
         ct:pal("~p ~p: real ~p, compat ~p", [Which, Opts, Real, fast_tls:get_verify_result(C)]),
         ?assertEqual({Which, Opts, Real}, {Which, Opts, fast_tls:get_verify_result(C)}),
         fast_tls:close(C)
     end || Which <- [server, wrong_host, self_signed, expired, unknown_ca],
            Opts <- [[], [{cafile, CA}]]],
    peer:stop(Peer).

%% These two run in the peer, with Debian's fast_tls.
real_server(Port, Pem) ->
    Caller = self(),
    spawn(fun() ->
                  {ok, L} = gen_tcp:listen(Port, [binary, {active, false}, {ip, ?LOCAL},
                                                  {reuseaddr, true}]),
                  Caller ! listening,
                  {ok, A} = gen_tcp:accept(L),
                  {ok, T} = fast_tls:tcp_to_tls(A, [{certfile, Pem}, verify_none]),
                  real_echo(T, A)
          end),
    receive listening -> ok after ?T -> error(no_listen) end.

real_echo(T, A) ->
    case gen_tcp:recv(A, 0, ?T) of
        {ok, Data} ->
            case fast_tls:recv_data(T, Data) of
                {ok, <<>>} -> real_echo(T, A);
                {ok, Plain} -> fast_tls:send(T, Plain), real_echo(T, A);
                _ -> ok
            end;
        _ -> ok
    end.

real_client(Port) ->
    real_client(Port, []).

real_client(Port, Opts) ->
    {ok, S} = gen_tcp:connect(?LOCAL, Port, [binary, {active, false}], ?T),
    {ok, T} = fast_tls:tcp_to_tls(S, [connect | Opts]),
    {ok, <<>>} = fast_tls:recv_data(T, <<>>),
    {ok, T} = client_wait(T, S),
    ok = fast_tls:send(T, <<"from real">>),
    {ok, Got} = fast_tls:recv(T, 9, ?T),
    {ok, Cipher} = fast_tls:get_negotiated_cipher(T),
    {ok, fast_tls:get_verify_result(T), Cipher, Got}.
