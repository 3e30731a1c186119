%% `make load', second part: the same ejabberd 23.01 on stanza's drop-ins
%% (compat fast_xml, fast_tls, stringprep and the stanza application first
%% on its code path) and on its own Debian libraries, in one run.
%%
%% Phases, for `rounds' rounds, each scenario, each library set in turn
%% (stanza, own, stanza, own, ...), every phase on a fresh private ejabberd
%% (stanza_ejabberd: loopback, free ports, unique node name):
%%   component  the echo component scenario of stanza_component_load:
%%              Tsung anonymous users (plain TCP) send chat messages to
%%              examples/echo_component, which runs in a peer VM on
%%              stanza's codec in both library sets (only ejabberd
%%              changes); anonymous probes time the echo.
%%   chat       `chat_users' registered users (registered over
%%              distribution, ejabberd_auth:try_register) log in with Tsung
%%              over STARTTLS (Tsung 1.7 `starttls', OTP ssl on its side)
%%              and SASL PLAIN, send initial presence, wait until all are
%%              up, then each sends `chat_msgs' stamped chat messages to
%%              random online users (Tsung counts the ones that arrive,
%%              xmpp_msg_latency) and stays online long enough to get the
%%              last ones. Probes of our own (stanza_client, STARTTLS +
%%              SCRAM, verified) send timestamped messages to their own
%%              bare JID every `probe_ms' and time them: every message
%%              goes through ejabberd's c2s parser, router and serializer.
%% Before each phase `code:which/1' on ejabberd's node says which fxml,
%% fxml_stream, fast_tls and stringprep it runs (the phase fails if they
%% are not the expected ones). Figures per phase: messages/s, round trip
%% p50/p99 (probes), ejabberd VM CPU (utime + stime from /proc) per
%% message, memory per session (chat: erlang:memory(total) and VmRSS
%% before login and with all `chat_users' sessions up, divided by them),
%% errors, loss. Everything started is stopped at the end, also on failure.
-module(stanza_ejabberd_load).

-export([main/1]).
%% for the EUnit test of the report
-export([options/1, summary/1, spread/1, rss_kb/1]).

-define(DOMAIN, "echo.localhost").
-define(ANON, "anon.localhost").
-define(HOST, "localhost").
-define(SECRET, "load-secret").
-define(LIB_MODULES, [fxml, fxml_stream, fast_tls, stringprep]).

-type row() :: #{atom() => term()}.

%%====================================================================
%% Entry point
%%====================================================================

-spec main(string()) -> no_return().
main(Args) ->
    Opts = options(Args),
    io:format(standard_error, "load (ejabberd): ~p~n", [Opts]),
    process_flag(trap_exit, true),
    Status = try run(Opts) of
                 Rows -> report(Rows, Opts)
             catch
                 Class:Why:Stack ->
                     io:format(standard_error, "load (ejabberd) failed: ~p:~p~n~p~n",
                               [Class, Why, Stack]),
                     1
             end,
    halt(Status).

-spec options(string()) -> map().
options(Args) ->
    Defaults = #{users => 200, msgs => 50, think => 0.4, ramp => 10, rounds => 2,
                 probes => 4, probe_ms => 50, tsung_timeout => 300,
                 chat_users => 200, chat_msgs => 30, chat_think => 0.4,
                 out => "_build/load/load.md", append => false,
                 ebins => [], drop_ins => [], scenarios => [component, chat],
                 libsets => [stanza, own]},
    parse_args(string:lexemes(Args, " "), Defaults).

