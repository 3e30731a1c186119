%% @doc How long each streaming parser holds a scheduler: one huge stanza
%% (a 10 MB roster result by default) given in one chunk, after a stream
%% header, with erlang:system_monitor/2 reporting every `long_schedule'
%% of 1 ms or more.
%%
%% ```
%% 1> stanza_bench_sched:run(#{stanza_mb => 10, runs => 3}).
%% '''
%% A parser that holds a scheduler for 300 ms stops every other process
%% on that scheduler for 300 ms: timers, keepalives, every other
%% connection of a server. The figure is the longest report naming the
%% process that parsed, or a process or port that did the parsing for it
%% (stanza_port's port, xmerl's stream process). No report means every
%% hold was under 1 ms. The wall time of the call is shown beside it.
%%
%% A parser that takes longer than `budget_s' seconds (default 5) on one
%% run is stopped there and measured once: xmerl_sax_parser needs about
%% 40 s for 10 MB in one chunk (it is quadratic on a big chunk: 0.6 s for
%% 1 MB), which would take the whole benchmark's time. Its row then shows
%% the longest hold seen until it was stopped, as a lower bound.
%%
%% erlang:system_monitor/2 has one receiver per node: while this runs it
%% is the measuring process, and the previous setting is restored after.
-module(stanza_bench_sched).

-export([run/1]).

-type options() :: #{stanza_mb => number(), runs => pos_integer(),
                     budget_s => number(), libs => [stanza_bench_libs:key()]}.

-define(DEFAULT_LIBS, [stanza_nif, stanza_port, fxml, exml, xmerl_sax]).
-define(MB, 1000000).

%% @doc Measures every library and returns the table.
-spec run(options()) -> stanza_bench_report:table().
run(Opts0) ->
    Opts = maps:merge(#{stanza_mb => 10, runs => 3, budget_s => 5,
                        libs => ?DEFAULT_LIBS}, Opts0),
    Stanza = stanza_corpus:big_stanza(round(maps:get(stanza_mb, Opts) * ?MB)),
    Rows = [row(Key, stanza_bench_libs:lib(Key), Stanza, Opts)
            || Key <- maps:get(libs, Opts)],
    table(Rows, byte_size(Stanza), Opts).

row(Key, {skip, Why}, _Stanza, _Opts) ->
    #{key => Key, label => stanza_bench_libs:label(Key), skipped => Why};
row(Key, #{label := Label} = Lib, Stanza, #{runs := Runs, budget_s := Budget}) ->
    stanza_bench_util:progress("scheduler hold, ~ts: ", [Label]),
    Row = try measure(Lib, Stanza, Runs, Budget)
          catch Class:Reason:Stack ->
                  #{failed => stanza_bench_util:failure(Class, Reason, Stack)}
          end,
    stanza_bench_util:progress("~ts~n", [progress_result(Row)]),
    Row#{key => Key, label => Label}.

measure(Lib, Stanza, Runs, Budget) ->
    case once(Lib, Stanza, Budget) of
              {stopped, Hold} ->
                  #{hold => Hold, stopped => Budget};
              _WarmUp ->
                  Results = [once(Lib, Stanza, Budget) || _ <- lists:seq(1, Runs)],
                  #{hold => summary([H || {H, _} <- Results]),
                    wall => summary([W || {_, W} <- Results])}
    end.

progress_result(#{failed := Why}) ->
    Why;
progress_result(#{stopped := Budget, hold := Hold}) ->
    stanza_bench_util:flat("stopped after ~p s; longest ~.1f ms until then",
                           [Budget, Hold]);
progress_result(#{hold := #{median := Hold}}) ->
    stanza_bench_util:flat("longest ~.1f ms", [Hold]).

summary(Xs) ->
    stanza_bench_util:summary(Xs).

%% {Longest hold in ms (0.0 when none reached 1 ms), wall time in ms}, or
%% {stopped, Longest hold until then} past the budget.
once(#{new := New, feed := Feed, close := Close, subjects := Subjects},
     Stanza, Budget) ->
    Self = self(),
    {Worker, MRef} = spawn_monitor(
                       fun() -> stanza_bench_util:quiet_worker(fun() ->
                               {P, 0} = Feed(New(), stanza_bench_libs:header()),
                               Self ! {ready, self(), Subjects(P)},
                               receive go -> ok end,
                               Seconds = stanza_bench_util:seconds(
                                           fun() -> {_, 1} = Feed(P, Stanza) end),
                               Close(P),
                               Self ! {done, self(), Seconds}
                       end) end),
    Watched = receive
                  {ready, Worker, Others} -> [Worker | Others];
                  {'DOWN', MRef, process, Worker, Early} -> erlang:error({run_died, Early})
              end,
    Previous = erlang:system_monitor(self(), [{long_schedule, 1}]),
    Worker ! go,
    Outcome = receive
                  {done, Worker, S} -> {done, S * 1000};
                  {'DOWN', MRef, process, Worker, Why} -> {died, Why}
              after round(Budget * 1000) ->
                      exit(Worker, kill),
                      stopped
              end,
    restore(Previous),
    erlang:demonitor(MRef, [flush]),
    case Outcome of
        {died, Reason} -> _ = longest(Watched, 0), erlang:error({run_died, Reason});
        {done, Ms} -> {longest(Watched, 0), Ms};
        stopped -> {stopped, longest(Watched, 0)}
    end.

restore(undefined) ->
    _ = erlang:system_monitor(undefined),
    ok;
restore({Pid, Options}) ->
    _ = erlang:system_monitor(Pid, Options),
    ok.

%% The reports arrive before the monitor is switched off; the ones about
%% other processes are dropped.
longest(Watched, Max) ->
    receive
        {monitor, Who, long_schedule, Info} ->
            Ms = proplists:get_value(timeout, Info, 0),
            case lists:member(Who, Watched) of
                true -> longest(Watched, max(Max, Ms));
                false -> longest(Watched, Max)
            end
    after 0 ->
            float(Max)
    end.

table(Rows, Bytes, #{runs := Runs}) ->
    #{id => scheduler,
      title => stanza_bench_util:flat(
                 "Longest scheduler hold: one ~.1f MB stanza in one chunk "
                 "(median of ~B runs)", [Bytes / ?MB, Runs]),
      columns => [{"Parser", text}, {"longest hold ms", number},
                  {"min-max ms", range}, {"wall time ms", number},
                  {"wall min-max ms", range}, {"Note", text}],
      keys => [K || #{key := K} <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => ["Longest long_schedule report (erlang:system_monitor, 1 ms "
                "threshold) naming the parsing process or its port; 0 means "
                "none reached 1 ms."]}.

cells(#{label := L, skipped := Why}) ->
    [L, undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why];
cells(#{label := L, failed := Why}) ->
    [L, undefined, undefined, undefined, undefined, Why];
cells(#{label := L, hold := Hold, stopped := Budget}) ->
    [L, {more_than, Hold}, undefined, {more_than, Budget * 1000}, undefined,
     stanza_bench_util:flat("stopped after ~p s, one run", [Budget])];
cells(#{label := L, hold := Hold, wall := Wall}) ->
    [L, maps:get(median, Hold), range(Hold), maps:get(median, Wall),
     range(Wall), ""].

range(#{min := Lo, max := Hi}) ->
    {Lo, Hi}.
