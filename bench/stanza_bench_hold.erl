%% @doc Scheduler holds, attributed to the operation that caused them: a
%% worker process owns a parser and goes through its operations one at a
%% time (the parse calls, reset, close, a garbage collection), while the
%% calling process receives erlang:system_monitor/2 `long_schedule'
%% reports (1 ms threshold) and tells the worker when to go on, so that
%% each report falls in the operation that was running. Used by the
%% big-stanza section (stanza_bench_big).
%%
%% erlang:system_monitor/2 has one receiver per node: while a run lasts,
%% the calling process is it; the previous setting is restored after.
-module(stanza_bench_hold).

-export([run/2, mid_stanza/3, control/0]).

-export_type([hold/0, result/0]).

%% {Longest report in ms (0 when none reached 1 ms), where the process
%% was scheduled out then}.
-type hold() :: {non_neg_integer(), term()}.
%% Per operation (parse, reset, close, gc): the longest hold and the
%% longest call's wall time in ms; `seconds': the parse calls in all.
-type result() :: #{seconds := float(), atom() => #{hold := hold(), longest_call := float()}}.

%% @doc One run of Lib over Chunks (after a stream header, untimed), each
%% operation's holds and times. Raises `{run_died, Reason}' if the worker
%% fails (Reason with the chunk offset when feeding failed).
-spec run(stanza_bench_libs:lib(), [binary()]) -> result().
run(Lib, Chunks) ->
    once(Lib, Chunks).

