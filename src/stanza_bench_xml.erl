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
%% get bytes; both rows are printed. Each row runs once to warm up, then `runs' times, each
%% in a fresh process after a garbage collection. The table (standard
%% output) gives the median MB/s of XML written (1 MB = 10^6 bytes, the
%% size of stanza's output for the same elements), its min-max spread,
%% elements/s and the ratio to the stanza row; progress goes to standard
%% error. A row that cannot run (fast_xml not installed) says why.
-module(stanza_bench_xml).

-export([run/0, run/1]).

-export_type([options/0, row/0]).

-type options() :: #{size => number(), runs => pos_integer()}.
-type row() :: #{key := stanza | fxml | xmerl | xmerl_bytes, label := string(),
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
run(Opts) when is_map(Opts) ->
    Size = maps:get(size, Opts, 4),
    Runs = maps:get(runs, Opts, 5),
    true = is_number(Size) andalso Size > 0 andalso is_integer(Runs) andalso Runs > 0,
    progress("generating ~p MB of corpus and parsing it (untimed)", [Size]),
    #{stanzas := Stanzas} = stanza_corpus:generate(round(Size * ?MB)),
    Els = [El || S <- Stanzas,
                 {ok, El} <- [stanza_stream:parse_element(S, #{format => xmlel})]],
    Base = measure(stanza, Els, Runs),
    Rows = [Base, measure(fxml, Els, Runs), measure(xmerl, Els, Runs),
            measure(xmerl_bytes, Els, Runs)],
    Final = [with_ratio(R, Base) || R <- Rows],
    print(Final),
    Final.

%%--------------------------------------------------------------------
%% Rows

measure(Key, Els, Runs) ->
    case prepare(Key, Els) of
        {skipped, Why} ->
            progress("~s: skipped (~s)", [label(Key), Why]),
            #{key => Key, label => label(Key), status => {skipped, Why}};
        {Input, Fun, Items, Bytes} ->
            progress("~s: ~p elements, ~p runs", [label(Key), length(Items), Runs]),
            _ = timed(Fun, Items),
            Secs = [timed(Fun, Items) || _ <- lists:seq(1, Runs)],
            summary(Key, Input, Bytes, length(Items), Secs)
    end.

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
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           erlang:garbage_collect(),
                           T0 = erlang:monotonic_time(),
                           lists:foreach(Fun, Items),
                           T1 = erlang:monotonic_time(),
                           Self ! {self(), erlang:convert_time_unit(T1 - T0, native, nanosecond)}
                   end),
    receive
        {Pid, Ns} ->
            erlang:demonitor(Ref, [flush]),
            max(Ns, 1) / 1.0e9;
        {'DOWN', Ref, process, Pid, Reason} ->
            erlang:error({bench_run_failed, Reason})
    end.

summary(Key, Input, Bytes, Count, Secs) ->
    Sorted = lists:sort(Secs),
    Median = lists:nth((length(Sorted) + 1) div 2, Sorted),
    #{key => Key, label => label(Key), status => ok, input => lists:flatten(Input),
      bytes => Bytes, elements => Count,
      mbps => Bytes / ?MB / Median,
      mbps_min => Bytes / ?MB / lists:last(Sorted),
      mbps_max => Bytes / ?MB / hd(Sorted),
      elements_per_s => Count / Median}.

with_ratio(#{status := ok, mbps := M} = Row, #{status := ok, mbps := Base}) ->
    Row#{ratio => M / Base};
with_ratio(Row, _Base) ->
    Row.

%%--------------------------------------------------------------------
%% Output

print(Rows) ->
    io:format("~n| ~-30s | ~8s | ~13s | ~11s | ~9s | ~-40s |~n",
              ["Serializer", "MB/s", "min-max MB/s", "elements/s", "vs stanza", "Input"]),
    io:format("|~s|~s:|~s:|~s:|~s:|~s|~n",
              [lists:duplicate(32, $-), lists:duplicate(9, $-), lists:duplicate(14, $-),
               lists:duplicate(12, $-), lists:duplicate(10, $-), lists:duplicate(42, $-)]),
    lists:foreach(fun print_row/1, Rows),
    io:format("~n"),
    lists:foreach(fun print_goal/1, Rows).

print_row(#{status := ok} = R) ->
    #{label := L, mbps := M, mbps_min := Lo, mbps_max := Hi, elements_per_s := E,
      ratio := Ratio, input := In} = R,
    io:format("| ~-30s | ~8s | ~13s | ~11s | ~8.2fx | ~s |~n",
              [L, fmt(M), fmt(Lo) ++ "-" ++ fmt(Hi), thousands(round(E)), Ratio, pad(In, 40)]);
print_row(#{label := L, status := {skipped, Why}}) ->
    io:format("| ~-30s | ~8s | ~13s | ~11s | ~9s | skipped: ~s |~n",
              [L, "-", "-", "-", "-", pad(Why, 31)]).

print_goal(#{key := fxml, status := ok, ratio := R}) ->
    goal("fast_xml", 1 / R, 2);
print_goal(#{key := xmerl, status := ok, ratio := R}) ->
    goal("xmerl:export_simple (deep list)", 1 / R, 20);
print_goal(#{key := xmerl_bytes, status := ok, ratio := R}) ->
    goal("xmerl:export_simple + unicode:characters_to_binary", 1 / R, 20);
print_goal(_) ->
    ok.

goal(What, Times, Goal) ->
    io:format("stanza is ~.2fx ~s (goal ~px): ~s~n",
              [Times, What, Goal, case Times >= Goal of true -> "met"; false -> "NOT met" end]).

fmt(X) when X >= 100 -> integer_to_list(round(X));
fmt(X) when X >= 10 -> float_to_list(X, [{decimals, 1}]);
fmt(X) -> float_to_list(X, [{decimals, 2}]).

thousands(N) ->
    S = integer_to_list(N),
    Groups = lists:reverse(group(lists:reverse(S))),
    lists:flatten(lists:join(",", Groups)).

group(Rev) when length(Rev) =< 3 -> [lists:reverse(Rev)];
group([A, B, C | Rest]) -> [[C, B, A] | group(Rest)].

progress(Fmt, Args) ->
    io:format(standard_error, "stanza_bench_xml: " ++ Fmt ++ "~n", Args).

pad(S, W) ->
    string:pad(S, W).
