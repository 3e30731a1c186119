%% EUnit tests of the compat module `stringprep': fast_stringprep 1.0.29's
%% functions on stanza's C stringprep, and a differential test against
%% the real fast_stringprep (Debian's erlang-p1-stringprep), which runs in
%% a peer VM whose code path holds no compat ebin (the module names are
%% the same).
-module(stringprep_tests).

-include_lib("eunit/include/eunit.hrl").

-define(FUNS, [nodeprep, nameprep, resourceprep, tolower, tolower_nofilter]).

examples_test_() ->
    [?_assertEqual(ok, stringprep:start()),
     ?_assertEqual(<<"juliet">>, stringprep:nodeprep(<<"Juliet">>)),
     ?_assertEqual(<<"juliet">>, stringprep:nodeprep(["Ju", [<<"li">>], "et"])),
     ?_assertEqual(<<"example.com">>, stringprep:nameprep(<<"Example.COM">>)),
     ?_assertEqual(<<"Balcony">>, stringprep:resourceprep(<<"Balcony">>)),
     ?_assertEqual(<<"dž a"/utf8>>, stringprep:tolower(<<"Ǆ A"/utf8>>)),
     ?_assertEqual(error, stringprep:nodeprep(<<"a b">>)),
     ?_assertEqual(error, stringprep:tolower(<<"ȡ"/utf8>>)),
     ?_assertEqual(<<"ȡ"/utf8>>, stringprep:tolower_nofilter(<<"ȡ"/utf8>>)),
     ?_assertEqual(error, stringprep:tolower_nofilter(<<"אa"/utf8>>)),
     ?_assertEqual(<<"a", 0>>, stringprep:nameprep(<<"A", 0>>)),
     %% fixed: fast_stringprep gives <<"user/x">> and <<"a", 0>>
     ?_assertEqual(error, stringprep:nameprep(<<"User", 16#C0, 16#AF, "X">>)),
     ?_assertEqual(error, stringprep:nameprep(<<"A", 16#C0, 16#80>>)),
     ?_assertEqual(error, stringprep:resourceprep(<<"x", 16#ED, 16#A0, 16#80>>)),
     %% longer than a JID part: refused unread
     ?_assertEqual(error, stringprep:nodeprep(binary:copy(<<"a">>, 1024))),
     ?_assertEqual(error, stringprep:nodeprep(lists:duplicate(10000000, $a))),
     %% output may pass 1023 bytes, as with fast_stringprep
     ?_assertEqual(341 * 33, byte_size(stringprep:nameprep(binary:copy(<<16#FDFA/utf8>>, 341)))),
     ?_assertError(badarg, stringprep:nodeprep(foo)),
     ?_assertError(badarg, stringprep:tolower([foo]))].

%% Every answer of ours equals fast_stringprep's, or differs for one of
%% the reasons doc/jid.md lists, each checked here:
%%   invalid_utf8   the input is not UTF-8 (OTP's strict decoder says so)
%%                  and we answer error;
%%   not_nfkc       fast_stringprep's output is not in NFKC (OTP's
%%                  normalizer, which agrees with Unicode 3.2 on characters
%%                  assigned in 3.2, changes it) and ours is;
%%   unassigned     tolower_nofilter only (the one function that lets
%%                  unassigned code points through): the input holds code
%%                  points unassigned in Unicode 3.2, which 3.2 (and
%%                  libidn, and we) give combining class 0, so OTP's
%%                  newer normalizer is no judge; the ordering of marks
%%                  around them differs.
%% Anything else fails the test.
differential_test_() ->
    {timeout, 300, fun differential/0}.

differential() ->
    Cases = cases(),
    Theirs = in_real_stringprep(Cases),
    Results = [{F, S, stringprep:F(S), T} || {{F, S}, T} <- lists:zip(
                                                 [{F, S} || F <- ?FUNS, S <- Cases],
                                                 Theirs)],
    Diffs = [{why(F, Ours, T, S), F, S, Ours, T} || {F, S, Ours, T} <- Results,
                                                     Ours =/= T],
    Unexplained = [D || {unexplained, _, _, _, _} = D <- Diffs],
    Counts = lists:foldl(fun({Why, F, _, _, _}, M) ->
                                 maps:update_with({F, Why}, fun(N) -> N + 1 end, 1, M)
                         end, #{}, Diffs),
    Same = length([ok || {_, _, O, T} <- Results, O =:= T]),
    ?debugFmt("~b cases x ~b functions: ~b answers equal, ~b differ: ~ts",
              [length(Cases), length(?FUNS), Same, length(Diffs),
               lists:join(", ", [io_lib:format("~p ~p ~b", [F, W, N])
                                 || {{F, W}, N} <- lists:sort(maps:to_list(Counts))])]),
    ?assertEqual([], [{F, cps(S), cps(O), cps(T)}
                      || {_, F, S, O, T} <- lists:sublist(Unexplained, 10)]).

%% Code points in hex, to read a failure.
cps(B) when is_binary(B) ->
    case unicode:characters_to_list(B) of
        L when is_list(L) -> lists:flatten([io_lib:format("~.16B ", [C]) || C <- L]);
        _ -> B
    end;
cps(Other) ->
    Other.

why(_F, error, _Theirs, S) ->
    case unicode:characters_to_binary(S) of
        S -> unexplained;
        _ -> invalid_utf8
    end;
why(F, Ours, Theirs, S) when is_binary(Ours), is_binary(Theirs) ->
    NotNfkc = unicode:characters_to_nfkc_binary(Theirs) =/= Theirs andalso
        unicode:characters_to_nfkc_binary(Ours) =:= Ours,
    if NotNfkc -> not_nfkc;
       F =:= tolower_nofilter -> unassigned_or(S, unexplained);
       true -> unexplained
    end;
why(_, _, _, _) ->
    unexplained.

%% Whether S holds a code point unassigned in Unicode 3.2 (by stanza's
%% tables, which test/c/stringprep_diff.c checks code point by code
%% point against libidn's).
unassigned_or(S, Otherwise) ->
    case [C || C <- unicode:characters_to_list(S),
               stanza_jid:resourceprep(<<C/utf8>>) =:= {error, unassigned}] of
        [] -> Otherwise;
        _ -> unassigned
    end.

%% The real fast_stringprep in a fresh VM with the default code path.
in_real_stringprep(Cases) ->
    {ok, Peer, _} = peer:start(#{connection => standard_io,
                                 env => [{"ERL_LIBS", ""}]}),
    try
        Where = peer:call(Peer, code, which, [stringprep]),
        ?assertNotEqual(nomatch, string:find(Where, "p1_stringprep")),
        ok = peer:call(Peer, stringprep, start, []),
        lists:append([peer:call(Peer, lists, map, [fun stringprep:F/1, Cases], 120000)
                      || F <- ?FUNS])
    after
        peer:stop(Peer)
    end.

%% ~2,600 strings: ASCII names, Latin letters precomposed and with
%% combining marks, CJK and Hangul, Hebrew and Arabic, compatibility
%% characters, mapped-out, prohibited and unassigned characters, NUL and
%% controls, invalid UTF-8.
cases() ->
    _ = rand:seed(exsss, {14, 3, 2026}),
    Classes = [{fun() -> word(ascii(), 1, 16) end, 400},
               {fun() -> word(range(16#C0, 16#24F) ++ "abcxyz", 1, 10) end, 300},
               {fun() -> combining() end, 400},
               {fun() -> word(range(16#4E00, 16#4F00) ++ range(16#AC00, 16#AD00), 1, 6) end, 200},
               {fun() -> word(range(16#5D0, 16#5EA) ++ range(16#628, 16#63A) ++ "1a. ", 1, 6) end, 200},
               {fun() -> word([16#FDFA, 16#FB01, 16#2163, 16#3300, 16#FF21, 16#00BD,
                               16#00AD, 16#200B, 16#FEFF, 16#00DF, 16#0130, 16#0390,
                               $A, $b], 1, 5) end, 200},
               {fun() -> word([0, 1, 16#1F, 16#7F, $\s, $@, $/, $", $&, $:, 16#A0,
                               16#E000, 16#FFFF, 16#221, 16#0870, $a], 1, 5) end, 200},
               {fun() -> word(range(16#300, 16#370) ++ "aeoAEO", 1, 8) end, 300}],
    Texts = [unicode:characters_to_binary(Gen()) || {Gen, N} <- Classes,
                                                    _ <- lists:seq(1, N)],
    Texts ++ [invalid_utf8() || _ <- lists:seq(1, 300)].

combining() ->
    lists:append([[pick("aeiouncAEIOUNC" ++ [16#C5, 16#E7, 16#0B47, 16#1100, 16#AC00])
                   | word(range(16#300, 16#36F) ++ [16#0591, 16#05B0, 16#064B, 16#0651,
                                                    16#093C, 16#0B3E, 16#0B56, 16#3099,
                                                    16#0345, 16#0344, 16#1161],
                          0, 4)]
                  || _ <- lists:seq(1, rand:uniform(4))]).

invalid_utf8() ->
    Bad = pick([<<16#C0, 16#AF>>, <<16#C0, 16#80>>, <<16#E0, 16#80, 16#AF>>,
                <<16#F0, 16#80, 16#80, 16#AF>>, <<16#ED, 16#A0, 16#80>>,
                <<16#F4, 16#90, 16#80, 16#80>>, <<16#FF>>, <<16#80>>, <<16#C3>>,
                <<16#E2, 16#82>>]),
    <<(unicode:characters_to_binary(word(ascii(), 0, 4)))/binary, Bad/binary,
      (unicode:characters_to_binary(word(ascii(), 0, 4)))/binary>>.

ascii() -> range($a, $z) ++ range($A, $Z) ++ range($0, $9) ++ "._-".

range(A, B) -> lists:seq(A, B).

word(Alphabet, Min, Max) ->
    [pick(Alphabet) || _ <- lists:seq(1, Min + rand:uniform(Max - Min + 1) - 1)].

pick(L) -> lists:nth(rand:uniform(length(L)), L).
