%% PropEr properties of stanza_dedup and stanza_tracker against pure
%% Erlang models, run from EUnit: random operation sequences through the
%% NIF must answer what the models answer.
%%
%% PropEr's macros come from stanza_proper.hrl (Debian has no proper.hrl).
-module(stanza_ids_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").


dedup_matches_model_test_() ->
    {timeout, 120, ?_assert(check(prop_dedup_matches_model(), 300))}.

tracker_matches_model_test_() ->
    {timeout, 120, ?_assert(check(prop_tracker_matches_model(), 300))}.

check(Prop, NumTests) ->
    _ = rand:seed(exsplus, {5, 11, 2026}),
    proper:quickcheck(Prop, [{numtests, NumTests}, {to_file, user}]).

%%--------------------------------------------------------------------
%% Dedup: with no expiry, a key is seen when its latest recording is among
%% the last Capacity recordings.

prop_dedup_matches_model() ->
    ?FORALL({Capacity, Keys},
            {proper_types:range(1, 8),
             proper_types:list(dedup_key())},
            begin
                T = stanza_dedup:new(#{capacity => Capacity, ttl_ms => infinity}),
                Got = [stanza_dedup:seen(T, K) || K <- Keys],
                Got =:= dedup_model(Capacity, Keys, [], [])
            end).

%% Few distinct keys, as iodata of several shapes with the same bytes.
dedup_key() ->
    proper_types:oneof([proper_types:elements([<<"a">>, <<"b">>, <<"c">>,
                                               <<"d">>, <<>>]),
                        proper_types:elements([["a"], [<<"b">>], "cd", [[]]])]).

%% Log: recorded keys' bytes, newest first.
dedup_model(_Capacity, [], _Log, Acc) ->
    lists:reverse(Acc);
dedup_model(Capacity, [K | Ks], Log, Acc) ->
    Bytes = iolist_to_binary(K),
    Recent = lists:sublist(Log, Capacity),
    case lists:member(Bytes, Recent) of
        true -> dedup_model(Capacity, Ks, Log, [true | Acc]);
        false -> dedup_model(Capacity, Ks, [Bytes | Log], [false | Acc])
    end.

%%--------------------------------------------------------------------
%% Tracker: track/take against a map, with owners among two processes.

prop_tracker_matches_model() ->
    ?FORALL({Capacity, Ops},
            {proper_types:range(1, 6), proper_types:list(tracker_op())},
            begin
                Owners = list_to_tuple([self() | [spawn_owner() || _ <- [1, 2]]]),
                T = stanza_tracker:new(#{capacity => Capacity}),
                Ok = run_ops(T, Capacity, Owners, Ops, #{}),
                [exit(element(I, Owners), kill) || I <- [2, 3]],
                Ok
            end).

spawn_owner() ->
    spawn(fun() -> receive stop -> ok end end).

tracker_op() ->
    Key = proper_types:oneof([proper_types:elements([a, b, c]),
                              {proper_types:elements([<<"j1">>, <<"j2">>]),
                               proper_types:elements([<<"1">>, 1, "1"])}]),
    proper_types:oneof([{track, Key, proper_types:range(1, 3)},
                        {take, Key}]).

run_ops(T, _Capacity, _Owners, [], Model) ->
    maps:get(size, stanza_tracker:stats(T)) =:= map_size(Model);
run_ops(T, Capacity, Owners, [{track, K, O} | Ops], Model) ->
    Owner = element(O, Owners),
    Want = case Model of
               #{K := _} -> {error, exists};
               _ when map_size(Model) >= Capacity -> {error, full};
               _ -> ok
           end,
    Got = stanza_tracker:track(T, K, Owner, infinity),
    Got =:= Want andalso
        run_ops(T, Capacity, Owners, Ops,
                case Got of ok -> Model#{K => Owner}; _ -> Model end);
run_ops(T, Capacity, Owners, [{take, K} | Ops], Model) ->
    Want = case Model of #{K := Owner} -> {ok, Owner}; _ -> error end,
    stanza_tracker:take(T, K) =:= Want andalso
        run_ops(T, Capacity, Owners, Ops, maps:remove(K, Model)).