%% @doc The longest hold while closing (`close') or dropping and garbage
%% collecting (`drop') a parser that has been given Part, a stanza but its
%% end.
-spec mid_stanza(stanza_bench_libs:lib(), binary(), close | drop) -> hold().
mid_stanza(Lib, Part, How) ->
    Self = self(),
    {Worker, MRef} = spawn_monitor(fun() ->
                                          stanza_bench_util:quiet_worker(
                                            fun() -> mid_worker(Self, Lib, Part, How) end)
                                  end),
    receive
        {ready, Worker, _} -> ok;
        {'DOWN', MRef, process, Worker, Early} -> erlang:error({run_died, Early})
    end,
    Previous = erlang:system_monitor(self(), [{long_schedule, 1}]),
    try
        #{How := #{hold := Hold}} = phases(Worker, MRef, [Worker], #{}),
        Hold
    after restore(Previous)
    end.

mid_worker(Coordinator, #{close := Close} = Lib, Part, How) ->
    ok = half_parsed(Lib, Part),
    Coordinator ! {ready, self(), []},
    step(),
    case How of
        close ->
            {Ms, ok} = timed(fun() -> Close(erase(parser)) end),
            phase(Coordinator, close, #{longest_call => Ms});
        drop ->
            %% The parser is only in the process dictionary: once erased,
            %% nothing refers to it and the collection frees it.
            _ = erase(parser),
            {Ms, true} = timed(fun erlang:garbage_collect/0),
            phase(Coordinator, drop, #{longest_call => Ms})
    end,
    Coordinator ! {finished, self(), 0.0}.

half_parsed(#{new := New, feed := Feed}, Part) ->
    {P0, 0} = Feed(New(), stanza_bench_libs:header()),
    P1 = stanza_bench_util:feed_chunks(fun(C, P) -> {P2, 0} = Feed(P, C), P2 end,
                                       P0, [Part]),
    undefined = put(parser, P1),
    ok.

%% @doc The noise floor of the hold measurement: Erlang code yields to the
%% scheduler every few thousand reductions (well under 1 ms), so a
%% long_schedule report about a process that runs only Erlang code is time
%% the operating system took the scheduler thread away (other programs on
%% a shared machine). Measured once per round, in the same conditions.
-spec control() -> non_neg_integer().
control() ->
    Self = self(),
    {Pid, MRef} = spawn_monitor(fun() ->
                                        receive go -> ok end,
                                        spin(erlang:monotonic_time(millisecond) + 300),
                                        Self ! {spun, self()}
                                end),
    Previous = erlang:system_monitor(self(), [{long_schedule, 1}]),
    Pid ! go,
    receive {spun, Pid} -> ok end,
    settle(Pid),
    {Hold, _} = longest([Pid], {0, none}),
    restore(Previous),
    erlang:demonitor(MRef, [flush]),
    Hold.

spin(Until) ->
    case erlang:monotonic_time(millisecond) >= Until of
        true -> ok;
        false -> _ = lists:sum(lists:seq(1, 100)), spin(Until)
    end.

%%--------------------------------------------------------------------
%% One run: a worker process owns the parser; this process watches
%% long_schedule reports and tells the worker when to go on, so that each
%% report falls in the operation that caused it.

once(Lib, Chunks) ->
    Self = self(),
    true = erlang:garbage_collect(),
    {Worker, MRef} = spawn_monitor(fun() ->
                                          stanza_bench_util:quiet_worker(
                                            fun() -> worker(Self, Lib, Chunks) end)
                                  end),
    Watched = receive
                  {ready, Worker, Others} -> [Worker | Others];
                  {'DOWN', MRef, process, Worker, Early} -> erlang:error({run_died, Early})
              end,
    Previous = erlang:system_monitor(self(), [{long_schedule, 1}]),
    try phases(Worker, MRef, Watched, #{})
    after restore(Previous)
    end.

phases(Worker, MRef, Watched, Acc) ->
    Worker ! next,
    receive
        {phase, Worker, Op, Figures} ->
            settle(Worker),
            Hold = longest(Watched, {0, none}),
            phases(Worker, MRef, Watched, Acc#{Op => Figures#{hold => Hold}});
        {finished, Worker, Seconds} ->
            erlang:demonitor(MRef, [flush]),
            Acc#{seconds => Seconds};
        {'DOWN', MRef, process, Worker, Why} ->
            _ = longest(Watched, {0, none}),
            erlang:error({run_died, Why})
    end.

%% A long_schedule report is sent when the process is scheduled out: once
%% the worker waits for the next step, the reports about the step it
%% finished are in this process's mailbox.
settle(Worker) ->
    case erlang:process_info(Worker, status) of
        {status, waiting} -> ok;
        undefined -> ok;
        _ -> erlang:yield(), settle(Worker)
    end.

%% {Longest hold in ms (0 when none reached 1 ms), where it ended}.
longest(Watched, {Max, Where} = Acc) ->
    receive
        {monitor, Who, long_schedule, Info} ->
            Ms = proplists:get_value(timeout, Info, 0),
            case lists:member(Who, Watched) andalso Ms > Max of
                true -> longest(Watched, {Ms, proplists:get_value(out, Info)});
                false -> longest(Watched, Acc)
            end
    after 0 ->
            {Max, Where}
    end.

restore(undefined) ->
    _ = erlang:system_monitor(undefined),
    ok;
restore({Pid, Options}) ->
    _ = erlang:system_monitor(Pid, Options),
    ok.

worker(Coordinator, #{new := New, feed := Feed, subjects := Subjects} = Lib, Chunks) ->
    {P0, 0} = Feed(New(), stanza_bench_libs:header()),
    Coordinator ! {ready, self(), Subjects(P0)},
    step(),
    T0 = erlang:monotonic_time(),
    {P1, Stanzas, LongestCall} = feed_timed(Feed, P0, Chunks),
    Seconds = since(T0),
    1 = Stanzas,
    phase(Coordinator, parse, #{longest_call => LongestCall}),
    P2 = case Lib of
             #{reset := Reset} ->
                 {ResetMs, ok} = timed(fun() -> Reset(P1) end),
                 phase(Coordinator, reset, #{longest_call => ResetMs}),
                 P1;
             #{} ->
                 P1
         end,
    {CloseMs, ok} = timed(fun() -> (maps:get(close, Lib))(P2) end),
    phase(Coordinator, close, #{longest_call => CloseMs}),
    {GcMs, true} = timed(fun erlang:garbage_collect/0),
    phase(Coordinator, gc, #{longest_call => GcMs}),
    Coordinator ! {finished, self(), Seconds}.

phase(Coordinator, Op, Figures) ->
    Coordinator ! {phase, self(), Op, Figures},
    step().

step() ->
    receive next -> ok end.

feed_timed(Feed, P, Chunks) ->
    stanza_bench_util:feed_chunks(
      fun(C, {P0, N0, Max}) ->
              {Ms, {P1, N}} = timed(fun() -> Feed(P0, C) end),
              {P1, N0 + N, max(Max, Ms)}
      end, {P, 0, 0.0}, Chunks).

timed(Fun) ->
    T0 = erlang:monotonic_time(),
    Result = Fun(),
    {since(T0) * 1000, Result}.

since(T0) ->
    Native = erlang:monotonic_time() - T0,
    max(erlang:convert_time_unit(Native, native, nanosecond), 1) / 1.0e9.

