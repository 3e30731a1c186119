%% @doc The TLS section of the benchmark: stanza_tls against Debian's
%% fast_tls 1.1.16 and OTP ssl, with plain gen_tcp as the ceiling.
%%
%% Every measurement runs in fresh peer nodes (erl started for it, on
%% 127.0.0.1, ports chosen by the OS), and the libraries take turns within
%% each round, so all see the same machine. Both ends of a connection use
%% the same library. The peers' code path holds stanza and this module
%% but not the fast_tls compat application, so `fast_tls' there is
%% Debian's. Rows:
%% <ul>
%% <li>bulk: one client sends Total bytes in writes of 1 KB or 64 KB, the
%% server reads them as an XMPP server does (active once, each message
%% decrypted as it comes) and answers one byte; MB/s from the first write
%% to that byte.</li>
%% <li>handshakes: TCP connect, full handshake both sides, one byte each
%% way, close; one after the other for a fixed time. Client verifies the
%% chain against the test CA (fast_tls: records the verdict), server asks
%% for no client certificate. OTP ssl is given x25519/P-256 like the
%% others (its TLS 1.2 default here picks a slow binary curve).</li>
%% <li>idle memory: N connections kept open after one byte each way;
%% erlang:memory(total) and RSS of the server node and of the client
%% node, before and after, per connection.</li>
%% <li>scheduler: the longest stanza_tls NIF call on a normal scheduler
%% (its own clock), its longest dirty call (handshake steps), and for
%% every library the longest hold that erlang:system_monitor's
%% long_schedule saw (it reports holds of 1 ms and more).</li>
%% </ul>
%%
%% Options: `runs' (default 3), `bulk_mb' (32), `handshake_ms' (2000),
%% `idle' (300), `only' (some of bulk, handshakes, memory, scheduler).
-module(stanza_bench_tls).

-include_lib("public_key/include/public_key.hrl").

-export([tables/1, main/2]).
%% Run inside the peer nodes.
-export([bulk/3, handshakes/3, serve_idle/3, connect_idle/4, idle_memory/0,
         listen_ready/3]).

-define(LIBS, [stanza_tls, fast_tls, ssl, gen_tcp]).
-define(TLS_LIBS, [stanza_tls, fast_tls, ssl]).
-define(LOCAL, {127, 0, 0, 1}).
-define(T, 60000).
%% Nagle off everywhere: TLS writes a flight in pieces, and Nagle with
%% delayed ACKs turns that into 40 ms stalls.
-define(CONNECT_OPTS, [binary, {active, false}, {nodelay, true}]).

