%% EUnit tests of stanza_dedup: the window (count and age), atomic
%% recording under concurrent callers, bounded memory, freeing, the stanza
%% key helper and bad arguments.
-module(stanza_dedup_tests).

-include_lib("eunit/include/eunit.hrl").

new(Capacity, Ttl) ->
    stanza_dedup:new(#{capacity => Capacity, ttl_ms => Ttl}).

seen(T, Keys) ->
    [stanza_dedup:seen(T, K) || K <- Keys].

first_time_false_then_true_test() ->
    T = stanza_dedup:new(),
    ?assertEqual([false, true, true, false], seen(T, [<<"a">>, <<"a">>, "a", <<"b">>])).

iodata_keys_are_their_bytes_test() ->
    T = new(10, 60000),
    ?assertNot(stanza_dedup:seen(T, [<<"ab">>, $c, [<<"d">>]])),
    ?assert(stanza_dedup:seen(T, <<"abcd">>)),
    ?assertNot(stanza_dedup:seen(T, <<>>)),
    ?assert(stanza_dedup:seen(T, [])).

eviction_oldest_first_test() ->
    T = new(3, 60000),
    ?assertEqual([false, false, false], seen(T, [a(1), a(2), a(3)])),
    %% a(4) evicts a(1), the oldest; a(2) and a(3) stay.
    ?assertEqual([false, true, true], seen(T, [a(4), a(2), a(3)])),
    %% a(1) is recorded again, evicting a(2); then a(5) evicts a(3).
    ?assertEqual([false, false], seen(T, [a(1), a(5)])),
    ?assertEqual([true, true, true], seen(T, [a(4), a(1), a(5)])),
    ?assertEqual([false], seen(T, [a(2)])),
    ?assertEqual(#{size => 3, capacity => 3},
                 maps:with([size, capacity], stanza_dedup:stats(T))).

a(N) -> integer_to_binary(N).

%% A key leaves the window ttl_ms after it was first recorded, repeats
%% within the window do not extend it. The sleeps leave 400 ms of slack
%% either way.
ttl_test_() ->
    {timeout, 30, fun() ->
        T = new(100, 1000),
        ?assertNot(stanza_dedup:seen(T, <<"k">>)),
        timer:sleep(600),
        ?assert(stanza_dedup:seen(T, <<"k">>)),
        timer:sleep(600),
        ?assertNot(stanza_dedup:seen(T, <<"k">>)),
        ?assert(stanza_dedup:seen(T, <<"k">>))
    end}.

infinite_ttl_test() ->
    T = new(2, infinity),
    ?assertEqual([false, true], seen(T, [<<"x">>, <<"x">>])).

%% 8 processes see the same keys in different orders: each key is
%% answered false exactly once in all.
concurrent_callers_record_atomically_test_() ->
    {timeout, 60, fun() ->
        T = new(100000, 60000),
        Keys = [a(N) || N <- lists:seq(1, 20000)],
        Parent = self(),
        Pids = [spawn_link(fun() ->
                                   Order = shuffle(Keys, I),
                                   Firsts = [K || K <- Order,
                                                  not stanza_dedup:seen(T, K)],
                                   Parent ! {self(), Firsts}
                           end)
                || I <- lists:seq(1, 8)],
        Firsts = lists:append([receive {P, F} -> F end || P <- Pids]),
        ?assertEqual(lists:sort(Keys), lists:sort(Firsts))
    end}.

shuffle(L, Seed) ->
    _ = rand:seed(exsss, {Seed, Seed, Seed}),
    [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% 10M distinct keys through a 100k table: memory is what the table
%% allocated at creation, at most 64 bytes per entry, and the window holds
%% exactly the last 100k keys.
ten_million_keys_memory_bound_test_() ->
    {timeout, 120, fun() ->
        Capacity = 100000,
        T = new(Capacity, 3600000),
        #{memory := Mem0} = stanza_dedup:stats(T),
        ?assert(Mem0 =< 64 * Capacity),
        System0 = erlang:memory(system),
        ok = feed(T, 0, 10000000),
        #{memory := Mem1, size := Size} = stanza_dedup:stats(T),
        ?assertEqual(Mem0, Mem1),
        ?assertEqual(Capacity, Size),
        %% What the VM counts did not grow by more than noise either.
        ?assert(erlang:memory(system) - System0 < 8 * 1024 * 1024),
        ?assert(stanza_dedup:seen(T, <<(10000000 - 1):64>>)),
        ?assert(stanza_dedup:seen(T, <<(10000000 - Capacity):64>>)),
        ?assertNot(stanza_dedup:seen(T, <<(10000000 - Capacity - 1):64>>))
    end}.

feed(_T, N, N) ->
    ok;
feed(T, I, N) ->
    false = stanza_dedup:seen(T, <<I:64>>),
    feed(T, I + 1, N).

%% The table's memory is enif_alloc'ed: erlang:memory(system) sees a big
%% table come, and go when it is garbage-collected without close/1.
dropped_table_frees_memory_test_() ->
    {timeout, 60, fun() ->
        {Tables0, _} = stanza_ids_nif:live(),
        Before = erlang:memory(system),
        Self = self(),
        Pid = spawn(fun() ->
                            T = new(1000000, 60000),
                            false = stanza_dedup:seen(T, <<"k">>),
                            Self ! {made, erlang:memory(system)},
                            receive stop -> ok end
                    end),
        During = receive {made, M} -> M end,
        ?assert(During - Before > 32000000),
        Pid ! stop,
        ?assert(poll(fun() ->
                             {Tables, _} = stanza_ids_nif:live(),
                             Tables =< Tables0 andalso
                                 erlang:memory(system) < During - 32000000
                     end, 20000))
    end}.

close_frees_at_once_test() ->
    {Tables0, _} = stanza_ids_nif:live(),
    T = new(10, 1000),
    ?assertEqual({Tables0 + 1, ok}, {element(1, stanza_ids_nif:live()),
                                     stanza_dedup:close(T)}),
    ?assertError(closed, stanza_dedup:seen(T, <<"k">>)),
    ?assertError(closed, stanza_dedup:stats(T)),
    ?assertEqual(ok, stanza_dedup:close(T)).

poll(Fun, Timeout) ->
    stanza_test_util:poll(Fun, Timeout).

bad_arguments_test() ->
    T = new(10, 1000),
    ?assertError(badarg, stanza_dedup:seen(make_ref(), <<"k">>)),
    ?assertError(badarg, stanza_dedup:seen(not_a_table, <<"k">>)),
    ?assertError(badarg, stanza_dedup:seen(T, 42)),
    ?assertError(badarg, stanza_dedup:seen(T, [256])),
    ?assertError(badarg, stanza_dedup:seen(T, key)),
    ?assertError(badarg, stanza_dedup:seen(T, binary:copy(<<0>>, 1048577))),
    ?assertNot(stanza_dedup:seen(T, binary:copy(<<0>>, 1048576))),
    ?assertError(badarg, stanza_dedup:stats(self())),
    ?assertError(badarg, stanza_dedup:close(<<>>)),
    [?assertError({bad_option, K, V}, stanza_dedup:new(#{K => V}))
     || {K, V} <- [{capacity, 0}, {capacity, -1}, {capacity, 1.5},
                   {capacity, 1 bsl 28 + 1}, {ttl_ms, 0}, {ttl_ms, forever},
                   {ttl_ms, 1 bsl 62}, {size, 3}, {ttl, 1000}]],
    ?assertError({bad_option, ttl, 1000}, stanza_dedup:new(#{capacity => 10, ttl => 1000})),
    [?assertError({bad_options, Opts}, stanza_dedup:new(Opts))
     || Opts <- [[{capacity, 3}], capacity]],
    %% The table still works.
    ?assertNot(stanza_dedup:seen(T, <<"k">>)).

%%--------------------------------------------------------------------
%% stanza_key/1

stanza_key_all_forms_agree_test() ->
    Bin = {xmlelement, <<"message">>,
           [{<<"to">>, <<"r@x">>}, {<<"from">>, <<"j@x/b">>},
            {<<"id">>, <<"caf\xc3\xa9">>}, {<<"type">>, <<"chat">>}], []},
    Legacy = {xmlelement, "message",
              [{"to", "r@x"}, {"from", "j@x/b"}, {"id", "caf\xc3\xa9"},
               {"type", "chat"}], []},
    Unicode = {xmlelement, "message",
               [{"from", "j@x/b"}, {"id", [$c, $a, $f, 16#e9]}, {"type", "chat"}],
               []},
    Xmlel = {xmlel, <<"message">>,
             [{<<"type">>, <<"chat">>}, {<<"id">>, <<"caf\xc3\xa9">>},
              {<<"from">>, <<"j@x/b">>}], [{xmlcdata, <<"hi">>}]},
    Keys = [stanza_dedup:stanza_key(S) || S <- [Bin, Legacy, Xmlel]],
    ?assertEqual(1, length(lists:usort(Keys))),
    %% Code points above 255 make it Unicode text: é is 233, so a list
    %% holding it alone is taken as bytes; add one to check the fallback.
    ?assertNotEqual(hd(Keys), stanza_dedup:stanza_key(Unicode)),
    ?assertEqual(stanza_dedup:stanza_key({xmlel, <<"m">>, [{<<"id">>, <<"\x{100}"/utf8>>}], []}),
                 stanza_dedup:stanza_key({xmlelement, "m", [{"id", [16#100]}], []})).

stanza_key_distinguishes_test() ->
    K = fun(Attrs) -> stanza_dedup:stanza_key({xmlel, <<"iq">>, Attrs, []}) end,
    Keys = [K([]),
            K([{<<"id">>, <<>>}]),
            K([{<<"from">>, <<>>}]),
            K([{<<"id">>, <<"1">>}]),
            K([{<<"id">>, <<"1">>}, {<<"type">>, <<"get">>}]),
            K([{<<"id">>, <<"1">>}, {<<"type">>, <<"set">>}]),
            K([{<<"from">>, <<"1">>}]),
            K([{<<"from">>, <<"a">>}, {<<"id">>, <<"bc">>}]),
            K([{<<"from">>, <<"ab">>}, {<<"id">>, <<"c">>}])],
    ?assertEqual(length(Keys), length(lists:usort(Keys))),
    %% Other attributes and the children do not matter.
    ?assertEqual(K([{<<"id">>, <<"1">>}]),
                 K([{<<"to">>, <<"x">>}, {<<"id">>, <<"1">>}])).

stanza_key_in_a_table_test() ->
    T = new(100, 60000),
    S = {xmlel, <<"message">>, [{<<"from">>, <<"a@b">>}, {<<"id">>, <<"7">>}], []},
    ?assertNot(stanza_dedup:seen(T, stanza_dedup:stanza_key(S))),
    ?assert(stanza_dedup:seen(T, stanza_dedup:stanza_key(S))).

stanza_key_bad_arguments_test() ->
    [?assertError(badarg, stanza_dedup:stanza_key(S))
     || S <- [{xmlcdata, <<"x">>}, {xmlel, <<"a">>, not_a_list, []},
              {xmlel, <<"a">>, [bad], []}, {xmlel, <<"a">>, [{<<"id">>, 1}], []},
              {xmlelement, "a", [{"id", [-1]}], []}, <<"<iq/>">>]].
