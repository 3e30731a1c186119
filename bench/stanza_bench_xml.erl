%% @doc Serializer benchmark: stanza_xml:element_to_binary/1 against fast_xml's
%% fxml:element_to_binary/1 and xmerl:export_simple/3, on the elements of
%% the benchmark corpus (stanza_corpus).
%%
%% ```
%% 1> stanza_bench_xml:run().
%% 2> stanza_bench_xml:run(#{size => 2, runs => 7}).
%% '''
%% Options: `size' (MB of corpus, default 4), `runs' (timed runs per row,
%% default 5). The stanzas are parsed once, untimed, into `#xmlel{}'
%% terms; for xmerl they are also converted, untimed, into xmerl records
%% (stanza_xmerl:to_xmerl/2 with `atoms => create': export_simple needs
%% atom names; the corpus is trusted). xmerl only gets the first 1 MB of
%% elements, being much slower; its row says so and its figures are on
%% what it wrote. export_simple returns a deep list of characters, which
%% cannot be sent as it is when the text is not ASCII, so a second xmerl
%% row adds unicode:characters_to_binary/1, the step a caller needs to
%% get bytes; both rows are printed. Each row runs once to warm up, then
%% the rows run in `runs' interleaved rounds (every row once per round),
%% each run in a fresh process after a garbage collection; the ratio to
%% stanza is computed per round, then the median. The table (standard
%% output) gives the median MB/s of XML written (1 MB = 10^6 bytes, the
%% size of stanza's output for the same elements), its min-max spread,
%% elements/s and the ratio to the stanza row; progress goes to standard
%% error. A row that cannot run (fast_xml not installed) says why.
-module(stanza_bench_xml).

-export([run/0, run/1, measure/1, table/1, goals/1]).

-export_type([options/0, row/0]).

-type options() :: #{size => number(), runs => pos_integer()}.
%% The serializer's goal is set on an ASCII-heavy and on a multilingual
%% corpus: the same stanzas, with English text and names or with text in
%% many scripts (stanza_corpus:generate/2).
-type corpus() :: ascii | multilingual.
-type row() :: #{key := atom(), label := string(), corpus => corpus(),
                 status := ok | {skipped, string()},
                 input => string(), bytes => non_neg_integer(),
                 elements => non_neg_integer(), mbps => float(),
                 mbps_min => float(), mbps_max => float(),
                 elements_per_s => float(), ratio => float()}.

-define(MB, 1000000).
-define(XMERL_CAP, 1000000).

%% @equiv run(#{})
-spec run() -> [row()].
run() ->
    run(#{}).

%% @doc Runs the benchmark, prints the table and returns the rows.
-spec run(options()) -> [row()].
run(Opts) ->
    Rows = measure(Opts),
    io:put_chars([stanza_bench_report:text(table(Rows)), "\n", goals(Rows)]),
    Rows.

%% @doc Runs the benchmark and returns the rows; progress on standard error.
-spec measure(options()) -> [row()].
measure(Opts) when is_map(Opts) ->
    Size = maps:get(size, Opts, 4),
    Runs = maps:get(runs, Opts, 5),
    true = is_number(Size) andalso Size > 0 andalso is_integer(Runs) andalso Runs > 0,
    lists:append([measure_corpus(C, Size, Runs) || C <- [multilingual, ascii]]).

measure_corpus(Corpus, Size, Runs) ->
    progress("generating ~p MB of ~s corpus and parsing it (untimed)", [Size, Corpus]),
    #{stanzas := Stanzas} = stanza_corpus:generate(round(Size * ?MB), #{text => Corpus}),
    Els = [El || S <- Stanzas,
                 {ok, El} <- [stanza_stream:parse_element(S, #{format => xmlel})]],
    Keys = case Corpus of
               multilingual -> [stanza, fxml, xmerl, xmerl_bytes];
               ascii -> [stanza, fxml]
           end,
    Prepared = [(prepare_row(K, Els))#{corpus => Corpus} || K <- Keys],
    Timed = lists:foldl(fun(Round, Rows) -> round(Round, Runs, Rows) end,
                        Prepared, lists:seq(1, Runs)),
    [Base | _] = Rows = [finish(R) || R <- Timed],
    [with_ratio(R, Base) || R <- Rows].

%%--------------------------------------------------------------------
%% Rows: prepared and warmed up once, then timed in interleaved rounds
%% (every row once per round), each run in a fresh process.

prepare_row(Key, Els) ->
    case prepare(Key, Els) of
        {skipped, Why} ->
            progress("~s: skipped (~s)", [label(Key), Why]),
            #{key => Key, label => label(Key), status => {skipped, Why}};
        {Input, Fun, Items, Bytes} ->
            Warm = timed(Fun, Items),
            progress("~s: ~p elements, ~.1f MB/s (warm-up)",
                     [label(Key), length(Items), Bytes / ?MB / Warm]),
            #{key => Key, label => label(Key), status => ok, input => Input,
              job => {Fun, Items}, bytes => Bytes, secs => []}
    end.

round(Round, Runs, Rows) ->
    Timed = [time_row(R) || R <- Rows],
    progress("round ~B/~B done", [Round, Runs]),
    Timed.

time_row(#{status := ok, job := {Fun, Items}, secs := Secs} = Row) ->
    Row#{secs := [timed(Fun, Items) | Secs]};
time_row(Row) ->
    Row.

finish(#{status := ok, key := Key, input := Input, bytes := Bytes,
         job := {_, Items}, secs := Secs, corpus := Corpus}) ->
    (summary(Key, Input, Bytes, length(Items), lists:reverse(Secs)))#{corpus => Corpus};
finish(Row) ->
    Row.

%% What to run on which terms, and the bytes of XML they make.
prepare(stanza, Els) ->
    {"all elements", fun stanza_xml:element_to_binary/1, Els, out_bytes(Els)};
prepare(fxml, Els) ->
    case fxml_works() of
        true -> {"all elements", erlang:make_fun(fxml(), element_to_binary, 1), Els,
                 out_bytes(Els)};
        {false, Why} -> {skipped, Why}
    end;
prepare(xmerl, Els) ->
    xmerl_job(Els, fun(R) -> xmerl:export_simple([R], xmerl_xml, [{prolog, ""}]) end);
prepare(xmerl_bytes, Els) ->
    xmerl_job(Els, fun(R) ->
                           unicode:characters_to_binary(
                             xmerl:export_simple([R], xmerl_xml, [{prolog, ""}]))
                   end).

%% export_simple returns a deep list of characters, not bytes: non-ASCII
%% text is code points above 255, so it cannot be sent as it is. The
%% xmerl_bytes row adds the conversion a caller needs before sending.
xmerl_job(Els, Export) ->
    Some = first_bytes(Els, ?XMERL_CAP),
    Records = [stanza_xmerl:to_xmerl(El, #{atoms => create}) || El <- Some],
    {io_lib:format("first ~.2f MB of elements (~p of ~p)",
                   [out_bytes(Some) / ?MB, length(Some), length(Els)]),
     Export, Records, out_bytes(Some)}.

label(stanza) -> "stanza_xml:element_to_binary";
label(fxml) -> "fxml:element_to_binary";
label(xmerl) -> "xmerl:export_simple";
label(xmerl_bytes) -> "xmerl:export_simple + to UTF-8".

%% fast_xml is optional: called through a variable, so that neither the
%% compiler nor Dialyzer needs it.
fxml() -> fxml.

fxml_works() ->
    Mod = fxml(),
    try Mod:element_to_binary({xmlel, <<"a">>, [], []}) of
        <<"<a/>">> -> true;
        Other -> {false, io_lib:format("unexpected output ~p", [Other])}
    catch
        error:undef -> {false, "fast_xml (fxml) is not installed or not in the code path"};
        Class:Reason -> {false, io_lib:format("fxml fails: ~p:~p", [Class, Reason])}
    end.

out_bytes(Els) ->
    lists:sum([byte_size(stanza_xml:element_to_binary(El)) || El <- Els]).

first_bytes(Els, Cap) ->
    first_bytes(Els, Cap, []).

first_bytes([El | Rest], Cap, Acc) when Cap > 0 ->
    first_bytes(Rest, Cap - byte_size(stanza_xml:element_to_binary(El)), [El | Acc]);
first_bytes(_, _, Acc) ->
    lists:reverse(Acc).

%% Seconds for one pass, in a fresh process after a garbage collection.
timed(Fun, Items) ->
    stanza_bench_util:in_fresh_process(
      fun() -> stanza_bench_util:seconds(fun() -> lists:foreach(Fun, Items) end) end).

summary(Key, Input, Bytes, Count, Secs) ->
    Sorted = lists:sort(Secs),
    Median = stanza_bench_util:median(Secs),
    #{key => Key, label => label(Key), status => ok, input => lists:flatten(Input),
      bytes => Bytes, elements => Count,
      mbps => Bytes / ?MB / Median,
      mbps_min => Bytes / ?MB / lists:last(Sorted),
      mbps_max => Bytes / ?MB / hd(Sorted),
      elements_per_s => Count / Median, secs => Secs}.

%% This row's throughput over the base row's, round by round; the median.
with_ratio(#{status := ok, bytes := B, secs := S} = Row,
           #{status := ok, bytes := BaseB, secs := BaseS}) ->
    Ratios = [(B / X) / (BaseB / Y) || {X, Y} <- lists:zip(S, BaseS)],
    Row#{ratio => stanza_bench_util:median(Ratios)};
with_ratio(Row, _Base) ->
    Row.

%%--------------------------------------------------------------------
%% Output

%% @doc The rows as a report table.
-spec table([row()]) -> stanza_bench_report:table().
table(Rows) ->
    #{id => serializer,
      title => "Serializer throughput (MB/s of XML written)",
      columns => [{"Serializer", text}, {"corpus", text}, {"MB/s", number},
                  {"min-max MB/s", range},
                  {"elements/s", count}, {"vs stanza", ratio}, {"Input", text}],
      keys => [row_key(R) || R <- Rows],
      rows => [cells(R) || R <- Rows],
      notes => ["multilingual: text and names in French, Russian, Arabic, "
                "Chinese, Japanese and emoji beside English; ascii: the same "
                "stanzas with English text and ASCII names.",
                "Elements parsed once (untimed) to #xmlel{}; xmerl gets them "
                "as xmerl records, converted untimed."]}.

%% stanza_multilingual, fxml_ascii...
row_key(#{key := K, corpus := C}) ->
    list_to_atom(atom_to_list(K) ++ "_" ++ atom_to_list(C)).

cells(#{status := ok} = R) ->
    #{label := L, corpus := C, mbps := M, mbps_min := Lo, mbps_max := Hi,
      elements_per_s := E, ratio := Ratio, input := In} = R,
    [L, atom_to_list(C), M, {Lo, Hi}, E, Ratio, In];
cells(#{label := L, corpus := C, status := {skipped, Why}}) ->
    [L, atom_to_list(C), undefined, undefined, undefined, undefined, "SKIPPED: " ++ Why].

%% @doc The serializer issue's goals, checked.
-spec goals([row()]) -> iolist().
goals(Rows) ->
    [goal(R) || R <- Rows].

goal(#{key := fxml, corpus := C, status := ok, ratio := R}) ->
    goal("fast_xml on the " ++ atom_to_list(C) ++ " corpus", 1 / R, 2);
goal(#{key := xmerl, corpus := multilingual, status := ok, ratio := R}) ->
    goal("xmerl:export_simple (deep list)", 1 / R, 20);
goal(#{key := xmerl_bytes, corpus := multilingual, status := ok, ratio := R}) ->
    goal("xmerl:export_simple + unicode:characters_to_binary", 1 / R, 20);
goal(_) ->
    [].

goal(What, Times, Goal) ->
    io_lib:format("stanza is ~.2fx ~s (goal ~px): ~s~n",
                  [Times, What, Goal, case Times >= Goal of true -> "met"; false -> "NOT met" end]).

progress(Fmt, Args) ->
    stanza_bench_util:progress("serializer: " ++ Fmt ++ "~n", Args).
