%% @doc A horizontal bar chart in SVG, for the README: each parser's
%% throughput as a ratio to stanza's NIF. Written with stanza's own
%% serializer.
%%
%% ```
%% 1> Svg = stanza_bench_svg:ratio_chart("Parse throughput", "8 MB corpus",
%%                                       [{"stanza NIF", 1.0, stanza, "95 MB/s"},
%%                                        {"fast_xml", 0.27, other, "26 MB/s"}]),
%% 2> file:write_file("/tmp/chart.svg", Svg).
%% '''
-module(stanza_bench_svg).

-export([ratio_chart/3]).

-export_type([bar/0]).

%% A bar: its label, the ratio (`undefined' for a row that did not run),
%% what it is, which picks its colour, and a detail shown after the ratio
%% (the absolute figure, or why the row did not run).
-type bar() :: {Label :: string(), Ratio :: number() | undefined,
                stanza | other | ceiling, Detail :: string()}.

-define(WIDTH, 900).
-define(LABEL_W, 270).
-define(BAR_X, 280).
-define(BAR_W, 400).
-define(ROW_H, 26).
-define(TOP, 66).
-define(FONT, "DejaVu Sans, Helvetica, Arial, sans-serif").

%% @doc The chart as an SVG document. The bar scale starts at 0 and ends
%% a little past the largest ratio; a dashed line marks 1.0.
-spec ratio_chart(string(), string(), [bar()]) -> binary().
ratio_chart(Title, Subtitle, Bars) ->
    Max = lists:max([1.0 | [R || {_, R, _, _} <- Bars, R =/= undefined]]) * 1.08,
    Height = ?TOP + ?ROW_H * length(Bars) + 30,
    Rows = [bar(I, Bar, Max) || {I, Bar} <- lists:zip(lists:seq(0, length(Bars) - 1), Bars)],
    Svg = el("svg", [{"xmlns", "http://www.w3.org/2000/svg"},
                     {"width", int(?WIDTH)}, {"height", int(Height)},
                     {"viewBox", ["0 0 ", int(?WIDTH), " ", int(Height)]},
                     {"font-family", ?FONT}, {"font-size", "13"}],
             [el("rect", [{"width", "100%"}, {"height", "100%"}, {"fill", "#ffffff"}], []),
              text(12, 24, [{"font-size", "16"}, {"font-weight", "bold"}], Title),
              text(12, 44, [{"fill", "#555555"}], Subtitle)]
             ++ one_line(Max, Height) ++ lists:append(Rows)),
    iolist_to_binary(["<?xml version='1.0' encoding='UTF-8'?>\n",
                      stanza_xml:element_to_binary(Svg), "\n"]).

bar(I, {Label, Ratio, Kind, Detail}, Max) ->
    Y = ?TOP + I * ?ROW_H,
    Name = text(?LABEL_W, Y + 13, [{"text-anchor", "end"}], Label),
    case Ratio of
        undefined ->
            [Name, text(?BAR_X, Y + 13, [{"fill", "#888888"},
                                         {"font-style", "italic"}],
                        Detail)];
        _ ->
            W = max(1, round(?BAR_W * Ratio / Max)),
            [Name,
             el("rect", [{"x", int(?BAR_X)}, {"y", int(Y)}, {"width", int(W)},
                         {"height", "18"}, {"fill", colour(Kind)}], []),
             text(?BAR_X + W + 6, Y + 13, [], [ratio(Ratio), " (", Detail, ")"])]
    end.

one_line(Max, Height) ->
    X = ?BAR_X + round(?BAR_W / Max),
    [el("line", [{"x1", int(X)}, {"y1", int(?TOP - 8)}, {"x2", int(X)},
                 {"y2", int(Height - 26)}, {"stroke", "#444444"},
                 {"stroke-dasharray", "4 3"}], []),
     text(X, Height - 10, [{"text-anchor", "middle"}, {"fill", "#444444"}],
          "1.0 = stanza_stream pull")].

colour(stanza) -> "#2b6cb0";
colour(other) -> "#a0aec0";
colour(ceiling) -> "#68a36b".

ratio(R) when R >= 10 -> io_lib:format("~.1fx", [float(R)]);
ratio(R) -> io_lib:format("~.2fx", [float(R)]).

text(X, Y, Attrs, Text) ->
    el("text", [{"x", int(X)}, {"y", int(Y)} | Attrs], [{xmlcdata, bin(Text)}]).

el(Name, Attrs, Children) ->
    {xmlel, bin(Name), [{bin(K), bin(V)} || {K, V} <- Attrs], Children}.

int(N) ->
    integer_to_list(N).

bin(IoData) ->
    unicode:characters_to_binary(IoData).
