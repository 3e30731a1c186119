%% @doc The client section of `make bench': IQ round trips through a
%% private ejabberd 23.01 on loopback (test/stanza_ejabberd.erl), for 1
%% and 8 concurrent callers: round trips per second, latency p50 and p99,
%% and the client VM's CPU time per round trip.
%%
%% Each round trip is `stanza_client:send_wait_iq/6' of an XEP-0199 ping
%% to the server, which ejabberd answers itself: the client's whole path
%% (serialize, TLS, tracker, parse, route the reply to its caller) and
%% ejabberd's, nothing else. The CPU figure is this VM's CPU time
%% (statistics(runtime), all schedulers) over the round trips: it counts
%% the callers too, which are part of using the client.
-module(stanza_bench_client).

-export([tables/1]).

-define(ROUND_TRIPS, 4000).

%% @doc Starts ejabberd, measures, stops it. When ejabberd cannot run
%% here the table says so.
-spec tables(map()) -> [stanza_bench_report:table()].
tables(Opts) ->
    case stanza_ejabberd:start(#{users => [{"bench", "localhost", "bench"}]}) of
        {ok, E} ->
            try [table(measure(E, Opts))]
            after stanza_ejabberd:stop(E)
            end;
        {error, Reason} ->
            [table({failed, Reason})]
    end.

measure(E, Opts) ->
    N = maps:get(round_trips, Opts, ?ROUND_TRIPS),
    Runs = maps:get(runs, Opts, 3),
    Config = [{host, "127.0.0.1"}, {port, stanza_ejabberd:port(E, c2s)}, {domain, "localhost"},
              {user, "bench"}, {password, "bench"}, {resource, "bench"}, {format, xmlel},
              {tls, #{cafile => stanza_ejabberd:cert(E)}}],
    {ok, Cn} = stanza_client:start_link(Config),
    unlink(Cn),
    try
        _ = run(Cn, 1, 200),
        %% Rounds interleave the two concurrency levels.
        Rounds = [[{C, run(Cn, C, N)} || C <- [1, 8]] || _ <- lists:seq(1, Runs)],
        [row(C, [R || Round <- Rounds, {C1, R} <- Round, C1 =:= C], N) || C <- [1, 8]]
    after
        stanza_client:close(Cn)
    end.

run(Cn, Callers, N) ->
    Per = N div Callers,
    Self = self(),
    erlang:garbage_collect(),
    {_, _} = statistics(runtime),
    T0 = erlang:monotonic_time(microsecond),
    Pids = [spawn_link(fun() -> Self ! {lat, self(), caller(Cn, Per, [])} end)
            || _ <- lists:seq(1, Callers)],
    Lat = lists:append([receive {lat, P, L} -> L end || P <- Pids]),
    Wall = erlang:monotonic_time(microsecond) - T0,
    {_, CpuMs} = statistics(runtime),
    stanza_bench_util:progress("client: ~b callers, ~b round trips in ~.1f ms~n",
                               [Callers, length(Lat), Wall / 1000]),
    Sorted = lists:sort(Lat),
    #{rate => length(Lat) / (Wall / 1.0e6), p50 => pct(Sorted, 0.50) / 1000,
      p99 => pct(Sorted, 0.99) / 1000, cpu_us => CpuMs * 1000 / length(Lat)}.

caller(_, 0, Acc) ->
    Acc;
caller(Cn, K, Acc) ->
    T0 = erlang:monotonic_time(microsecond),
    {ok, _} = stanza_client:send_wait_iq(Cn, "get", "", "localhost",
                                         <<"<ping xmlns='urn:xmpp:ping'/>">>, 10000),
    caller(Cn, K - 1, [erlang:monotonic_time(microsecond) - T0 | Acc]).

pct(Sorted, P) ->
    lists:nth(max(1, round(P * length(Sorted))), Sorted).

row(Callers, Results, N) ->
    Med = fun(K) -> median([maps:get(K, R) || R <- Results]) end,
    Range = fun(K) -> {lists:min([maps:get(K, R) || R <- Results]),
                       lists:max([maps:get(K, R) || R <- Results])} end,
    [integer_to_list(Callers), N, Med(rate), Range(rate), Med(p50), Med(p99), Med(cpu_us)].

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).

table({failed, Reason}) ->
    #{id => client, title => "IQ round trips through ejabberd 23.01",
      columns => [{"result", text}],
      rows => [[lists:flatten(io_lib:format("not measured: ~p", [Reason]))]]};
table(Rows) ->
    #{id => client,
      title => "IQ round trips through ejabberd 23.01 (stanza_client, STARTTLS + SCRAM, ping to the server)",
      columns => [{"callers", text}, {"round trips", count}, {"per second", number},
                  {"spread", range}, {"p50 ms", number}, {"p99 ms", number},
                  {"client CPU us per round trip", number}],
      rows => Rows,
      notes => ["Median of the rounds, interleaved; spread is min-max of per-second rates. "
                "CPU is this VM's (statistics(runtime), 1 ms resolution) over the round trips, "
                "callers included; ejabberd runs in its own VM."]}.
