%% PropEr properties of stanza_jid, run from EUnit:
%%   - every accepted output of a profile is a fixed point:
%%     prep(prep(X)) =:= prep(X);
%%   - a parsed JID printed and parsed again is the same JID;
%%   - Nodeprep and Nameprep outputs are the case folding of the input
%%     whenever they accept it (the profiles share B.1, B.2 and NFKC).
%% Strings mix the classes where preparation does something: ASCII,
%% Latin letters and combining marks, Hangul jamo and syllables, CJK,
%% Hebrew and Arabic, compatibility characters, mapped-out characters,
%% prohibited and unassigned code points.
-module(stanza_jid_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").

fixed_point_test_() ->
    {timeout, 120, ?_assert(check(prop_fixed_point(), 3000))}.

reparse_test_() ->
    {timeout, 120, ?_assert(check(prop_reparse(), 2000))}.

fold_agrees_test_() ->
    {timeout, 120, ?_assert(check(prop_fold_agrees(), 2000))}.

check(Prop, NumTests) ->
    _ = rand:seed(exsplus, {14, 12, 2026}),
    proper:quickcheck(Prop, [{numtests, NumTests}, {to_file, user}]).

prop_fixed_point() ->
    ?FORALL({F, S}, {profile(), text()},
            %% collect: PropEr prints how many cases were accepted
            case stanza_jid:F(S) of
                {ok, Out} ->
                    proper:collect(accepted, ?WHENFAIL(
                        io:format("~p(~w) -> ~w -> ~w~n",
                                  [F, S, Out, stanza_jid:F(Out)]),
                        stanza_jid:F(Out) =:= {ok, Out}));
                {error, _} ->
                    proper:collect(refused, true)
            end).

prop_reparse() ->
    ?FORALL({L, D, R}, {proper_types:oneof([label(), text()]), domain(), text()},
            begin
                Text = iolist_to_binary([L, "@", D, "/", R]),
                case stanza_jid:parse(Text) of
                    {ok, J} ->
                        Again = stanza_jid:parse(stanza_jid:to_binary(J)),
                        proper:collect(accepted, ?WHENFAIL(
                            io:format("~w -> ~p -> ~p~n", [Text, J, Again]),
                            Again =:= {ok, J}));
                    {error, _} ->
                        proper:collect(refused, true)
                end
            end).

prop_fold_agrees() ->
    ?FORALL({F, S}, {proper_types:elements([nodeprep, nameprep]), text()},
            case stanza_jid:F(S) of
                {ok, Out} -> stanza_jid:tolower(S) =:= {ok, Out};
                {error, _} -> true
            end).

profile() ->
    proper_types:elements([nodeprep, nameprep, resourceprep, tolower]).

text() ->
    ?LAZY(?BIND(Cps, proper_types:list(code_point()),
                unicode:characters_to_binary(Cps))).

domain() ->
    ?LAZY(?BIND(Labels, proper_types:non_empty(proper_types:list(label())),
                iolist_to_binary(lists:join(".", Labels)))).

%% Mostly valid labels: letters first, then letters, digits, accents,
%% CJK, and now and then a hyphen, a combining mark or an ideographic
%% full stop (a label separator).
label() ->
    ?BIND({First, Cps},
          {proper_types:oneof([proper_types:range($a, $z), proper_types:range($A, $Z),
                               proper_types:range(16#C0, 16#17F)]),
           proper_types:list(
             proper_types:frequency([{8, proper_types:range($a, $z)},
                                     {2, proper_types:range($A, $Z)},
                                     {2, proper_types:range($0, $9)},
                                     {2, proper_types:range(16#C0, 16#17F)},
                                     {1, proper_types:range(16#4E00, 16#4E40)},
                                     {1, proper_types:elements([$-, 16#301, 16#3002])}]))},
          unicode:characters_to_binary([First | Cps])).

%% Mostly characters a profile accepts, so that most cases test the
%% property rather than a refusal; refused classes stay in, rarer.
code_point() ->
    proper_types:frequency(
      [{10, proper_types:oneof([proper_types:range($a, $z),
                                proper_types:range($A, $Z),
                                proper_types:range($0, $9)])},
       {1, proper_types:range($!, $~)},
       {4, proper_types:range(16#C0, 16#21F)},
       {3, proper_types:range(16#300, 16#34E)},
       {1, proper_types:range(16#386, 16#3CE)},
       {1, proper_types:range(16#1100, 16#1159)},
       {1, proper_types:range(16#1161, 16#11A2)},
       {1, proper_types:range(16#AC00, 16#AC40)},
       {2, proper_types:range(16#4E00, 16#4E40)},
       {1, proper_types:elements([16#0B47, 16#0B3E, 16#0B56, 16#0345, 16#0344,
                                  16#3099, 16#309A, 16#FF21, 16#FB01, 16#FDFA,
                                  16#2163, 16#3300, 16#00AD, 16#200B, 16#FEFF,
                                  16#FE0F, 16#00DF, 16#0130, 16#1E9B, 16#0390,
                                  16#1F80, 16#2126, 16#212B, 16#3002, 16#FF0E])},
       {1, proper_types:oneof([proper_types:range(16#5D0, 16#5EA),
                               proper_types:range(16#621, 16#63A),
                               proper_types:range(0, 16#1F),
                               proper_types:range(16#E000, 16#E010),
                               proper_types:range(16#220, 16#22F),
                               proper_types:range(16#10000, 16#10FFFF)])}]).