%% @doc Runs the section; one progress line per row on stderr.
-spec tables(map()) -> [map()].
tables(Opts0) ->
    Opts = maps:merge(#{runs => 3, bulk_mb => 32, handshake_ms => 2000, idle => 300}, Opts0),
    Dir = make_dir(),
    Certs = make_certs(Dir),
    try
        [T(Certs, Opts) || {K, T} <- [{bulk, fun bulk_table/2}, {handshakes, fun handshake_table/2},
                                      {memory, fun memory_table/2}, {scheduler, fun sched_table/2}],
                           lists:member(K, maps:get(only, Opts, [bulk, handshakes, memory, scheduler]))]
    after
        _ = os:cmd("rm -rf " ++ Dir)
    end.

%% @doc `make bench-tls': runs the section, prints the tables, writes them
%% as Markdown to Out, halts (status 1 if the run crashed).
-spec main(file:filename(), map()) -> no_return().
main(Out, Opts) ->
    try tables(Opts) of
        Tables ->
            ok = filelib:ensure_dir(Out),
            ok = file:write_file(Out, [[stanza_bench_report:markdown(T), "\n"] || T <- Tables]),
            io:put_chars([[stanza_bench_report:text(T), "\n"] || T <- Tables]),
            halt(0)
    catch C:E:St ->
            io:format(standard_error, "bench-tls failed: ~p:~p~n~p~n", [C, E, St]),
            halt(1)
    end.

%% ---------------------------------------------------------------------
%% Tables

bulk_table(Certs, #{runs := Runs, bulk_mb := MB}) ->
    Rows = [bulk_row(Certs, Size, MB, Runs) || Size <- [1024, 65536]],
    #{id => tls_bulk,
      title => "TLS bulk transfer, MB/s (median, range over runs)",
      columns => [{"write size", text} | lib_columns()],
      rows => Rows,
      notes => ["One connection, TLS 1.3, P-256 certificate, " ++ integer_to_list(MB)
                ++ " MB per run; client and server in one fresh node.",
                "Goal: stanza_tls >= fast_tls, and >= 75% of gen_tcp at 64 KB."]}.

bulk_row(Certs, Size, MB, Runs) ->
    Name = integer_to_list(Size div 1024) ++ " KB",
    Cells = interleave(Runs, ?LIBS,
                       fun(Lib) -> in_peer(fun(P) -> peer:call(P, ?MODULE, bulk,
                                                           [Lib, Certs#{cert => p256}, {Size, MB}], ?T) end)
                       end),
    progress("tls bulk ~s: ~s", [Name, summary(Cells)]),
    [Name | [cell(maps:get(L, Cells, [])) || L <- ?LIBS]].

handshake_table(Certs, #{runs := Runs, handshake_ms := Ms}) ->
    Rows = [handshake_row(Certs, V, K, Ms, Runs)
            || V <- ['tlsv1.3', 'tlsv1.2'], K <- [rsa, p256]],
    #{id => tls_handshakes,
      title => "TLS handshakes per second (median, range over runs)",
      columns => [{"version, key", text} | [C || {N, _} = C <- lib_columns(), N =/= "gen_tcp"]],
      rows => Rows,
      notes => ["Sequential: connect, full handshake, one byte each way, close; "
                ++ integer_to_list(Ms) ++ " ms per run, both ends in one fresh node.",
                "Goal: stanza_tls >= fast_tls."]}.

handshake_row(Certs, Version, Key, Ms, Runs) ->
    Name = atom_to_list(Version) ++ ", " ++ key_name(Key),
    Cells = interleave(Runs, ?TLS_LIBS,
                       fun(Lib) -> in_peer(fun(P) -> peer:call(P, ?MODULE, handshakes,
                                                           [Lib, Certs#{cert => Key, version => Version}, Ms],
                                                           ?T) end)
                       end),
    progress("tls handshakes ~s: ~s", [Name, summary(Cells)]),
    [Name | [cell(maps:get(L, Cells, [])) || L <- ?TLS_LIBS]].

key_name(rsa) -> "RSA-2048";
key_name(p256) -> "P-256".

memory_table(Certs, #{runs := Runs, idle := N}) ->
    Results = interleave_raw(Runs, ?LIBS, fun(Lib) -> idle(Lib, Certs, N) end),
    Kinds = [{server_rss, "server RSS"}, {client_rss, "client RSS"},
             {server_erl, "server erlang:memory"}, {client_erl, "client erlang:memory"}],
    Rows = [[Label | [cell([pick(K, R) || R <- maps:get(L, Results, [])]) || L <- ?LIBS]]
            || {K, Label} <- Kinds],
    progress("tls idle memory: ~p", [Results]),
    #{id => tls_memory,
      title => "Memory per idle connection, bytes (median, range over runs)",
      columns => [{"per connection", text} | lib_columns()],
      rows => Rows,
      notes => [integer_to_list(N) ++ " connections, TLS 1.3, P-256, each after one byte "
                "each way; server and client in two fresh nodes; difference before/after, "
                "after garbage collection, divided by the count.",
                "erlang:memory counts OpenSSL's memory for stanza_tls only when it could route "
                "OpenSSL's allocations through enif_alloc (it loads first in these nodes); "
                "fast_tls's and OTP ssl's OpenSSL memory is in RSS only.",
                "Goal: stanza_tls RSS <= half of fast_tls's."]}.

sched_table(Certs, #{runs := Runs}) ->
    Results = interleave_raw(Runs, ?TLS_LIBS,
                             fun(Lib) ->
                                     in_peer(fun(P) ->
                                                     H = peer:call(P, ?MODULE, handshakes,
                                                                   [Lib, Certs#{cert => rsa, version => 'tlsv1.3'}, 1000], ?T),
                                                     B = peer:call(P, ?MODULE, bulk,
                                                                   [Lib, Certs#{cert => p256}, {65536, 16}], ?T),
                                                     {H, B}
                                             end)
                             end),
    Rows = [sched_row(Lib, maps:get(Lib, Results, [])) || Lib <- ?TLS_LIBS],
    progress("tls scheduler holds: ~p", [Rows]),
    #{id => tls_scheduler,
      title => "Longest scheduler hold, ms (max over runs)",
      columns => [{"library", text}, {"handshakes: long_schedule", number},
                  {"bulk: long_schedule", number}, {"NIF normal, wall", number},
                  {"NIF normal, CPU", number}, {"NIF dirty, wall", number},
                  {"NIF dirty, CPU", number}],
      rows => Rows,
      notes => ["long_schedule: the longest hold of 1 ms or more that erlang:system_monitor "
                "reported (0: none reached 1 ms). NIF columns: stanza_tls's longest call by its "
                "own clocks (wall, and the scheduler thread's CPU time, which leaves out time "
                "the OS gave to other processes on this shared machine). The handshake steps "
                "that sign, verify or agree on keys run on dirty CPU schedulers (dirty "
                "columns); every other call, the other handshake steps included, is in the "
                "normal columns.",
                "Handshakes: TLS 1.3, RSA-2048 (the costliest signature); bulk: 64 KB writes.",
                "Goal: no NIF call over 1 ms on a normal scheduler."]}.

sched_row(Lib, Pairs) ->
    Max = fun(F) -> lists:max([0 | [F(P) || P <- Pairs, is_tuple(P)]]) end,
    Long = fun(R) -> maps:get(long_ms, R, 0) end,
    Nif = fun(K) -> fun(R) -> maps:get(K, R, 0) / 1.0e6 end end,
    Ours = fun(K) -> case Lib of
                         stanza_tls -> Max(fun({H, B}) -> max((Nif(K))(H), (Nif(K))(B)) end);
                         _ -> undefined
                     end
           end,
    [atom_to_list(Lib), Max(fun({H, _}) -> Long(H) end), Max(fun({_, B}) -> Long(B) end),
     Ours(nif_normal_ns), Ours(nif_normal_cpu_ns), Ours(nif_dirty_ns), Ours(nif_dirty_cpu_ns)].

lib_columns() ->
    [{"stanza_tls", text}, {"fast_tls", text}, {"OTP ssl", text}, {"gen_tcp", text}].

%% Cells: "median (min-max)" as text, or "failed: why".
cell([]) -> undefined;
cell(Values) ->
    case [V || V <- Values, is_number(V)] of
        [] -> "failed: " ++ lists:flatten(io_lib:format("~0p", [hd(Values)]));
        Nums ->
            S = lists:sort(Nums),
            Med = lists:nth((length(S) + 1) div 2, S),
            stanza_bench_report:num(Med) ++ " (" ++ stanza_bench_report:num(hd(S)) ++ "-"
                ++ stanza_bench_report:num(lists:last(S)) ++ ")"
    end.

summary(Cells) ->
    string:join([atom_to_list(L) ++ " " ++ show_cell(cell(V)) || {L, V} <- maps:to_list(Cells)], ", ").

show_cell(undefined) -> "-";
show_cell(S) -> S.

%% Runs rounds; in each, every library once, in a rotated order.
interleave(Runs, Libs, Fun) ->
    Raw = interleave_raw(Runs, Libs, Fun),
    maps:map(fun(_, Vs) -> [value(V) || V <- Vs] end, Raw).

value(V) when is_number(V) -> V;
value(#{value := V}) -> V;
value(Other) -> Other.

interleave_raw(Runs, Libs, Fun) ->
    Rounds = [rotate(R, Libs) || R <- lists:seq(0, Runs - 1)],
    lists:foldl(fun(Lib, Acc) ->
                        V = try Fun(Lib) catch C:E -> {C, E} end,
                        maps:update_with(Lib, fun(L) -> L ++ [V] end, [V], Acc)
                end, #{}, lists:append(Rounds)).

rotate(N, L) ->
    K = N rem length(L),
    lists:nthtail(K, L) ++ lists:sublist(L, K).

progress(Format, Args) ->
    io:format(standard_error, Format ++ "~n", Args).

%% ---------------------------------------------------------------------
%% Peer nodes

in_peer(Fun) ->
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [?MODULE, stanza_tls,
                                                                  stanza_bench_report]]),
    Args = lists:append([["-pa", P] || P <- Paths]),
    {ok, Peer, _} = peer:start_link(#{connection => standard_io, args => Args}),
    try Fun(Peer)
    after peer:stop(Peer)
    end.

idle(Lib, Certs, N) ->
    in_peer(fun(S) ->
                    in_peer(fun(C) ->
                                    Base = {peer:call(S, ?MODULE, idle_memory, []),
                                            peer:call(C, ?MODULE, idle_memory, [])},
                                    {Port, _} = peer:call(S, ?MODULE, serve_idle,
                                                          [Lib, Certs#{cert => p256}, N], ?T),
                                    ok = peer:call(C, ?MODULE, connect_idle,
                                                   [Lib, Certs#{cert => p256}, Port, N], ?T),
                                    timer:sleep(200),
                                    After = {peer:call(S, ?MODULE, idle_memory, []),
                                             peer:call(C, ?MODULE, idle_memory, [])},
                                    per_conn(Base, After, N)
                            end)
            end).

pick(K, #{} = R) -> maps:get(K, R);
pick(_, Failure) -> Failure.

per_conn({{SE0, SR0}, {CE0, CR0}}, {{SE1, SR1}, {CE1, CR1}}, N) ->
    #{server_erl => (SE1 - SE0) / N, server_rss => (SR1 - SR0) / N,
      client_erl => (CE1 - CE0) / N, client_rss => (CR1 - CR0) / N}.

%% ---------------------------------------------------------------------
%% In the peer: the libraries behind one face

%% Loads what the library needs before anything is measured. stanza_tls
%% first of all, so it can route OpenSSL's memory (nothing has touched
%% libcrypto yet in a fresh node).
prepare(stanza_tls) -> _ = stanza_tls_nif:memory_routed(), ok;
prepare(ssl) -> {ok, _} = application:ensure_all_started(ssl), ok;
prepare(fast_tls) -> {module, fast_tls} = code:ensure_loaded(fast_tls), ok;
prepare(gen_tcp) -> ok.

files(#{cert := Key} = Certs) ->
    maps:get(Key, Certs).

%% The inet driver reads at most `buffer' bytes per active message
%% (1460 by default); STANZA_BENCH_TLS_BUFFER sets it for every library.
buffer_opt() ->
    case os:getenv("STANZA_BENCH_TLS_BUFFER") of
        false -> [];
        N -> [{buffer, list_to_integer(N)}]
    end.

listen(_Lib) ->
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {ip, ?LOCAL}, {reuseaddr, true},
                                 {backlog, 1024}, {nodelay, true} | buffer_opt()]),
    {ok, Port} = inet:port(L),
    {L, Port}.

