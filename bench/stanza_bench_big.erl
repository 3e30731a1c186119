%% @doc Big stanzas: one stanza of many megabytes, the shape of a roster,
%% a MAM page or a pubsub result, parsed by each streaming parser in one
%% call and in 64 KB, 4 KB and 1 KB chunks. A bench section
%% (bench/README.md): tables/1 returns four tables.
%%
%% ```
%% 1> stanza_bench_big:tables(#{runs => 3}).
%% 2> stanza_bench_big:tables(#{runs => 1, repeats => 20000, roster_items => 1000,
%%                              chunks => [whole, 4096]}).
%% '''
%% The stanzas: a message whose `<body>' holds `repeats' (default
%% 320,000, 10.24 MB) times `0123456789abcdef<b x='1'>txt</b>', and a
%% roster result of `roster_items' (default 10,000) items. Each parser
%% gets a stream header first (untimed), then the stanza.
%%
%% <ul>
%% <li>Throughput: every parser, stanza and chunking is a row; the rows
%% run in interleaved rounds (a warm-up round, then `runs' rounds), each
%% run in a fresh process. The events go to the process that owns the
%% parser: stanza pull (returned by parse), stanza push to itself, and
%% fast_xml pushing to itself as ejabberd's c2s does; exml when it is
%% installed. Ratios to fast_xml are per round, then the median.</li>
%% <li>Scheduler holds, per operation, measured in the same runs:
%% erlang:system_monitor/2 `long_schedule' reports (1 ms threshold)
%% naming the run's process, attributed to the operation that was running
%% (the parse calls, reset, close, the garbage collection of the process
%% after close), with the longest single parse call's wall time beside
%% them. Then, once per parser and stanza, a parser left in the middle of
%% the stanza (all but its last 64 bytes given in one call) is closed,
%% and another is dropped unclosed and garbage collected: freeing the
%% state of a half-parsed 10 MB stanza.</li>
%% <li>Linearity: the same parsers on half the stanza (5 MB, 5,000 items)
%% in one call and 64 KB chunks, in the same rounds: time of the full
%% stanza over time of the half.</li>
%% <li>The ceiling: bare expat (bench/raw_expat, NS mode, no-op
%% callbacks) on the same stream in the same chunks, once per round, and
%% stanza pull and push as a share of its speed.</li>
%% </ul>
%% A parser that fails a row gets the failure and the byte offset in its
%% cells; the other rows go on.
-module(stanza_bench_big).

-export([tables/1]).

-type chunking() :: whole | pos_integer().
-type options() :: #{runs => pos_integer(), repeats => pos_integer(),
                     roster_items => pos_integer(), chunks => [chunking()],
                     libs => [stanza_bench_libs:key()], atom() => term()}.

-define(MB, 1000000).
-define(DEFAULT_LIBS, [stanza_nif, stanza_push_self, fxml, exml]).
-define(LINEAR_CHUNKS, [whole, 65536]).
-define(OPS, [parse, reset, close, gc]).
-define(TAIL, 64).

%% @doc The throughput, scheduler-hold and linearity tables. Progress on
%% standard error, one line per row.
-spec tables(options()) -> [stanza_bench_report:table()].
tables(Opts0) ->
    Opts = maps:merge(#{runs => 3, repeats => 320000, roster_items => 10000,
                        chunks => [whole, 65536, 4096, 1024],
                        libs => ?DEFAULT_LIBS}, Opts0),
    #{repeats := Repeats, roster_items := Items, runs := Runs} = Opts,
    Shapes = [{body, stanza_corpus:repeated_body(Repeats),
               stanza_corpus:repeated_body(Repeats div 2),
               flat("<body> of ~s x 0123456789abcdef<b x='1'>txt</b>",
                    [thousands(Repeats)])},
              {roster, stanza_corpus:roster(Items), stanza_corpus:roster(Items div 2),
               flat("roster result of ~s items", [thousands(Items)])}],
    Libs = [{K, stanza_bench_libs:lib(K)} || K <- maps:get(libs, Opts)],
    Items0 = items(Shapes, Libs, maps:get(chunks, Opts)),
    progress("big stanzas: ~B rows, a warm-up round then ~B rounds~n",
             [length(Items0), Runs]),
    Warm = [warm_up(I) || I <- Items0],
    Expat = expat_jobs(Shapes, maps:get(chunks, Opts), Opts),
    {Timed, Floor, ExpatTimed} =
        try
            lists:foldl(fun(R, {Acc, Controls, Ex}) ->
                                {round(R, Runs, Acc), [stanza_bench_hold:control() | Controls],
                                 expat_round(Ex)}
                        end, {Warm, [], Expat}, lists:seq(1, Runs))
        after
            expat_cleanup(Expat)
        end,
    progress("big stanzas, noise floor (a pure Erlang loop): longest hold ~B ms~n",
             [lists:max(Floor)]),
    Teardown = teardowns(Shapes, Libs),
    [throughput_table(Timed, Runs), holds_table(Timed, Teardown, Floor),
     linearity_table(Timed), expat_table(ExpatTimed, Timed)].

