%% @doc Parse throughput: stanza's NIF and port driver against fast_xml,
%% exml, xmerl and bare libexpat, all on the same bytes in one run.
%%
%% ```
%% 1> Ctx = stanza_bench_parse:context(#{size => 2, chunk => 4096, runs => 3}).
%% 2> Rows = stanza_bench_parse:measure(Ctx).
%% 3> io:put_chars(stanza_bench_report:text(stanza_bench_parse:table(Ctx, Rows))).
%% '''
%% The stream rows get the whole stream in `chunk'-byte pieces, the
%% per-stanza rows get each stanza whole. Every row is warmed up once;
%% then the timed runs go in rounds, every row once per round, each run in
%% a fresh process after a garbage collection. Interleaving matters on a
%% noisy machine: when it slows down for a while, every row of that round
%% pays, and the ratio of each row to stanza's NIF, computed per round and
%% given as the median of the rounds, stays honest. xmerl_scan only parses
%% the first 1 MB of stanzas (it is much slower); its row says so and its
%% numbers are on what it parsed. A row that cannot run says why.
-module(stanza_bench_parse).

-export([context/1, measure/1, table/2, goals/1, delivery/1, cleanup/1,
         ratio/3, find_raw_expat/1, raw_expat_seconds/3]).

-export_type([context/0, row/0]).

-type status() :: ok | {skipped, string()} | {failed, string()}.
-type row() :: #{key := atom(), label := string(), status := status(),
                 delivery := string(),
                 input => string(), bytes => non_neg_integer(),
                 stanzas => non_neg_integer(), seconds => [float()],
                 mbps => float(), mbps_min => float(), mbps_max => float(),
                 stanzas_per_s => float(), ratio => float(),
                 ratio_min => float(), ratio_max => float()}.
-type context() :: #{atom() => term()}.
-type job() :: #{bytes := non_neg_integer(), stanzas := non_neg_integer(),
                 input := string(), run => fun(() -> ok),
                 external => fun(() -> float())}.
-type tally() :: {non_neg_integer(), non_neg_integer(), [term()]}.

-define(MB, 1000000).
-define(XMERL_SCAN_CAP, 1000000).
-define(BASE, stanza_pull).
-define(OWNER_PULL, "owner: returned by parse").
-define(OWNER_PUSH, "owner: its own mailbox").
-define(SINK, "another process (a sink)").
-define(ELEMENT, "returned, one stanza a call").

%%--------------------------------------------------------------------
%% The context: corpus, chunks, helpers found on this machine

%% @doc The corpus and what the rows need, from the benchmark's options
%% (`size' or `file', `chunk', `runs', `raw_expat'). Writes the stream to
%% a temporary file for the raw expat program: call cleanup/1 after.
-spec context(map()) -> context().
context(Opts) ->
    {Source, Corpus} = corpus(Opts),
    Stream = stanza_corpus:to_stream(Corpus),
    Stanzas = maps:get(stanzas, Corpus),
    Chunk = maps:get(chunk, Opts),
    Exe = find_raw_expat(Opts),
    #{source => Source, stream => Stream, stanzas => Stanzas,
      count => length(Stanzas), stanza_bytes => iolist_size(Stanzas),
      chunk => Chunk, runs => maps:get(runs, Opts),
      chunks => stanza_bench_util:chunks(Stream, Chunk),
      stream_file => stream_file(Stream),
      raw_expat => Exe, expat_version => expat_version(Exe),
      fxml => fxml_status()}.

