%% @doc The benchmark's tables, and how they are written: as aligned text
%% for the terminal, as Markdown, and as CSV.
%%
%% A table is data, not text: each column has a kind that says how its
%% values are shown, so that the terminal and Markdown get rounded,
%% readable figures while the CSV gets the raw numbers. A cell holds
%% `undefined' when the value does not exist (a row that was skipped, a
%% library that cannot do that measurement); it shows as `-' and as an
%% empty CSV field. A cell holds `{more_than, X}' for a lower bound (a run
%% stopped at its time budget), shown as `> X'.
%%
%% Kinds:
%% <ul>
%% <li>`text': a string.</li>
%% <li>`number': a float shown with about three significant digits
%% (MB/s, ms).</li>
%% <li>`range': `{Min, Max}' shown as `Min-Max'; two CSV columns.</li>
%% <li>`ratio': a float shown as `1.23x'.</li>
%% <li>`count': a number shown rounded, with thousands separators.</li>
%% <li>`percent': a fraction shown as a percentage.</li>
%% </ul>
-module(stanza_bench_report).

-export([text/1, markdown/1, csv/1, num/1]).

-export_type([table/0, column/0, kind/0, cell/0]).

-type kind() :: text | number | range | ratio | count | percent.
-type column() :: {Name :: string(), kind()}.
-type cell() :: undefined | string() | number() | {number(), number()}
              | {more_than, number()}.
%% `id' names the table in the CSV; `notes' are printed under it; `keys'
%% (not shown) name the rows for code that picks figures out of a table.
-type table() :: #{id := atom(), title := string(), columns := [column()],
                   rows := [[cell()]], notes => [string()], keys => [atom()]}.

