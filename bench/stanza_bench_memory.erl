%% @doc Memory per parser, for each streaming parser: N parsers (10,000
%% by default) held by one process, idle and after each has parsed a
%% stream header, measured as the growth of erlang:memory(total) divided
%% by N.
%%
%% ```
%% 1> stanza_bench_memory:run(#{parsers => 10000, runs => 3}).
%% '''
%% erlang:memory(total) counts what the runtime's allocators hand out:
%% process heaps, ports, NIF resources and enif_alloc/driver_alloc memory.
%% stanza (both front-ends), fast_xml and xmerl allocate through them, so
%% the figure is complete for them; a library that calls malloc directly
%% would look smaller than it is. The holder's list of N parsers is
%% counted too (a few words each), for every library alike.
-module(stanza_bench_memory).

-export([run/1]).

-type options() :: #{parsers => pos_integer(), runs => pos_integer(),
                     libs => [stanza_bench_libs:key()]}.

-define(DEFAULT_LIBS, [stanza_nif, stanza_port, fxml, exml, xmerl_sax]).

%% @doc Measures every library and returns the table.
-spec run(options()) -> stanza_bench_report:table().
run(Opts0) ->
    Opts = maps:merge(#{parsers => 10000, runs => 3, libs => ?DEFAULT_LIBS},
                      Opts0),
    Rows = [row(Key, stanza_bench_libs:lib(Key), Opts)
            || Key <- maps:get(libs, Opts)],
    table(with_ratios(Rows), Opts).

row(Key, {skip, Why}, _Opts) ->
    #{key => Key, label => stanza_bench_libs:label(Key), skipped => Why};
row(Key, Lib, #{parsers := N, runs := Runs}) ->
    #{label := Label} = Lib,
    stanza_bench_util:progress("memory, ~ts, ~B parsers: ", [Label, N]),
    try
        Idle = [per_parser(Lib, idle, N) || _ <- lists:seq(1, Runs)],
        Header = [per_parser(Lib, header, N) || _ <- lists:seq(1, Runs)],
        Row = #{key => Key, label => Label,
                idle => stanza_bench_util:summary(Idle),
                header => stanza_bench_util:summary(Header)},
        stanza_bench_util:progress("~.1f KB idle, ~.1f KB after a header~n",
                                   [median(Row, idle) / 1024,
                                    median(Row, header) / 1024]),
        Row
    catch
        Class:Reason:Stack ->
            Why = stanza_bench_util:failure(Class, Reason, Stack),
            stanza_bench_util:progress("~ts~n", [Why]),
            #{key => Key, label => Label, failed => Why}
    end.

%% Bytes per parser. The holder builds the parsers when told, then waits
%% to be measured; the measuring process holds nothing of them. The
%% holder's links (the xmerl stream processes) go with it.
per_parser(#{new := New, feed := Feed, close := Close}, State, N) ->
    Self = self(),
    Header = stanza_bench_libs:header(),
    {Holder, MRef} = spawn_monitor(
               fun() ->
                       receive go -> ok end,
                       Parsers = [prepare(New(), Feed, State, Header)
                                  || _ <- lists:seq(1, N)],
                       true = erlang:garbage_collect(),
                       Self ! {built, self()},
                       receive stop -> lists:foreach(Close, Parsers) end
               end),
    Before = settled_memory(),
    Holder ! go,
    receive
        {built, Holder} -> ok;
        {'DOWN', MRef, process, Holder, Why} -> erlang:error({run_died, Why})
    end,
    After = erlang:memory(total),
    Holder ! stop,
    %% The holder's heap, and the parsers it refers to, are freed when it
    %% is gone: the next measurement must not see that.
    receive {'DOWN', MRef, process, Holder, normal} -> ok end,
    (After - Before) / N.

%% erlang:memory(total) once it has stopped moving: memory that earlier
%% work left to be freed (resources dropped by a garbage collection,
%% tables of dead processes, delayed deallocation) is freed while this
%% waits, not while the parsers are being counted.
settled_memory() ->
    settled_memory(erlang:memory(total), 40).

settled_memory(Last, 0) ->
    Last;
settled_memory(Last, Tries) ->
    true = erlang:garbage_collect(),
    timer:sleep(25),
    Now = erlang:memory(total),
    case abs(Now - Last) < 16384 of
        true -> Now;
        false -> settled_memory(Now, Tries - 1)
    end.

prepare(Parser, _Feed, idle, _Header) ->
    Parser;
prepare(Parser, Feed, header, Header) ->
    {Parser1, 0} = Feed(Parser, Header),
    Parser1.

with_ratios(Rows) ->
    case [R || #{key := stanza_nif, header := _} = R <- Rows] of
        [Base] -> [add_ratio(R, median(Base, header)) || R <- Rows];
        [] -> Rows
    end.

add_ratio(#{header := _} = Row, Base) ->
    Row#{ratio => median(Row, header) / Base};
add_ratio(Row, _Base) ->
    Row.

median(Row, What) ->
    maps:get(median, maps:get(What, Row)).

table(Rows, #{parsers := N, runs := Runs}) ->
    #{id => memory,
      title => stanza_bench_util:flat(
                 "Memory per parser (~B parsers, median of ~B runs, KB = 1024 B)",
                 [N, Runs]),
      columns => [{"Parser", text}, {"idle KB", number}, {"idle min-max KB", range},
                  {"after header KB", number}, {"after header min-max KB", range},
                  {"vs stanza NIF", ratio}, {"Note", text}],
      keys => [K || #{key := K} <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => ["Growth of erlang:memory(total) per parser while one process "
                "holds them all.",
                "xmerl_sax_parser keeps no parser object: each stream is a "
                "process blocked in its continuation fun."]}.

cells(#{label := L, skipped := Why}) ->
    [L, undefined, undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why];
cells(#{label := L, failed := Why}) ->
    [L, undefined, undefined, undefined, undefined, undefined, Why];
cells(#{label := L, idle := Idle, header := Header} = Row) ->
    [L, kb(Idle, median), {kb(Idle, min), kb(Idle, max)}, kb(Header, median),
     {kb(Header, min), kb(Header, max)}, maps:get(ratio, Row, undefined), ""].

kb(Summary, Which) ->
    maps:get(Which, Summary) / 1024.
