%% `make load': the exmpp component tutorial's Tsung test, on stanza and on
%% fast_xml, in one run.
%%
%% One private ejabberd 23.01 (stanza_ejabberd: loopback, free ports, an
%% anonymous vhost). Then, alternating codecs for `rounds' rounds (stanza,
%% fast_xml, stanza, fast_xml, ...), each phase in a fresh VM:
%%   1. a peer VM starts examples/echo_component with that codec
%%      (stanza_component_codec or stanza_component_fxml: the XML parser
%%      and serializer swapped, nothing else);
%%   2. Tsung 1.7 ramps `users' anonymous users (SASL ANONYMOUS), each
%%      sending `msgs' chat messages to the component as raw stanzas, one
%%      at a time (the next after the echo came back and a random think
%%      time averaging `think' s);
%%   3. meanwhile `probes' clients of our own send timestamped messages
%%      every `probe_ms' and time each echo: the round trip p50 / p99;
%%   4. the component's own counters (stanzas in and out), its VM's CPU
%%      time (/proc utime + stime), reductions and heap words allocated
%%      (garbage collected) per message are taken before and after.
%% The table says per phase and per codec (median of the rounds): msgs/s,
%% RTT p50/p99, errors, CPU µs per message, KB allocated per message, and
%% whether anything was lost (component in = out = Tsung's sent = Tsung's
%% echoes received + probes). Everything it started is stopped at the end,
%% also on failure.
-module(stanza_component_load).

-export([main/1, component_start/1, component_snapshot/0, codec_hot/1]).
%% Shared with stanza_ejabberd_load (the same scenario and probes against
%% ejabberd on stanza's drop-ins and on its own libraries).
-export([start_peer/1, settle/1, cpu_ms/1, run_tsung/4, run_tsung_xml/4, scenario/2,
         start_probes/2, stop_probes/1, percentile/2, echoed/2, tsung_head/6]).

-include_lib("kernel/include/file.hrl").

-define(DOMAIN, "echo.localhost").
-define(ANON, "anon.localhost").
-define(SECRET, "load-secret").
-define(CODECS, [{stanza, stanza_component_codec}, {fast_xml, stanza_component_fxml}]).

%%====================================================================
%% Entry point
%%====================================================================

main(Args) ->
    Opts = options(Args),
    io:format(standard_error, "load: ~p~n", [Opts]),
    {ok, E} = stanza_ejabberd:start(#{components => [{?DOMAIN, ?SECRET}],
                                      anonymous_hosts => [?ANON],
                                      loglevel => warning}),
    Status = try run(E, Opts) of
                 Rows -> report(Rows, Opts)
             catch
                 Class:Why:Stack ->
                     io:format(standard_error, "load failed: ~p:~p~n~p~nejabberd error log:~n~s~n",
                               [Class, Why, Stack, stanza_ejabberd:error_log(E)]),
                     1
             after
                 stanza_ejabberd:stop(E)
             end,
    halt(Status).

options(Args) ->
    Defaults = #{users => 200, msgs => 50, think => 0.4, ramp => 10, rounds => 2,
                 probes => 4, probe_ms => 50, out => "_build/load/load.md",
                 ebins => [], tsung_timeout => 300},
    parse_args(string:lexemes(Args, " "), Defaults).

parse_args(["--ebin", Dir | Rest], Opts = #{ebins := Es}) ->
    parse_args(Rest, Opts#{ebins := Es ++ [Dir]});
parse_args(["--out", File | Rest], Opts) ->
    parse_args(Rest, Opts#{out := File});
%% stanza_ejabberd_load's own options (LOAD_OPTS feeds both)
parse_args(["--chat_" ++ _, _ | Rest], Opts) ->
    parse_args(Rest, Opts);
parse_args(["--only", _ | Rest], Opts) ->
    parse_args(Rest, Opts);
parse_args(["--think", T | Rest], Opts) ->
    parse_args(Rest, Opts#{think := list_to_float(T)});
parse_args(["--" ++ Key, N | Rest], Opts) ->
    K = list_to_existing_atom(Key),
    true = maps:is_key(K, Opts),
    parse_args(Rest, Opts#{K := list_to_integer(N)});
parse_args([], Opts) ->
    Opts.

run(E, Opts = #{rounds := Rounds}) ->
    Phases = [{Round, Name, Codec} || Round <- lists:seq(1, Rounds),
                                      {Name, Codec} <- ?CODECS],
    [phase(E, Opts, P) || P <- Phases].

%%====================================================================
%% One phase: fresh component VM, Tsung, probes
%%====================================================================

phase(E, Opts, {Round, Name, Codec}) ->
    io:format(standard_error, "load: round ~b, ~s~n", [Round, Name]),
    {ok, Peer, Node} = start_peer(Opts),
    try
        ok = peer:call(Peer, ?MODULE, component_start,
                       [#{host => "127.0.0.1", port => stanza_ejabberd:port(E, service),
                          domain => ?DOMAIN, secret => ?SECRET, codec => Codec,
                          measure_codec => true}]),
        OsPid = peer:call(Peer, os, getpid, []),
        Before = snapshot(Peer, OsPid),
        T0 = erlang:monotonic_time(millisecond),
        Probes = start_probes(E, Opts),
        Tsung = run_tsung(E, Opts, Name, Round),
        ProbeResults = stop_probes(Probes),
        Settled = settle(Peer),
        T1 = erlang:monotonic_time(millisecond),
        After = snapshot(Peer, OsPid),
        Hot = peer:call(Peer, ?MODULE, codec_hot, [Codec]),
        Row = (row(Name, Round, Opts, Before, After, T1 - T0, Tsung, ProbeResults, Settled))#{
                codec_hot_us => Hot},
        io:format(standard_error, "load: ~p~n", [Row]),
        Row
    after
        _ = Node,
        peer:stop(Peer)
    end.

start_peer(#{ebins := Ebins}) ->
    Args = lists:append([["-pa", D] || D <- Ebins])
        ++ ["+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"],
    {ok, Peer, _NoNode} = peer:start_link(#{connection => standard_io, args => Args,
                                            wait_boot => 30000}),
    {ok, Peer, undefined}.

%% Runs in the component's VM: the echo component held by a process that
%% outlives the peer:call.
component_start(Opts) ->
    Caller = self(),
    _ = spawn(fun() ->
                      {ok, C} = echo_component:start_link(Opts#{reconnect => false}),
                      register(load_echo, C),
                      Caller ! started,
                      receive stop -> ok end
              end),
    receive started -> ok after 30000 -> {error, not_started} end.

%% Runs in the component's VM: its counters and the VM's own.
component_snapshot() ->
    Stats = echo_component:stats(whereis(load_echo)),
    {_, GcWords, _} = erlang:statistics(garbage_collection),
    {Reductions, _} = erlang:statistics(reductions),
    Stats#{gc_words => GcWords, reductions => Reductions,
           memory => erlang:memory(total)}.

%% Runs in the component's VM after the phase: the codec alone on the
%% Tsung message in a tight loop (parse it in a component stream, then
%% serialize it), microseconds per message. What the XML library costs
%% with warm caches, for comparison with the whole VM's CPU per message.
codec_hot(Codec) ->
    Header = <<"<stream:stream xmlns='jabber:component:accept' "
               "xmlns:stream='http://etherx.jabber.org/streams' id='1'>">>,
    Msg = <<"<message to='" ?DOMAIN "' from='tsung1@" ?ANON "/tsung' type='chat' "
            "id='abc'><body>Hello from Tsung, through the component and back</body></message>">>,
    P0 = Codec:new_parser(#{format => xmlel, max_stanza_size => 1048576}),
    {_, P1} = Codec:parse(P0, Header),
    {[{xmlstreamelement, El}], P2} = Codec:parse(P1, Msg),
    N = 20000,
    Loop = fun Loop(0, P) -> P;
               Loop(K, P) -> {[_], P3} = Codec:parse(P, Msg), _ = Codec:encode(El), Loop(K - 1, P3)
           end,
    _ = Loop(1000, P2),
    T0 = erlang:monotonic_time(nanosecond),
    P4 = Loop(N, P2),
    T1 = erlang:monotonic_time(nanosecond),
    ok = Codec:close_parser(P4),
    (T1 - T0) / N / 1000.

snapshot(Peer, OsPid) ->
    S = peer:call(Peer, ?MODULE, component_snapshot, []),
    S#{cpu_ms => cpu_ms(OsPid)}.

%% Waits until the component has sent all it received (or 10 s).
settle(Peer) ->
    settle(Peer, 50).

settle(_Peer, 0) ->
    false;
settle(Peer, N) ->
    #{in := In, out := Out} = peer:call(Peer, ?MODULE, component_snapshot, []),
    case In =:= Out of
        true -> true;
        false -> timer:sleep(200), settle(Peer, N - 1)
    end.

%% utime + stime of the whole OS process, from /proc.
cpu_ms(OsPid) ->
    {ok, Stat} = file:read_file("/proc/" ++ OsPid ++ "/stat"),
    [_, AfterComm] = binary:split(Stat, <<") ">>),
    Fields = binary:split(AfterComm, <<" ">>, [global]),
    %% fields 14 and 15 of stat(5); AfterComm starts at field 3
    UTime = binary_to_integer(lists:nth(12, Fields)),
    STime = binary_to_integer(lists:nth(13, Fields)),
    (UTime + STime) * 1000 div clock_ticks().

clock_ticks() ->
    list_to_integer(string:trim(os:cmd("getconf CLK_TCK"))).

%%====================================================================
%% Tsung
%%====================================================================

run_tsung(E, Opts, Name, Round) ->
    run_tsung_xml(scenario(E, Opts), Opts, Name, Round).

%% Runs Tsung on a scenario (iodata) under _build/load/tsung-Name-Round/.
run_tsung_xml(Xml, #{tsung_timeout := Limit}, Name, Round) ->
    Dir = filename:absname(filename:join(["_build", "load",
                                          lists:flatten(io_lib:format("tsung-~s-~b", [Name, Round]))])),
    %% Tsung names its log directory by the minute: a directory left by an
    %% earlier run in the same minute would be appended to
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Scenario = filename:join(Dir, "scenario.xml"),
    ok = file:write_file(Scenario, Xml),
    Id = lists:flatten(io_lib:format("stz~s~b", [os:getpid(), erlang:unique_integer([positive])])),
    Port = open_port({spawn_executable, "/usr/bin/timeout"},
                     [{args, ["-k", "10", integer_to_list(Limit), "/usr/bin/tsung", "-n",
                              "-i", Id, "-f", Scenario, "-l", Dir, "start"]},
                      {env, [{"ERL_OPTS", "-kernel inet_dist_use_interface {127,0,0,1}"},
                             {"ERL_EPMD_ADDRESS", "127.0.0.1"}]},
                      exit_status, stderr_to_stdout, binary]),
    {Status, Out} = collect(Port, []),
    io:format(standard_error, "~s", [Out]),
    0 = Status,
    tsung_stats(Dir).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [Acc, D]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(Acc)}
    end.

scenario(E, #{users := Users, msgs := Msgs, think := Think, ramp := Ramp}) ->
    %% Tsung's arrivals are random: a phase twice as long as the ramp, capped
    %% at `users', starts them all (the report checks it did)
    Rate = max(1, Users div max(1, Ramp)),
    Msg = "&lt;message to='" ?DOMAIN "' type='chat'&gt;&lt;body&gt;"
          "Hello from Tsung, through the component and back&lt;/body&gt;&lt;/message&gt;",
    [tsung_head(E, Users, 2 * Ramp, Rate, ?ANON, "tsung"),
     "<sessions><session probability=\"100\" name=\"echo\" type=\"ts_jabber\">\n",
     %% the pauses after connect and auth: see the module doc of ack=local
     "<request><jabber type=\"connect\" ack=\"local\"/></request><thinktime value=\"1\"/>\n",
     "<transaction name=\"auth\"><request><jabber type=\"auth_sasl_anonymous\" ack=\"local\"/></request></transaction>",
     "<thinktime value=\"1\"/>\n",
     "<request><jabber type=\"connect\" ack=\"local\"/></request><thinktime value=\"1\"/>\n",
     "<request><jabber type=\"auth_sasl_bind\" ack=\"local\"/></request>\n",
     "<request><jabber type=\"auth_sasl_session\" ack=\"local\"/></request>\n",
     "<for from=\"1\" to=\"", i(Msgs), "\" var=\"i\">",
     "<thinktime value=\"", float_to_list(Think, [{decimals, 3}]), "\" random=\"true\"/>",
     "<transaction name=\"echo\"><request><jabber type=\"raw\" ack=\"local\" data=\"", Msg,
     "\"/></request></transaction></for>\n",
     "<request><jabber type=\"close\" ack=\"no_ack\"/></request>\n",
     "</session></sessions></tsung>\n"].

i(N) -> integer_to_list(N).

%% A Tsung scenario up to its sessions: Users users arriving at Rate per
%% second for Duration s against ejabberd's c2s port, ts_jabber's users
%% named Name1..NameUsers on Domain with their name as password.
-spec tsung_head(stanza_ejabberd:handle(), pos_integer(), pos_integer(), pos_integer(),
                 string(), string()) -> iolist().
tsung_head(E, Users, Duration, Rate, Domain, Name) ->
    ["<?xml version=\"1.0\"?>\n",
     "<!DOCTYPE tsung SYSTEM \"/usr/share/tsung/tsung-1.0.dtd\">\n",
     "<tsung loglevel=\"warning\" dumptraffic=\"false\">\n",
     "<clients><client host=\"localhost\" use_controller_vm=\"true\" maxusers=\"", i(Users * 2), "\"/></clients>\n",
     "<servers><server host=\"127.0.0.1\" port=\"", i(stanza_ejabberd:port(E, c2s)), "\" type=\"tcp\"/></servers>\n",
     "<load><arrivalphase phase=\"1\" duration=\"", i(Duration), "\" unit=\"second\">",
     "<users maxnumber=\"", i(Users), "\" arrivalrate=\"", i(Rate), "\" unit=\"second\"/>",
     "</arrivalphase></load>\n",
     "<options><option type=\"ts_jabber\" name=\"domain\" value=\"", Domain, "\"/>",
     "<option type=\"ts_jabber\" name=\"global_number\" value=\"", i(Users), "\"/>",
     "<option type=\"ts_jabber\" name=\"userid_max\" value=\"", i(Users), "\"/>",
     "<option type=\"ts_jabber\" name=\"username\" value=\"", Name, "\"/>",
     "<option type=\"ts_jabber\" name=\"passwd\" value=\"", Name, "\"/></options>\n"].

%% The last "stats:" line of each name in tsung.log: a counter gives
%% {Interval, Total}; a sample gives its fields (count, mean, stddev,
%% max, min, global mean, global count).
tsung_stats(Dir) ->
    [Run | _] = lists:reverse(lists:sort(filelib:wildcard(filename:join(Dir, "2*")))),
    {ok, Log} = file:read_file(filename:join(Run, "tsung.log")),
    Lines = [binary:split(L, <<" ">>, [global, trim_all])
             || L <- binary:split(Log, <<"\n">>, [global])],
    Stats = [{Name, Values} || [<<"stats:">>, Name | Values] <- Lines],
    Last = maps:from_list(Stats),
    Totals = maps:map(fun(_, V) -> total(V) end, Last),
    #{log => filename:join(Run, "tsung.log"),
      echo_count => sample_total(<<"tr_echo">>, Last),
      users => counter_total(<<"users_count">>, Last),
      echo_mean_ms => mean_of(<<"tr_echo">>, Stats),
      errors => maps:filter(fun(K, _) -> is_error(K) end, Totals),
      totals => Totals}.

