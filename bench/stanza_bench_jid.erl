%% @doc Benchmark section: stringprep and JIDs, stanza against
%% fast_stringprep (Debian's erlang-p1-stringprep, the `stringprep'
%% module of p1_stringprep-1.0.29) in the same VM, interleaved.
%%
%% ```
%% make bench-jid                      (or, from a shell with both on the path:)
%% stanza_bench_jid:run(#{runs => 5}).
%% '''
%% Options: `runs' (timed runs per cell, default 7), `rounds' (passes
%% over a 1,000-string set per run, default 100).
%%
%% Table 1, calls/s: the three profiles on four sets of 1,000 strings
%% (ASCII names, names with Latin accents, CJK, a mix of scripts) and
%% whole-JID parsing on two sets. stanza is `stanza_jid:nodeprep/1' and
%% so on (which return `{ok, Binary}'); fast_stringprep is
%% `stringprep:nodeprep/1' and so on (a binary). A JID parse for
%% fast_stringprep is what ejabberd's jid module does with it: split at
%% '/' and '@', then the three profiles. Each run is a fresh process that
%% calls the function on every string of the set `rounds' times; runs
%% alternate between the two libraries; the cell is the median with the
%% min-max spread.
%%
%% Table 2, the longest calls: microseconds per call on the worst
%% 1,023-byte inputs we know (the largest expansion, a long run of
%% combining marks to sort, 341 CJK ideographs), which bound how long one
%% call holds a scheduler.
%%
%% When fast_stringprep is not loadable, or the `stringprep' module on
%% the path is stanza's compat one, its cells say so and the run goes on.
-module(stanza_bench_jid).

-export([tables/1, run/1]).

-define(SET_SIZE, 1000).

%% @doc Measures and prints the tables as text; returns them.
-spec run(map()) -> [stanza_bench_report:table()].
run(Opts) ->
    Tables = tables(Opts),
    [io:put_chars([stanza_bench_report:text(T), "\n"]) || T <- Tables],
    Tables.

%% @doc The section's tables; one progress line per row on stderr.
-spec tables(map()) -> [stanza_bench_report:table()].
tables(Opts0) ->
    Opts = maps:merge(#{runs => 7, rounds => 100}, Opts0),
    Fast = fast_stringprep(),
    [rates_table(Fast, Opts), worst_table(Fast)].

%%--------------------------------------------------------------------
%% fast_stringprep in this VM, if it is the real one

fast_stringprep() ->
    case code:which(stringprep) of
        Path when is_list(Path) ->
            case string:find(Path, "p1_stringprep") of
                nomatch -> {unavailable, "stringprep on the path is not fast_stringprep"};
                _ -> start_fast(Path)
            end;
        _ ->
            {unavailable, "fast_stringprep not installed"}
    end.

start_fast(Path) ->
    case catch stringprep:start() of
        ok -> {ok, Path};
        Other -> {unavailable, stanza_bench_util:flat("stringprep:start() gave ~p", [Other])}
    end.

%%--------------------------------------------------------------------
%% Table 1: calls per second

rates_table(Fast, Opts) ->
    Sets = [{"ASCII names", ascii}, {"Latin accents", latin}, {"CJK", cjk},
            {"mixed scripts", mixed}],
    Rows = [rate_row(Name, F, set(Set), Fast, Opts)
            || {Name, Set} <- Sets, F <- [nodeprep, nameprep, resourceprep]]
        ++ [rate_row(Name, parse, jids(Set), Fast, Opts)
            || {Name, Set} <- [{"ASCII JIDs", ascii}, {"mixed-script JIDs", mixed}]],
    #{id => jid_rates,
      title => "stringprep and JIDs: calls/s (median of runs, min-max)",
      columns => [{"set", text}, {"function", text},
                  {"stanza calls/s", count}, {"stanza min-max", range},
                  {"fast_stringprep calls/s", count}, {"fast_stringprep min-max", range},
                  {"stanza / fast_stringprep", ratio}],
      rows => Rows,
      notes => notes(Fast, Opts)}.

notes({ok, Path}, #{runs := Runs, rounds := Rounds}) ->
    [stanza_bench_util:flat("~b runs per cell, alternating libraries; each run "
                            "a fresh process making ~b calls (~b passes over ~b strings).",
                            [Runs, Rounds * ?SET_SIZE, Rounds, ?SET_SIZE]),
     "stanza: stanza_jid:nodeprep/1 ... ({ok, Binary}); parse is stanza_jid:parse/1.",
     "fast_stringprep: " ++ Path ++ "; parse is binary:split at / and @ "
     "then its three profiles, as ejabberd's jid module does."];
notes({unavailable, Why}, _) ->
    ["fast_stringprep: " ++ Why].

rate_row(SetName, F, Inputs, Fast, #{runs := Runs, rounds := Rounds}) ->
    stanza_bench_util:progress("jid: ~s ~p...", [SetName, F]),
    Ours = fun() -> calls_per_s(stanza_fun(F), Inputs, Rounds) end,
    Theirs = case Fast of
                 {ok, _} -> fun() -> calls_per_s(fast_fun(F), Inputs, Rounds) end;
                 _ -> undefined
             end,
    _ = Ours(), % warm up both once
    _ = Theirs =/= undefined andalso Theirs(),
    Pairs = [{Ours(), Theirs =/= undefined andalso Theirs()}
             || _ <- lists:seq(1, Runs)],
    S = stanza_bench_util:summary([A || {A, _} <- Pairs]),
    T = case Theirs of
            undefined -> undefined;
            _ -> stanza_bench_util:summary([B || {_, B} <- Pairs])
        end,
    stanza_bench_util:progress(" ~s vs ~s calls/s~n",
                               [stanza_bench_report:num(maps:get(median, S)),
                                case T of undefined -> "-";
                                    _ -> stanza_bench_report:num(maps:get(median, T))
                                end]),
    [SetName, atom_to_list(F), maps:get(median, S), range(S)
     | case T of
           undefined -> [undefined, undefined, undefined];
           _ -> [maps:get(median, T), range(T), maps:get(median, S) / maps:get(median, T)]
       end].

range(#{min := Min, max := Max}) -> {Min, Max}.

calls_per_s(Fun, Inputs, Rounds) ->
    stanza_bench_util:in_fresh_process(
      fun() ->
              Seconds = stanza_bench_util:seconds(fun() -> rounds(Fun, Inputs, Rounds) end),
              Rounds * length(Inputs) / Seconds
      end).

rounds(_Fun, _Inputs, 0) -> ok;
rounds(Fun, Inputs, N) ->
    each(Fun, Inputs),
    rounds(Fun, Inputs, N - 1).

each(_Fun, []) -> ok;
each(Fun, [S | T]) ->
    _ = Fun(S),
    each(Fun, T).

stanza_fun(nodeprep) -> fun stanza_jid:nodeprep/1;
stanza_fun(nameprep) -> fun stanza_jid:nameprep/1;
stanza_fun(resourceprep) -> fun stanza_jid:resourceprep/1;
stanza_fun(parse) -> fun stanza_jid:parse/1.

fast_fun(parse) -> fun fast_parse/1;
fast_fun(F) -> fun stringprep:F/1.

%% What ejabberd's jid:decode/1 does with fast_stringprep.
fast_parse(J) ->
    {Bare, R} = case binary:split(J, <<"/">>) of
                    [B, Res] -> {B, Res};
                    [B] -> {B, <<>>}
                end,
    {U, S} = case binary:split(Bare, <<"@">>) of
                 [User, Server] -> {User, Server};
                 [Server] -> {<<>>, Server}
             end,
    case {stringprep:nodeprep(U), stringprep:nameprep(S), stringprep:resourceprep(R)} of
        {error, _, _} -> error;
        {_, error, _} -> error;
        {_, _, error} -> error;
        Parts -> Parts
    end.

%%--------------------------------------------------------------------
%% Table 2: the longest calls

worst_table(Fast) ->
    Inputs = [{"341 x U+FDFA (1,023 bytes, 18 code points each)", nameprep,
               binary:copy(<<16#FDFA/utf8>>, 341)},
              {"a + 511 combining marks, classes alternating", resourceprep,
               <<"a", (binary:copy(<<16#323/utf8, 16#301/utf8>>, 255))/binary, 16#323/utf8>>},
              {"341 CJK ideographs (1,023 bytes)", nodeprep,
               unicode:characters_to_binary([16#4E00 + I || I <- lists:seq(0, 340)])},
              {"1,023 ASCII bytes, upper case", nodeprep, binary:copy(<<"A">>, 1023)},
              {"10 MB of ASCII", nodeprep, binary:copy(<<"a">>, 10000000)}],
    Rows = [worst_row(Name, F, In, Fast) || {Name, F, In} <- Inputs],
    #{id => jid_worst,
      title => "stringprep: the longest calls (microseconds per call, median of 5 runs of 200 calls; 3 calls for 10 MB)",
      columns => [{"input", text}, {"function", text}, {"stanza us/call", number},
                  {"stanza result", text}, {"fast_stringprep us/call", number}],
      rows => Rows,
      notes => ["Inputs longer than 1,023 bytes are refused by stanza before they are read."]}.

worst_row(Name, F, In, Fast) ->
    stanza_bench_util:progress("jid: worst case ~s...", [Name]),
    Ours = us_per_call(stanza_fun(F), In),
    Theirs = case Fast of
                 {ok, _} -> us_per_call(fast_fun(F), In);
                 _ -> undefined
             end,
    Result = case (stanza_fun(F))(In) of
                 {ok, Out} -> stanza_bench_util:flat("ok, ~b bytes", [byte_size(Out)]);
                 {error, Why} -> atom_to_list(Why)
             end,
    stanza_bench_util:progress(" ~s us~n", [stanza_bench_report:num(Ours)]),
    [Name, atom_to_list(F), Ours, Result, Theirs].

us_per_call(Fun, In) ->
    %% 200 calls, or 3 on the 10 MB input (fast_stringprep reads it all)
    N = case byte_size(In) > 100000 of true -> 3; false -> 200 end,
    Runs = [stanza_bench_util:in_fresh_process(
              fun() ->
                      stanza_bench_util:seconds(
                        fun() -> [Fun(In) || _ <- lists:seq(1, N)] end) * 1.0e6 / N
              end) || _ <- lists:seq(1, 5)],
    stanza_bench_util:median(Runs).

%%--------------------------------------------------------------------
%% The sets, the same on every run (a fixed seed)

set(Kind) ->
    _ = rand:seed(exsss, {14, 7, 2026}),
    [unicode:characters_to_binary(name(Kind)) || _ <- lists:seq(1, ?SET_SIZE)].

jids(Kind) ->
    _ = rand:seed(exsss, {14, 8, 2026}),
    [unicode:characters_to_binary(
       [name(Kind), "@", domain(Kind), "/", resource(Kind)])
     || _ <- lists:seq(1, ?SET_SIZE)].

name(ascii) ->
    [pick(lists:seq($a, $z) ++ lists:seq($A, $Z) ++ "0123456789._-")
     || _ <- lists:seq(1, 4 + rand:uniform(10))];
name(latin) ->
    %% accented letters among plain ones, some capitals
    [case rand:uniform(4) of
         1 -> pick([16#E9, 16#E8, 16#FC, 16#F6, 16#E4, 16#F1, 16#E7, 16#C9, 16#DC,
                    16#C5, 16#F8, 16#E1, 16#ED, 16#F3, 16#FA, 16#159, 16#161, 16#142]);
         _ -> pick(lists:seq($a, $z) ++ "JMS")
     end || _ <- lists:seq(1, 4 + rand:uniform(8))];
name(cjk) ->
    [16#4E00 + rand:uniform(16#5000) || _ <- lists:seq(1, 2 + rand:uniform(4))];
name(mixed) ->
    lists:append([name(pick([ascii, latin, cjk, cyrillic, greek]))
                  || _ <- lists:seq(1, 2)]);
name(cyrillic) ->
    [pick(lists:seq(16#410, 16#44F)) || _ <- lists:seq(1, 3 + rand:uniform(5))];
name(greek) ->
    [pick(lists:seq(16#3B1, 16#3C9) ++ lists:seq(16#391, 16#3A9) -- [16#3A2])
     || _ <- lists:seq(1, 3 + rand:uniform(5))].

domain(ascii) -> pick(["example.com", "Example.ORG", "chat.example.net", "xmpp.jabber.org"]);
domain(mixed) -> pick(["example.com", "bücher.example", "Müller.DE", "例え.jp", "пример.рф"]).

resource(ascii) -> pick(["balcony", "Home", "phone-1", "Gajim.X1"]);
resource(mixed) -> pick(["balcony", "Téléphone", "手机", "Ноутбук"]).

pick(L) -> lists:nth(rand:uniform(length(L)), L).