%% @doc The table as aligned text, with its title and notes.
-spec text(table()) -> iolist().
text(#{title := Title} = Table) ->
    [Title, "\n\n", grid(Table), notes(Table, "")].

%% @doc The table in Markdown: a heading, the grid, the notes as text.
-spec markdown(table()) -> iolist().
markdown(#{title := Title} = Table) ->
    ["### ", Title, "\n\n", grid(Table), notes(Table, "")].

%% @doc Every table in one CSV file, in long form: one line per value,
%% `table,row,column,value', where the row is named by its leading text
%% cells (the first cell, and the text cells right after it, joined with
%% ` / '), so that rows that share a first cell (one parser on several
%% stanzas) stay apart; those cells are not repeated as values.
%% One shape for every table keeps the file loadable by any tool.
-spec csv([table()]) -> iolist().
csv(Tables) ->
    ["table,row,column,value\n" | [csv_table(T) || T <- Tables]].

%% @doc A number with about three significant digits; thousands
%% separated from 10,000 up.
-spec num(number()) -> string().
num(X) when X >= 10000 -> thousands(round(X));
num(X) when X >= 100 -> integer_to_list(round(X));
num(X) when X >= 10 -> flat("~.1f", [float(X)]);
num(X) -> flat("~.2f", [float(X)]).

%%--------------------------------------------------------------------
%% Text and Markdown share the grid: a Markdown table that is also
%% aligned for reading as plain text.

grid(#{columns := Columns, rows := Rows}) ->
    Head = [Name || {Name, _} <- Columns],
    Body = [[show(Kind, Cell) || {{_, Kind}, Cell} <- lists:zip(Columns, Row)]
            || Row <- Rows],
    Aligns = [align(Kind) || {_, Kind} <- Columns],
    Widths = widths([Head | Body]),
    [line(Head, Widths, Aligns), separator(Widths, Aligns)
     | [line(Cells, Widths, Aligns) || Cells <- Body]].

notes(#{notes := Notes}, Indent) when Notes =/= [] ->
    ["\n" | [[Indent, N, "\n"] || N <- Notes]];
notes(_, _) ->
    [].

align(text) -> left;
align(_) -> right.

show(_, undefined) -> "-";
show(_, {more_than, X}) -> "> " ++ num(X);
show(text, S) -> S;
show(number, X) -> num(X);
show(range, {Lo, Hi}) -> num(Lo) ++ "-" ++ num(Hi);
show(ratio, X) when X >= 100 -> flat("~Bx", [round(X)]);
show(ratio, X) when X >= 10 -> flat("~.1fx", [float(X)]);
show(ratio, X) -> flat("~.2fx", [float(X)]);
show(count, X) -> thousands(round(X));
show(percent, X) -> flat("~.1f%", [100 * X]).

widths(Lines) ->
    lists:foldl(fun(Cells, Ws) ->
                        [max(string:length(C), W) || {C, W} <- lists:zip(Cells, Ws)]
                end, [0 || _ <- hd(Lines)], Lines).

line(Cells, Widths, Aligns) ->
    Padded = [pad(C, W, A) || {C, W, A} <- lists:zip3(Cells, Widths, Aligns)],
    ["| ", lists:join(" | ", Padded), " |\n"].

separator(Widths, Aligns) ->
    Dashes = [case A of
                  left -> lists:duplicate(W, $-);
                  right -> lists:duplicate(max(W - 1, 1), $-) ++ ":"
              end || {W, A} <- lists:zip(Widths, Aligns)],
    ["| ", lists:join(" | ", Dashes), " |\n"].

pad(C, W, left) -> string:pad(C, W, trailing);
pad(C, W, right) -> string:pad(C, W, leading).

%%--------------------------------------------------------------------
%% CSV

csv_table(#{id := Id, columns := Columns, rows := Rows}) ->
    N = label_width(Columns),
    Values = lists:nthtail(N, Columns),
    [[csv_values(Id, row_label(lists:sublist(Row, N)), Values, lists:nthtail(N, Row))
      || Row <- Rows]].

%% The first column, and the text columns that follow it, leaving at
%% least one column of values.
label_width([_ | Rest]) ->
    Leading = length(lists:takewhile(fun({_, Kind}) -> Kind =:= text end, Rest)),
    1 + min(Leading, length(Rest) - 1).

row_label(Cells) ->
    lists:flatten(lists:join(" / ", [label(C) || C <- Cells])).

csv_values(Id, Label, Columns, Cells) ->
    [[csv_line(Id, Label, Name, Value)
      || {Name, Value} <- raw(Column, Cell)]
     || {Column, Cell} <- lists:zip(Columns, Cells)].

raw({Name, range}, {Lo, Hi}) -> [{Name ++ " min", Lo}, {Name ++ " max", Hi}];
raw({Name, range}, undefined) -> [{Name ++ " min", undefined},
                                  {Name ++ " max", undefined}];
raw({Name, _}, Cell) -> [{Name, Cell}].

csv_line(Id, Label, Name, Value) ->
    [atom_to_list(Id), $,, quote(label(Label)), $,, quote(Name), $,,
     csv_value(Value), $\n].

label(undefined) -> "";
label(L) -> L.

csv_value(undefined) -> "";
csv_value({more_than, X}) -> quote("> " ++ num(X));
csv_value(X) when is_integer(X) -> integer_to_list(X);
csv_value(X) when is_float(X) -> flat("~.6g", [X]);
csv_value(S) -> quote(S).

quote(S) ->
    [$", string:replace(S, "\"", "\"\"", all), $"].

%%--------------------------------------------------------------------

thousands(N) when N < 0 ->
    [$- | thousands(-N)];
thousands(N) ->
    Digits = integer_to_list(N),
    Groups = group3(lists:reverse(Digits)),
    lists:reverse(lists:flatten(lists:join($,, Groups))).

group3([A, B, C | Rest]) when Rest =/= [] -> [[A, B, C] | group3(Rest)];
group3(Digits) -> [Digits].

flat(Format, Args) ->
    stanza_bench_util:flat(Format, Args).
