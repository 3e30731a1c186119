%% The benchmark runs: the suite in bench/ (every section on tiny inputs,
%% its report formats, its options, its section registry, the goal lines),
%% the exml rows (with stand-in exml modules in a peer VM, since exml is
%% not packaged in Debian), a library that fails mid-stream, and the small
%% stanza_bench module of the library. No timing is asserted here:
%% figures belong to `make bench'.
-module(stanza_bench_tests).

-include_lib("eunit/include/eunit.hrl").

-export([exml_rows/0, failing_library/0, registered_section/0]).

%%--------------------------------------------------------------------
%% The report formats

table() ->
    #{id => demo, title => "Demo",
      columns => [{"Name", text}, {"MB/s", number}, {"range", range},
                  {"count", count}, {"ratio", ratio}, {"share", percent}],
      keys => [a, b],
      rows => [["a \"quoted\"", 95.46, {1.234, 150.2}, 1234567, 3.456, 0.5],
               ["b", undefined, undefined, undefined, {more_than, 12.0}, undefined]],
      notes => ["a note"]}.

text_table_test() ->
    Lines = string:split(flat(stanza_bench_report:text(table())), "\n", all),
    ?assertEqual(["Demo", "",
                  "| Name       | MB/s |    range |     count |  ratio | share |",
                  "| ---------- | ---: | -------: | --------: | -----: | ----: |",
                  "| a \"quoted\" | 95.5 | 1.23-150 | 1,234,567 |  3.46x | 50.0% |",
                  "| b          |    - |        - |         - | > 12.0 |     - |",
                  "", "a note", ""],
                 Lines).

markdown_table_test() ->
    Md = flat(stanza_bench_report:markdown(table())),
    ?assertMatch("### Demo\n\n| Name" ++ _, Md).

%% Long form: one line per value, ranges as two columns, nothing for an
%% undefined cell, quotes doubled.
csv_test() ->
    Csv = flat(stanza_bench_report:csv([table()])),
    Lines = string:split(string:trim(Csv), "\n", all),
    ?assertEqual("table,row,column,value", hd(Lines)),
    ?assertEqual(1 + 6 + 6, length(Lines)),
    ?assert(lists:member("demo,\"a \"\"quoted\"\"\",\"range min\",1.23400", Lines)),
    ?assert(lists:member("demo,\"a \"\"quoted\"\"\",\"count\",1234567", Lines)),
    ?assert(lists:member("demo,\"b\",\"MB/s\",", Lines)),
    ?assert(lists:member("demo,\"b\",\"ratio\",\"> 12.0\"", Lines)).

%% Rows that share a first cell stay apart: the label is the first cell
%% and the text cells right after it.
csv_label_test() ->
    Table = #{id => big, title => "Big", columns => [{"Stanza", text}, {"Parser", text},
                                                    {"ms", number}, {"Note", text}],
              rows => [["body", "a", 1.0, ""], ["body", "b", 2.0, "x"]]},
    Lines = string:split(string:trim(flat(stanza_bench_report:csv([Table]))), "\n", all),
    ?assertEqual(["table,row,column,value",
                  "big,\"body / a\",\"ms\",1.00000", "big,\"body / a\",\"Note\",\"\"",
                  "big,\"body / b\",\"ms\",2.00000", "big,\"body / b\",\"Note\",\"x\""],
                 Lines).

num_test() ->
    ?assertEqual(["0.50", "12.3", "123", "12,346"],
                 [stanza_bench_report:num(X) || X <- [0.5, 12.34, 123.4, 12345.6]]).

%%--------------------------------------------------------------------
%% The chart

%% Well-formed (stanza parses it), one bar per row that ran, a label for
%% each row, the detail of a row that did not run.
svg_chart_test() ->
    Svg = stanza_bench_svg:ratio_chart(
            "Title & <more>", "subtitle",
            [{"stanza", 1.0, stanza, "95 MB/s"}, {"fast_xml", 0.3, other, "28 MB/s"},
             {"exml", undefined, other, "not installed here"},
             {"expat", 1.7, ceiling, "150 MB/s"}]),
    {ok, {xmlel, <<"svg">>, _, Children}} =
        stanza_stream:parse_element(strip_declaration(Svg), #{format => xmlel}),
    Rects = [A || {xmlel, <<"rect">>, A, _} <- Children],
    ?assertEqual(1 + 3, length(Rects)),
    Texts = [T || {xmlel, <<"text">>, _, [{xmlcdata, T}]} <- Children],
    ?assert(lists:member(<<"Title & <more>">>, Texts)),
    ?assert(lists:member(<<"not installed here">>, Texts)),
    ?assert(lists:member(<<"0.30x (28 MB/s)">>, Texts)),
    Widths = [binary_to_integer(proplists:get_value(<<"width">>, A))
              || A <- tl(Rects)],
    %% Bars are proportional: expat's is 1.7 times stanza's.
    [Stanza, Fxml, Expat] = Widths,
    ?assert(abs(Expat / Stanza - 1.7) < 0.02),
    ?assert(abs(Fxml / Stanza - 0.3) < 0.02).

strip_declaration(<<"<?xml", _/binary>> = Svg) ->
    [_, Rest] = binary:split(Svg, <<"?>">>),
    Rest.

%%--------------------------------------------------------------------
%% Options

bad_options_test_() ->
    [?_assertError({bad_option, runs, 0}, stanza_bench_suite:run(#{runs => 0})),
     ?_assertError({bad_option, sections, [parse, bogus]},
                   stanza_bench_suite:run(#{sections => [parse, bogus]})),
     ?_assertError({bad_option, progress, maybe},
                   stanza_bench_suite:run(#{progress => maybe})),
     ?_assertError({bad_option, colour, red}, stanza_bench_suite:run(#{colour => red}))].

%%--------------------------------------------------------------------
%% Whole runs on tiny inputs

%% Every section, tiny: each table is there, headline first, the rows of
%% the libraries installed here ran (none failed), and the out files are
%% written and consistent with the tables.
whole_run_test_() ->
    {timeout, 300, fun whole_run/0}.

whole_run() ->
    Dir = filename:join(os:getenv("TMPDIR", "/tmp"),
                        "stanza_bench_test_" ++ os:getpid()),
    Out = filename:join(Dir, "report.md"),
    Tables = stanza_bench_suite:run(#{size => 0.05, runs => 1, parsers => 200,
                                progress => false, out => Out,
                                sections => [parse, memory, chunking,
                                             serializer]}),
    ?assertEqual([headline, parse, memory, chunking, serializer],
                 [Id || #{id := Id} <- Tables]),
    [?assertEqual([], failed_rows(T)) || T <- Tables],
    [#{rows := ParseRows}] = [T || #{id := parse} = T <- Tables],
    ?assertEqual(16, length(ParseRows)),
    {ok, Md} = file:read_file(Out),
    ?assertMatch({_, _}, binary:match(Md, <<"### Parse throughput">>)),
    ?assertMatch({_, _}, binary:match(Md, <<"### Memory per parser">>)),
    {ok, Csv} = file:read_file(filename:join(Dir, "report.csv")),
    CsvLines = length(binary:split(string:trim(Csv), <<"\n">>, [global])),
    ?assertEqual(1 + lists:sum([csv_values(T) || T <- Tables]), CsvLines),
    {ok, Svg} = file:read_file(filename:join(Dir, "report.svg")),
    ?assertMatch({ok, _}, stanza_stream:parse_element(strip_declaration(Svg))),
    [ok = file:delete(filename:join(Dir, F)) || F <- ["report.md", "report.csv", "report.svg"]],
    ok = file:del_dir(Dir).

%% A user's own file of stanzas instead of the generated corpus: the
%% parse rows run on exactly its stanzas.
own_file_test_() ->
    {timeout, 120,
     fun() ->
             File = filename:join(os:getenv("TMPDIR", "/tmp"),
                                  "stanza_bench_own_" ++ os:getpid() ++ ".xml"),
             Stanza = <<"<message to='a@example.com' type='chat'><body>h&#233;</body></message>">>,
             ok = file:write_file(File, lists:duplicate(300, Stanza)),
             try
                 [_Headline, #{rows := Rows}] =
                     stanza_bench_suite:run(#{file => File, runs => 1, progress => false,
                                        sections => [parse]}),
                 [[_, "owner: returned by parse", Mbps, _, _, Ratio, _, Input] | _] = Rows,
                 ?assert(is_float(Mbps) andalso Mbps > 0),
                 ?assertEqual(1.0, Ratio),
                 ?assertMatch("0.02 MB stream, 4096 B chunks", Input),
                 ?assertEqual([], failed_rows(#{rows => Rows}))
             after
                 file:delete(File)
             end
     end}.

%%--------------------------------------------------------------------
%% A library that fails: its cells say so, with the byte offset of the
%% chunk it failed in, and every other row and section still runs.

failing_library_test_() ->
    {timeout, 200,
     fun() ->
             {ok, Result} = stanza_test_util:in_peer(?MODULE, failing_library, []),
             #{parse := Parse, big := Big, linear := Linear, memory := Memory,
               sched := Sched, headline := Headline} = Result,
             %% exml_stream fails in the chunk that takes it past 3000
             %% bytes: 1 KB chunks, so the chunk at byte 2048.
             ?assertMatch({failed, "FAILED in the chunk at byte 2048: error:{exml," ++ _},
                          maps:get(exml_stream, Parse)),
             ?assertEqual(ok, maps:get(exml_element, Parse)),
             ?assertEqual(ok, maps:get(stanza_pull, Parse)),
             ?assertEqual(ok, maps:get(fxml_self, Parse)),
             %% The headline keeps the comparison, with no figure.
             ?assertMatch([[_, _, undefined, "MB/s", undefined]], Headline),
             %% Big stanzas: exml's cells fail at the 64 KB chunk past
             %% 3000 bytes, stanza's rows ran.
             [?assertMatch("FAILED in the chunk at byte " ++ _, lists:last(Row))
              || Row <- Big, lists:member("exml_stream (exml)", Row)],
             ?assert(length([R || R <- Big, lists:member("exml_stream (exml)", R)]) >= 2),
             [?assertNot(lists:prefix("FAILED", lists:last(Row))
                         orelse lists:prefix("SKIPPED", lists:last(Row)))
              || Row <- Big, lists:member("stanza_stream (NIF)", Row)],
             ?assertMatch("FAILED in the chunk at byte " ++ _, lists:last(Linear)),
             ?assertMatch("FAILED" ++ _, lists:last(Sched)),
             %% Memory only feeds a header: exml passes there.
             ?assertEqual("", lists:last(Memory))
     end}.

failing_library() ->
    _ = stanza_bench_util:quiet(true),
    ok = load_stand_in(exml_stream,
                       "new_parser() -> {ok, P} = stanza_stream:new(#{format => xmlel}), {ok, {P, 0}}.\n"
                       "parse({_, N}, B) when N + byte_size(B) > 3000 -> {error, {simulated, N}};\n"
                       "parse({P, N}, B) -> {ok, Es} = stanza_stream:parse(P, B),\n"
                       "  {ok, {P, N + byte_size(B)}, [E || {xmlstreamelement, E} <- Es]}.\n"
                       "free_parser({P, _}) -> stanza_stream:close(P).\n"),
    ok = load_stand_in(exml, "parse(B) -> stanza_stream:parse_element(B, #{format => xmlel}).\n"),
    Ctx = stanza_bench_parse:context(#{size => 0.02, chunk => 1024, runs => 1}),
    Rows = try stanza_bench_parse:measure(Ctx)
           after stanza_bench_parse:cleanup(Ctx)
           end,
    #{rows := Headline} = stanza_bench_headline:table([{parse, #{data => Rows}}]),
    [_, #{rows := BigRows}, _, _] =
        stanza_bench_big:tables(#{runs => 1, repeats => 2000, roster_items => 100,
                                  chunks => [whole, 65536], libs => [stanza_nif, exml]}),
    #{rows := [LinearRow]} = stanza_bench_linear:run(#{stanza_mb => 0.05, runs => 1,
                                                        libs => [exml]}),
    #{rows := [SchedRow]} = stanza_bench_sched:run(#{stanza_mb => 0.05, runs => 1,
                                                      libs => [exml]}),
    #{rows := [MemoryRow]} = stanza_bench_memory:run(#{parsers => 50, runs => 1,
                                                        libs => [exml]}),
    #{parse => maps:from_list([{K, S} || #{key := K, status := S} <- Rows]),
      headline => [L || [T | _] = L <- Headline, string:find(T, "exml_stream") =/= nomatch],
      big => BigRows, linear => LinearRow, sched => SchedRow, memory => MemoryRow}.

%%--------------------------------------------------------------------
%% The section registry

registry_test_() ->
    {timeout, 120,
     fun() ->
             {ok, Present} = stanza_test_util:in_peer(?MODULE, registered_section, []),
             ?assertMatch([headline, #{id := jid_demo, rows := [["runs", 1], ["extra", 7]]}],
                          [case T of #{id := headline} -> headline; _ -> T end
                           || T <- Present])
     end}.

%% A registered section gets the suite's options merged with its own
%% (a stand-in for the jid section, in a peer node of its own).
registered_section() ->
    ok = load_stand_in(stanza_bench_jid,
                       "tables(Opts) -> [#{id => jid_demo, title => \"JID\", "
                       "columns => [{\"k\", text}, {\"v\", count}], "
                       "rows => [[\"runs\", maps:get(runs, Opts)], "
                       "[\"extra\", maps:get(extra, Opts)]]}].\n"),
    stanza_bench_suite:run(#{sections => [jid], progress => false, size => 0.01,
                             runs => 1, section_opts => #{jid => #{extra => 7}}}).

%%--------------------------------------------------------------------
%% The goal lines

goals_test() ->
    Parse = [#{key => stanza_pull, status => ok, mbps => 90.0, bytes => 1,
               seconds => [1.0]},
             #{key => stanza_push_self, status => ok, mbps => 80.0, bytes => 1,
               seconds => [1.1]},
             #{key => expat_ns, status => ok, mbps => 95.0, bytes => 1,
               seconds => [0.95]}],
    Serializer = #{id => serializer, columns => [{"Serializer", text}, {"vs stanza", ratio}],
                   keys => [stanza_ascii, fxml_ascii, stanza_multilingual, fxml_multilingual],
                   rows => [["s", 1.0], ["f", 0.25], ["s", 1.0], ["f", 1 / 1.5]]},
    Text = flat(stanza_bench_goals:text([{parse, #{tables => [], data => Parse}},
                                          {serializer, #{tables => [Serializer],
                                                         data => []}}])),
    Lines = string:split(string:trim(Text), "\n", all),
    ?assertEqual(7, length(Lines)),
    ?assertMatch("  met      pull within 1.25x" ++ _, lists:nth(2, Lines)),
    ?assertMatch("  n/a      pull linear" ++ _, lists:nth(3, Lines)),
    ?assertMatch("  NOT met  serializer >= 2x" ++ _, lists:nth(6, Lines)),
    ?assertNotEqual(nomatch, string:find(lists:nth(6, Lines), "multilingual 1.50x")),
    ?assertMatch("  met      parse (stanza pull) >= 90% of raw expat" ++ _, lists:nth(7, Lines)).

%%--------------------------------------------------------------------
%% The library's stanza_bench

library_bench_test_() ->
    {timeout, 120,
     fun() ->
             Rows = stanza_bench:parse(#{size => 30000, runs => 2, print => false}),
             [#{parser := "stanza_stream", status := ok, ratio := 1.0} = Pull,
              #{parser := "stanza_stream", status := ok, ratio := R} | _] = Rows,
             ?assert(is_float(R) andalso R > 0),
             ?assert(maps:get(mbps_min, Pull) =< maps:get(mbps, Pull)),
             %% fast_xml is installed here (Debian's erlang-p1-xml).
             ?assertMatch(#{status := ok}, lists:nth(3, Rows)),
             ?assertMatch(#{parser := "exml_stream (exml)", status := {skipped, _}},
                          lists:nth(4, Rows)),
             ?assertError({bad_option, chunk, 0}, stanza_bench:parse(#{chunk => 0}))
     end}.

%% A file of stanzas gets a stream header; a stream that breaks makes the
%% parsers fail with the offset of the chunk, not crash the call.
library_bench_file_test_() ->
    {timeout, 120,
     fun() ->
             File = filename:join(os:getenv("TMPDIR", "/tmp"),
                                  "stanza_bench_lib_" ++ os:getpid() ++ ".xml"),
             Good = binary:copy(<<"<message><body>x</body></message>">>, 100),
             try
                 ok = file:write_file(File, Good),
                 [#{status := ok} | _] = stanza_bench:parse(#{file => File, runs => 1,
                                                              print => false}),
                 ok = file:write_file(File, [Good, <<"<a></b>">>]),
                 [#{status := {failed, Why}} | _] =
                     stanza_bench:parse(#{file => File, runs => 1, chunk => 1000,
                                          print => false}),
                 ?assertMatch("FAILED in the chunk at byte 3000: " ++ _, Why)
             after
                 file:delete(File)
             end
     end}.

failed_rows(#{rows := Rows}) ->
    [R || R <- Rows, lists:any(fun(C) -> is_list(C) andalso lists:prefix("FAILED", C) end, R)].

%% Values per row: every column after the row's label (its first cell and
%% the text cells right after it), a range counting twice.
csv_values(#{columns := [_ | Columns], rows := Rows}) ->
    Leading = length(lists:takewhile(fun({_, K}) -> K =:= text end, Columns)),
    Values = lists:nthtail(min(Leading, length(Columns) - 1), Columns),
    PerRow = lists:sum([case K of range -> 2; _ -> 1 end || {_, K} <- Values]),
    PerRow * length(Rows).

%% The scheduler section on a small stanza: stanza's NIF finishes within
%% the default budget; a budget far too short (1 ms for what takes xmerl
%% a tenth of a second) stops the run and the row says so.
scheduler_section_test_() ->
    {timeout, 120,
     fun() ->
             Old = stanza_bench_util:quiet(true),
             Finished = stanza_bench_sched:run(#{stanza_mb => 0.5, runs => 1,
                                                 libs => [stanza_nif]}),
             Stopped = stanza_bench_sched:run(#{stanza_mb => 0.5, runs => 1,
                                                budget_s => 0.001,
                                                libs => [xmerl_sax]}),
             stanza_bench_util:quiet(Old),
             #{rows := [[_, Hold, {HoldLo, HoldHi}, Wall, _, ""]]} = Finished,
             ?assert(is_float(Hold) andalso Hold >= 0 andalso HoldLo =< HoldHi),
             ?assert(is_float(Wall) andalso Wall > 0),
             ?assertMatch(#{rows := [[_, {more_than, _}, undefined, {more_than, 1.0},
                                      undefined, "stopped after 0.001 s, one run"]]},
                          Stopped)
     end}.

%% exml is not packaged in Debian: stand-in exml and exml_stream modules
%% (stanza underneath, exml's API on top) show that the rows run when
%% exml is in the code path.
exml_rows_test_() ->
    {timeout, 120,
     fun() ->
             {ok, {Status, Memory}} = stanza_test_util:in_peer(?MODULE, exml_rows, []),
             ?assertEqual([{exml_stream, ok}, {exml_element, ok}], Status),
             ?assertMatch([_, N | _] when is_float(N), Memory)
     end}.

exml_rows() ->
    _ = stanza_bench_util:quiet(true),
    ok = load_stand_in(exml_stream,
                       "new_parser() -> {ok, P} = stanza_stream:new(#{format => xmlel}), {ok, P}.\n"
                       "parse(P, B) -> {ok, Es} = stanza_stream:parse(P, B),\n"
                       "  {ok, P, [E || {xmlstreamelement, E} <- Es]}.\n"
                       "free_parser(P) -> stanza_stream:close(P).\n"),
    ok = load_stand_in(exml, "parse(B) -> stanza_stream:parse_element(B, #{format => xmlel}).\n"),
    Ctx = stanza_bench_parse:context(#{size => 0.02, chunk => 1024, runs => 1}),
    Rows = try stanza_bench_parse:measure(Ctx)
           after stanza_bench_parse:cleanup(Ctx)
           end,
    Status = [{K, S} || #{key := K, status := S} <- Rows,
                        K =:= exml_stream orelse K =:= exml_element],
    #{rows := MemoryRows} = stanza_bench_memory:run(#{parsers => 100, runs => 1,
                                                      libs => [exml]}),
    {Status, hd(MemoryRows)}.

load_stand_in(Module, Body) ->
    Source = "-module(" ++ atom_to_list(Module) ++ ").\n-compile([export_all, nowarn_export_all]).\n" ++ Body,
    Forms = forms(Source),
    {ok, Module, Beam} = compile:forms(Forms, []),
    {module, Module} = code:load_binary(Module, "stand_in", Beam),
    ok.

forms(Source) ->
    {ok, Tokens, _} = erl_scan:string(Source),
    [begin {ok, F} = erl_parse:parse_form(Ts), F end || Ts <- split_forms(Tokens, [])].

split_forms([], []) -> [];
split_forms([{dot, _} = Dot | Rest], Acc) -> [lists:reverse([Dot | Acc]) | split_forms(Rest, [])];
split_forms([T | Rest], Acc) -> split_forms(Rest, [T | Acc]).

flat(IoData) ->
    unicode:characters_to_list(IoData).
