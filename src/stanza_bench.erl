%% @doc Throughput benchmark: stanza_stream against fast_xml, xmerl and
%% bare libexpat, all on the same corpus in one run.
%%
%% From the command line (what `make bench' runs):
%% ```
%% erl -noshell -pa _build/default/lib/stanza/ebin \
%%     -eval 'stanza_bench:main("--size 8 --chunk 4096")'
%% '''
%% Flags: `--size MB' (generated corpus size, default 8), `--chunk BYTES'
%% (bytes per parse call, default 4096), `--runs N' (timed runs per row,
%% default 5), `--file PATH' (a captured stream or a file of stanzas instead
%% of the generated corpus, see stanza_corpus:from_file/1), `--out FILE'
%% (also write the report as Markdown to FILE and as CSV next to it),
%% `--raw-expat PATH' (the bench/raw_expat program; found by default).
%%
%% From `rebar3 shell': `stanza_bench:run()' or
%% `stanza_bench:run(#{size => 2, runs => 3})'; it returns the rows.
%%
%% Every row parses the same bytes: the stream rows get the whole stream in
%% `chunk'-byte pieces, the per-stanza rows get each stanza whole. Each row
%% runs once untimed to warm up, then `runs' timed runs, each in a fresh
%% process after a garbage collection; the table gives the median MB/s
%% (1 MB = 10^6 bytes) with the min-max spread, the median stanzas/s, and
%% the ratio to the stanza_stream pull (binary) row. xmerl_scan only
%% parses the first 1 MB of stanzas (it is much slower); its row says so
%% and its numbers are on what it parsed. A row that cannot run says why.
-module(stanza_bench).

-export([main/1, run/0, run/1]).

-export_type([options/0, row/0]).

-type options() :: #{size => number(), chunk => pos_integer(),
                     runs => pos_integer(), file => file:filename(),
                     out => file:filename(), raw_expat => file:filename()}.
-type status() :: ok | {skipped, string()} | {failed, string()}.
-type row() :: #{key := atom(), label := string(), status := status(),
                 input => string(), bytes => non_neg_integer(),
                 stanzas => non_neg_integer(), seconds => [float()],
                 mbps => float(), mbps_min => float(), mbps_max => float(),
                 stanzas_per_s => float(), ratio => float()}.
-type job() :: #{bytes := non_neg_integer(), stanzas := non_neg_integer(),
                 input := string(), run => fun(() -> ok),
                 external => fun((pos_integer()) -> [float()])}.
-type ctx() :: #{atom() => term()}.
-type tally() :: {non_neg_integer(), non_neg_integer(), [term()]}.

-define(MB, 1000000).
-define(XMERL_SCAN_CAP, 1000000).
-define(BASE, stanza_pull).

%%--------------------------------------------------------------------
%% Entry points

%% @doc Runs the benchmark with flags from a string, then halts the node:
%% status 0 on success, 1 when the benchmark crashed, 2 on bad flags.
-spec main(string()) -> no_return().
main(ArgString) ->
    halt(main_status(ArgString)).

%% @equiv run(#{})
-spec run() -> [row()].
run() ->
    run(#{}).

%% @doc Runs the benchmark, prints progress (standard error), the table
%% and the goal checks (standard output), writes the `out' files if asked,
%% and returns the rows. Raises `{bad_option, Key, Value}' on a bad option.
-spec run(options()) -> [row()].
run(Opts0) when is_map(Opts0) ->
    Opts = maps:merge(defaults(), Opts0),
    ok = maps:foreach(fun check_option/2, Opts),
    Ctx = context(Opts),
    Rows = try measure_all(Ctx)
           after
               _ = file:delete(maps:get(stream_file, Ctx))
           end,
    ok = other_sections(Opts),
    Rows.

%% The benchmarks of stanza's other parts, on the same corpus size and
%% number of runs; each prints its own table.
other_sections(#{size := Size, runs := Runs}) ->
    io:nl(),
    _ = stanza_bench_xml:run(#{size => Size, runs => Runs}),
    io:nl(),
    _ = stanza_bench_ids:run(#{runs => Runs}),
    ok.

%%--------------------------------------------------------------------
%% Flags and options

main_status(ArgString) ->
    try run(args(string:lexemes(ArgString, " \t\n"), #{})) of
        _Rows -> 0
    catch
        throw:help ->
            io:put_chars(usage()),
            0;
        throw:{usage, Msg} ->
            io:format(standard_error, "stanza_bench: ~ts~n~ts", [Msg, usage()]),
            2;
        Class:Reason:Stack ->
            io:format(standard_error, "stanza_bench: crashed: ~p:~p~n~p~n",
                      [Class, Reason, Stack]),
            1
    end.

usage() ->
    "usage: stanza_bench:main(\"[--size MB] [--chunk BYTES] [--runs N] "
    "[--file PATH] [--out FILE] [--raw-expat PATH]\")\n".

args([], Acc) -> Acc;
args(["--help" | _], _) -> throw(help);
args(["--size", V | T], Acc) -> args(T, Acc#{size => number_arg("--size", V)});
args(["--chunk", V | T], Acc) -> args(T, Acc#{chunk => int_arg("--chunk", V)});
args(["--runs", V | T], Acc) -> args(T, Acc#{runs => int_arg("--runs", V)});
args(["--file", V | T], Acc) -> args(T, Acc#{file => V});
args(["--out", V | T], Acc) -> args(T, Acc#{out => V});
args(["--raw-expat", V | T], Acc) -> args(T, Acc#{raw_expat => V});
args([Flag | _], _) -> throw({usage, "bad or incomplete flag: " ++ Flag}).

int_arg(Flag, V) ->
    try list_to_integer(V) of
        N when N > 0 -> N;
        _ -> throw({usage, Flag ++ " needs a positive integer"})
    catch error:badarg -> throw({usage, Flag ++ " needs a positive integer"})
    end.

number_arg(Flag, V) ->
    case {string:to_float(V), string:to_integer(V)} of
        {{F, ""}, _} when F > 0 -> F;
        {_, {N, ""}} when N > 0 -> N;
        _ -> throw({usage, Flag ++ " needs a positive number"})
    end.

defaults() ->
    #{size => 8, chunk => 4096, runs => 5}.

check_option(size, V) when is_number(V), V > 0 -> ok;
check_option(chunk, V) when is_integer(V), V > 0 -> ok;
check_option(runs, V) when is_integer(V), V > 0 -> ok;
check_option(K, V) when K =:= file; K =:= out; K =:= raw_expat ->
    case io_lib:char_list(V) of
        true -> ok;
        false -> erlang:error({bad_option, K, V})
    end;
check_option(K, V) ->
    erlang:error({bad_option, K, V}).

%%--------------------------------------------------------------------
%% The context: corpus, chunks, helpers found on this machine

-spec context(options()) -> ctx().
context(Opts) ->
    progress("preparing the corpus~n", []),
    {Source, Corpus} = corpus(Opts),
    Stream = stanza_corpus:to_stream(Corpus),
    Stanzas = maps:get(stanzas, Corpus),
    File = stream_file(Stream),
    Exe = find_raw_expat(Opts),
    #{date => calendar:system_time_to_rfc3339(erlang:system_time(second),
                                              [{offset, "Z"}]),
      source => Source, stream => Stream, stanzas => Stanzas,
      count => length(Stanzas), stanza_bytes => iolist_size(Stanzas),
      chunk => maps:get(chunk, Opts), runs => maps:get(runs, Opts),
      chunks => chunks(Stream, maps:get(chunk, Opts)),
      stream_file => File, raw_expat => Exe, fxml => fxml_status(),
      expat_version => expat_version(Exe), out => maps:get(out, Opts, none)}.

corpus(#{file := Path}) ->
    {"file " ++ Path, stanza_corpus:from_file(Path)};
corpus(#{size := Size}) ->
    {"generated (stanza_corpus, fixed seed)",
     stanza_corpus:generate(max(1, round(Size * ?MB)))}.

chunks(Bin, Size) when byte_size(Bin) > Size ->
    <<Chunk:Size/binary, Rest/binary>> = Bin,
    [Chunk | chunks(Rest, Size)];
chunks(Bin, _Size) ->
    [Bin].

stream_file(Stream) ->
    Dir = os:getenv("TMPDIR", "/tmp"),
    File = filename:join(Dir, "stanza_bench_" ++ os:getpid() ++ ".xml"),
    ok = file:write_file(File, Stream),
    File.

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
        {0, [Line | _]} -> field(Line, "version");
        {Status, Out} -> flat("unknown (~ts exited ~p: ~ts)",
                              [Exe, Status, lists:join(" ", Out)])
    end.

fxml_status() ->
    case code:which(fxml_stream) of
        non_existing ->
            {skip, "fast_xml not installed (Debian: erlang-p1-xml)"};
        _ ->
            _ = application:ensure_all_started(fast_xml),
            fxml_probe(fxml_stream)
    end.

fxml_probe(Mod) ->
    try Mod:parse_element(<<"<a/>">>) of
        {xmlel, <<"a">>, [], []} -> ok;
        Other -> {skip, flat("fast_xml does not work: ~0p", [Other])}
    catch
        Class:Reason -> {skip, flat("fast_xml does not load: ~0p:~0p",
                                    [Class, Reason])}
    end.

%%--------------------------------------------------------------------
%% Measuring

measure_all(Ctx) ->
    print_header(Ctx),
    Defs = rows(),
    Total = length(Defs),
    Numbered = lists:zip(lists:seq(1, Total), Defs),
    Rows = with_ratios([measure_row(I, Total, Def, Ctx)
                        || {I, Def} <- Numbered]),
    Report = report(Ctx#{port_delivery => port_delivery(Ctx)}, Rows),
    io:put_chars(Report),
    ok = write_out(Ctx, Report, Rows),
    Rows.

rows() ->
    [{stanza_pull, "stanza_stream pull (binary)", fun stanza_pull_binary/1},
     {stanza_pull_xmlel, "stanza_stream pull (xmlel)", fun stanza_pull_xmlel/1},
     {stanza_push, "stanza_stream push (callback)", fun stanza_push/1},
     {stanza_element, "stanza_stream:parse_element", fun stanza_element/1},
     {port_pull, "stanza_port pull (binary)", fun port_pull/1},
     {port_push, "stanza_port push (callback)", fun port_push/1},
     {fxml_push, "fxml_stream push (new/2)", fun fxml_push/1},
     {fxml_element, "fxml_stream:parse_element", fun fxml_element/1},
     {xmerl_scan, "xmerl_scan:string", fun xmerl_scan/1},
     {xmerl_sax, "xmerl_sax_parser:stream", fun xmerl_sax/1},
     {expat_ns, "raw expat, NS mode (C)", fun(C) -> raw_expat(ns, C) end},
     {expat_plain, "raw expat, plain (C)", fun(C) -> raw_expat(plain, C) end}].

measure_row(I, Total, {Key, Label, Prepare}, Ctx) ->
    progress("[~2B/~B] ~ts: ", [I, Total, Label]),
    Row = try_row(#{key => Key, label => Label}, Prepare, Ctx),
    progress("~ts~n", [progress_result(Row)]),
    Row.

try_row(Row, Prepare, Ctx) ->
    try Prepare(Ctx) of
        {skip, Why} -> Row#{status => {skipped, Why}};
        {ok, Job} -> timed_row(Row, Job, maps:get(runs, Ctx))
    catch
        Class:Reason:Stack ->
            Row#{status => {failed, flat("~0p:~0P at ~0P",
                                         [Class, Reason, 12, Stack, 8])}}
    end.

timed_row(Row, #{bytes := Bytes, stanzas := Stanzas, input := Input} = Job,
          Runs) ->
    Seconds = [max(S, 1.0e-9) || S <- times(Job, Runs)],
    Mbps = [Bytes / ?MB / S || S <- Seconds],
    Row#{status => ok, input => Input, bytes => Bytes, stanzas => Stanzas,
         seconds => Seconds, mbps => median(Mbps),
         mbps_min => lists:min(Mbps), mbps_max => lists:max(Mbps),
         stanzas_per_s => median([Stanzas / S || S <- Seconds])}.

%% Warm-up, then the timed runs.
times(#{run := Run}, Runs) ->
    _WarmUp = time_once(Run),
    [time_once(Run) || _ <- lists:seq(1, Runs)];
times(#{external := External}, Runs) ->
    tl(External(Runs + 1)).

%% Each run gets a fresh process, so that every run starts from the same
%% heap state: timing runs one after another in one process gave bimodal
%% results (xmerl_sax alternated between 11 and 36 MB/s) as heap sizes
%% carried over. The caller, which holds the corpus, is collected first.
time_once(Run) ->
    true = erlang:garbage_collect(),
    Parent = self(),
    Ref = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Parent ! {Ref, timed(Run)} end),
    receive
        {Ref, {ok, Seconds}} ->
            erlang:demonitor(MRef, [flush]),
            Seconds;
        {Ref, {crashed, Class, Reason, Stack}} ->
            erlang:demonitor(MRef, [flush]),
            erlang:raise(Class, Reason, Stack);
        {'DOWN', MRef, process, Pid, Reason} ->
            erlang:error({run_died, Reason})
    end.

timed(Run) ->
    true = erlang:garbage_collect(),
    try
        T0 = erlang:monotonic_time(),
        ok = Run(),
        T1 = erlang:monotonic_time(),
        {ok, erlang:convert_time_unit(T1 - T0, native, nanosecond) / 1.0e9}
    catch
        Class:Reason:Stack -> {crashed, Class, Reason, Stack}
    end.

with_ratios(Rows) ->
    case [R || #{key := ?BASE, status := ok} = R <- Rows] of
        [#{mbps := Base}] ->
            [add_ratio(R, Base) || R <- Rows];
        [] ->
            Rows
    end.

add_ratio(#{status := ok, mbps := Mbps} = Row, Base) ->
    Row#{ratio => Mbps / Base};
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
            Tally = lists:foldl(fun(C, Acc) -> pull(Mod, P, C, Acc) end,
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
            Feed = fun(C) -> {ok, []} = Mod:parse(P, C) end,
            lists:foreach(Feed, Chunks),
            ok = Mod:close(P),
            expect_events(Count, drain(Sink))
    end.

%% Where the driver's time goes, from its own counters, over one untimed
%% pull pass: building and sending the event messages against parsing.
port_delivery(#{chunks := Chunks}) ->
    try
        {ok, P} = stanza_port:new(),
        lists:foreach(fun(C) -> {ok, _} = stanza_port:parse(P, C) end, Chunks),
        {ok, Info} = stanza_port:info(P),
        ok = stanza_port:close(P),
        {ok, Info}
    catch
        Class:Reason -> {error, flat("~0p:~0P", [Class, Reason, 8])}
    end.

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
                  S1 = lists:foldl(Feed, S0, Chunks),
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

raw_expat(_Mode, #{raw_expat := none}) ->
    {skip, "raw_expat program not found: run `make bench/raw_expat`"};
raw_expat(Mode, #{raw_expat := Exe, stream_file := File,
                  chunk := Chunk} = Ctx) ->
    Flags = case Mode of
                plain -> ["--plain"];
                ns -> []
            end,
    External = fun(Runs) ->
                       Args = Flags ++ [File, integer_to_list(Runs),
                                        integer_to_list(Chunk)],
                       expat_seconds(Exe, Args, Runs)
               end,
    {ok, (stream_input(Ctx))#{external => External}}.

expat_seconds(Exe, Args, Runs) ->
    case run_program(Exe, Args) of
        {0, Lines} when length(Lines) =:= Runs ->
            [list_to_float(field(L, "seconds")) || L <- Lines];
        {Status, Lines} ->
            erlang:error({raw_expat, Status, lists:sublist(Lines, 3)})
    end.

%% A job on the whole stream, fed in chunks.
-spec stream_job(ctx(), fun(() -> ok)) -> job().
stream_job(Ctx, Run) ->
    (stream_input(Ctx))#{run => Run}.

stream_input(#{stream := Stream, count := Count, chunk := Chunk}) ->
    #{bytes => byte_size(Stream), stanzas => Count,
      input => flat("~ts stream, ~B B chunks", [mb(byte_size(Stream)), Chunk])}.

%% A job on each stanza, whole.
-spec stanza_job(ctx(), fun((binary()) -> ok)) -> job().
stanza_job(#{stanzas := Stanzas, count := Total}, Parse) ->
    Count = length(Stanzas),
    Bytes = iolist_size(Stanzas),
    Input = case Count of
                Total -> flat("~ts of stanzas, one by one", [mb(Bytes)]);
                _ -> flat("first ~ts of stanzas only (~B of ~B)",
                          [mb(Bytes), Count, Total])
            end,
    #{bytes => Bytes, stanzas => Count, input => Input,
      run => fun() -> lists:foreach(Parse, Stanzas) end}.

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

print_header(Ctx) ->
    io:put_chars(["\n", [io_lib:format("~-9ts ~ts~n", [K ++ ":", V])
                         || {K, V} <- header_lines(Ctx)], "\n"]).

header_lines(#{source := Source, stream := Stream, count := Count,
               stanza_bytes := StanzaBytes, chunk := Chunk,
               runs := Runs} = Ctx) ->
    [{"date", maps:get(date, Ctx)},
     {"OTP", flat("~ts (erts ~ts), ~B schedulers online",
                  [otp_version(), erlang:system_info(version),
                   erlang:system_info(schedulers_online)])},
     {"expat", maps:get(expat_version, Ctx)},
     {"fast_xml", fxml_version(maps:get(fxml, Ctx))},
     {"corpus", Source},
     {"stream", flat("~B bytes (~.2f MB), ~B stanzas, ~B B per stanza on "
                     "average", [byte_size(Stream), byte_size(Stream) / ?MB,
                                 Count, StanzaBytes div max(1, Count)])},
     {"method", flat("~B B chunks; per row 1 warm-up and ~B timed runs, "
                     "median [min-max]; 1 MB = 10^6 bytes", [Chunk, Runs])}].

otp_version() ->
    Release = erlang:system_info(otp_release),
    File = filename:join([code:root_dir(), "releases", Release, "OTP_VERSION"]),
    case file:read_file(File) of
        {ok, V} -> string:trim(binary_to_list(V));
        {error, _} -> Release
    end.

fxml_version({skip, Why}) ->
    "not available: " ++ Why;
fxml_version(ok) ->
    case application:get_key(fast_xml, vsn) of
        {ok, Vsn} -> Vsn ++ " (fxml_stream NIF)";
        undefined -> "loaded (version unknown)"
    end.

report(Ctx, Rows) ->
    [table(Rows), "\n", goals(Rows), delivery(Ctx), "\n", notes(Ctx)].

table(Rows) ->
    Head = ["Parser", "MB/s", "min-max MB/s", "stanzas/s", "vs pull", "Input"],
    Cells = [Head | [cells(R) || R <- Rows]],
    Widths = widths(Cells),
    Aligns = [left, right, right, right, right, left],
    [line(hd(Cells), Widths, Aligns), separator(Widths, Aligns)
     | [line(C, Widths, Aligns) || C <- tl(Cells)]].

cells(#{label := L, status := ok, mbps := M, mbps_min := Lo,
        mbps_max := Hi, stanzas_per_s := SPS, input := Input} = Row) ->
    Ratio = case Row of
                #{ratio := R} -> flat("~.2fx", [R]);
                _ -> "n/a"
            end,
    [L, num(M), num(Lo) ++ "-" ++ num(Hi), thousands(round(SPS)), Ratio, Input];
cells(#{label := L, status := {skipped, Why}}) ->
    [L, "-", "-", "-", "-", "SKIPPED: " ++ Why];
cells(#{label := L, status := {failed, Why}}) ->
    [L, "-", "-", "-", "-", "FAILED: " ++ Why].

widths(Rows) ->
    lists:foldl(fun(Cells, Ws) ->
                        [max(string:length(C), W)
                         || {C, W} <- lists:zip(Cells, Ws)]
                end, [0 || _ <- hd(Rows)], Rows).

line(Cells, Widths, Aligns) ->
    Padded = [pad(C, W, A) || {C, W, A} <- lists:zip3(Cells, Widths, Aligns)],
    ["| ", lists:join(" | ", Padded), " |\n"].

separator(Widths, Aligns) ->
    Dashes = [case A of
                  left -> lists:duplicate(W, $-);
                  right -> lists:duplicate(W - 1, $-) ++ ":"
              end || {W, A} <- lists:zip(Widths, Aligns)],
    ["| ", lists:join(" | ", Dashes), " |\n"].

pad(C, W, left) -> string:pad(C, W, trailing);
pad(C, W, right) -> string:pad(C, W, leading).

goals(Rows) ->
    ["Goals (pull rows in the binary format):\n",
     goal(Rows, "stanza pull >= 3x fxml_stream (push)", fxml_push, 3.0),
     goal(Rows, "stanza pull >= 20x xmerl_scan", xmerl_scan, 20.0),
     goal(Rows, "stanza pull >= 85% of raw expat (NS)", expat_ns, 0.85),
     goal(Rows, "port pull within 1.5x of stanza pull", port_pull, ?BASE,
          1 / 1.5),
     goal(Rows, "port pull >= 2x fxml_stream (push)", port_pull, fxml_push,
          2.0),
     "For comparison (no goal):\n",
     compare(Rows, "stanza push / fxml_stream push", stanza_push, fxml_push),
     compare(Rows, "stanza parse_element / fxml parse_element",
             stanza_element, fxml_element)].

goal(Rows, Text, Key, Target) ->
    goal(Rows, Text, ?BASE, Key, Target).

%% Met when A's throughput is at least Target times B's.
goal(Rows, Text, A, B, Target) ->
    case ratio(Rows, A, B) of
        {ok, R} ->
            Verdict = case R >= Target of
                          true -> "met";
                          false -> "NOT met"
                      end,
            io_lib:format("  ~-44ts ~8ts  ~ts~n",
                          [Text, show_ratio(R, Target), Verdict]);
        {error, Why} ->
            io_lib:format("  ~-44ts n/a (~ts)~n", [Text, Why])
    end.

compare(Rows, Text, A, B) ->
    case ratio(Rows, A, B) of
        {ok, R} -> io_lib:format("  ~-44ts ~8ts~n", [Text, flat("~.2fx", [R])]);
        {error, Why} -> io_lib:format("  ~-44ts n/a (~ts)~n", [Text, Why])
    end.

show_ratio(R, Target) when Target < 1 -> flat("~.1f%", [R * 100]);
show_ratio(R, _) -> flat("~.2fx", [R]).

ratio(Rows, A, B) ->
    case {find(Rows, A), find(Rows, B)} of
        {#{status := ok, mbps := Ma}, #{status := ok, mbps := Mb}} ->
            {ok, Ma / Mb};
        {#{status := ok}, #{label := L}} ->
            {error, L ++ " did not run"};
        {#{label := L}, _} ->
            {error, L ++ " did not run"}
    end.

delivery(#{port_delivery := {ok, #{busy_ns := Busy, deliver_ns := Deliver,
                                    messages := Messages}}}) ->
    io_lib:format("  ~-44ts ~7.1f%  (~B messages, ~.2f us each)~n",
                  ["port: time building and sending messages",
                   100 * Deliver / max(1, Busy), Messages,
                   Deliver / 1000 / max(1, Messages)]);
delivery(#{port_delivery := {error, Why}}) ->
    io_lib:format("  port delivery counters: n/a (~ts)~n", [Why]).

find(Rows, Key) ->
    hd([R || #{key := K} = R <- Rows, K =:= Key]).

notes(#{count := Count}) ->
    io_lib:format(
      "Notes: each Erlang run is timed in a fresh process; push rows include "
      "draining\nthe ~B+2 event messages in a sink process; xmerl_scan times "
      "include\nbinary_to_list/1 of each stanza; raw expat is timed inside "
      "the C program\n(no process start, file already in memory).~n", [Count]).

%%--------------------------------------------------------------------
%% Output files

write_out(#{out := none}, _Report, _Rows) ->
    ok;
write_out(#{out := File} = Ctx, Report, Rows) ->
    Csv = filename:rootname(File) ++ ".csv",
    ok = filelib:ensure_dir(File),
    ok = file:write_file(File, markdown(Ctx, Report)),
    ok = file:write_file(Csv, csv(Rows)),
    io:format("~nWrote ~ts and ~ts~n", [File, Csv]).

markdown(Ctx, Report) ->
    ["# stanza benchmark\n\n",
     [io_lib:format("- **~ts**: ~ts~n", [K, V]) || {K, V} <- header_lines(Ctx)],
     "\n", Report].

csv(Rows) ->
    Head = "key,label,status,note,bytes,stanzas,runs,mbps_median,mbps_min,"
           "mbps_max,stanzas_per_s,ratio_to_stanza_pull\n",
    [Head | [csv_row(R) || R <- Rows]].

csv_row(#{key := K, label := L, status := ok} = R) ->
    Fields = [atom_to_list(K), quote(L), "ok", quote(maps:get(input, R)),
              integer_to_list(maps:get(bytes, R)),
              integer_to_list(maps:get(stanzas, R)),
              integer_to_list(length(maps:get(seconds, R))),
              fmt(maps:get(mbps, R)), fmt(maps:get(mbps_min, R)),
              fmt(maps:get(mbps_max, R)), fmt(maps:get(stanzas_per_s, R)),
              case R of #{ratio := Ratio} -> fmt(Ratio); _ -> "" end],
    [lists:join(",", Fields), "\n"];
csv_row(#{key := K, label := L, status := {Status, Why}}) ->
    Fields = [atom_to_list(K), quote(L), atom_to_list(Status), quote(Why)
              | lists:duplicate(8, "")],
    [lists:join(",", Fields), "\n"].

quote(S) ->
    [$", string:replace(S, "\"", "\"\"", all), $"].

%%--------------------------------------------------------------------
%% Small helpers

progress(Format, Args) ->
    io:format(standard_error, Format, Args).

progress_result(#{status := ok, mbps := M}) -> num(M) ++ " MB/s";
progress_result(#{status := {skipped, Why}}) -> "skipped: " ++ Why;
progress_result(#{status := {failed, Why}}) -> "FAILED: " ++ Why.

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
    Sorted = lists:sort(Xs),
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

mb(Bytes) when Bytes < 10000 -> flat("~B B", [Bytes]);
mb(Bytes) -> flat("~.2f MB", [Bytes / ?MB]).

num(X) when X >= 100 -> integer_to_list(round(X));
num(X) when X >= 10 -> flat("~.1f", [X]);
num(X) -> flat("~.2f", [X]).

fmt(X) -> flat("~.4f", [X]).

thousands(N) ->
    Digits = integer_to_list(N),
    Groups = group3(lists:reverse(Digits)),
    lists:reverse(lists:flatten(lists:join($,, Groups))).

group3([A, B, C | Rest]) when Rest =/= [] -> [[A, B, C] | group3(Rest)];
group3(Digits) -> [Digits].

flat(Format, Args) ->
    lists:flatten(io_lib:format(Format, Args)).
