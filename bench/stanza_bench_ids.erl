%% @doc Benchmark of stanza_ids, stanza_dedup and stanza_tracker against
%% their obvious pure-Erlang/ETS equivalents, one and several processes.
%%
%% From `rebar3 shell':
%% ```
%% stanza_bench_ids:run().
%% stanza_bench_ids:run(#{ops => 100000, runs => 3, procs => [1, 8]}).
%% '''
%% Options: `ops' (operations per process per run, default 200000),
%% `runs' (timed runs per row, default 5), `procs' (process counts,
%% default `[1, 8]'), `capacity' (entries of the dedup tables, and
%% entries measured for memory, default 100000).
%%
%% The pairs:
%% <ul>
%% <li>ids: `stanza_ids:new_id/0' against a 9-byte random prefix (from
%% persistent_term) and `erlang:unique_integer([positive])', encoded to
%% the same 22 base64url characters in Erlang.</li>
%% <li>dedup: `stanza_dedup:seen/2' against an ETS set with
%% `ets:insert_new/2' plus an ordered_set of insertion order, swept of
%% the oldest keys when over capacity or older than the TTL (the same
%% window). Every key is new: the steady state of a full window.</li>
%% <li>tracker: one op is a `track/4' then a `take/2' of the same
%% `{Jid, Id}' key, against an ETS set plus `erlang:send_after/3' and
%% `erlang:cancel_timer/1'.</li>
%% </ul>
%% Each row is warmed up once, then timed `runs' times with fresh
%% processes and tables; the table shows the median ops/s with the
%% min-max spread, the ratio stanza/ETS for the same process count, and
%% bytes per entry (stanza from its own accounting, ETS from ets:info
%% memory plus, for the tracker, the timers, measured as the growth of
%% erlang:memory(total)). Progress goes to standard error, the table to
%% standard output; the rows are returned.
-module(stanza_bench_ids).

-export([run/0, run/1, measure/1, table/1]).

-export_type([options/0, row/0]).

-type options() :: #{ops => pos_integer(), runs => pos_integer(),
                     procs => [pos_integer()], capacity => pos_integer()}.
-type row() :: #{bench := ids | dedup | tracker, impl := stanza | ets,
                 procs := pos_integer(), ops_per_s := float(),
                 min := float(), max := float(), ratio => float(),
                 bytes_per_entry => float()}.

-define(JID, <<"juliet@example.com/balcony">>).
-define(TTL_MS, 3600000).
%% Entries a timed tracker may hold (track then take: at most one per
%% process at a time).
-define(TRACKER_CAPACITY, 65536).
-define(BENCHES, [ids, dedup, tracker]).

%% @equiv run(#{})
-spec run() -> [row()].
run() ->
    run(#{}).

%% @doc Runs every pair, prints the table and returns the rows.
-spec run(options()) -> [row()].
run(Opts) ->
    Rows = measure(Opts),
    io:put_chars(stanza_bench_report:text(table(Rows))),
    Rows.

%% @doc Runs every pair and returns the rows; progress on standard error.
-spec measure(options()) -> [row()].
measure(Opts0) when is_map(Opts0) ->
    Opts = maps:merge(#{ops => 200000, runs => 5, procs => [1, 8],
                        capacity => 100000}, Opts0),
    Rows = [row(B, I, P, Opts) || B <- ?BENCHES, P <- maps:get(procs, Opts),
                                  I <- [stanza, ets]],
    add_memory(add_ratios(Rows), maps:get(capacity, Opts)).

%%--------------------------------------------------------------------
%% Timing

row(Bench, Impl, Procs, #{ops := Ops, runs := Runs, capacity := Cap}) ->
    progress("~p/~p with ~p process(es)...", [Bench, Impl, Procs]),
    _ = once(Bench, Impl, Procs, Ops, Cap),
    Rates = lists:sort([once(Bench, Impl, Procs, Ops, Cap)
                        || _ <- lists:seq(1, Runs)]),
    progress(" ~s ops/s~n", [integer_to_list(round(median(Rates)))]),
    #{bench => Bench, impl => Impl, procs => Procs,
      ops_per_s => median(Rates), min => hd(Rates), max => lists:last(Rates)}.

%% Ops/s of one run: Procs processes, Ops operations each, timed from the
%% go signal to the last one done.
once(Bench, Impl, Procs, Ops, Cap) ->
    erlang:garbage_collect(),
    State = setup(Bench, Impl, Cap),
    Parent = self(),
    Pids = [spawn_link(fun() -> worker(Parent, Bench, Impl, State, N, Ops) end)
            || N <- lists:seq(1, Procs)],
    [receive {ready, P} -> ok end || P <- Pids],
    T0 = erlang:monotonic_time(),
    [P ! go || P <- Pids],
    [receive {done, P} -> ok end || P <- Pids],
    T1 = erlang:monotonic_time(),
    teardown(Bench, Impl, State),
    Seconds = erlang:convert_time_unit(T1 - T0, native, microsecond) / 1.0e6,
    Procs * Ops / Seconds.

worker(Parent, Bench, Impl, State, N, Ops) ->
    Parent ! {ready, self()},
    receive go -> ok end,
    loop(Bench, Impl, State, N, Ops),
    Parent ! {done, self()}.

loop(_Bench, _Impl, _State, _N, 0) ->
    ok;
loop(Bench, Impl, State, N, I) ->
    _ = op(Bench, Impl, State, N, I),
    loop(Bench, Impl, State, N, I - 1).

median(Rates) ->
    stanza_bench_util:median(Rates).

progress(Fmt, Args) ->
    stanza_bench_util:progress(Fmt, Args).

%%--------------------------------------------------------------------
%% The operations

setup(ids, stanza, _Cap) ->
    none;
setup(ids, ets, _Cap) ->
    persistent_term:put({?MODULE, prefix}, crypto_prefix()),
    none;
setup(dedup, stanza, Cap) ->
    stanza_dedup:new(#{capacity => Cap, ttl_ms => ?TTL_MS});
setup(dedup, ets, Cap) ->
    ets_dedup_new(Cap);
setup(tracker, stanza, _Cap) ->
    stanza_tracker:new(#{capacity => ?TRACKER_CAPACITY});
setup(tracker, ets, _Cap) ->
    {ets:new(bench_tracker, [set, public, {write_concurrency, true},
                             {read_concurrency, true}]),
     ?TRACKER_CAPACITY}.

teardown(dedup, ets, {Keys, Order, _Cap}) ->
    ets:delete(Keys),
    ets:delete(Order);
teardown(tracker, ets, {Tab, _Cap}) ->
    ets:delete(Tab);
teardown(_Bench, _Impl, _State) ->
    true.

op(ids, stanza, _, _, _) ->
    stanza_ids:new_id();
op(ids, ets, _, _, _) ->
    ets_new_id();
op(dedup, stanza, T, N, I) ->
    false = stanza_dedup:seen(T, <<N:8, I:32>>);
op(dedup, ets, T, N, I) ->
    false = ets_seen(T, <<N:8, I:32>>);
op(tracker, stanza, T, N, I) ->
    Key = {?JID, <<N:8, I:32>>},
    ok = stanza_tracker:track(T, Key, self(), 60000),
    {ok, _} = stanza_tracker:take(T, Key);
op(tracker, ets, T, N, I) ->
    Key = {?JID, <<N:8, I:32>>},
    ok = ets_track(T, Key, self(), 60000),
    {ok, _} = ets_take(T, Key).

%%--------------------------------------------------------------------
%% The ETS equivalents

crypto_prefix() ->
    <<<<(rand:uniform(256) - 1)>> || _ <- lists:seq(1, 9)>>.

ets_new_id() ->
    Prefix = persistent_term:get({?MODULE, prefix}),
    N = erlang:unique_integer([positive]),
    << <<(b64(C))>> || <<C:6>> <= <<Prefix/binary, N:56, 0:4>> >>.

b64(C) when C < 26 -> $A + C;
b64(C) when C < 52 -> $a + C - 26;
b64(C) when C < 62 -> $0 + C - 52;
b64(62) -> $-;
b64(63) -> $_.

ets_dedup_new(Cap) ->
    Opts = [public, {write_concurrency, true}],
    {ets:new(bench_dedup, [set | Opts]),
     ets:new(bench_dedup_order, [ordered_set | Opts]), Cap}.

%% insert_new records atomically; the order table gives the oldest key
%% for eviction by count and by age, as the C ring does.
ets_seen({Keys, Order, Cap}, Key) ->
    Now = erlang:monotonic_time(millisecond),
    Seq = erlang:unique_integer([monotonic]),
    case ets:insert_new(Keys, {Key, Now, Seq}) of
        true ->
            true = ets:insert(Order, {Seq, Key, Now}),
            sweep(Keys, Order, Cap, Now, 2),
            false;
        false ->
            case ets:lookup(Keys, Key) of
                [{_, At, Old}] when Now - At >= ?TTL_MS ->
                    ets:delete(Order, Old),
                    true = ets:insert(Keys, {Key, Now, Seq}),
                    true = ets:insert(Order, {Seq, Key, Now}),
                    false;
                _ ->
                    true
            end
    end.

sweep(_Keys, _Order, _Cap, _Now, 0) ->
    ok;
sweep(Keys, Order, Cap, Now, N) ->
    case ets:first(Order) of
        '$end_of_table' ->
            ok;
        Seq ->
            case ets:lookup(Order, Seq) of
                [{_, Key, At}] ->
                    case ets:info(Keys, size) > Cap orelse Now - At >= ?TTL_MS of
                        true ->
                            ets:delete(Order, Seq),
                            ets:delete(Keys, Key),
                            sweep(Keys, Order, Cap, Now, N - 1);
                        false ->
                            ok
                    end;
                [] ->
                    ok
            end
    end.

ets_track({Tab, Cap}, Key, Owner, Timeout) ->
    case ets:info(Tab, size) >= Cap of
        true ->
            {error, full};
        false ->
            TRef = erlang:send_after(Timeout, Owner, {stanza_timeout, Tab, Key}),
            case ets:insert_new(Tab, {Key, Owner, TRef}) of
                true ->
                    ok;
                false ->
                    _ = erlang:cancel_timer(TRef),
                    {error, exists}
            end
    end.

ets_take({Tab, _Cap}, Key) ->
    case ets:take(Tab, Key) of
        [{_, Owner, TRef}] ->
            _ = erlang:cancel_timer(TRef),
            {ok, Owner};
        [] ->
            error
    end.

%%--------------------------------------------------------------------
%% Ratios and memory

add_ratios(Rows) ->
    [case Row of
         #{impl := stanza, bench := B, procs := P, ops_per_s := R} ->
             [Ets] = [E || #{impl := ets, bench := B2, procs := P2} = E <- Rows,
                           B2 =:= B, P2 =:= P],
             Row#{ratio => R / maps:get(ops_per_s, Ets)};
         _ ->
             Row
     end || Row <- Rows].

add_memory(Rows, Cap) ->
    %% Drop this process's references to the timed rows' tables.
    erlang:garbage_collect(),
    Bytes = maps:from_list([{{B, I}, memory_per_entry(B, I, Cap)}
                            || B <- [dedup, tracker], I <- [stanza, ets]]),
    [case maps:find({B, I}, Bytes) of
         {ok, PerEntry} -> Row#{bytes_per_entry => PerEntry};
         error -> Row
     end || #{bench := B, impl := I} = Row <- Rows].

%% Measured in a fresh process holding Cap entries.
memory_per_entry(Bench, Impl, Cap) ->
    progress("memory per entry, ~p/~p...~n", [Bench, Impl]),
    Parent = self(),
    Pid = spawn_link(fun() -> Parent ! {self(), fill(Bench, Impl, Cap)} end),
    receive {Pid, Bytes} -> Bytes end.

fill(dedup, stanza, Cap) ->
    T = setup(dedup, stanza, Cap),
    [false = stanza_dedup:seen(T, <<I:32>>) || I <- lists:seq(1, Cap)],
    maps:get(memory, stanza_dedup:stats(T)) / Cap;
fill(dedup, ets, Cap) ->
    {Keys, Order, _} = T = setup(dedup, ets, Cap),
    [false = ets_seen(T, <<I:32>>) || I <- lists:seq(1, Cap)],
    Words = ets:info(Keys, memory) + ets:info(Order, memory),
    Words * erlang:system_info(wordsize) / Cap;
fill(tracker, stanza, Cap) ->
    T = stanza_tracker:new(#{capacity => Cap}),
    grown(fun(I) -> ok = stanza_tracker:track(T, {?JID, <<I:32>>}, self(), 600000) end,
          Cap);
fill(tracker, ets, Cap) ->
    {Tab, _} = setup(tracker, ets, Cap),
    T = {Tab, Cap},
    grown(fun(I) -> ok = ets_track(T, {?JID, <<I:32>>}, self(), 600000) end, Cap).

%% Growth of erlang:memory(total) per call of Fun, for the tracker: it
%% counts the monitors (stanza) and the timers (ETS) as well as the
%% tables. The process settles first so that earlier rows' memory is gone.
grown(Fun, N) ->
    erlang:garbage_collect(),
    timer:sleep(200),
    Total0 = erlang:memory(total),
    ok = repeat(Fun, N),
    erlang:garbage_collect(),
    (erlang:memory(total) - Total0) / N.

repeat(_Fun, 0) ->
    ok;
repeat(Fun, N) ->
    _ = Fun(N),
    repeat(Fun, N - 1).

%%--------------------------------------------------------------------
%% Output

%% @doc The rows as a report table.
-spec table([row()]) -> stanza_bench_report:table().
table(Rows) ->
    #{id => ids,
      title => "Ids, duplicate suppression and request tracking against ETS",
      columns => [{"Operation", text}, {"processes", count}, {"ops/s", count},
                  {"min-max ops/s", range}, {"vs ETS", ratio},
                  {"bytes/entry", number}],
      keys => [list_to_atom(lists:concat([B, "_", I, "_", P]))
               || #{bench := B, impl := I, procs := P} <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => ["ids: stanza_ids:new_id/0 vs a random prefix and "
                "erlang:unique_integer/1 in base64url; dedup: stanza_dedup:seen/2 "
                "vs ETS insert_new plus an ordered_set window; tracker: track/4 "
                "then take/2 vs ETS plus erlang:send_after/3 and cancel_timer/1."]}.

cells(#{bench := B, impl := I, procs := P, ops_per_s := R, min := Min,
        max := Max} = Row) ->
    [lists:concat([B, " (", I, ")"]), P, R, {Min, Max},
     maps:get(ratio, Row, undefined), maps:get(bytes_per_entry, Row, undefined)].