%% @doc Removes the temporary stream file.
-spec cleanup(context()) -> ok.
cleanup(#{stream_file := File}) ->
    _ = file:delete(File),
    ok.

corpus(#{file := Path}) ->
    {"file " ++ Path, stanza_corpus:from_file(Path)};
corpus(#{size := Size}) ->
    {"generated (stanza_corpus, fixed seed)",
     stanza_corpus:generate(max(1, round(Size * ?MB)))}.

stream_file(Stream) ->
    Dir = os:getenv("TMPDIR", "/tmp"),
    File = filename:join(Dir, "stanza_bench_" ++ os:getpid() ++ ".xml"),
    ok = file:write_file(File, Stream),
    File.

%% @doc The bench/raw_expat program (the `raw_expat' option, or found
%% beside the build), or `none'.
-spec find_raw_expat(map()) -> file:filename() | none.
find_raw_expat(#{raw_expat := Path}) ->
    case filelib:is_regular(Path) of
        true -> filename:absname(Path);
        false -> none
    end;
find_raw_expat(_) ->
    Ebin = filename:dirname(code:which(?MODULE)),
    Ups = [lists:duplicate(N, "..") || N <- lists:seq(1, 5)],
    Candidates = ["bench/raw_expat"
                  | [filename:join([Ebin] ++ Up ++ ["bench", "raw_expat"])
                     || Up <- Ups]],
    case lists:filter(fun filelib:is_regular/1, Candidates) of
        [Exe | _] -> filename:absname(Exe);
        [] -> none
    end.

expat_version(none) ->
    "unknown (raw_expat program not found)";
expat_version(Exe) ->
    case run_program(Exe, ["--version"]) of
        {0, [Line | _]} -> without_prefix(field(Line, "version"), "expat_");
        {Status, Out} -> flat("unknown (~ts exited ~p: ~ts)",
                              [Exe, Status, lists:join(" ", Out)])
    end.

without_prefix(String, Prefix) ->
    case string:prefix(String, Prefix) of
        nomatch -> String;
        Rest -> Rest
    end.

fxml_status() ->
    case stanza_bench_libs:lib(fxml) of
        {skip, Why} -> {skip, Why};
        #{} -> ok
    end.

%%--------------------------------------------------------------------
%% Measuring

%% @doc Every row: warm-up, then `runs' rounds. Progress on standard error.
-spec measure(context()) -> [row()].
measure(#{runs := Runs} = Ctx) ->
    Defs = rows(),
    Total = length(Defs),
    Prepared = [prepare(I, Total, Def, Ctx)
                || {I, Def} <- lists:zip(lists:seq(1, Total), Defs)],
    Timed = rounds(Prepared, Runs),
    with_ratios([finish(R) || R <- Timed]).

%% {Key, Label, How the events are delivered, Prepare}. The delivery is
%% part of the job: a parser that hands events to the process that owns
%% it (pull, or push to itself as ejabberd's c2s uses fxml_stream) is
%% compared with another that does the same, a parser pushing into a
%% separate sink process with another pushing into a sink.
rows() ->
    [{stanza_pull, "stanza_stream pull (binary)", ?OWNER_PULL, fun stanza_pull_binary/1},
     {stanza_pull_xmlel, "stanza_stream pull (xmlel)", ?OWNER_PULL, fun stanza_pull_xmlel/1},
     {stanza_push_self, "stanza_stream push to itself", ?OWNER_PUSH, fun stanza_push_self/1},
     {fxml_self, "fxml_stream push to itself", ?OWNER_PUSH, fun fxml_self/1},
     {exml_stream, "exml_stream:parse", ?OWNER_PULL, fun exml_stream/1},
     {stanza_push, "stanza_stream push to a sink", ?SINK, fun stanza_push/1},
     {fxml_push, "fxml_stream push to a sink", ?SINK, fun fxml_push/1},
     {port_pull, "stanza_port pull (binary)", ?OWNER_PULL, fun port_pull/1},
     {port_push, "stanza_port push to a sink", ?SINK, fun port_push/1},
     {stanza_element, "stanza_stream:parse_element", ?ELEMENT, fun stanza_element/1},
     {fxml_element, "fxml_stream:parse_element", ?ELEMENT, fun fxml_element/1},
     {exml_element, "exml:parse", ?ELEMENT, fun exml_element/1},
     {xmerl_scan, "xmerl_scan:string", ?ELEMENT, fun xmerl_scan/1},
     {xmerl_sax, "xmerl_sax_parser:stream", "event fun in the caller",
      fun xmerl_sax/1},
     {expat_ns, "raw expat, NS mode (C)", "no-op C callbacks",
      fun(C) -> raw_expat(ns, C) end},
     {expat_plain, "raw expat, plain (C)", "no-op C callbacks",
      fun(C) -> raw_expat(plain, C) end}].

%% The row's job, run once untimed (the warm-up, which also checks that
%% it parses everything).
prepare(I, Total, {Key, Label, Delivery, Prepare}, Ctx) ->
    progress("[~2B/~B] ~ts: ", [I, Total, Label]),
    Row0 = #{key => Key, label => Label, delivery => Delivery},
    Row = try warm_up(Prepare(Ctx)) of
              {skip, Why} ->
                  Row0#{status => {skipped, Why}};
              {ok, Job, Seconds} ->
                  Row0#{status => ok, job => Job, seconds => [],
                        warm_up => Seconds}
          catch
              Class:Reason:Stack -> failed(Row0, Class, Reason, Stack)
          end,
    progress("~ts~n", [warm_up_result(Row)]),
    Row.

warm_up({skip, Why}) -> {skip, Why};
warm_up({ok, Job}) -> {ok, Job, time_once(Job)}.

rounds(Rows, Runs) ->
    lists:foldl(fun(Round, Acc) -> round(Round, Runs, Acc) end, Rows,
                lists:seq(1, Runs)).

round(Round, Runs, Rows) ->
    progress("round ~B/~B: ", [Round, Runs]),
    Timed = [time_row(R) || R <- Rows],
    progress("done~n", []),
    Timed.

time_row(#{status := ok, job := Job, seconds := Seconds} = Row) ->
    try time_once(Job) of
        S ->
            progress(".", []),
            Row#{seconds := Seconds ++ [S]}
    catch
        Class:Reason:Stack -> failed(maps:remove(job, Row), Class, Reason, Stack)
    end;
time_row(Row) ->
    Row.

failed(Row, Class, Reason, Stack) ->
    Row#{status => {failed, stanza_bench_util:failure(Class, Reason, Stack)}}.

finish(#{status := ok, job := Job, seconds := Seconds0} = Row) ->
    #{bytes := Bytes, stanzas := Stanzas, input := Input} = Job,
    Seconds = [max(S, 1.0e-9) || S <- Seconds0],
    Mbps = [Bytes / ?MB / S || S <- Seconds],
    Clean = maps:without([job, warm_up], Row),
    Clean#{input => Input, bytes => Bytes, stanzas => Stanzas,
           seconds => Seconds, mbps => median(Mbps),
           mbps_min => lists:min(Mbps), mbps_max => lists:max(Mbps),
           stanzas_per_s => median([Stanzas / S || S <- Seconds])};
finish(Row) ->
    maps:without([job, warm_up], Row).

time_once(#{run := Run}) ->
    stanza_bench_util:in_fresh_process(
      fun() -> stanza_bench_util:seconds(fun() -> ok = Run() end) end);
time_once(#{external := External}) ->
    External().

%% Each row against the base row of the same round: the median of those
%% ratios, and their spread.
with_ratios(Rows) ->
    case [R || #{key := ?BASE, status := ok} = R <- Rows] of
        [Base] -> [add_ratio(R, Base) || R <- Rows];
        [] -> Rows
    end.

add_ratio(#{status := ok} = Row, Base) ->
    Ratios = paired(Row, Base),
    Row#{ratio => median(Ratios), ratio_min => lists:min(Ratios),
         ratio_max => lists:max(Ratios)};
add_ratio(Row, _Base) ->
    Row.

%%--------------------------------------------------------------------
%% The rows

stanza_pull_binary(Ctx) ->
    {ok, stream_job(Ctx, pull_run(stanza_stream, binary, Ctx))}.

stanza_pull_xmlel(Ctx) ->
    {ok, stream_job(Ctx, pull_run(stanza_stream, xmlel, Ctx))}.

port_pull(Ctx) ->
    {ok, stream_job(Ctx, pull_run(stanza_port, binary, Ctx))}.

%% stanza_stream and stanza_port have the same API.
pull_run(Mod, Format, #{chunks := Chunks, count := Count}) ->
    fun() ->
            {ok, P} = Mod:new(#{format => Format}),
            Tally = feed_chunks(fun(C, Acc) -> pull(Mod, P, C, Acc) end,
                                {0, 0, []}, Chunks),
            ok = Mod:close(P),
            expect_events(Count, Tally)
    end.

pull(Mod, P, Chunk, Acc) ->
    case Mod:parse(P, Chunk) of
        {ok, Events} -> lists:foldl(fun tally/2, Acc, Events);
        {error, Reason} -> erlang:error({parse_failed, Reason})
    end.

stanza_push(Ctx) ->
    {ok, stream_job(Ctx, push_run(stanza_stream, Ctx))}.

port_push(Ctx) ->
    {ok, stream_job(Ctx, push_run(stanza_port, Ctx))}.

push_run(Mod, #{chunks := Chunks, count := Count}) ->
    fun() ->
            Sink = sink(),
            {ok, P} = Mod:new(#{callback => Sink}),
            Feed = fun(C, ok) -> {ok, []} = Mod:parse(P, C), ok end,
            ok = feed_chunks(Feed, ok, Chunks),
            ok = Mod:close(P),
            expect_events(Count, drain(Sink))
    end.

%% Push mode with the events sent to the parsing process itself, taken
%% out of its mailbox after each chunk: how a connection process that
%% owns its parser works.
stanza_push_self(#{chunks := Chunks, count := Count} = Ctx) ->
    Run = fun() ->
                  {ok, P} = stanza_stream:new(#{callback => self()}),
                  Feed = fun(C, Acc) ->
                                 {ok, []} = stanza_stream:parse(P, C),
                                 drain_own(Acc)
                         end,
                  Tally = feed_chunks(Feed, {0, 0, []}, Chunks),
                  ok = stanza_stream:close(P),
                  expect_events(Count, drain_own(Tally))
          end,
    {ok, stream_job(Ctx, Run)}.

%% fast_xml as ejabberd's c2s uses it: fxml_stream:new(self(), ...), the
%% events taken from the owner's own mailbox.
fxml_self(#{fxml := {skip, Why}}) ->
    {skip, Why};
fxml_self(#{chunks := Chunks, count := Count} = Ctx) ->
    Mod = fxml_stream,
    Run = fun() ->
                  S0 = Mod:new(self(), infinity),
                  Feed = fun(C, {S, Acc}) -> {Mod:parse(S, C), drain_own(Acc)} end,
                  {S1, Tally} = feed_chunks(Feed, {S0, {0, 0, []}}, Chunks),
                  true = Mod:close(S1),
                  expect_stanzas(Count, drain_own(Tally))
          end,
    {ok, stream_job(Ctx, Run)}.

drain_own(Acc) ->
    receive
        {'$gen_event', Event} -> drain_own(tally(Event, Acc))
    after 0 -> Acc
    end.

feed_chunks(Fun, Acc, Chunks) ->
    stanza_bench_util:feed_chunks(Fun, Acc, Chunks).

stanza_element(Ctx) ->
    Parse = fun(S) -> ok_element(stanza_stream:parse_element(S)) end,
    {ok, stanza_job(Ctx, Parse)}.

ok_element({ok, _}) -> ok;
ok_element(Error) -> erlang:error({parse_element, Error}).

fxml_push(#{fxml := {skip, Why}}) ->
    {skip, Why};
fxml_push(#{chunks := Chunks, count := Count} = Ctx) ->
    Mod = fxml_stream,
    Run = fun() ->
                  Sink = sink(),
                  S0 = Mod:new(Sink, infinity),
                  Feed = fun(C, S) -> Mod:parse(S, C) end,
                  S1 = feed_chunks(Feed, S0, Chunks),
                  true = Mod:close(S1),
                  expect_stanzas(Count, drain(Sink))
          end,
    {ok, stream_job(Ctx, Run)}.

fxml_element(#{fxml := {skip, Why}}) ->
    {skip, Why};
fxml_element(Ctx) ->
    Mod = fxml_stream,
    Parse = fun(S) -> fxml_element_ok(Mod:parse_element(S)) end,
    {ok, stanza_job(Ctx, Parse)}.

fxml_element_ok({xmlel, _, _, _}) -> ok;
fxml_element_ok(Error) -> erlang:error({fxml_parse_element, Error}).

%% exml returns the elements each chunk finished; stanzas are the
%% `#xmlel{}' records among them (the stream start and end are records
%% of their own).
exml_stream(#{chunks := Chunks, count := Count} = Ctx) ->
    case stanza_bench_libs:lib(exml) of
        {skip, Why} ->
            {skip, Why};
        #{new := New, feed := Feed, close := Close} ->
            Run = fun() ->
                          {P, N} = feed_chunks(
                                     fun(C, {P0, N0}) ->
                                             {P1, N1} = Feed(P0, C),
                                             {P1, N0 + N1}
                                     end, {New(), 0}, Chunks),
                          ok = Close(P),
                          expect_stanzas(Count, {N, 0, []})
                  end,
            {ok, stream_job(Ctx, Run)}
    end.

exml_element(Ctx) ->
    case stanza_bench_libs:lib(exml) of
        {skip, Why} ->
            {skip, Why};
        #{} ->
            Mod = exml,
            Parse = fun(S) -> {ok, _} = Mod:parse(S), ok end,
            {ok, stanza_job(Ctx, Parse)}
    end.

%% xmerl_scan wants a string: the conversion of each stanza is timed, as
%% a user of xmerl_scan would pay it too.
xmerl_scan(#{stanzas := Stanzas} = Ctx) ->
    Subset = take_bytes(Stanzas, ?XMERL_SCAN_CAP),
    Parse = fun(S) ->
                    {_Doc, _Rest} = xmerl_scan:string(binary_to_list(S)),
                    ok
            end,
    {ok, stanza_job(Ctx#{stanzas := Subset}, Parse)}.

take_bytes([S | Rest], Budget) when Budget > 0 ->
    [S | take_bytes(Rest, Budget - byte_size(S))];
take_bytes(_, _) ->
    [].

%% The event fun only counts the stanzas (end tags at depth 2), to check
%% that everything was parsed.
xmerl_sax(#{chunks := [First | Rest], count := Count} = Ctx) ->
    Opts = [{event_fun, fun sax_event/3}, {event_state, {0, 0}},
            {continuation_fun, fun next_chunk/1},
            {continuation_state, Rest}],
    Run = fun() ->
                  case xmerl_sax_parser:stream(First, Opts) of
                      {ok, {0, Count}, _} -> ok;
                      {ok, State, _} -> erlang:error({xmerl_sax_count, State});
                      Error -> erlang:error({xmerl_sax, sax_error(Error)})
                  end
          end,
    {ok, stream_job(Ctx, Run)}.

sax_event({startElement, _, _, _, _}, _, {Depth, N}) -> {Depth + 1, N};
sax_event({endElement, _, _, _}, _, {2, N}) -> {1, N + 1};
sax_event({endElement, _, _, _}, _, {Depth, N}) -> {Depth - 1, N};
sax_event(_Event, _Location, State) -> State.

next_chunk([]) -> {<<>>, []};
next_chunk([Chunk | Rest]) -> {Chunk, Rest}.

sax_error({Tag, Location, Reason, _EndTags, _State}) -> {Tag, Location, Reason};
sax_error(Other) -> Other.

%% The program times its own parse, the file already in memory; each
%% round runs it twice and keeps the second, so the first warms the
%% caches as the Erlang rows' earlier rounds do.
raw_expat(_Mode, #{raw_expat := none}) ->
    {skip, "raw_expat program not found: run `make bench/raw_expat`"};
raw_expat(Mode, #{raw_expat := Exe, stream_file := File,
                  chunk := Chunk} = Ctx) ->
    Flags = case Mode of
                plain -> ["--plain"];
                ns -> []
            end,
    Args = Flags ++ [File, "2", integer_to_list(Chunk)],
    External = fun() -> lists:last(expat_seconds(Exe, Args, 2)) end,
    {ok, (stream_input(Ctx))#{external => External}}.

%% @doc Seconds bare expat (NS mode, no-op callbacks) takes on a file in
%% Chunk-byte pieces: the second of two parses, the first warming the
%% caches.
-spec raw_expat_seconds(file:filename(), file:filename(), pos_integer()) -> float().
raw_expat_seconds(Exe, File, Chunk) ->
    lists:last(expat_seconds(Exe, [File, "2", integer_to_list(Chunk)], 2)).

expat_seconds(Exe, Args, Runs) ->
    case run_program(Exe, Args) of
        {0, Lines} when length(Lines) =:= Runs ->
            [list_to_float(field(L, "seconds")) || L <- Lines];
        {Status, Lines} ->
            erlang:error({raw_expat, Status, lists:sublist(Lines, 3)})
    end.

%% A job on the whole stream, fed in chunks.
-spec stream_job(context(), fun(() -> ok)) -> job().
stream_job(Ctx, Run) ->
    (stream_input(Ctx))#{run => Run}.

stream_input(#{stream := Stream, count := Count, chunk := Chunk}) ->
    #{bytes => byte_size(Stream), stanzas => Count,
      input => flat("~ts stream, ~B B chunks", [mb(byte_size(Stream)), Chunk])}.

%% A job on each stanza, whole.
-spec stanza_job(context(), fun((binary()) -> ok)) -> job().
stanza_job(#{stanzas := Stanzas, count := Total}, Parse) ->
    Count = length(Stanzas),
    Bytes = iolist_size(Stanzas),
    Input = case Count of
                Total -> flat("~ts of stanzas, one by one", [mb(Bytes)]);
                _ -> flat("first ~ts of stanzas only (~B of ~B)",
                          [mb(Bytes), Count, Total])
            end,
    #{bytes => Bytes, stanzas => Count, input => Input,
      run => fun() -> feed_chunks(fun(S, ok) -> Parse(S) end, ok, Stanzas) end}.

%% Counts the events it gets and drops them; drain/1 returns the tally
%% and the sink exits.
sink() ->
    spawn_link(fun() -> sink_loop({0, 0, []}) end).

sink_loop(Acc) ->
    receive
        {'$gen_event', Event} -> sink_loop(tally(Event, Acc));
        {drain, From, Ref} -> From ! {Ref, Acc}
    end.

%% {Stanzas, OtherEvents, Errors}.
tally({xmlstreamelement, _}, {N, Other, Errors}) -> {N + 1, Other, Errors};
tally({xmlstreamerror, R}, {N, Other, Errors}) -> {N, Other, [R | Errors]};
tally(_Event, {N, Other, Errors}) -> {N, Other + 1, Errors}.

drain(Sink) ->
    Ref = make_ref(),
    Sink ! {drain, self(), Ref},
    receive {Ref, Result} -> Result end.

%% The stream start, every stanza, the stream end, no error.
expect_events(Count, {Count, 2, []}) -> ok;
expect_events(Count, Got) -> wrong_events(Count, Got).

%% fast_xml 1.1.49 loses the stream end when `</stream:stream>' is split
%% between two chunks, so only the stanzas are checked.
expect_stanzas(Count, {Count, _, []}) -> ok;
expect_stanzas(Count, Got) -> wrong_events(Count, Got).

-spec wrong_events(non_neg_integer(), tally()) -> no_return().
wrong_events(Count, {Stanzas, Other, Errors}) ->
    erlang:error({wrong_events, #{expected_stanzas => Count,
                                  stanzas => Stanzas, other_events => Other,
                                  errors => lists:sublist(Errors, 3)}}).

%%--------------------------------------------------------------------
%% Report

%% @doc The throughput table.
-spec table(context(), [row()]) -> stanza_bench_report:table().
table(#{stream := Stream, count := Count, chunk := Chunk, runs := Runs}, Rows) ->
    #{id => parse,
      title => flat("Parse throughput: ~.2f MB stream, ~B stanzas, ~B B "
                    "chunks (median of ~B interleaved runs)",
                    [byte_size(Stream) / ?MB, Count, Chunk, Runs]),
      columns => [{"Parser", text}, {"events go to", text}, {"MB/s", number},
                  {"min-max MB/s", range}, {"stanzas/s", count},
                  {"vs NIF pull", ratio}, {"ratio min-max", range},
                  {"Input", text}],
      keys => [K || #{key := K} <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => notes(Count)}.

cells(#{label := L, delivery := D, status := ok, mbps := M, mbps_min := Lo,
        mbps_max := Hi, stanzas_per_s := SPS, input := Input} = Row) ->
    [L, D, M, {Lo, Hi}, SPS, maps:get(ratio, Row, undefined),
     ratio_range(Row), Input];
cells(#{label := L, delivery := D, status := {skipped, Why}}) ->
    [L, D, undefined, undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why];
cells(#{label := L, delivery := D, status := {failed, Why}}) ->
    [L, D, undefined, undefined, undefined, undefined, undefined, Why].

ratio_range(#{ratio_min := Lo, ratio_max := Hi}) -> {Lo, Hi};
ratio_range(_) -> undefined.

notes(Count) ->
    [flat("vs NIF pull: this row's throughput over stanza_stream pull "
          "(binary) in the same round; median and spread over the rounds."),
     flat("Each Erlang run is timed in a fresh process. \"owner: returned by "
          "parse\": the events are the parse call's result; \"owner: its own "
          "mailbox\": the parser sends the ~B+2 events to the process that "
          "feeds it, which takes them out of its mailbox after each chunk "
          "(ejabberd's c2s uses fxml_stream this way); \"another process\": "
          "the events go to a sink process that counts them, and the time "
          "includes draining it.", [Count]),
     "xmerl_scan times include binary_to_list/1 of each stanza; raw expat "
     "is timed inside the C program (file already in memory, no callbacks)."].

%% @doc The goals set by the parser and port driver issues, checked.
-spec goals([row()]) -> iolist().
goals(Rows) ->
    ["Goals (pull rows in the binary format):\n",
     goal(Rows, "stanza pull >= 3x fxml_stream (push to itself)", ?BASE, fxml_self, 3.0),
     goal(Rows, "stanza pull >= 20x xmerl_scan", ?BASE, xmerl_scan, 20.0),
     goal(Rows, "stanza pull >= 85% of raw expat (NS)", ?BASE, expat_ns, 0.85),
     goal(Rows, "port pull within 1.5x of stanza pull", port_pull, ?BASE,
          1 / 1.5),
     goal(Rows, "port pull >= 2x fxml_stream (push to itself)", port_pull, fxml_self,
          2.0)].

%% Met when A's throughput is at least Target times B's.
goal(Rows, Text, A, B, Target) ->
    case ratio(Rows, A, B) of
        {ok, R} ->
            Verdict = case R >= Target of
                          true -> "met";
                          false -> "NOT met"
                      end,
            io_lib:format("  ~-50ts ~8ts  ~ts~n",
                          [Text, show_ratio(R, Target), Verdict]);
        {error, Why} ->
            io_lib:format("  ~-50ts n/a (~ts)~n", [Text, Why])
    end.

show_ratio(R, Target) when Target < 1 -> flat("~.1f%", [R * 100]);
show_ratio(R, _) -> flat("~.2fx", [R]).

%% @doc How many times faster row A was than row B: the median over the
%% rounds of A's throughput over B's in the same round.
-spec ratio([row()], atom(), atom()) -> {ok, float()} | {error, string()}.
ratio(Rows, A, B) ->
    case {find(Rows, A), find(Rows, B)} of
        {#{status := ok} = Ra, #{status := ok} = Rb} ->
            {ok, median(paired(Ra, Rb))};
        {#{status := ok}, #{label := L}} ->
            {error, L ++ " did not run"};
        {#{label := L}, _} ->
            {error, L ++ " did not run"}
    end.

%% Throughput ratios of two rows, round by round.
paired(#{bytes := BytesA, seconds := SecA}, #{bytes := BytesB, seconds := SecB}) ->
    [(BytesA / Sa) / (BytesB / Sb) || {Sa, Sb} <- lists:zip(SecA, SecB)].

find(Rows, Key) ->
    hd([R || #{key := K} = R <- Rows, K =:= Key]).

%% @doc Where the port driver's time goes, from its own counters, over one
%% untimed pull pass: building and sending the event messages against
%% parsing.
-spec delivery(context()) -> iolist().
delivery(#{chunks := Chunks}) ->
    try
        {ok, P} = stanza_port:new(),
        lists:foreach(fun(C) -> {ok, _} = stanza_port:parse(P, C) end, Chunks),
        {ok, Info} = stanza_port:info(P),
        ok = stanza_port:close(P),
        #{busy_ns := Busy, deliver_ns := Deliver, messages := Messages} = Info,
        io_lib:format("  ~-50ts ~7.1f%  (~B messages, ~.2f us each)~n",
                      ["port: time building and sending messages",
                       100 * Deliver / max(1, Busy), Messages,
                       Deliver / 1000 / max(1, Messages)])
    catch
        Class:Reason ->
            io_lib:format("  port delivery counters: n/a (~0p:~0P)~n",
                          [Class, Reason, 8])
    end.

%%--------------------------------------------------------------------
%% Small helpers

progress(Format, Args) ->
    stanza_bench_util:progress(Format, Args).

warm_up_result(#{status := ok, warm_up := S, job := #{bytes := B}}) ->
    flat("~ts MB/s (warm-up)", [stanza_bench_report:num(B / ?MB / max(S, 1.0e-9))]);
warm_up_result(#{status := {skipped, Why}}) -> "skipped: " ++ Why;
warm_up_result(#{status := {failed, Why}}) -> "FAILED: " ++ Why.

run_program(Exe, Args) ->
    Port = open_port({spawn_executable, Exe},
                     [{args, Args}, {line, 4096}, exit_status,
                      stderr_to_stdout, use_stdio]),
    collect(Port, [], []).

collect(Port, Partial, Lines) ->
    receive
        {Port, {data, {noeol, Part}}} -> collect(Port, [Part | Partial], Lines);
        {Port, {data, {eol, Part}}} ->
            Line = lists:append(lists:reverse([Part | Partial])),
            collect(Port, [], [Line | Lines]);
        {Port, {exit_status, Status}} -> {Status, lists:reverse(Lines)}
    end.

%% The value of `Key=' in a `k=v k=v' line.
field(Line, Key) ->
    Pairs = [string:split(W, "=") || W <- string:lexemes(Line, " ")],
    case [V || [K, V] <- Pairs, K =:= Key] of
        [Value | _] -> Value;
        [] -> erlang:error({no_field, Key, Line})
    end.

median(Xs) ->
    stanza_bench_util:median(Xs).

mb(Bytes) when Bytes < 10000 -> flat("~B B", [Bytes]);
mb(Bytes) -> flat("~.2f MB", [Bytes / ?MB]).

flat(Format) ->
    flat(Format, []).

flat(Format, Args) ->
    stanza_bench_util:flat(Format, Args).