%% A sample line holds the interval's count first and the count of the
%% intervals before it last: the last line's two make the total.
sample_total(Name, Last) ->
    case maps:get(Name, Last, undefined) of
        undefined -> 0;
        Values -> num(hd(Values)) + num(lists:last(Values))
    end.

mean_of(Name, Stats) ->
    Pairs = [{num(C), num(M)} || {N, [C, M | _]} <- Stats, N =:= Name],
    case lists:sum([C || {C, _} <- Pairs]) of
        0 -> undefined;
        Total -> lists:sum([C * M || {C, M} <- Pairs]) / Total
    end.

counter_total(Name, Last) ->
    case maps:get(Name, Last, undefined) of
        [_Interval, Total] -> num(Total);
        undefined -> 0
    end.

total([_Interval, Total]) -> num(Total);
total(Values) -> [num(V) || V <- Values].

is_error(<<"error_", _/binary>>) -> true;
is_error(_) -> false.

num(B) ->
    try binary_to_integer(B)
    catch error:badarg -> binary_to_float(B)
    end.

%%====================================================================
%% Probes: our own anonymous clients timing each echo
%%====================================================================

start_probes(E, #{probes := N, probe_ms := Every}) ->
    Parent = self(),
    Port = stanza_ejabberd:port(E, c2s),
    [spawn_link(fun() -> probe(Parent, Port, Every) end) || _ <- lists:seq(1, N)].

stop_probes(Probes) ->
    [P ! stop || P <- Probes],
    Results = [receive {probe_done, P, R} -> R after 30000 -> error(probe_stuck) end
               || P <- Probes],
    #{sent => lists:sum([S || #{sent := S} <- Results]),
      received => lists:sum([R || #{received := R} <- Results]),
      rtts_us => lists:append([Rtts || #{rtts := Rtts} <- Results])}.

probe(Parent, Port, Every) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {nodelay, true}]),
    {ok, P} = stanza_stream:new(#{format => xmlel}),
    C0 = #{sock => S, parser => P, pending => []},
    C1 = open_stream(C0),
    {<<"stream:features">>, C2} = next_element(C1),
    ok = gen_tcp:send(S, <<"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>">>),
    {<<"success">>, C3} = next_element(C2),
    ok = stanza_stream:reset(P),
    C4 = open_stream(C3#{pending := []}),
    {<<"stream:features">>, C5} = next_element(C4),
    ok = gen_tcp:send(S, <<"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>">>),
    {<<"iq">>, C6} = next_element(C5),
    ok = inet:setopts(S, [{active, true}]),
    erlang:send_after(Every, self(), tick),
    probe_loop(C6, Every, #{sent => 0, received => 0, rtts => []}, Parent).

open_stream(C = #{sock := S}) ->
    ok = gen_tcp:send(S, <<"<?xml version='1.0'?><stream:stream to='", ?ANON,
                           "' xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>">>),
    C.

%% The next top-level element's name (passive socket, setup only).
next_element(C = #{pending := [{xmlstreamelement, {xmlel, Name, _, _}} | Rest]}) ->
    {Name, C#{pending := Rest}};
next_element(C = #{pending := [_ | Rest]}) ->
    next_element(C#{pending := Rest});
next_element(C = #{sock := S, parser := P, pending := []}) ->
    {ok, Data} = gen_tcp:recv(S, 0, 20000),
    {ok, Events} = stanza_stream:parse(P, Data),
    next_element(C#{pending := Events}).

probe_loop(C = #{sock := S, parser := P}, Every, Acc, Parent) ->
    receive
        tick ->
            T = erlang:monotonic_time(microsecond),
            ok = gen_tcp:send(S, ["<message to='", ?DOMAIN, "' type='chat'><body>",
                                  integer_to_list(T), "</body></message>"]),
            erlang:send_after(Every, self(), tick),
            probe_loop(C, Every, Acc#{sent := maps:get(sent, Acc) + 1}, Parent);
        {tcp, S, Data} ->
            {ok, Events} = stanza_stream:parse(P, Data),
            probe_loop(C, Every, lists:foldl(fun echoed/2, Acc, Events), Parent);
        stop ->
            drain(C, Acc, Parent)
    end.

%% Echoes still on their way after the last tick.
drain(C = #{sock := S, parser := P}, Acc = #{sent := Sent, received := Got}, Parent)
  when Got < Sent ->
    receive
        {tcp, S, Data} ->
            {ok, Events} = stanza_stream:parse(P, Data),
            drain(C, lists:foldl(fun echoed/2, Acc, Events), Parent)
    after 5000 ->
        Parent ! {probe_done, self(), Acc}
    end;
drain(#{sock := S}, Acc, Parent) ->
    gen_tcp:close(S),
    Parent ! {probe_done, self(), Acc}.

echoed({xmlstreamelement, El = {xmlel, <<"message">>, _, _}}, Acc = #{received := N, rtts := R}) ->
    case stanza_xml:get_path_s(El, [{elem, <<"body">>}, cdata]) of
        <<>> -> Acc;
        Body ->
            Rtt = erlang:monotonic_time(microsecond) - binary_to_integer(Body),
            Acc#{received := N + 1, rtts := [Rtt | R]}
    end;
echoed(_Event, Acc) ->
    Acc.

%%====================================================================
%% The report
%%====================================================================

row(Name, Round, #{users := Users, msgs := Msgs}, Before, After, WallMs, Tsung, Probes,
    Settled) ->
    D = fun(K) -> maps:get(K, After) - maps:get(K, Before) end,
    In = D(in),
    Out = D(out),
    TsungUsers = maps:get(users, Tsung),
    Expected = TsungUsers * Msgs,
    #{sent := PSent, received := PGot, rtts_us := Rtts} = Probes,
    TsungSent = In - PSent,
    Errors = lists:sum([V || V <- maps:values(maps:get(errors, Tsung)), is_integer(V)]),
    #{codec => Name, round => Round, in => In, out => Out, wall_ms => WallMs,
      msgs_per_s => In * 1000 / max(1, WallMs),
      expected => Expected, tsung_sent => TsungSent,
      tsung_received => maps:get(echo_count, Tsung),
      tsung_rtt_mean_ms => maps:get(echo_mean_ms, Tsung),
      probe_sent => PSent, probe_received => PGot,
      rtt_p50_ms => percentile(Rtts, 50) / 1000, rtt_p99_ms => percentile(Rtts, 99) / 1000,
      errors => Errors, error_detail => maps:get(errors, Tsung),
      cpu_ms => D(cpu_ms), cpu_us_per_msg => D(cpu_ms) * 1000 / max(1, In),
      codec_us_per_msg => D(codec_us) / max(1, In), users => TsungUsers,
      alloc_bytes_per_msg => D(gc_words) * erlang:system_info(wordsize) / max(1, In),
      memory_end => maps:get(memory, After),
      settled => Settled,
      lost => not (In =:= Out andalso TsungSent =:= Expected
                   andalso maps:get(echo_count, Tsung) =:= Expected
                   andalso PSent =:= PGot andalso Settled),
      all_users => TsungUsers =:= Users}.

percentile([], _) -> 0;
percentile(Values, P) ->
    Sorted = lists:sort(Values),
    N = length(Sorted),
    lists:nth(max(1, min(N, round(P / 100 * N + 0.5))), Sorted).

report(Rows, Opts = #{out := Out}) ->
    Md = markdown(Rows, Opts),
    ok = filelib:ensure_dir(Out),
    ok = file:write_file(Out, Md),
    io:format("~s~nwritten to ~s~n", [Md, Out]),
    case lists:any(fun(#{lost := L}) -> L end, Rows) of
        true -> 1;
        false -> 0
    end.

markdown(Rows, #{users := U, msgs := M, think := T, ramp := R, probes := P, probe_ms := PM}) ->
    Header = "| round | codec | users | msgs in / out | Tsung sent / echoes | probes sent / echoes "
             "| msgs/s | RTT p50 / p99 (ms) | Tsung mean RTT (ms) | errors "
             "| VM CPU us/msg | codec us/msg | codec alone, hot loop (us/msg) | KB allocated/msg | lost |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    Lines = [io_lib:format("| ~b | ~s | ~b | ~b / ~b | ~b / ~b | ~b / ~b | ~.1f | ~.2f / ~.2f | ~s | ~b "
                           "| ~.1f | ~.2f | ~.2f | ~.2f | ~s |\n",
                           [Rd, C, Us, In, Out, TS, TR, PS, PR, float(Rate), float(P50), float(P99),
                            fmt(TM), E, float(Cpu), float(Codec), float(Hot), Alloc / 1024, yes_no(L)])
             || #{round := Rd, codec := C, users := Us, in := In, out := Out, tsung_sent := TS,
                  tsung_received := TR, probe_sent := PS, probe_received := PR,
                  msgs_per_s := Rate, rtt_p50_ms := P50, rtt_p99_ms := P99,
                  tsung_rtt_mean_ms := TM, errors := E, cpu_us_per_msg := Cpu,
                  codec_us_per_msg := Codec, codec_hot_us := Hot, alloc_bytes_per_msg := Alloc,
                  lost := L} <- Rows],
    Of = fun(Key, Codec) -> [C || #{codec := X, Key := C} <- Rows, X =:= Codec] end,
    Cpu = fun(Codec) -> median(Of(cpu_us_per_msg, Codec)) end,
    Spread = fun(Codec) -> Of(cpu_us_per_msg, Codec) end,
    Xml = fun(Codec) -> median(Of(codec_us_per_msg, Codec)) end,
    Ratio = Cpu(stanza) / Cpu(fast_xml),
    ["## make load: the echo component under Tsung, stanza vs fast_xml\n\n",
     io_lib:format("~b anonymous Tsung users (ramped over ~b s), ~b chat messages each to the "
                   "component, one at a time with a random think time of mean ~.3f s; ~b probe "
                   "clients sending a timestamped message every ~b ms for the round trip. "
                   "Phases alternate codecs, each in a fresh component VM; the component's own "
                   "counters, its VM's CPU (/proc) and its allocations are the figures.~n~n",
                   [U, R, M, T, P, PM]),
     Header, Lines,
     io_lib:format("~nComponent CPU per message, median of the rounds: stanza ~.1f us "
                   "(rounds ~s), fast_xml ~.1f us (rounds ~s): stanza / fast_xml = ~.2f "
                   "(goal: at most 0.50).~n",
                   [Cpu(stanza), fmt_list(Spread(stanza)), Cpu(fast_xml),
                    fmt_list(Spread(fast_xml)), Ratio]),
     io_lib:format("Time in the parser and serializer per message (the codec alone, "
                   "measured inside the component): stanza ~.2f us, fast_xml ~.2f us: ~.2f.~n",
                   [float(Xml(stanza)), float(Xml(fast_xml)), Xml(stanza) / max(1.0e-9, Xml(fast_xml))]),
     io_lib:format("The codec alone in a hot loop (parse + serialize the Tsung message): "
                   "stanza ~.2f us, fast_xml ~.2f us: ~.2f.~n",
                   [float(median(Of(codec_hot_us, stanza))), float(median(Of(codec_hot_us, fast_xml))),
                    median(Of(codec_hot_us, stanza)) / median(Of(codec_hot_us, fast_xml))]),
     io_lib:format("Messages lost in any phase: ~s. Every phase had all its Tsung users: ~s.~n",
                   [yes_no(lists:any(fun(#{lost := L}) -> L end, Rows)),
                    yes_no(lists:all(fun(#{all_users := A}) -> A end, Rows))])].

median(Values) -> stanza_bench_util:median(Values).

fmt(undefined) -> "-";
fmt(X) -> io_lib:format("~.2f", [X]).

fmt_list(Xs) -> string:join([io_lib:format("~.1f", [X]) || X <- Xs], ", ").

yes_no(true) -> "yes";
yes_no(false) -> "no".