%% Accepts one TCP connection and runs the server side of Lib on it.
accept(Lib, L, Certs) ->
    {ok, S} = gen_tcp:accept(L),
    server(Lib, S, Certs).

server(gen_tcp, S, _) ->
    {gen_tcp, S};
server(stanza_tls, S, Certs) ->
    #{certfile := C, keyfile := K} = files(Certs),
    {ok, T} = stanza_tls:accept(S, #{certfile => C, keyfile => K}),
    {stanza_tls, T};
server(fast_tls, S, Certs) ->
    #{pem := Pem} = files(Certs),
    {ok, T} = fast_tls:tcp_to_tls(S, [{certfile, Pem}, verify_none]),
    {fast_tls, T};
server(ssl, S, Certs) ->
    #{certfile := C, keyfile := K} = files(Certs),
    {ok, T} = ssl:handshake(S, [{certfile, C}, {keyfile, K} | ssl_common(Certs)], ?T),
    {ssl, T}.

client(gen_tcp, S, _) ->
    {gen_tcp, S};
client(stanza_tls, S, #{cafile := CA} = Certs) ->
    Versions = [maps:get(version, Certs, 'tlsv1.3')],
    {ok, T} = stanza_tls:connect(S, #{server_name => "localhost", cafile => CA,
                                      versions => Versions}),
    {stanza_tls, T};
client(fast_tls, S, #{cafile := CA} = Certs) ->
    Proto = case maps:get(version, Certs, 'tlsv1.3') of
                'tlsv1.3' -> [];
                'tlsv1.2' -> [{protocol_options, "no_sslv3|no_tlsv1|no_tlsv1_1|no_tlsv1_3"}]
            end,
    {ok, T} = fast_tls:tcp_to_tls(S, [connect, {cafile, CA}, {sni, "localhost"} | Proto]),
    {ok, <<>>} = fast_tls:recv_data(T, <<>>),
    {fast_tls, T};
client(ssl, S, #{cafile := CA} = Certs) ->
    {ok, T} = ssl:connect(S, [{verify, verify_peer}, {cacertfile, CA},
                              {server_name_indication, "localhost"} | ssl_common(Certs)], ?T),
    {ssl, T}.

ssl_common(Certs) ->
    case maps:get(version, Certs, 'tlsv1.3') of
        'tlsv1.3' -> [{versions, ['tlsv1.3']}, {supported_groups, [x25519, secp256r1]}];
        'tlsv1.2' -> [{versions, ['tlsv1.2']}, {eccs, [x25519, secp256r1]}]
    end ++ [binary, {active, false}].

send({gen_tcp, S}, D) -> gen_tcp:send(S, D);
send({stanza_tls, T}, D) -> stanza_tls:send(T, D);
send({fast_tls, T}, D) -> fast_tls:send(T, D);
send({ssl, T}, D) -> ssl:send(T, D).

recv({gen_tcp, S}) -> gen_tcp:recv(S, 0, ?T);
recv({stanza_tls, T}) -> stanza_tls:recv(T, 0, ?T);
recv({fast_tls, T}) -> fast_tls:recv(T, 0, ?T);
recv({ssl, T}) -> ssl:recv(T, 0, ?T).

close({gen_tcp, S}) -> gen_tcp:close(S);
close({stanza_tls, T}) -> stanza_tls:close(T);
close({fast_tls, T}) -> fast_tls:close(T);
close({ssl, T}) -> ssl:close(T).

%% The receiving side of bulk runs as an XMPP server does: active once,
%% each message's bytes decrypted as they come.
active_bytes(_H, N) when N =< 0 -> ok;
active_bytes(H, N) ->
    ok = active_once(H),
    active_bytes(H, N - byte_size(active_data(H))).

active_once({gen_tcp, S}) -> inet:setopts(S, [{active, once}]);
active_once({stanza_tls, T}) -> stanza_tls:setopts(T, [{active, once}]);
active_once({fast_tls, T}) -> fast_tls:setopts(T, [{active, once}]);
active_once({ssl, T}) -> ssl:setopts(T, [{active, once}]).

active_data({gen_tcp, S}) -> receive {tcp, S, D} -> D after ?T -> error(timeout) end;
active_data({stanza_tls, T}) ->
    S = stanza_tls:socket(T),
    receive {tcp, S, D} -> {ok, P} = stanza_tls:recv_data(T, D), P after ?T -> error(timeout) end;
active_data({fast_tls, T}) ->
    receive {tcp, _, D} -> {ok, P} = fast_tls:recv_data(T, D), P after ?T -> error(timeout) end;
active_data({ssl, T}) -> receive {ssl, T, D} -> D after ?T -> error(timeout) end.

recv_bytes(_H, N) when N =< 0 -> ok;
recv_bytes(H, N) ->
    {ok, D} = recv(H),
    recv_bytes(H, N - byte_size(D)).

%% A server process for one connection at a time, forever (the peer
%% stops with the measurement).
-spec listen_ready(atom(), term(), fun((term()) -> term())) -> inet:port_number().
listen_ready(Lib, Certs, Handler) ->
    Self = self(),
    %% The listener belongs to the serving process: the caller may be a
    %% peer:call that ends before the connections come.
    spawn(fun() ->
                  {L, Port} = listen(Lib),
                  Self ! {port, Port},
                  serve_loop(Lib, L, Certs, Handler)
          end),
    receive {port, Port} -> Port after ?T -> error(no_listener) end.

serve_loop(Lib, L, Certs, Handler) ->
    H = accept(Lib, L, Certs),
    Handler(H),
    serve_loop(Lib, L, Certs, Handler).

%% --- bulk

-spec bulk(atom(), map(), {pos_integer(), pos_integer()}) -> map().
bulk(Lib, Certs, {Size, MB}) ->
    prepare(Lib),
    Total = MB * 1024 * 1024,
    Port = listen_ready(Lib, Certs, fun(H) -> active_bytes(H, Total), ok = send(H, <<"!">>) end),
    {ok, S} = gen_tcp:connect(?LOCAL, Port, ?CONNECT_OPTS),
    H = client(Lib, S, Certs),
    Block = binary:copy(<<"x">>, Size),
    Mon = monitor_start(),
    Reset = reset_nif(Lib),
    T0 = erlang:monotonic_time(),
    send_n(H, Block, Total div Size),
    ok = recv_bytes(H, 1),
    T1 = erlang:monotonic_time(),
    Secs = erlang:convert_time_unit(T1 - T0, native, microsecond) / 1.0e6,
    Extra = maps:merge(monitor_stop(Mon), nif_stats(Lib, Reset)),
    _ = close(H),
    Extra#{value => Total / Secs / 1.0e6}.

send_n(_H, _B, 0) -> ok;
send_n(H, B, N) -> ok = send(H, B), send_n(H, B, N - 1).

%% --- handshakes

-spec handshakes(atom(), map(), pos_integer()) -> map().
handshakes(Lib, Certs, Ms) ->
    prepare(Lib),
    Port = listen_ready(Lib, Certs, fun(H) -> {ok, _} = recv(H), ok = send(H, <<"!">>),
                                              _ = recv(H), close(H) end),
    _ = one_handshake(Lib, Port, Certs), %% warm-up: contexts, code
    Mon = monitor_start(),
    Reset = reset_nif(Lib),
    T0 = erlang:monotonic_time(millisecond),
    N = handshake_loop(Lib, Port, Certs, T0 + Ms, 0),
    T1 = erlang:monotonic_time(millisecond),
    Extra = maps:merge(monitor_stop(Mon), nif_stats(Lib, Reset)),
    Extra#{value => N * 1000 / (T1 - T0)}.

handshake_loop(Lib, Port, Certs, End, N) ->
    case erlang:monotonic_time(millisecond) >= End of
        true -> N;
        false ->
            _ = one_handshake(Lib, Port, Certs),
            handshake_loop(Lib, Port, Certs, End, N + 1)
    end.

one_handshake(Lib, Port, Certs) ->
    {ok, S} = gen_tcp:connect(?LOCAL, Port, ?CONNECT_OPTS),
    H = client(Lib, S, Certs),
    ok = send(H, <<"?">>),
    ok = recv_bytes(H, 1),
    close(H).

%% --- idle memory

-spec idle_memory() -> {non_neg_integer(), non_neg_integer()}.
idle_memory() ->
    [erlang:garbage_collect(P) || P <- processes()],
    timer:sleep(50),
    {erlang:memory(total), rss()}.

rss() ->
    {ok, Status} = file:read_file("/proc/" ++ os:getpid() ++ "/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+(\\d+) kB", [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.

-spec serve_idle(atom(), map(), pos_integer()) -> {inet:port_number(), pid()}.
serve_idle(Lib, Certs, N) ->
    prepare(Lib),
    _ = warm(Lib, Certs),
    Holder = spawn(fun() -> hold([]) end),
    Port = listen_ready(Lib, Certs, fun(H) ->
                                            {ok, _} = recv(H),
                                            ok = send(H, <<"!">>),
                                            own(H, Holder)
                                    end),
    _ = N,
    {Port, Holder}.

-spec connect_idle(atom(), map(), inet:port_number(), pos_integer()) -> ok.
connect_idle(Lib, Certs, Port, N) ->
    prepare(Lib),
    _ = warm(Lib, Certs),
    Holder = spawn(fun() -> hold([]) end),
    register(stanza_bench_tls_holder, Holder),
    _ = [begin
         {ok, S} = gen_tcp:connect(?LOCAL, Port, ?CONNECT_OPTS),
         H = client(Lib, S, Certs),
         ok = send(H, <<"?">>),
         ok = recv_bytes(H, 1),
         own(H, Holder)
     end || _ <- lists:seq(1, N)],
    ok.

%% Contexts and code loaded before the baseline would be unfair to count
%% per connection: one handshake with itself first.
warm(Lib, Certs) ->
    Port = listen_ready(Lib, Certs, fun(H) -> {ok, _} = recv(H), ok = send(H, <<"!">>),
                                              close(H) end),
    one_handshake(Lib, Port, Certs).

own({gen_tcp, S} = H, Holder) -> ok = gen_tcp:controlling_process(S, Holder), Holder ! {keep, H};
own({stanza_tls, T} = H, Holder) -> ok = stanza_tls:controlling_process(T, Holder), Holder ! {keep, H};
own({fast_tls, T} = H, Holder) -> ok = fast_tls:controlling_process(T, Holder), Holder ! {keep, H};
own({ssl, T} = H, Holder) -> ok = ssl:controlling_process(T, Holder), Holder ! {keep, H}.

hold(Kept) ->
    receive {keep, H} -> hold([H | Kept]) end.

%% --- scheduler holds

monitor_start() ->
    Self = self(),
    Pid = spawn(fun() ->
                        _ = erlang:system_monitor(self(), [{long_schedule, 1}]),
                        Self ! monitoring,
                        monitor_loop(0)
                end),
    receive monitoring -> Pid end.

monitor_loop(Max) ->
    receive
        {monitor, _, long_schedule, Info} ->
            monitor_loop(max(Max, proplists:get_value(timeout, Info, 0)));
        {stop, From} -> From ! {long_ms, Max}
    end.

monitor_stop(Pid) ->
    Pid ! {stop, self()},
    receive {long_ms, Max} -> #{long_ms => Max} end.

reset_nif(stanza_tls) ->
    ok = stanza_tls_nif:timing(true),
    [stanza_tls_nif:max_call_ns(K) || K <- [handshake, handshake_dirty, data, other]];
reset_nif(_) ->
    [].

nif_stats(stanza_tls, _) ->
    {HW, HC} = stanza_tls_nif:max_call_ns(handshake_dirty),
    {NW, NC} = stanza_tls_nif:max_call_ns(handshake),
    {DW, DC} = stanza_tls_nif:max_call_ns(data),
    {OW, OC} = stanza_tls_nif:max_call_ns(other),
    #{nif_dirty_ns => HW, nif_dirty_cpu_ns => HC,
      nif_normal_ns => lists:max([NW, DW, OW]), nif_normal_cpu_ns => lists:max([NC, DC, OC]),
      memory_routed => stanza_tls_nif:memory_routed()};
nif_stats(_, _) ->
    #{}.

%% ---------------------------------------------------------------------
%% Certificates: RSA-2048 and P-256, each signed by a test root; files
%% for stanza_tls / OTP ssl (cert, key) and for fast_tls (both in one).

make_dir() ->
    Dir = filename:join(["/tmp", "stanza_bench_tls." ++ os:getpid()]),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Dir.

make_certs(Dir) ->
    #{rsa => chain(Dir, "rsa", {rsa, 2048, 65537}),
      p256 => chain(Dir, "p256", {namedCurve, ?'secp256r1'}),
      cafile => filename:join(Dir, "ca.pem")}.

chain(Dir, Name, Key) ->
    San = #'Extension'{extnID = ?'id-ce-subjectAltName', critical = false,
                       extnValue = [{dNSName, "localhost"}]},
    Conf = public_key:pkix_test_data(#{root => [{key, Key}, {digest, sha256}],
                                       intermediates => [],
                                       peer => [{key, Key}, {digest, sha256},
                                                {extensions, [San]}]}),
    Cert = proplists:get_value(cert, Conf),
    {KT, KD} = proplists:get_value(key, Conf),
    CertPem = public_key:pem_encode([{'Certificate', Cert, not_encrypted}]),
    KeyPem = public_key:pem_encode([{KT, KD, not_encrypted}]),
    RootPem = public_key:pem_encode([{'Certificate', C, not_encrypted}
                                     || C <- proplists:get_value(cacerts, Conf)]),
    CA = filename:join(Dir, "ca.pem"),
    ok = file:write_file(CA, RootPem, [append]),
    F = fun(Suffix, Data) -> P = filename:join(Dir, Name ++ Suffix),
                             ok = file:write_file(P, Data), P end,
    #{certfile => F("_cert.pem", CertPem), keyfile => F("_key.pem", KeyPem),
      pem => F("_both.pem", [CertPem, KeyPem])}.
