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
      notes => ["Parse, serializer and big-stanza advantages are medians of "
                "per-round ratios (every row runs once per round, each run in a "
                "fresh process); memory, holds and ids are ratios of medians.",
                "Lines against a library that is not installed here are left "
                "out; a library that failed shows no figure (see its table)."]}.

-spec lines(atom(), map()) -> [line()].
lines(parse, #{data := Rows}) ->
    [L || L <- parse_lines(Rows), L =/= skip];
lines(Section, Result) ->
    other_lines(Section, Result).

%% A comparison with a library that is not installed here is left out; a
%% library that failed its row stays in, its figure undefined.
parse_lines(Rows) ->
    [parse_line(Rows, "to the owner: stanza pull vs fast_xml push to itself "
                "(ejabberd's c2s)", stanza_pull, fxml_self),
     parse_line(Rows, "to the owner: stanza push to itself vs fast_xml push "
                "to itself", stanza_push_self, fxml_self),
     parse_line(Rows, "to the owner: stanza pull vs exml_stream", stanza_pull,
                exml_stream),
     parse_line(Rows, "to a sink process: stanza push vs fast_xml push",
                stanza_push, fxml_push),
     parse_line(Rows, "to a sink process: stanza_port push vs fast_xml push",
                port_push, fxml_push),
     parse_line(Rows, "one element a call: parse_element vs "
                "fxml_stream:parse_element", stanza_element, fxml_element),
     parse_line(Rows, "one element a call: parse_element vs exml:parse",
                stanza_element, exml_element),
     parse_line(Rows, "one element a call: parse_element vs xmerl_scan:string",
                stanza_element, xmerl_scan),
     parse_line(Rows, "stanza pull vs bare expat, NS mode (the ceiling)",
                stanza_pull, expat_ns)].

other_lines(serializer, #{data := Rows}) ->
    [serializer_line(Rows, "serializer, multilingual: element_to_binary vs fxml",
                     fxml, multilingual),
     serializer_line(Rows, "serializer, ascii: element_to_binary vs fxml", fxml, ascii),
     serializer_line(Rows, "serializer: element_to_binary vs xmerl:export_simple",
                     xmerl, multilingual)];
other_lines(big, #{data := Tables}) ->
    [big_line(Tables, "big <body> stanza in one call: stanza pull vs fast_xml "
              "push to itself", body_stanza_nif_whole, body_fxml_whole),
     big_line(Tables, "big <body> stanza in 4 KB chunks: stanza pull vs fast_xml "
              "push to itself", body_stanza_nif_4096, body_fxml_4096),
     big_line(Tables, "10,000-item roster in one call: stanza pull vs fast_xml "
              "push to itself", roster_stanza_nif_whole, roster_fxml_whole)];
other_lines(ids, #{data := Rows}) ->
    [ids_line(Rows, "new_id vs Erlang ids (prefix + unique_integer), 1 process", ids, 1),
     ids_line(Rows, "dedup vs ETS window, 1 process", dedup, 1),
     ids_line(Rows, "dedup vs ETS window, 8 processes", dedup, 8),
     ids_line(Rows, "tracker vs ETS + timers, 1 process", tracker, 1),
     ids_line(Rows, "tracker vs ETS + timers, 8 processes", tracker, 8)];
other_lines(memory, #{data := Table}) ->
    [lower_is_better(Table, "memory per parser after a header vs fxml_stream",
                     stanza_nif, fxml, "after header KB", "KB"),
     lower_is_better(Table, "memory per idle parser vs fxml_stream",
                     stanza_nif, fxml, "idle KB", "KB")];
other_lines(scheduler, #{data := Table}) ->
    [lower_is_better(Table, "longest scheduler hold, 10 MB stanza, vs fxml_stream",
                     stanza_nif, fxml, "longest hold ms", "ms"),
     lower_is_better(Table, "longest scheduler hold, 10 MB stanza, port vs fxml_stream",
                     stanza_port, fxml, "longest hold ms", "ms")
     | [lower_is_better(Table, "longest scheduler hold, 10 MB stanza, vs exml_stream",
                        stanza_nif, exml, "longest hold ms", "ms")
        || installed(Table, exml)]];
other_lines(chunking, #{data := Table}) ->
    [lower_is_better(Table, "1 MB stanza in 1 KB chunks vs fxml_stream",
                     stanza_nif, fxml, "in chunks ms", "ms")
     | [lower_is_better(Table, "1 MB stanza in 1 KB chunks vs exml_stream",
                        stanza_nif, exml, "in chunks ms", "ms")
        || installed(Table, exml)]];
other_lines(_, _) ->
    [].

parse_line(Rows, Text, A, B) ->
    case find(Rows, B) of
        #{status := {skipped, _}} -> skip;
        _ -> parse_line_of(Rows, Text, A, B)
    end.

parse_line_of(Rows, Text, A, B) ->
    Ra = find(Rows, A),
    Rb = find(Rows, B),
    Advantage = case stanza_bench_parse:ratio(Rows, A, B) of
                    {ok, R} -> R;
                    {error, _} -> undefined
                end,
    {Text, mbps(Ra), mbps(Rb), "MB/s", Advantage}.

mbps(#{status := ok, mbps := M}) -> M;
mbps(_) -> undefined.

%% The advantage is the other row's per-round ratio to stanza, inverted.
serializer_line(Rows, Text, Other, Corpus) ->
    S = find_corpus(Rows, stanza, Corpus),
    O = find_corpus(Rows, Other, Corpus),
    Advantage = case O of
                    #{ratio := R} when R > 0 -> 1 / R;
                    _ -> undefined
                end,
    {Text, mbps(S), mbps(O), "MB/s", Advantage}.

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

%% A library's row is there and was not skipped (a failed row stays in).
installed(Table, Key) ->
    case cell(Table, Key, "Note") of
        "SKIPPED" ++ _ -> false;
        undefined -> false;
        _ -> true
    end.

divide(A, B) when is_number(A), is_number(B), B > 0 -> A / B;
divide({more_than, A}, B) when is_number(B), B > 0 -> {more_than, A / B};
divide(_, _) -> undefined.

find_corpus(Rows, Key, Corpus) ->
    case [R || #{key := K, corpus := C} = R <- Rows, K =:= Key, C =:= Corpus] of
        [Row | _] -> Row;
        [] -> #{}
    end.

%% Times of one big stanza; the advantage is fast_xml's time over
%% stanza's, paired per round (the big table's `vs fast_xml').
big_line(Tables, Text, Stanza, Other) ->
    case [T || #{id := big_throughput} = T <- Tables] of
        [Table] ->
            S = cell(Table, Stanza, "ms"),
            O = cell(Table, Other, "ms"),
            {Text, S, O, "ms", cell(Table, Stanza, "vs fast_xml")};
        [] ->
            {Text, undefined, undefined, "ms", undefined}
    end.

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
