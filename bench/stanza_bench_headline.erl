%% @doc The benchmark's headline: one line per comparison a user makes
%% when choosing a library, each as a ratio where above 1 means stanza
%% does better (faster, smaller, shorter holds). Ratios are the headline
%% because the machine is noisy: absolute figures move between runs, the
%% ratios from one run much less.
-module(stanza_bench_headline).

-export([table/1]).

%% A comparison: its text, stanza's figure, the other's figure, the unit,
%% and stanza's advantage.
-type line() :: {string(), stanza_bench_report:cell(), stanza_bench_report:cell(),
                 string(), stanza_bench_report:cell()}.

%% @doc The headline table from the sections' results (any subset).
-spec table([{atom(), map()}]) -> stanza_bench_report:table().
table(Results) ->
    Lines = lists:append([lines(S, R) || {S, R} <- Results]),
    #{id => headline,
      title => "Headline: stanza against the alternatives (advantage > 1 means "
               "stanza is better)",
      columns => [{"Comparison", text}, {"stanza", number}, {"other", number},
                  {"unit", text}, {"stanza advantage", ratio}],
      rows => [[T, S, O, U, A] || {T, S, O, U, A} <- Lines],
      notes => ["Throughput advantages are medians of per-round ratios (every "
                "row runs once per round); the others are ratios of medians."]}.

-spec lines(atom(), map()) -> [line()].
lines(parse, #{data := Rows}) ->
    [parse_line(Rows, "stream: stanza_stream pull vs fxml_stream", stanza_pull, fxml_push),
     parse_line(Rows, "stream: stanza_port pull vs fxml_stream", port_pull, fxml_push),
     parse_line(Rows, "stream: stanza_stream pull vs exml_stream", stanza_pull, exml_stream),
     parse_line(Rows, "stream: stanza_stream pull vs xmerl_sax_parser", stanza_pull, xmerl_sax),
     parse_line(Rows, "one stanza: parse_element vs fxml_stream:parse_element",
                stanza_element, fxml_element),
     parse_line(Rows, "one stanza: parse_element vs exml:parse", stanza_element, exml_element),
     parse_line(Rows, "one stanza: parse_element vs xmerl_scan:string",
                stanza_element, xmerl_scan),
     parse_line(Rows, "stanza_stream pull vs bare expat (the ceiling)", stanza_pull, expat_ns)];
lines(serializer, #{data := Rows}) ->
    [serializer_line(Rows, "serializer: element_to_binary vs fxml", fxml),
     serializer_line(Rows, "serializer: element_to_binary vs xmerl:export_simple", xmerl)];
lines(ids, #{data := Rows}) ->
    [ids_line(Rows, "new_id vs Erlang ids (prefix + unique_integer), 1 process", ids, 1),
     ids_line(Rows, "dedup vs ETS window, 1 process", dedup, 1),
     ids_line(Rows, "dedup vs ETS window, 8 processes", dedup, 8),
     ids_line(Rows, "tracker vs ETS + timers, 1 process", tracker, 1),
     ids_line(Rows, "tracker vs ETS + timers, 8 processes", tracker, 8)];
lines(memory, #{data := Table}) ->
    [lower_is_better(Table, "memory per parser after a header vs fxml_stream",
                     stanza_nif, fxml, "after header KB", "KB"),
     lower_is_better(Table, "memory per idle parser vs fxml_stream",
                     stanza_nif, fxml, "idle KB", "KB")];
lines(scheduler, #{data := Table}) ->
    [lower_is_better(Table, "longest scheduler hold, 10 MB stanza, vs fxml_stream",
                     stanza_nif, fxml, "longest hold ms", "ms"),
     lower_is_better(Table, "longest scheduler hold, 10 MB stanza, port vs fxml_stream",
                     stanza_port, fxml, "longest hold ms", "ms")];
lines(chunking, #{data := Table}) ->
    [lower_is_better(Table, "1 MB stanza in 1 KB chunks vs fxml_stream",
                     stanza_nif, fxml, "in chunks ms", "ms")];
lines(_, _) ->
    [].

parse_line(Rows, Text, A, B) ->
    Ra = find(Rows, A),
    Rb = find(Rows, B),
    Advantage = case stanza_bench_parse:ratio(Rows, A, B) of
                    {ok, R} -> R;
                    {error, _} -> undefined
                end,
    {Text, mbps(Ra), mbps(Rb), "MB/s", Advantage}.

mbps(#{status := ok, mbps := M}) -> M;
mbps(_) -> undefined.

serializer_line(Rows, Text, Other) ->
    S = find(Rows, stanza),
    O = find(Rows, Other),
    {Text, mbps(S), mbps(O), "MB/s", divide(mbps(S), mbps(O))}.

ids_line(Rows, Text, Bench, Procs) ->
    [S, E] = [case [R || #{bench := B, impl := I, procs := P} = R <- Rows,
                         B =:= Bench, I =:= Impl, P =:= Procs] of
                  [Row] -> maps:get(ops_per_s, Row);
                  [] -> undefined
              end || Impl <- [stanza, ets]],
    {Text, S, E, "ops/s", divide(S, E)}.

%% Memory, holds and times: the other's figure over stanza's. A hold
%% under the 1 ms threshold counts as 1 ms, so the advantage is a lower
%% bound then.
lower_is_better(Table, Text, Stanza, Other, Column, Unit) ->
    S = cell(Table, Stanza, Column),
    O = cell(Table, Other, Column),
    Advantage = case {S, O} of
                    {S, O} when is_number(S), S < 1, Unit =:= "ms", is_number(O) ->
                        {more_than, O};
                    _ -> divide(O, S)
                end,
    {Text, S, O, Unit, Advantage}.

divide(A, B) when is_number(A), is_number(B), B > 0 -> A / B;
divide({more_than, A}, B) when is_number(B), B > 0 -> {more_than, A / B};
divide(_, _) -> undefined.

find(Rows, Key) ->
    case [R || #{key := K} = R <- Rows, K =:= Key] of
        [Row | _] -> Row;
        [] -> #{}
    end.

%% The value in a row (by key) and column (by name) of a table.
cell(#{keys := Keys, columns := Columns, rows := Rows}, Key, Column) ->
    case {index(Key, Keys), index(Column, [N || {N, _} <- Columns])} of
        {R, C} when is_integer(R), is_integer(C) ->
            lists:nth(C, lists:nth(R, Rows));
        _ ->
            undefined
    end.

index(X, List) ->
    index(X, List, 1).

index(X, [X | _], I) -> I;
index(X, [_ | T], I) -> index(X, T, I + 1);
index(_, [], _) -> undefined.
