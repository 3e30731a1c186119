%% @doc Does a parser's work grow with its input, or faster? A huge stanza
%% (a 1 MB roster result by default) fed in small chunks (1 KB), against
%% the same stanza in one chunk and a stanza twice as big in the same
%% chunks, for each streaming parser.
%%
%% ```
%% 1> stanza_bench_linear:run(#{stanza_mb => 1, chunk => 1024, runs => 5}).
%% '''
%% A parser that re-reads what it holds on each chunk (quadratic) shows it
%% twice: chunked costs far more than whole, and twice the stanza costs
%% about four times as much rather than two. That is what a client
%% trickling a big stanza, or a slow link, does to a server.
-module(stanza_bench_linear).

-export([run/1]).

-type options() :: #{stanza_mb => number(), chunk => pos_integer(),
                     runs => pos_integer(), libs => [stanza_bench_libs:key()]}.

-define(DEFAULT_LIBS, [stanza_nif, stanza_port, fxml, exml, xmerl_sax]).
-define(MB, 1000000).

%% @doc Measures every library and returns the table.
-spec run(options()) -> stanza_bench_report:table().
run(Opts0) ->
    Opts = maps:merge(#{stanza_mb => 1, chunk => 1024, runs => 5,
                        libs => ?DEFAULT_LIBS}, Opts0),
    Bytes = round(maps:get(stanza_mb, Opts) * ?MB),
    Small = stanza_corpus:big_stanza(Bytes),
    Double = stanza_corpus:big_stanza(2 * Bytes),
    Rows = [row(Key, stanza_bench_libs:lib(Key), {Small, Double}, Opts)
            || Key <- maps:get(libs, Opts)],
    table(Rows, byte_size(Small), Opts).

row(Key, {skip, Why}, _Stanzas, _Opts) ->
    #{key => Key, label => stanza_bench_libs:label(Key), skipped => Why};
row(Key, #{label := Label} = Lib, {Small, Double}, #{chunk := Chunk,
                                                     runs := Runs}) ->
    stanza_bench_util:progress("chunking, ~ts: ", [Label]),
    try
        Whole = times(Lib, [Small], Runs),
        Chunked = times(Lib, stanza_bench_util:chunks(Small, Chunk), Runs),
        Twice = times(Lib, stanza_bench_util:chunks(Double, Chunk), Runs),
        Row = #{key => Key, label => Label, whole => Whole, chunked => Chunked,
                twice => Twice},
        stanza_bench_util:progress("~.1f ms whole, ~.1f ms in chunks~n",
                                   [median(Row, whole), median(Row, chunked)]),
        Row
    catch
        Class:Reason:Stack ->
            Why = stanza_bench_util:failure(Class, Reason, Stack),
            stanza_bench_util:progress("~ts~n", [Why]),
            #{key => Key, label => Label, failed => Why}
    end.

%% Milliseconds to feed the chunks, after a stream header, each run in a
%% fresh process; one warm-up first.
times(Lib, Chunks, Runs) ->
    _WarmUp = once(Lib, Chunks),
    stanza_bench_util:summary([once(Lib, Chunks) || _ <- lists:seq(1, Runs)]).

once(#{new := New, feed := Feed, close := Close}, Chunks) ->
    stanza_bench_util:in_fresh_process(
      fun() ->
              {P, 0} = Feed(New(), stanza_bench_libs:header()),
              Ms = 1000 * stanza_bench_util:seconds(
                            fun() -> {_, 1} = feed_all(Feed, P, Chunks) end),
              Close(P),
              Ms
      end).

feed_all(Feed, P, Chunks) ->
    stanza_bench_util:feed_chunks(fun(C, {P0, N0}) ->
                                          {P1, N} = Feed(P0, C),
                                          {P1, N0 + N}
                                  end, {P, 0}, Chunks).

median(Row, What) ->
    maps:get(median, maps:get(What, Row)).

table(Rows, Bytes, #{chunk := Chunk, runs := Runs}) ->
    Size = mb(Bytes),
    #{id => chunking,
      title => stanza_bench_util:flat(
                 "Linearity: one ~ts stanza in ~B B chunks (median of ~B runs)",
                 [Size, Chunk, Runs]),
      columns => [{"Parser", text}, {"whole ms", number},
                  {"in chunks ms", number}, {"in chunks min-max ms", range},
                  {"chunks / whole", ratio}, {"2x stanza in chunks ms", number},
                  {"2x / 1x", ratio}, {"Note", text}],
      keys => [K || #{key := K} <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => [stanza_bench_util:flat(
                  "Linear work gives chunks / whole near 1 and 2x / 1x near "
                  "2; quadratic work gives 2x / 1x near 4. The 2x stanza is "
                  "~ts, in the same chunks.", [mb(2 * Bytes)])]}.

cells(#{label := L, skipped := Why}) ->
    [L, undefined, undefined, undefined, undefined, undefined, undefined,
     "SKIPPED: " ++ Why];
cells(#{label := L, failed := Why}) ->
    [L, undefined, undefined, undefined, undefined, undefined, undefined, Why];
cells(#{label := L, whole := W, chunked := C, twice := T}) ->
    Whole = maps:get(median, W),
    Chunked = maps:get(median, C),
    Twice = maps:get(median, T),
    [L, Whole, Chunked, {maps:get(min, C), maps:get(max, C)}, Chunked / Whole,
     Twice, Twice / Chunked, ""].

mb(Bytes) ->
    stanza_bench_util:flat("~.1f MB", [Bytes / ?MB]).