parse_args(["--ebin", Dir | Rest], Opts = #{ebins := Es}) ->
    parse_args(Rest, Opts#{ebins := Es ++ [Dir]});
parse_args(["--drop-in", Dir | Rest], Opts = #{drop_ins := Ds}) ->
    parse_args(Rest, Opts#{drop_ins := Ds ++ [Dir]});
parse_args(["--out", File | Rest], Opts) ->
    parse_args(Rest, Opts#{out := File});
parse_args(["--append" | Rest], Opts) ->
    parse_args(Rest, Opts#{append := true});
parse_args(["--libsets", Sets | Rest], Opts) ->
    Libsets = [list_to_existing_atom(L) || L <- string:lexemes(Sets, ",")],
    [] = Libsets -- [stanza, own, xml, tls, stringprep],
    parse_args(Rest, Opts#{libsets := Libsets});
parse_args(["--only", Scenario | Rest], Opts) ->
    parse_args(Rest, Opts#{scenarios := [list_to_existing_atom(Scenario)]});
parse_args(["--" ++ Key, V | Rest], Opts) when Key =:= "think"; Key =:= "chat_think" ->
    parse_args(Rest, Opts#{list_to_existing_atom(Key) := list_to_float(V)});
parse_args(["--" ++ Key, N | Rest], Opts) ->
    K = list_to_existing_atom(Key),
    true = maps:is_key(K, Opts),
    parse_args(Rest, Opts#{K := list_to_integer(N)});
parse_args([], Opts) ->
    Opts.

run(Opts = #{rounds := Rounds, scenarios := Scenarios, drop_ins := DropIns,
             libsets := Libsets}) ->
    [] =/= DropIns orelse error(no_drop_ins),
    Phases = [{Round, Scenario, Libs} || Round <- lists:seq(1, Rounds),
                                         Scenario <- Scenarios,
                                         Libs <- Libsets],
    [phase(Opts, P) || P <- Phases].

%%====================================================================
%% One phase: a fresh ejabberd on one library set
%%====================================================================

phase(Opts = #{drop_ins := DropIns}, {Round, Scenario, Libs}) ->
    io:format(standard_error, "load (ejabberd): round ~b, ~s, ejabberd on ~s libraries~n",
              [Round, Scenario, Libs]),
    Base = #{components => [{?DOMAIN, ?SECRET}], anonymous_hosts => [?ANON],
             hosts => [?HOST], loglevel => warning},
    Server = case drop_ins(Libs, DropIns) of
                 [] -> Base;
                 Dirs -> Base#{drop_ins => Dirs}
             end,
    {ok, E} = stanza_ejabberd:start(Server),
    try
        Which = which_libs(E),
        ok = check_libs(Libs, Which, E),
        OsPid = stanza_ejabberd:rpc(E, os, getpid, []),
        %% Tsung's logs: _build/load/tsung-ejabberd-<scenario>-<libs>-<round>
        TsungDir = {lists:concat(["ejabberd-", Scenario, "-", Libs]), Round},
        Row = scenario(Scenario, E, OsPid, Opts#{tsung_dir => TsungDir}),
        ErrorLog = stanza_ejabberd:error_log(E),
        Full = Row#{round => Round, scenario => Scenario, libs => Libs, which => Which,
                    openssl_memory => openssl_memory(Scenario, Libs, E),
                    error_log_lines => count_lines(ErrorLog)},
        io:format(standard_error, "load (ejabberd): ~p~n", [maps:remove(rtts_us, Full)]),
        Full
    catch
        Class:Why:Stack ->
            io:format(standard_error, "phase failed: ~p:~p~n~p~nejabberd error log:~n~s~n",
                      [Class, Why, Stack, stanza_ejabberd:error_log(E)]),
            erlang:raise(Class, Why, Stack)
    after
        stanza_ejabberd:stop(E)
    end.

%% Whether erlang:memory sees OpenSSL's per-connection memory: Debian's
%% fast_tls (and OTP crypto) leave OpenSSL on malloc; stanza_tls routes it
%% through enif_alloc when it loads before anything else used libcrypto
%% (doc/tls.md), which in ejabberd depends on the start order. Asked
%% after the chat scenario, once TLS has run.
openssl_memory(chat, Libs, E) ->
    case lists:member("fast_tls", compat_apps(Libs)) of
        true -> stanza_ejabberd:rpc(E, stanza_tls_nif, memory_routed, []);
        false -> malloc
    end;
openssl_memory(component, _Libs, _E) ->
    undefined.

which_libs(E) ->
    [{M, stanza_ejabberd:rpc(E, code, which, [M])} || M <- ?LIB_MODULES].

%% The compat applications each library set replaces: stanza all three,
%% own none; xml, tls and stringprep one each (to tell which library a
%% difference comes from: `--libsets stanza,own,xml,tls,stringprep').
compat_apps(stanza) -> ["fast_xml", "fast_tls", "stringprep"];
compat_apps(own) -> [];
compat_apps(xml) -> ["fast_xml"];
compat_apps(tls) -> ["fast_tls"];
compat_apps(stringprep) -> ["stringprep"].

%% The stanza application (their NIFs) and the chosen compat apps.
drop_ins(Libs, DropIns) ->
    case compat_apps(Libs) of
        [] -> [];
        Apps -> [D || D <- DropIns, lists:member(filename:basename(D), ["stanza" | Apps])]
    end.

module_app(fxml) -> "fast_xml";
module_app(fxml_stream) -> "fast_xml";
module_app(fast_tls) -> "fast_tls";
module_app(stringprep) -> "stringprep".

%% A replaced library's modules come from this server's drop-in
%% directory, the others from Debian's p1_* applications.
check_libs(Libs, Which, E) ->
    Expected = fun(M) ->
                       case lists:member(module_app(M), compat_apps(Libs)) of
                           true -> stanza_ejabberd:drop_in_dir(E);
                           false -> "/usr/lib/erlang/lib/p1_"
                       end
               end,
    case [M || {M, Path} <- Which, not lists:prefix(Expected(M), to_list(Path))] of
        [] -> ok;
        Wrong -> error({wrong_libraries, Libs, Wrong, Which})
    end.

to_list(Path) when is_list(Path) -> Path;
to_list(Other) -> io_lib:format("~p", [Other]).

scenario(component, E, OsPid, Opts) -> component(E, OsPid, Opts);
scenario(chat, E, OsPid, Opts) -> chat(E, OsPid, Opts).

%%====================================================================
%% Scenario 1: the echo component (on stanza's codec in both)
%%====================================================================

component(E, OsPid, Opts = #{users := Users, msgs := Msgs, tsung_dir := {TName, TRound}}) ->
    {ok, Peer, _} = stanza_component_load:start_peer(Opts),
    try
        ok = peer:call(Peer, stanza_component_load, component_start,
                       [#{host => "127.0.0.1", port => stanza_ejabberd:port(E, service),
                          domain => ?DOMAIN, secret => ?SECRET,
                          codec => stanza_component_codec}]),
        Before = peer:call(Peer, stanza_component_load, component_snapshot, []),
        Cpu0 = stanza_component_load:cpu_ms(OsPid),
        T0 = erlang:monotonic_time(millisecond),
        Probes = stanza_component_load:start_probes(E, Opts),
        Tsung = stanza_component_load:run_tsung(E, Opts, TName, TRound),
        #{sent := PSent, received := PGot, rtts_us := Rtts} =
            stanza_component_load:stop_probes(Probes),
        Settled = stanza_component_load:settle(Peer),
        T1 = erlang:monotonic_time(millisecond),
        Cpu1 = stanza_component_load:cpu_ms(OsPid),
        After = peer:call(Peer, stanza_component_load, component_snapshot, []),
        In = maps:get(in, After) - maps:get(in, Before),
        Out = maps:get(out, After) - maps:get(out, Before),
        TsungUsers = maps:get(users, Tsung),
        Expected = TsungUsers * Msgs,
        TsungSent = In - PSent,
        TsungGot = maps:get(echo_count, Tsung),
        #{wall_ms => T1 - T0, msgs => In, msgs_per_s => In * 1000 / max(1, T1 - T0),
          rtts_us => Rtts, cpu_ms => Cpu1 - Cpu0,
          cpu_us_per_msg => (Cpu1 - Cpu0) * 1000 / max(1, In),
          sessions => TsungUsers, mem_per_session => undefined,
          rss_per_session => undefined,
          errors => tsung_errors(Tsung),
          sent => TsungSent + PSent, received => TsungGot + PGot,
          lost => not (In =:= Out andalso TsungSent =:= Expected andalso TsungGot =:= Expected
                       andalso PSent =:= PGot andalso Settled),
          all_users => TsungUsers =:= Users}
    after
        peer:stop(Peer)
    end.

%%====================================================================
%% Scenario 2: logged-in users chatting over STARTTLS
%%====================================================================

chat(E, OsPid, Opts = #{chat_users := N, chat_msgs := Msgs, probes := P,
                        tsung_dir := {TName, TRound}}) ->
    ok = register_users(E, "user", N),
    ok = register_users(E, "probe", P),
    ok = settle_rss(OsPid),
    Mem0 = memory(E, OsPid),
    Self = self(),
    Runner = spawn_link(fun() ->
                                Self ! {tsung_done, self(),
                                        stanza_component_load:run_tsung_xml(
                                          chat_scenario(E, Opts), Opts, TName, TRound)}
                        end),
    Plateau = wait_plateau(E, N, Runner),
    Mem1 = memory(E, OsPid),
    %% the probes' own logins (TLS handshakes, SCRAM) stay outside the window
    Probes = start_chat_probes(E, Opts),
    Cpu0 = stanza_component_load:cpu_ms(OsPid),
    T0 = erlang:monotonic_time(millisecond),
    Tsung = receive {tsung_done, Runner, T} -> T end,
    #{sent := PSent, received := PGot, rtts_us := Rtts} = stop_chat_probes(Probes),
    T1 = erlang:monotonic_time(millisecond),
    Cpu1 = stanza_component_load:cpu_ms(OsPid),
    Totals = maps:get(totals, Tsung),
    TsungSent = sample_count(<<"tr_chat">>, Totals),
    TsungGot = sample_count(<<"xmpp_msg_latency">>, Totals),
    TsungUsers = maps:get(users, Tsung),
    Sent = TsungSent + PSent,
    Sessions = maps:get(n, Mem1) - maps:get(n, Mem0),
    #{wall_ms => T1 - T0, msgs => Sent, msgs_per_s => Sent * 1000 / max(1, T1 - T0),
      rtts_us => Rtts, cpu_ms => Cpu1 - Cpu0,
      cpu_us_per_msg => (Cpu1 - Cpu0) * 1000 / max(1, Sent),
      sessions => Sessions, plateau => Plateau,
      rss_mb => {maps:get(rss, Mem0) / 1048576, maps:get(rss, Mem1) / 1048576},
      erlang_mb => {maps:get(total, Mem0) / 1048576, maps:get(total, Mem1) / 1048576},
      mem_per_session => (maps:get(total, Mem1) - maps:get(total, Mem0)) / max(1, Sessions),
      rss_per_session => (maps:get(rss, Mem1) - maps:get(rss, Mem0)) / max(1, Sessions),
      errors => tsung_errors(Tsung),
      sent => Sent, received => TsungGot + PGot,
      lost => not (Plateau andalso TsungSent =:= TsungUsers * Msgs andalso TsungGot =:= TsungSent
                   andalso PSent =:= PGot),
      all_users => TsungUsers =:= N}.

register_users(E, Prefix, N) ->
    Results = [stanza_ejabberd:rpc(E, ejabberd_auth, try_register,
                                   [iolist_to_binary([Prefix, integer_to_list(I)]),
                                    <<?HOST>>, iolist_to_binary([Prefix, integer_to_list(I)])])
               || I <- lists:seq(1, N)],
    [] = [R || R <- Results, R =/= ok],
    ok.

%% ejabberd's memory, its RSS and its session count, after a garbage
%% collection of every process there (what is left is what is held).
memory(E, OsPid) ->
    GC = fun() ->
                 Pids = stanza_ejabberd:rpc(E, erlang, processes, []),
                 ok = stanza_ejabberd:rpc(E, lists, foreach, [fun erlang:garbage_collect/1, Pids])
         end,
    %% twice, a second apart: the allocators hand freed carriers back lazily
    GC(), timer:sleep(1000), GC(),
    #{total => stanza_ejabberd:rpc(E, erlang, memory, [total]),
      rss => rss_kb(OsPid) * 1024,
      n => stanza_ejabberd:rpc(E, ejabberd_sm, connected_users_number, [])}.

%% A fresh ejabberd's RSS shrinks for about 10 s after start (the
%% allocators hand startup memory back, then it stays flat): the baseline
%% waits until it has stayed within 64 KB for 3 s (25 s at most).
settle_rss(OsPid) ->
    settle_rss(OsPid, rss_kb(OsPid), 0, 25).

settle_rss(_OsPid, _Last, 3, _Left) -> ok;
settle_rss(_OsPid, _Last, _Stable, 0) -> ok;
settle_rss(OsPid, Last, Stable, Left) ->
    timer:sleep(1000),
    Now = rss_kb(OsPid),
    case abs(Now - Last) < 64 of
        true -> settle_rss(OsPid, Now, Stable + 1, Left - 1);
        false -> settle_rss(OsPid, Now, 0, Left - 1)
    end.

%% Waits until all N Tsung users hold a session (they idle then until
%% the last one is in); false if Tsung ends or 120 s pass first.
wait_plateau(E, N, Runner) ->
    wait_plateau(E, N, Runner, erlang:monotonic_time(millisecond) + 120000).

wait_plateau(E, N, Runner, Deadline) ->
    Up = stanza_ejabberd:rpc(E, ejabberd_sm, connected_users_number, []),
    Late = erlang:monotonic_time(millisecond) > Deadline,
    receive
        {tsung_done, Runner, _} = Done -> self() ! Done, false
    after 0 ->
        if Up >= N -> true;
           Late -> false;
           true -> timer:sleep(200), wait_plateau(E, N, Runner, Deadline)
        end
    end.

-spec rss_kb(string()) -> non_neg_integer().
rss_kb(OsPid) ->
    {ok, Status} = file:read_file("/proc/" ++ OsPid ++ "/status"),
    [Kb] = [binary_to_integer(hd(binary:split(string:trim(V), <<" ">>)))
            || <<"VmRSS:", V/binary>> <- binary:split(Status, <<"\n">>, [global])],
    Kb.

%% Tsung: users arrive over about `ramp' s, log in (STARTTLS, SASL PLAIN,
%% bind, session, presence), idle until all are in, chat, stay online
%% until the last messages to them have arrived, close.
chat_scenario(E, #{chat_users := N, chat_msgs := Msgs, chat_think := Think, ramp := Ramp}) ->
    Rate = max(1, N div max(1, Ramp)),
    Arrival = 2 * Ramp,
    %% the last of N Poisson arrivals at N / ramp per second comes about
    %% `ramp' s after the first; the login takes 4 s of think time
    Wait = Ramp + 8,
    Hold = Ramp + 8,
    [stanza_component_load:tsung_head(E, N, Arrival, Rate, ?HOST, "user"),
     "<sessions><session probability=\"100\" name=\"chat\" type=\"ts_jabber\" bidi=\"true\">\n",
     "<request><jabber type=\"connect\" ack=\"local\"/></request><thinktime value=\"1\"/>\n",
     "<request><jabber type=\"starttls\" ack=\"bidi_ack\"/></request>\n",
     "<request><jabber type=\"connect\" ack=\"local\"/></request><thinktime value=\"1\"/>\n",
     "<transaction name=\"auth\"><request><jabber type=\"auth_sasl\" ack=\"local\"/></request></transaction>",
     "<thinktime value=\"1\"/>\n",
     "<request><jabber type=\"connect\" ack=\"local\"/></request><thinktime value=\"1\"/>\n",
     "<request><jabber type=\"auth_sasl_bind\" ack=\"local\"/></request>\n",
     "<request><jabber type=\"auth_sasl_session\" ack=\"local\"/></request>\n",
     "<request><jabber type=\"presence:initial\" ack=\"no_ack\"/></request>\n",
     "<thinktime value=\"", i(Wait), "\"/>\n",
     "<for from=\"1\" to=\"", i(Msgs), "\" var=\"i\">",
     "<thinktime value=\"", float_to_list(Think, [{decimals, 3}]), "\" random=\"true\"/>",
     "<transaction name=\"chat\"><request><jabber type=\"chat\" ack=\"no_ack\" size=\"64\" "
     "stamped=\"true\" destination=\"online\"/></request></transaction></for>\n",
     "<thinktime value=\"", i(Hold), "\"/>\n",
     "<request><jabber type=\"close\" ack=\"no_ack\"/></request>\n",
     "</session></sessions></tsung>\n"].

i(N) -> integer_to_list(N).

%% A sample's total count from tsung_stats' totals ([count, mean, stddev,
%% max, min, global mean, global count]: this interval's and the earlier
%% ones').
sample_count(Name, Totals) ->
    case maps:get(Name, Totals, undefined) of
        [Count | _] = Values when length(Values) >= 2 -> Count + lists:last(Values);
        _ -> 0
    end.

tsung_errors(Tsung) ->
    lists:sum([V || V <- maps:values(maps:get(errors, Tsung)), is_integer(V)]).

%%====================================================================
%% Chat probes: registered users on stanza_client (STARTTLS, SCRAM,
%% certificate verified) timing messages to their own bare JID
%%====================================================================

start_chat_probes(E, #{probes := N, probe_ms := Every}) ->
    Parent = self(),
    Probes = [spawn_link(fun() -> chat_probe(Parent, E, I, Every) end) || I <- lists:seq(1, N)],
    [receive {probe_ready, P} -> ok after 30000 -> error(probe_login_timeout) end || P <- Probes],
    Probes.

stop_chat_probes(Probes) ->
    [P ! stop || P <- Probes],
    Results = [receive {probe_done, P, R} -> R after 30000 -> error(probe_stuck) end
               || P <- Probes],
    #{sent => lists:sum([S || #{sent := S} <- Results]),
      received => lists:sum([R || #{received := R} <- Results]),
      rtts_us => lists:append([Rtts || #{rtts := Rtts} <- Results])}.

chat_probe(Parent, E, I, Every) ->
    User = "probe" ++ integer_to_list(I),
    {ok, Cn} = stanza_client:start_link([{host, "127.0.0.1"}, {domain, ?HOST},
                                         {port, stanza_ejabberd:port(E, c2s)},
                                         {user, User}, {password, User}, {resource, "probe"},
                                         {format, xmlel},
                                         {tls, #{cafile => stanza_ejabberd:cert(E)}}]),
    ok = stanza_client:register_default_exchange(Cn, self()),
    Bare = iolist_to_binary([User, "@", ?HOST]),
    Parent ! {probe_ready, self()},
    erlang:send_after(Every, self(), tick),
    probe_loop(Cn, Bare, Every, #{sent => 0, received => 0, rtts => []}, Parent).

probe_loop(Cn, Bare, Every, Acc = #{sent := Sent}, Parent) ->
    receive
        tick ->
            T = erlang:monotonic_time(microsecond),
            ok = stanza_client:raw_send(Cn, ["<message to='", Bare, "' type='chat'><body>",
                                             integer_to_list(T), "</body></message>"]),
            erlang:send_after(Every, self(), tick),
            probe_loop(Cn, Bare, Every, Acc#{sent := Sent + 1}, Parent);
        {packet, El} ->
            probe_loop(Cn, Bare, Every, echoed(El, Acc), Parent);
        stop ->
            drain(Cn, Acc, Parent)
    end.

drain(Cn, Acc = #{sent := Sent, received := Got}, Parent) when Got < Sent ->
    receive
        {packet, El} -> drain(Cn, echoed(El, Acc), Parent)
    after 5000 ->
        stanza_client:close(Cn),
        Parent ! {probe_done, self(), Acc}
    end;
drain(Cn, Acc, Parent) ->
    stanza_client:close(Cn),
    Parent ! {probe_done, self(), Acc}.

%% A probe's message back, timed as the component probes time theirs.
echoed(El, Acc) ->
    stanza_component_load:echoed({xmlstreamelement, El}, Acc).

%%====================================================================
%% The report
%%====================================================================

report(Rows, Opts = #{out := Out, append := Append}) ->
    Md = markdown(Rows, Opts),
    ok = filelib:ensure_dir(Out),
    ok = file:write_file(Out, Md, [write | [append || Append]]),
    io:format("~s~nwritten to ~s~n", [Md, Out]),
    case lists:any(fun(#{lost := L}) -> L end, Rows) of
        true -> 1;
        false -> 0
    end.

markdown(Rows, Opts) ->
    Phases = [phase_line(R) || R <- Rows],
    ["\n## make load: ejabberd 23.01 on stanza's drop-ins vs on its own libraries\n\n",
     setup_text(Opts),
     io_lib:format("Load average at the end: ~s.~n~n", [loadavg()]),
     "What ejabberd ran (code:which on its node, checked before every phase):\n\n",
     [libs_text(Libs, Rows) || Libs <- dedup([L || #{libs := L} <- Rows])],
     openssl_text(Rows),
     "\nPer phase:\n\n",
     "| round | scenario | ejabberd on | sessions | msgs sent / received | msgs/s "
     "| RTT p50 / p99 (ms) | CPU us/msg | KB/session (erlang) | KB/session (RSS) "
     "| ejabberd erlang / RSS MB, before -> sessions up | errors | error.log lines | lost |\n"
     "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
     Phases,
     "\nMedian of the rounds (min - max):\n\n",
     "| scenario | ejabberd on | msgs/s | RTT p50 (ms) | RTT p99 (ms) | CPU us/msg "
     "| KB/session (erlang) | KB/session (RSS) | errors | lost |\n"
     "|---|---|---|---|---|---|---|---|---|---|\n",
     [summary_line(S) || S <- summary(Rows)]].

setup_text(#{users := U, msgs := M, think := T, ramp := R, probes := P, probe_ms := PM,
             chat_users := CU, chat_msgs := CM, chat_think := CT, rounds := Rounds}) ->
    io_lib:format(
      "~b rounds; every phase on a fresh ejabberd, library sets alternating. "
      "component: ~b anonymous Tsung users (plain TCP, ramped over ~b s) send ~b messages each "
      "to the echo component (stanza's codec in both), think time mean ~.3f s. "
      "chat: ~b registered Tsung users log in over STARTTLS + SASL PLAIN, wait until all "
      "are up, send ~b stamped chat messages each to random online users, think time mean "
      "~.3f s. ~b probes (component: anonymous, plain TCP; chat: stanza_client, STARTTLS + "
      "SCRAM, to their own bare JID) send a timestamped message every ~b ms: the round trip. "
      "CPU: ejabberd VM's utime + stime (/proc) over the messaging window, per message sent. "
      "Memory per session (chat only): erlang:memory(total) and VmRSS with all sessions up "
      "minus before login, per session.~n~n",
      [Rounds, U, R, M, T, CU, CM, CT, P, PM]).

libs_text(Libs, Rows) ->
    case [W || #{libs := L, which := W} <- Rows, L =:= Libs] of
        [] -> [];
        [Which | _] ->
            [io_lib:format("- ejabberd on ~s: ", [Libs]),
             lists:join(", ", [io_lib:format("`~s` ~s", [M, shorten(P)]) || {M, P} <- Which]),
             "\n"]
    end.

openssl_text(Rows) ->
    case [{L, M} || #{libs := L, openssl_memory := M} <- Rows, M =/= undefined] of
        [] -> [];
        Seen ->
            ["\nOpenSSL's memory (chat phases; `enif': counted in erlang:memory, "
             "`malloc': only in RSS): ",
             lists:join(", ", [io_lib:format("~s ~s", [L, M]) || {L, M} <- dedup(Seen)]),
             ".\n"]
    end.

%% The drop-in directory is a fresh temp dir per server: show its tail.
shorten(Path) ->
    case string:split(to_list(Path), "/drop-ins/") of
        [_, Tail] -> "<server dir>/drop-ins/" ++ Tail;
        [Whole] -> Whole
    end.

phase_line(R = #{round := Rd, scenario := S, libs := L, sessions := N, sent := Sent,
                 received := Got, msgs_per_s := Rate, rtts_us := Rtts, cpu_us_per_msg := Cpu,
                 errors := Err, error_log_lines := Log, lost := Lost}) ->
    io_lib:format("| ~b | ~s | ~s | ~b | ~b / ~b | ~.1f | ~.2f / ~.2f | ~.1f | ~s | ~s | ~s | ~b | ~b | ~s |\n",
                  [Rd, S, L, N, Sent, Got, float(Rate),
                   stanza_component_load:percentile(Rtts, 50) / 1000,
                   stanza_component_load:percentile(Rtts, 99) / 1000, float(Cpu),
                   kb(maps:get(mem_per_session, R)), kb(maps:get(rss_per_session, R)),
                   before_up(R), Err, Log, yes_no(Lost)]).

before_up(#{erlang_mb := {E0, E1}, rss_mb := {R0, R1}}) ->
    io_lib:format("~.1f -> ~.1f / ~.1f -> ~.1f", [E0, E1, R0, R1]);
before_up(_) -> "-".

-spec summary([row()]) -> [map()].
summary(Rows) ->
    %% in the order of the first round: component stanza, own, chat ...
    Keys = dedup([{S, L} || #{scenario := S, libs := L} <- Rows]),
    [begin
         Of = [R || R = #{scenario := S1, libs := L1} <- Rows, S1 =:= S, L1 =:= L],
         Field = fun(F) -> [F(R) || R <- Of] end,
         #{scenario => S, libs => L,
           msgs_per_s => spread(Field(fun(#{msgs_per_s := V}) -> V end)),
           p50_ms => spread(Field(fun(#{rtts_us := V}) -> stanza_component_load:percentile(V, 50) / 1000 end)),
           p99_ms => spread(Field(fun(#{rtts_us := V}) -> stanza_component_load:percentile(V, 99) / 1000 end)),
           cpu_us_per_msg => spread(Field(fun(#{cpu_us_per_msg := V}) -> V end)),
           mem_per_session => spread(Field(fun(R) -> maps:get(mem_per_session, R) end)),
           rss_per_session => spread(Field(fun(R) -> maps:get(rss_per_session, R) end)),
           errors => lists:sum(Field(fun(#{errors := V}) -> V end)),
           lost => lists:any(fun(X) -> X end, Field(fun(#{lost := V}) -> V end))}
     end || {S, L} <- Keys].

dedup([]) -> [];
dedup([X | Rest]) -> [X | dedup([Y || Y <- Rest, Y =/= X])].

%% {Median, Min, Max} of the numbers, undefined when there are none.
-spec spread([number() | undefined]) -> {number(), number(), number()} | undefined.
spread(Values) ->
    case [V || V <- Values, is_number(V)] of
        [] -> undefined;
        Ns -> {stanza_bench_util:median(Ns), lists:min(Ns), lists:max(Ns)}
    end.

summary_line(#{scenario := S, libs := L, msgs_per_s := Rate, p50_ms := P50, p99_ms := P99,
               cpu_us_per_msg := Cpu, mem_per_session := Mem, rss_per_session := Rss,
               errors := Err, lost := Lost}) ->
    io_lib:format("| ~s | ~s | ~s | ~s | ~s | ~s | ~s | ~s | ~b | ~s |\n",
                  [S, L, sp(Rate, 1, 1), sp(P50, 2, 1), sp(P99, 2, 1), sp(Cpu, 1, 1),
                   sp(Mem, 1, 1024), sp(Rss, 1, 1024), Err, yes_no(Lost)]).

sp(undefined, _, _) -> "-";
sp({Med, Min, Max}, Decimals, Div) ->
    F = fun(X) -> float_to_list(X / Div, [{decimals, Decimals}]) end,
    [F(Med), " (", F(Min), " - ", F(Max), ")"].

kb(undefined) -> "-";
kb(Bytes) -> float_to_list(Bytes / 1024, [{decimals, 1}]).

count_lines(<<>>) -> 0;
count_lines(Bin) -> length(binary:split(Bin, <<"\n">>, [global, trim_all])).

loadavg() ->
    case file:read_file("/proc/loadavg") of
        {ok, B} -> lists:join(" ", lists:sublist(string:lexemes(binary_to_list(B), " "), 3));
        _ -> "?"
    end.

yes_no(true) -> "yes";
yes_no(false) -> "no".