%%--------------------------------------------------------------------
%% The ceiling: bare expat (bench/raw_expat, NS mode, no-op callbacks) on
%% the same stanza after the same header, in the same chunks, once per
%% round. The program reads a file: the stream is written to a temporary
%% one per stanza.

expat_jobs(Shapes, Chunkings, Opts) ->
    case stanza_bench_parse:find_raw_expat(Opts) of
        none ->
            {none, "raw_expat program not found: run `make bench/raw_expat`"};
        Exe ->
            Dir = os:getenv("TMPDIR", "/tmp"),
            [begin
                 File = filename:join(Dir, flat("stanza_bench_big_~s_~s.xml",
                                                [Shape, os:getpid()])),
                 ok = file:write_file(File, [stanza_bench_libs:header(), Full,
                                             <<"</stream:stream>">>]),
                 #{shape => Shape, chunking => C, exe => Exe, file => File,
                   secs => []}
             end || {Shape, Full, _, _} <- Shapes, C <- Chunkings]
    end.

expat_round({none, _} = None) ->
    None;
expat_round(Jobs) ->
    [expat_run(J) || J <- Jobs].

expat_run(#{exe := Exe, file := File, chunking := C, secs := Secs} = Job) ->
    Chunk = case C of
                whole -> 1 bsl 30;
                N -> N
            end,
    try stanza_bench_parse:raw_expat_seconds(Exe, File, Chunk) of
        S -> Job#{secs := [S | Secs]}
    catch
        Class:Reason:Stack ->
            Job#{failed => stanza_bench_util:failure(Class, Reason, Stack)}
    end.

expat_cleanup({none, _}) ->
    ok;
expat_cleanup(Jobs) ->
    lists:foreach(fun(#{file := F}) -> _ = file:delete(F) end, Jobs).

expat_table(ExpatJobs, Items) ->
    #{id => big_expat,
      title => "Big stanzas: against bare expat (NS mode, no-op callbacks, the ceiling)",
      columns => [{"Stanza", text}, {"chunks", text}, {"raw expat ms", number},
                  {"stanza pull ms", number}, {"pull % of expat", percent},
                  {"stanza push to itself ms", number}, {"push % of expat", percent},
                  {"Note", text}],
      rows => expat_rows(ExpatJobs, Items),
      notes => ["Medians over the rounds; % of expat: expat's time over "
                "stanza's (100% would be expat's speed). raw expat includes "
                "the stream header and end tag (under 300 bytes)."]}.

expat_rows({none, Why}, _Items) ->
    [["-", "-", undefined, undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why]];
expat_rows(Jobs, Items) ->
    [expat_cells(J, Items) || J <- Jobs].

expat_cells(#{shape := Shape, chunking := C, failed := Why}, _Items) ->
    [shape_name(#{shape => Shape}), chunk_text(#{chunking => C}), undefined,
     undefined, undefined, undefined, undefined, Why];
expat_cells(#{shape := Shape, chunking := C, secs := Secs}, Items) ->
    Expat = median(Secs) * 1000,
    Like = #{shape => Shape, size => full, chunking => C},
    [Pull, Push] = [case find(Items, Like#{lib => L}) of
                        #{status := ok} = I -> median(seconds(I)) * 1000;
                        _ -> undefined
                    end || L <- [stanza_nif, stanza_push_self]],
    [shape_name(#{shape => Shape}), chunk_text(#{chunking => C}), Expat,
     Pull, share(Expat, Pull), Push, share(Expat, Push), ""].

share(Expat, Ms) when is_number(Ms), Ms > 0 -> Expat / Ms;
share(_, _) -> undefined.

%%--------------------------------------------------------------------
%% The rows

%% A row: one parser on one stanza (full or half) in one chunking.
%% A library that is not installed gets one row per table, which says so.
items(Shapes, Libs, Chunkings) ->
    [item(Shape, Size, Stanza, Lib, Chunking)
     || {Shape, Full, Half, Text} <- Shapes,
        {Size, Stanza} <- [{full, {Full, Text}}, {half, {Half, Text}}],
        {_, Impl} = Lib <- Libs,
        Chunking <- Chunkings,
        Size =:= full orelse lists:member(Chunking, ?LINEAR_CHUNKS),
        is_map(Impl) orelse (Shape =:= element(1, hd(Shapes))
                             andalso Chunking =:= hd(Chunkings))].

item(Shape, Size, {Stanza, Text}, {LibKey, Lib}, Chunking) ->
    Base = #{shape => Shape, size => Size, lib => LibKey, chunking => Chunking,
             bytes => byte_size(Stanza), text => Text,
             label => stanza_bench_libs:label(LibKey), runs => []},
    case Lib of
        {skip, Why} -> Base#{status => {skipped, Why}};
        #{} -> Base#{status => ok, impl => Lib, chunks => cut(Stanza, Chunking)}
    end.

cut(Stanza, whole) -> [Stanza];
cut(Stanza, Size) -> stanza_bench_util:chunks(Stanza, Size).

warm_up(#{status := ok} = Item) ->
    progress("~ts ~ts, ~ts, ~ts: ", [size_text(Item), shape_name(Item),
                                     maps:get(label, Item), chunk_text(Item)]),
    Next = run_item(Item, false),
    progress("~ts~n", [case Next of
                           #{status := ok} -> flat("~.1f ms (warm-up)",
                                                   [warm_ms(Next)]);
                           #{status := {failed, Why}} -> Why
                       end]),
    maps:put(runs, [], Next);
warm_up(Item) ->
    Item.

warm_ms(#{runs := [#{seconds := S} | _]}) -> S * 1000.

round(Round, Runs, Items) ->
    progress("big stanzas, round ~B/~B: ", [Round, Runs]),
    Done = [run_item(I, true) || I <- Items],
    progress("done~n", []),
    Done.

run_item(#{status := ok, impl := Lib, chunks := Chunks, runs := Runs} = Item, Dot) ->
    try stanza_bench_hold:run(Lib, Chunks) of
        Run ->
            _ = Dot andalso progress(".", []),
            Item#{runs := [Run | Runs]}
    catch
        Class:Reason:Stack ->
            _ = Dot andalso progress("x", []),
            Item#{status := {failed, stanza_bench_util:failure(Class, Reason, Stack)}}
    end;
run_item(Item, _Dot) ->
    Item.

%%--------------------------------------------------------------------
%% Tearing down a parser in the middle of a big stanza

teardowns(Shapes, Libs) ->
    [teardown(Shape, Lib) || Shape <- Shapes, {_, Impl} = Lib <- Libs,
                             is_map(Impl) orelse Shape =:= hd(Shapes)].

teardown({Shape, _Full, _Half, _Text}, {LibKey, {skip, Why}}) ->
    #{shape => Shape, lib => LibKey, status => {skipped, Why}};
teardown({Shape, Full, _Half, _Text}, {LibKey, Lib}) ->
    progress("big stanzas, ~ts, ~ts, tearing down mid-stanza: ",
             [Shape, stanza_bench_libs:label(LibKey)]),
    Part = binary:part(Full, 0, byte_size(Full) - ?TAIL),
    Result = try
                 #{close => stanza_bench_hold:mid_stanza(Lib, Part, close),
                   drop => stanza_bench_hold:mid_stanza(Lib, Part, drop)}
             catch
                 Class:Reason:Stack ->
                     #{failed => stanza_bench_util:failure(Class, Reason, Stack)}
             end,
    progress("~ts~n", [case Result of
                           #{failed := Why} -> Why;
                           #{close := {C, _}, drop := {D, _}} ->
                               flat("close held ~B ms, drop + gc held ~B ms", [C, D])
                       end]),
    Result#{shape => Shape, lib => LibKey, status => ok}.

%%--------------------------------------------------------------------
%% Tables

throughput_table(Items, Runs) ->
    Full = [I || #{size := full} = I <- Items],
    #{id => big_throughput,
      title => flat("Big stanzas: throughput (events to the owning process; "
                    "median of ~B interleaved rounds)", [Runs]),
      columns => [{"Stanza", text}, {"Parser", text}, {"events go to", text},
                  {"chunks", text}, {"ms", number}, {"min-max ms", range},
                  {"MB/s", number}, {"vs fast_xml", ratio},
                  {"vs fast_xml min-max", range}, {"Note", text}],
      keys => [key(I) || I <- Full],
      rows => [throughput_cells(I, Items) || I <- Full],
      notes => [shape_note(Items),
                "vs fast_xml: fast_xml's time over this row's in the same "
                "round (above 1: faster than fast_xml), median and spread over "
                "the rounds."]}.

throughput_cells(#{status := ok} = I, Items) ->
    Ms = [S * 1000 || S <- seconds(I)],
    Median = median(Ms),
    Vs = paired(I, find(Items, I#{lib => fxml})),
    [shape_name(I), maps:get(label, I), delivery(I), chunk_text(I), Median,
     {lists:min(Ms), lists:max(Ms)}, maps:get(bytes, I) / ?MB / (Median / 1000),
     maybe_median(Vs), maybe_range(Vs), ""];
throughput_cells(I, _Items) ->
    [shape_name(I), maps:get(label, I), delivery(I), chunk_text(I), undefined,
     undefined, undefined, undefined, undefined, status_text(I)].

holds_table(Items, Teardowns, Floor) ->
    Full = [I || #{size := full} = I <- Items],
    #{id => big_holds,
      title => "Big stanzas: longest scheduler hold per operation (ms, over all runs)",
      columns => [{"Stanza", text}, {"Parser", text}, {"chunks", text},
                  {"parse hold", number}, {"longest parse call", number},
                  {"reset hold", number}, {"close hold", number},
                  {"gc hold", number}, {"longest hold: scheduled out in", text}],
      keys => [key(I) || I <- Full],
      rows => [holds_cells(I) || I <- Full]
              ++ [teardown_cells(T) || T <- Teardowns]
              ++ [["control", "pure Erlang loop, 300 ms", "noise floor",
                   float(lists:max(Floor)), undefined, undefined, undefined, undefined,
                   flat("per round: ~w ms", [lists:reverse(Floor)])]],
      notes => ["hold: the longest erlang:system_monitor long_schedule report "
                "(1 ms threshold, so 0 means none reached 1 ms) naming the "
                "process that owns the parser, during that operation. gc: "
                "erlang:garbage_collect() of that process after close. On a "
                "shared machine a report can include time the OS gave the "
                "scheduler thread to another program: the control row, a "
                "process running only Erlang code (which never holds a "
                "scheduler 1 ms by itself), shows that noise floor for this run.",
                "longest parse call: wall time of the longest single parse "
                "call; a call that yields between slices takes longer than "
                "it holds a scheduler.",
                flat("mid-stanza rows: a parser holding all but the last ~B "
                     "bytes of the stanza is closed (close hold), or dropped "
                     "unclosed and its process garbage collected (gc hold), "
                     "one run each.", [?TAIL])]}.

holds_cells(#{status := ok} = I) ->
    Runs = maps:get(runs, I),
    {Where, _} = worst_location(Runs),
    [shape_name(I), maps:get(label, I), chunk_text(I)]
        ++ [op_hold(Runs, parse), op_call(Runs, parse), op_hold(Runs, reset),
            op_hold(Runs, close), op_hold(Runs, gc), Where];
holds_cells(I) ->
    [shape_name(I), maps:get(label, I), chunk_text(I), undefined, undefined,
     undefined, undefined, undefined, status_text(I)].

teardown_cells(#{status := {skipped, Why}} = T) ->
    [shape_name(T), stanza_bench_libs:label(maps:get(lib, T)), "mid-stanza",
     undefined, undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why];
teardown_cells(#{failed := Why} = T) ->
    [shape_name(T), stanza_bench_libs:label(maps:get(lib, T)), "mid-stanza",
     undefined, undefined, undefined, undefined, undefined, Why];
teardown_cells(#{close := {Close, CloseAt}, drop := {Drop, DropAt}} = T) ->
    Where = case Close >= Drop of
                true -> location(CloseAt);
                false -> location(DropAt)
            end,
    [shape_name(T), stanza_bench_libs:label(maps:get(lib, T)), "mid-stanza",
     undefined, undefined, undefined, float(Close), float(Drop),
     case max(Close, Drop) of 0 -> "-"; _ -> Where end].

linearity_table(Items) ->
    Full = [I || #{size := full, chunking := C} = I <- Items,
                 lists:member(C, ?LINEAR_CHUNKS)],
    #{id => big_linearity,
      title => "Big stanzas: linearity (full stanza against half of it)",
      columns => [{"Stanza", text}, {"Parser", text}, {"chunks", text},
                  {"half ms", number}, {"full ms", number},
                  {"full / half", ratio}, {"full / half min-max", range},
                  {"Note", text}],
      keys => [key(I) || I <- Full],
      rows => [linearity_cells(I, find(Items, I#{size => half})) || I <- Full],
      notes => ["Half: 5.12 MB of the body (160,000 repetitions) or half the "
                "roster items. Linear work gives full / half near 2, "
                "quadratic near 4; the ratio is per round, then the median."]}.

linearity_cells(#{status := ok} = F, #{status := ok} = H) ->
    Ratios = paired(H, F),
    [shape_name(F), maps:get(label, F), chunk_text(F),
     median([S * 1000 || S <- seconds(H)]), median([S * 1000 || S <- seconds(F)]),
     median(Ratios), {lists:min(Ratios), lists:max(Ratios)}, ""];
linearity_cells(F, H) ->
    Why = case F of
              #{status := ok} -> status_text(H);
              _ -> status_text(F)
          end,
    [shape_name(F), maps:get(label, F), chunk_text(F), undefined, undefined,
     undefined, undefined, Why].

%%--------------------------------------------------------------------
%% Figures

seconds(#{runs := Runs}) ->
    [S || #{seconds := S} <- lists:reverse(Runs)].

%% Per round: B's time over A's (A faster when above 1).
paired(#{status := ok} = A, #{status := ok} = B) ->
    Sa = seconds(A),
    Sb = seconds(B),
    case length(Sa) =:= length(Sb) andalso Sa =/= [] of
        true -> [Y / X || {X, Y} <- lists:zip(Sa, Sb)];
        false -> []
    end;
paired(_, _) ->
    [].

op_hold(Runs, Op) ->
    case [H || #{Op := #{hold := {H, _}}} <- Runs] of
        [] -> undefined;
        Hs -> float(lists:max(Hs))
    end.

op_call(Runs, Op) ->
    case [C || #{Op := #{longest_call := C}} <- Runs] of
        [] -> undefined;
        Cs -> lists:max(Cs)
    end.

worst_location(Runs) ->
    Holds = [{H, flat("~s (~s)", [location(W), Op])}
             || R <- Runs, Op <- ?OPS, #{hold := {H, W}} <- [maps:get(Op, R, #{})],
                H > 0],
    case lists:reverse(lists:sort(Holds)) of
        [{H, Text} | _] -> {Text, H};
        [] -> {"-", 0}
    end.

location({M, F, A}) -> flat("~s:~s/~B", [M, F, A]);
location(undefined) -> "not reported";
location(none) -> "-";
location(Other) -> flat("~0p", [Other]).

find(Items, Like) ->
    Keys = [shape, size, lib, chunking],
    case [I || I <- Items, maps:with(Keys, I) =:= maps:with(Keys, Like)] of
        [I | _] -> I;
        [] -> #{status => {skipped, "not measured"}}
    end.

key(#{shape := S, lib := L, chunking := C}) ->
    list_to_atom(flat("~s_~s_~s", [S, L, chunk_key(C)])).

chunk_key(whole) -> "whole";
chunk_key(N) -> integer_to_list(N).

maybe_median([]) -> undefined;
maybe_median(Xs) -> median(Xs).

maybe_range([]) -> undefined;
maybe_range(Xs) -> {lists:min(Xs), lists:max(Xs)}.

median(Xs) ->
    stanza_bench_util:median(Xs).

%%--------------------------------------------------------------------
%% Text

shape_name(#{shape := body}) -> "body";
shape_name(#{shape := roster}) -> "roster".

shape_note(Items) ->
    Texts = lists:usort([{S, T, B} || #{shape := S, size := full, text := T,
                                         bytes := B} <- Items]),
    lists:flatten(lists:join("; ", [flat("~s: ~ts, ~.2f MB", [shape_name(#{shape => S}), T,
                                                            B / ?MB])
                                    || {S, T, B} <- Texts])).

size_text(#{size := full}) -> "full";
size_text(#{size := half}) -> "half".

chunk_text(#{chunking := whole}) -> "one call";
chunk_text(#{chunking := N}) when N rem 1024 =:= 0 -> flat("~B KB", [N div 1024]);
chunk_text(#{chunking := N}) -> flat("~B B", [N]).

delivery(#{lib := stanza_nif}) -> "owner: returned by parse";
delivery(#{lib := stanza_port}) -> "owner: returned by parse";
delivery(#{lib := exml}) -> "owner: returned by parse";
delivery(#{lib := xmerl_sax}) -> "a process per stream";
delivery(#{}) -> "owner: its own mailbox".

status_text(#{status := {skipped, Why}}) -> "SKIPPED: " ++ Why;
status_text(#{status := {failed, Why}}) -> Why;
status_text(_) -> "".

thousands(N) ->
    stanza_bench_report:num(N).

progress(Format, Args) ->
    stanza_bench_util:progress(Format, Args).

flat(Format, Args) ->
    stanza_bench_util:flat(Format, Args).
