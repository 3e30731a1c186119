%% @doc The benchmark: stanza against the libraries a user would pick
%% instead, measured in one run on one corpus, ratios first.
%%
%% This module and the rest of bench/ are compiled only in rebar3's
%% `bench' and `test' profiles: they are not part of the stanza
%% application (bench/README.md). From the command line (what `make bench'
%% runs):
%% ```
%% erl -noshell -pa _build/bench/lib/stanza/ebin \
%%     -eval 'stanza_bench_suite:main("--size 8 --chunk 4096 --out bench.md")'
%% '''
%% From `rebar3 as bench shell':
%% ```
%% 1> stanza_bench_suite:run().
%% 2> stanza_bench_suite:run(#{size => 2, runs => 3, sections => [parse, memory]}).
%% '''
%% Sections, in order (all by default):
%% <ul>
%% <li>`parse': throughput of every parser on the corpus (stanza_bench_parse);</li>
%% <li>`memory': memory per parser, idle and after a stream header
%%   (stanza_bench_memory);</li>
%% <li>`big': a 10 MB stanza and a 10,000-item roster: throughput, holds
%%   per operation, linearity, bare expat (stanza_bench_big);</li>
%% <li>`scheduler': the longest scheduler hold while parsing one 10 MB
%%   stanza in one chunk (stanza_bench_sched);</li>
%% <li>`chunking': a 1 MB stanza in 1 KB chunks, and twice that
%%   (stanza_bench_linear);</li>
%% <li>`serializer': element to bytes (stanza_bench_xml);</li>
%% <li>`ids': ids, duplicate suppression and request tracking against ETS
%%   (stanza_bench_ids);</li>
%% <li>`tls': stanza_tls against fast_tls, OTP ssl and gen_tcp
%%   (stanza_bench_tls);</li>
%% <li>`jid': stringprep and JIDs against fast_stringprep
%%   (stanza_bench_jid);</li>
%% <li>`client': IQ round trips through a private ejabberd
%%   (stanza_bench_client).</li>
%% </ul>
%% The report ends with the goals of issue 15 as `met' / `NOT met' lines
%% (stanza_bench_goals). A section module's contract is in registry/0.
%% Options and their flags: `size' (`--size MB', generated corpus, default
%% 8), `chunk' (`--chunk BYTES' per parse call, default 4096), `runs'
%% (`--runs N' timed runs per row, default 5), `file' (`--corpus PATH' or
%% `--file PATH', a
%% captured stream or a file of stanzas instead of the generated corpus),
%% `out' (`--out FILE.md': also write the report as Markdown to FILE.md,
%% as CSV to FILE.csv and the parse ratios as an SVG bar chart to
%% FILE.svg), `sections' (`--only parse,memory'), `parsers' (`--parsers
%% N' for the memory section, default 10000), `raw_expat' (`--raw-expat
%% PATH', the bench/raw_expat program; found by default), `progress'
%% (`false' to print no progress; default `true'), `section_opts' (a map
%% from a registered section module's name to options merged into what
%% its tables/1 gets, e.g. `#{big => #{repeats => 20000}}').
%%
%% Progress goes to standard error while it runs; the report goes to
%% standard output at the end: the machine, a headline of ratios, then
%% every section's table. run/1 returns the tables (stanza_bench_report),
%% headline first.
-module(stanza_bench_suite).

-export([main/1, run/0, run/1]).

-export_type([options/0]).

-type section() :: atom().
-type options() :: #{size => number(), chunk => pos_integer(),
                     runs => pos_integer(), file => file:filename(),
                     out => file:filename(), raw_expat => file:filename(),
                     sections => [section()], parsers => pos_integer(),
                     progress => boolean(),
                     section_opts => #{section() => map()}}.
%% What a section leaves for the report: tables, text printed after them,
%% and the data the headline is made from.
-type result() :: #{tables := [stanza_bench_report:table()], text := iolist(),
                    data := term()}.

%% Memory goes before the sections that leave much garbage to be freed in
%% the background (tables, big binaries), which would blur its counts.
-define(SECTIONS, [Name || {Name, _} <- registry()]).

%%--------------------------------------------------------------------
%% The section registry (bench/README.md). A section is either built in
%% (`builtin': measured here, its data feeding the headline) or a module
%% of bench/ exporting tables/1, which takes the benchmark's options and
%% returns stanza_bench_report tables, printing one progress line per row
%% on standard error.

-spec registry() -> [{section(), builtin | module()}].
registry() ->
    [{parse, builtin}, {memory, builtin}, {big, stanza_bench_big},
     {scheduler, builtin}, {chunking, builtin}, {serializer, builtin},
     {ids, builtin}, {tls, stanza_bench_tls}, {jid, stanza_bench_jid},
     {client, stanza_bench_client}].

%%--------------------------------------------------------------------
%% Entry points

%% @doc Runs the benchmark with flags from a string, then halts the node:
%% status 0 on success, 1 when the benchmark crashed, 2 on bad flags.
-spec main(string()) -> no_return().
main(ArgString) ->
    halt(main_status(ArgString)).

%% @equiv run(#{})
-spec run() -> [stanza_bench_report:table()].
run() ->
    run(#{}).

%% @doc Runs the benchmark, prints the report and writes the `out' files
%% if asked. Raises `{bad_option, Key, Value}' on a bad option.
-spec run(options()) -> [stanza_bench_report:table()].
run(Opts0) when is_map(Opts0) ->
    Opts = maps:merge(defaults(), Opts0),
    ok = maps:foreach(fun check_option/2, Opts),
    WasQuiet = stanza_bench_util:quiet(not maps:get(progress, Opts)),
    try measure_and_report(Opts)
    after stanza_bench_util:quiet(WasQuiet)
    end.

measure_and_report(Opts) ->
    T0 = erlang:monotonic_time(millisecond),
    Ctx = context(Opts),
    Results = try [{S, timed_section(S, Ctx, Opts)} || S <- maps:get(sections, Opts)]
              after stanza_bench_parse:cleanup(Ctx)
              end,
    Seconds = (erlang:monotonic_time(millisecond) - T0) / 1000,
    report(Ctx#{seconds => Seconds}, Results, Opts).

%%--------------------------------------------------------------------
%% Flags and options

main_status(ArgString) ->
    try run(args(string:lexemes(ArgString, " \t\n"), #{})) of
        _Tables -> 0
    catch
        throw:help ->
            io:put_chars(usage()),
            0;
        throw:{usage, Msg} ->
            io:format(standard_error, "stanza_bench_suite: ~ts~n~ts", [Msg, usage()]),
            2;
        Class:Reason:Stack ->
            io:format(standard_error, "stanza_bench_suite: crashed: ~p:~p~n~p~n",
                      [Class, Reason, Stack]),
            1
    end.

usage() ->
    "usage: stanza_bench_suite:main(\"[--size MB] [--chunk BYTES] [--runs N] "
    "[--corpus|--file PATH] [--out FILE.md] [--only SECTION,...] [--parsers N] "
    "[--raw-expat PATH]\")\n"
    "sections: " ++ lists:join(", ", [atom_to_list(S) || S <- ?SECTIONS]) ++ "\n".

args([], Acc) -> Acc;
args(["--help" | _], _) -> throw(help);
args(["--size", V | T], Acc) -> args(T, Acc#{size => number_arg("--size", V)});
args(["--chunk", V | T], Acc) -> args(T, Acc#{chunk => int_arg("--chunk", V)});
args(["--runs", V | T], Acc) -> args(T, Acc#{runs => int_arg("--runs", V)});
args(["--parsers", V | T], Acc) -> args(T, Acc#{parsers => int_arg("--parsers", V)});
args(["--file", V | T], Acc) -> args(T, Acc#{file => V});
args(["--corpus", V | T], Acc) -> args(T, Acc#{file => V});
args(["--out", V | T], Acc) -> args(T, Acc#{out => V});
args(["--only", V | T], Acc) -> args(T, Acc#{sections => sections_arg(V)});
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

sections_arg(V) ->
    Names = string:lexemes(V, ","),
    Known = [{atom_to_list(S), S} || S <- ?SECTIONS],
    [case lists:keyfind(N, 1, Known) of
         {_, S} -> S;
         false -> throw({usage, "unknown section: " ++ N})
     end || N <- Names].

%% The TLS section's own defaults keep make bench near five minutes on
%% two cores (make bench-tls runs it alone, larger).
defaults() ->
    #{size => 8, chunk => 4096, runs => 5, sections => ?SECTIONS,
      parsers => 10000, progress => true,
      section_opts => #{tls => #{runs => 3, bulk_mb => 16, handshake_ms => 1000}}}.

check_option(K, V) when K =:= size, is_number(V), V > 0 -> ok;
check_option(K, V) when K =:= chunk; K =:= runs; K =:= parsers ->
    case is_integer(V) andalso V > 0 of
        true -> ok;
        false -> erlang:error({bad_option, K, V})
    end;
check_option(progress, V) when is_boolean(V) -> ok;
check_option(section_opts, V) when is_map(V) -> ok;
check_option(sections, V) when is_list(V), V =/= [] ->
    case V -- ?SECTIONS of
        [] -> ok;
        _ -> erlang:error({bad_option, sections, V})
    end;
check_option(K, V) when K =:= file; K =:= out; K =:= raw_expat ->
    case io_lib:char_list(V) of
        true -> ok;
        false -> erlang:error({bad_option, K, V})
    end;
check_option(K, V) ->
    erlang:error({bad_option, K, V}).

%%--------------------------------------------------------------------
%% Sections

context(Opts) ->
    progress("stanza_bench_suite: preparing the corpus~n", []),
    Ctx = stanza_bench_parse:context(Opts),
    Ctx#{date => calendar:system_time_to_rfc3339(erlang:system_time(second),
                                                 [{offset, "Z"}])}.

timed_section(Section, Ctx, Opts) ->
    T0 = erlang:monotonic_time(millisecond),
    Result = section(Section, Ctx, Opts),
    progress("~ts: ~.1f s~n", [Section, (erlang:monotonic_time(millisecond) - T0) / 1000]),
    Result.

-spec section(section(), stanza_bench_parse:context(), map()) -> result().
section(parse, Ctx, _Opts) ->
    progress("~nparse throughput (a warm-up per row, then ~B rounds)~n",
             [maps:get(runs, Ctx)]),
    Rows = stanza_bench_parse:measure(Ctx),
    #{tables => [stanza_bench_parse:table(Ctx, Rows)],
      text => [stanza_bench_parse:goals(Rows), stanza_bench_parse:delivery(Ctx)],
      data => Rows};
section(serializer, _Ctx, #{size := Size, runs := Runs}) ->
    progress("~nserializer~n", []),
    Rows = stanza_bench_xml:measure(#{size => Size, runs => Runs}),
    #{tables => [stanza_bench_xml:table(Rows)],
      text => stanza_bench_xml:goals(Rows), data => Rows};
section(ids, _Ctx, #{runs := Runs}) ->
    progress("~nids, dedup, tracker~n", []),
    %% 100,000 operations per process and run: the ratios to ETS are what
    %% the headline shows, and they settle well before the default 200,000.
    Rows = stanza_bench_ids:measure(#{runs => Runs, ops => 100000}),
    #{tables => [stanza_bench_ids:table(Rows)], text => [], data => Rows};
section(memory, _Ctx, #{parsers := N}) ->
    progress("~nmemory per parser~n", []),
    simple(stanza_bench_memory:run(#{parsers => N, runs => 3}));
section(scheduler, _Ctx, _Opts) ->
    progress("~nscheduler holds~n", []),
    simple(stanza_bench_sched:run(#{stanza_mb => 10, runs => 3}));
section(chunking, _Ctx, #{runs := Runs}) ->
    progress("~nlinearity~n", []),
    simple(stanza_bench_linear:run(#{stanza_mb => 1, chunk => 1024,
                                     runs => Runs}));
section(Name, _Ctx, Opts) ->
    {Name, Module} = lists:keyfind(Name, 1, registry()),
    progress("~n~ts (~ts)~n", [Name, Module]),
    Own = maps:get(Name, maps:get(section_opts, Opts, #{}), #{}),
    Tables = Module:tables(maps:merge(maps:without([sections, out, section_opts], Opts), Own)),
    #{tables => Tables, text => [], data => Tables}.

simple(Table) ->
    #{tables => [Table], text => [], data => Table}.

%%--------------------------------------------------------------------
%% Report

report(Ctx, Results, Opts) ->
    Headline = stanza_bench_headline:table(Results),
    Tables = [Headline | lists:append([Ts || {_, #{tables := Ts}} <- Results])],
    io:put_chars(["\n", header_text(Ctx), "\n",
                  stanza_bench_report:text(Headline), "\n",
                  [section_text(R, fun stanza_bench_report:text/1)
                   || {_, R} <- Results],
                  stanza_bench_goals:text(Results)]),
    ok = write_out(Ctx, Opts, Headline, Results, Tables),
    Tables.

section_text(#{tables := Tables, text := Text}, Format) ->
    [[[Format(T), "\n"] || T <- Tables], section_notes(Text, Format)].

%% A section's own lines (goals, counters) keep their alignment: in
%% Markdown they go in a code block.
section_notes([], _Format) ->
    [];
section_notes(Text, Format) ->
    case Format =:= fun stanza_bench_report:markdown/1 of
        true -> ["```\n", Text, "```\n\n"];
        false -> [Text, "\n"]
    end.

header_lines(#{source := Source, stream := Stream, count := Count,
               stanza_bytes := StanzaBytes, chunk := Chunk,
               runs := Runs} = Ctx) ->
    [{"date", maps:get(date, Ctx)},
     {"machine", machine()},
     {"OTP", flat("~ts (erts ~ts), ~B schedulers online",
                  [otp_version(), erlang:system_info(version),
                   erlang:system_info(schedulers_online)])},
     {"expat", maps:get(expat_version, Ctx)},
     {"fast_xml", fxml_version(maps:get(fxml, Ctx))},
     {"exml", exml_version()},
     {"corpus", Source},
     {"content", stanza_corpus:composition(Stream)},
     {"stream", flat("~B bytes (~.2f MB), ~B stanzas, ~B B per stanza on "
                     "average", [byte_size(Stream), byte_size(Stream) / 1.0e6,
                                 Count, StanzaBytes div max(1, Count)])},
     {"method", flat("~B B chunks; ~B timed runs per row after a warm-up, "
                     "median [min-max]; 1 MB = 10^6 bytes", [Chunk, Runs])},
     {"took", flat("~.1f s", [maps:get(seconds, Ctx)])}].

header_text(Ctx) ->
    [io_lib:format("~-9ts ~ts~n", [K ++ ":", V]) || {K, V} <- header_lines(Ctx)].

machine() ->
    Cores = erlang:system_info(logical_processors_available),
    Model = cpu_model(),
    flat("~ts, ~p logical cores available", [Model, Cores]).

cpu_model() ->
    case file:read_file("/proc/cpuinfo") of
        {ok, Info} ->
            case re:run(Info, "model name\\s*:\\s*([^\\n]*)",
                        [{capture, all_but_first, list}, unicode]) of
                {match, [Model]} -> Model;
                nomatch -> "unknown CPU"
            end;
        {error, _} -> "unknown CPU"
    end.

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
        {ok, Vsn} -> Vsn;
        undefined -> "loaded (version unknown)"
    end.

exml_version() ->
    case stanza_bench_libs:lib(exml) of
        {skip, Why} ->
            "not available: " ++ Why;
        #{} ->
            _ = application:load(exml),
            case application:get_key(exml, vsn) of
                {ok, Vsn} -> Vsn;
                undefined -> "loaded (version unknown)"
            end
    end.

%%--------------------------------------------------------------------
%% Output files: FILE.md, FILE.csv, FILE.svg

write_out(Ctx, #{out := File}, Headline, Results, Tables) ->
    Root = filename:rootname(File),
    Md = Root ++ ".md",
    Csv = Root ++ ".csv",
    Svg = Root ++ ".svg",
    ok = filelib:ensure_dir(Md),
    ok = file:write_file(Md, markdown(Ctx, Headline, Results)),
    ok = file:write_file(Csv, stanza_bench_report:csv(Tables)),
    Written = case lists:keyfind(parse, 1, Results) of
                  {parse, #{data := Rows}} ->
                      ok = file:write_file(Svg, chart(Ctx, Rows)),
                      [Md, Csv, Svg];
                  false ->
                      [Md, Csv]
              end,
    io:format("Wrote ~ts~n", [lists:join(", ", Written)]);
write_out(_Ctx, _Opts, _Headline, _Results, _Tables) ->
    ok.

markdown(Ctx, Headline, Results) ->
    ["# stanza benchmark\n\n",
     [io_lib:format("- **~ts**: ~ts~n", [K, V]) || {K, V} <- header_lines(Ctx)],
     "\n", stanza_bench_report:markdown(Headline), "\n",
     [section_text(R, fun stanza_bench_report:markdown/1) || {_, R} <- Results],
     "### Goals\n\n```\n", stanza_bench_goals:text(Results), "```\n"].

chart(#{date := Date, expat_version := Expat} = Ctx, Rows) ->
    Subtitle = flat("~ts, OTP ~ts, expat ~ts, ~.1f MB corpus in ~B B chunks; "
                    "throughput relative to stanza_stream pull",
                    [lists:sublist(Date, 10), otp_version(), Expat,
                     byte_size(maps:get(stream, Ctx)) / 1.0e6,
                     maps:get(chunk, Ctx)]),
    Bars = [{L, maps:get(ratio, R, undefined), bar_kind(K), bar_detail(R)}
            || #{key := K, label := L} = R <- Rows],
    stanza_bench_svg:ratio_chart("Parse throughput (higher is faster)",
                                 Subtitle, Bars).

bar_detail(#{status := ok, mbps := M}) -> stanza_bench_report:num(M) ++ " MB/s";
bar_detail(#{status := {skipped, _}}) -> "not installed here";
bar_detail(#{status := {failed, _}}) -> "failed (see the table)".

bar_kind(K) ->
    case atom_to_list(K) of
        "stanza_" ++ _ -> stanza;
        "port_" ++ _ -> stanza;
        "expat_" ++ _ -> ceiling;
        _ -> other
    end.

%%--------------------------------------------------------------------

progress(Format, Args) ->
    stanza_bench_util:progress(Format, Args).

flat(Format, Args) ->
    stanza_bench_util:flat(Format, Args).
