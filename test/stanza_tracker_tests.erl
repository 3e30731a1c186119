%% EUnit tests of stanza_tracker: take exactly once under races, timeouts
%% delivered exactly once, dead owners' entries dropped, capacity, exact
%% keys, freeing of a dropped tracker and bad arguments.
-module(stanza_tracker_tests).

-include_lib("eunit/include/eunit.hrl").

-define(JID, <<"juliet@example.com/balcony">>).

size_of(T) ->
    maps:get(size, stanza_tracker:stats(T)).

track_take_test() ->
    T = stanza_tracker:new(),
    Key = {?JID, stanza_ids:new_id()},
    ?assertEqual(ok, stanza_tracker:track(T, Key, self(), 60000)),
    ?assertEqual(1, size_of(T)),
    ?assertEqual({ok, self()}, stanza_tracker:take(T, Key)),
    ?assertEqual(error, stanza_tracker:take(T, Key)),
    ?assertEqual(0, size_of(T)).

%% natter routed replies by JID: two requests to one peer are two keys
%% here, each taken by its own reply.
two_requests_to_one_peer_test() ->
    T = stanza_tracker:new(),
    Other = spawn_link(fun() -> receive stop -> ok end end),
    ?assertEqual(ok, stanza_tracker:track(T, {?JID, <<"1">>}, self(), 60000)),
    ?assertEqual(ok, stanza_tracker:track(T, {?JID, <<"2">>}, Other, 60000)),
    ?assertEqual({ok, Other}, stanza_tracker:take(T, {?JID, <<"2">>})),
    ?assertEqual({ok, self()}, stanza_tracker:take(T, {?JID, <<"1">>})),
    Other ! stop.

keys_compare_exactly_test() ->
    T = stanza_tracker:new(),
    Keys = [{?JID, <<"1">>}, {?JID, "1"}, {?JID, 1}, {?JID, 1.0}, 1, <<>>, [],
            {<<"juliet@example.com">>, <<"1">>}, #{a => 1},
            binary:copy(<<"x">>, 100000)],
    [?assertEqual(ok, stanza_tracker:track(T, K, self(), 60000)) || K <- Keys],
    [?assertEqual({error, exists}, stanza_tracker:track(T, K, self(), 60000))
     || K <- Keys],
    ?assertEqual(error, stanza_tracker:take(T, {?JID, <<"2">>})),
    [?assertEqual({ok, self()}, stanza_tracker:take(T, K)) || K <- Keys],
    ?assertEqual(0, size_of(T)).

%% Keys come back in timeout messages exactly as they were tracked, in
%% the compact form the tracker uses for tuples of binaries, integers and
%% atoms as in the external format it falls back to for anything else.
timeout_returns_key_exactly_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Deep = lists:foldl(fun(_, Acc) -> {Acc} end, x, lists:seq(1, 10)),
        Keys = [{?JID, <<"1">>}, {<<"j">>, 1, atom, {nested, -5}},
                {-9223372036854775808, 9223372036854775807},
                1 bsl 64, -(1 bsl 64), 'caf\x{e9}', '\x{20ac}', Deep,
                {<<1:1>>}, {?JID, "1"}, [a | b], {}, <<>>,
                binary:copy(<<"k">>, 300), self(), make_ref()],
        [ok = stanza_tracker:track(T, K, self(), 0) || K <- Keys],
        Got = receive_timeouts(length(Keys)),
        ?assertEqual(lists:sort(Keys), lists:sort(Got)),
        [?assert(lists:any(fun(G) -> G =:= K end, Got)) || K <- Keys]
    end}.

full_test() ->
    T = stanza_tracker:new(#{capacity => 2}),
    ?assertEqual(ok, stanza_tracker:track(T, a, self(), 60000)),
    ?assertEqual(ok, stanza_tracker:track(T, b, self(), infinity)),
    ?assertEqual({error, full}, stanza_tracker:track(T, c, self(), 60000)),
    ?assertEqual({ok, self()}, stanza_tracker:take(T, a)),
    ?assertEqual(ok, stanza_tracker:track(T, c, self(), 60000)),
    ?assertEqual(#{size => 2, capacity => 2},
                 maps:with([size, capacity], stanza_tracker:stats(T))).

dead_owner_is_refused_test() ->
    T = stanza_tracker:new(),
    Dead = spawn(fun() -> ok end),
    Ref = monitor(process, Dead),
    receive {'DOWN', Ref, _, _, _} -> ok end,
    ?assertEqual({error, noproc}, stanza_tracker:track(T, k, Dead, 60000)),
    ?assertEqual(0, size_of(T)),
    ?assertEqual(error, stanza_tracker:take(T, k)).

%% 8 processes race to take the same 5000 keys, in different orders: each
%% key is won once.
exactly_once_take_under_races_test_() ->
    {timeout, 60, fun() ->
        T = stanza_tracker:new(#{capacity => 10000}),
        Keys = [{?JID, integer_to_binary(N)} || N <- lists:seq(1, 5000)],
        [ok = stanza_tracker:track(T, K, self(), 600000) || K <- Keys],
        Wins = race(8, fun(I) ->
                               [K || K <- shuffle(Keys, I),
                                     stanza_tracker:take(T, K) =:= {ok, self_of(T)}]
                       end),
        ?assertEqual(lists:sort(Keys), lists:sort(Wins)),
        ?assertEqual(0, size_of(T))
    end}.

%% 8 processes race to track 4000 distinct keys (spread over all shards)
%% into a tracker for 1000: exactly 1000 succeed, the rest get
%% {error, full}. Then 8 processes race to take every key: each tracked
%% key is won once, and every slot comes back (exactly 1000 again).
exact_capacity_under_races_test_() ->
    {timeout, 60, fun() ->
        T = stanza_tracker:new(#{capacity => 1000}),
        Keys = fun(I) -> [{?JID, I, N} || N <- lists:seq(1, 500)] end,
        Fill = fun() ->
                       race(8, fun(I) ->
                                       [{K, stanza_tracker:track(T, K, self_of(T), infinity)}
                                        || K <- Keys(I)]
                               end)
               end,
        Results = Fill(),
        Tracked = [K || {K, ok} <- Results],
        ?assertEqual(1000, length(Tracked)),
        ?assertEqual(3000, length([K || {K, {error, full}} <- Results])),
        ?assertEqual(1000, size_of(T)),
        All = [K || {K, _} <- Results],
        Won = race(8, fun(I) ->
                              [K || K <- shuffle(All, I),
                                    stanza_tracker:take(T, K) =:= {ok, self_of(T)}]
                      end),
        ?assertEqual(lists:sort(Tracked), lists:sort(Won)),
        ?assertEqual(0, size_of(T)),
        ?assertEqual(1000, length([ok || {_, ok} <- Fill()])),
        ?assertEqual(1000, size_of(T))
    end}.

%% 8 processes each track and take their own keys in a loop, with
%% timeouts short enough that many expire first: no slot is lost or
%% doubled on any path, so the tracker can be filled to exactly its
%% capacity after. (The timeouts go to a sink process, not to this one.)
capacity_survives_churn_test_() ->
    {timeout, 60, fun() ->
        Cap = 64,
        T = stanza_tracker:new(#{capacity => Cap}),
        Sink = spawn_link(fun Loop() -> receive stop -> ok; _ -> Loop() end end),
        _ = race(8, fun(I) ->
                            [begin
                                 K = {I, N},
                                 case stanza_tracker:track(T, K, Sink, N rem 3) of
                                     ok -> _ = stanza_tracker:take(T, K);
                                     {error, full} -> ok
                                 end
                             end || N <- lists:seq(1, 2000)]
                    end),
        ?assert(poll(fun() -> size_of(T) =:= 0 end, 10000)),
        Got = [stanza_tracker:track(T, {fill, N}, self(), infinity)
               || N <- lists:seq(1, Cap + 10)],
        ?assertEqual(Cap, length([ok || ok <- Got])),
        ?assertEqual(10, length([full || {error, full} <- Got])),
        Sink ! stop
    end}.

%% Owners with entries in every shard die together: all their entries go,
%% their slots come back, a live owner's entries stay.
owner_death_in_many_shards_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(#{capacity => 2100}),
        Owners = [spawn(fun() -> receive stop -> ok end end) || _ <- [1, 2, 3, 4]],
        [ok = stanza_tracker:track(T, {dead, O, N}, O, 600000)
         || O <- Owners, N <- lists:seq(1, 500)],
        [ok = stanza_tracker:track(T, {alive, N}, self(), infinity)
         || N <- lists:seq(1, 100)],
        ?assertEqual(2100, size_of(T)),
        ?assertEqual({error, full}, stanza_tracker:track(T, one_more, self(), 10)),
        [exit(O, kill) || O <- Owners],
        ?assert(poll(fun() -> size_of(T) =:= 100 end, 10000)),
        [?assertEqual(error, stanza_tracker:take(T, {dead, O, N}))
         || O <- Owners, N <- [1, 250, 500]],
        [ok = stanza_tracker:track(T, {again, N}, self(), infinity)
         || N <- lists:seq(1, 2000)],
        ?assertEqual({error, full}, stanza_tracker:track(T, one_more, self(), 10)),
        [?assertEqual({ok, self()}, stanza_tracker:take(T, {alive, N}))
         || N <- lists:seq(1, 100)]
    end}.

%% Keys in all shards with deadlines in tracking order: the timeouts come
%% earliest first (each shard's in order, and merged across shards).
expiry_order_across_shards_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Keys = [{order, N} || N <- lists:seq(1, 300)],
        [ok = stanza_tracker:track(T, K, self(), 20 + N) || {order, N} = K <- Keys],
        Got = receive_timeouts(length(Keys)),
        ?assertEqual(Keys, Got),
        ?assertEqual(0, size_of(T))
    end}.

%% The owner is the test process: a winner sees that pid.
self_of(_T) ->
    get(owner).

%% Takes racing timeouts: every key ends exactly once, either taken (by
%% one of 8 processes) or timed out (one message to the owner).
take_races_timeout_test_() ->
    {timeout, 60, fun() ->
        T = stanza_tracker:new(#{capacity => 10000}),
        Keys = [{race, N} || N <- lists:seq(1, 5000)],
        [ok = stanza_tracker:track(T, K, self(), N rem 5) || {race, N} = K <- Keys],
        Taken = race(8, fun(I) ->
                                [K || K <- shuffle(Keys, I),
                                      taken(stanza_tracker:take(T, K))]
                        end),
        TimedOut = receive_timeouts(length(Keys) - length(Taken)),
        ?assertEqual(lists:sort(Keys), lists:sort(Taken ++ TimedOut)),
        timer:sleep(50),
        ?assertEqual([], timeouts()),
        ?assertEqual(0, size_of(T))
    end}.

taken({ok, _}) -> true;
taken(error) -> false.

race(N, Fun) ->
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               put(owner, Parent),
                               Parent ! {self(), Fun(I)}
                       end)
            || I <- lists:seq(1, N)],
    lists:append([receive {P, R} -> R end || P <- Pids]).

shuffle(L, Seed) ->
    _ = rand:seed(exsss, {Seed, Seed, Seed}),
    [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% N timeouts, or fewer if they do not come within 10 s.
receive_timeouts(0) ->
    [];
receive_timeouts(N) ->
    receive
        {stanza_timeout, _, K} -> [K | receive_timeouts(N - 1)]
    after 10000 ->
            []
    end.

%% Every {stanza_timeout, _, Key} already in the mailbox.
timeouts() ->
    receive
        {stanza_timeout, _, K} -> [K | timeouts()]
    after 0 ->
            []
    end.

timeout_delivered_once_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Keys = [{?JID, integer_to_binary(N)} || N <- [30, 10, 20, 0]],
        [ok = stanza_tracker:track(T, K, self(), binary_to_integer(Id))
         || {_, Id} = K <- Keys],
        ok = stanza_tracker:track(T, later, self(), 600000),
        Got = [receive {stanza_timeout, _, K} -> K after 5000 -> none end
               || _ <- Keys],
        ?assertEqual(lists:sort(Keys), lists:sort(Got)),
        %% Earliest first.
        ?assertEqual([<<"0">>, <<"10">>, <<"20">>, <<"30">>],
                     [Id || {_, Id} <- Got]),
        timer:sleep(200),
        ?assertEqual([], timeouts()),
        [?assertEqual(error, stanza_tracker:take(T, K)) || K <- Keys],
        ?assertEqual(1, size_of(T))
    end}.

%% A later, earlier deadline wakes the sleeping timer thread.
earlier_deadline_wakes_timer_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        ok = stanza_tracker:track(T, slow, self(), 600000),
        ok = stanza_tracker:track(T, fast, self(), 10),
        ?assertEqual(fast,
                     receive {stanza_timeout, _, K} -> K after 5000 -> none end)
    end}.

owner_death_drops_entries_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Owner = spawn(fun() -> receive stop -> ok end end),
        [ok = stanza_tracker:track(T, {dead, N}, Owner, infinity)
         || N <- lists:seq(1, 1000)],
        ok = stanza_tracker:track(T, {alive, 1}, self(), infinity),
        ?assertEqual(1001, size_of(T)),
        exit(Owner, kill),
        ?assert(poll(fun() -> size_of(T) =:= 1 end, 10000)),
        ?assertEqual(error, stanza_tracker:take(T, {dead, 1})),
        ?assertEqual({ok, self()}, stanza_tracker:take(T, {alive, 1}))
    end}.

%% The tracker's shards (c_src/stanza_ids_nif.c, SHARD_BITS): an owner is
%% monitored at most once per shard.
-define(SHARDS, 16).

monitors(P) ->
    {monitored_by, By} = process_info(P, monitored_by),
    length(By).

%% An owner is monitored once per shard it has entries in, not once per
%% request, and stays monitored there when idle, up to ceil(capacity /
%% 16) idle owners per shard: past that, the owner idle longest in that
%% shard is demonitored.
owner_monitored_once_per_shard_test() ->
    T = stanza_tracker:new(),
    P = spawn_link(fun() -> receive stop -> ok end end),
    [begin
         ok = stanza_tracker:track(T, {k, N}, P, infinity),
         {ok, P} = stanza_tracker:take(T, {k, N})
     end || N <- lists:seq(1, 1000)],
    M = monitors(P),
    ?assert(M >= 1 andalso M =< ?SHARDS),
    ?assertEqual(0, size_of(T)),
    P ! stop.

idle_owners_are_bounded_test_() ->
    {timeout, 30, fun() ->
        %% Capacity 2: one idle owner per shard.
        T = stanza_tracker:new(#{capacity => 2}),
        Ps = [spawn_link(fun() -> receive stop -> ok end end) || _ <- [1, 2, 3]],
        Monitors = fun() -> [monitors(P) || P <- Ps] end,
        [begin
             ok = stanza_tracker:track(T, {k, P, N}, P, infinity),
             {ok, P} = stanza_tracker:take(T, {k, P, N})
         end || P <- Ps, N <- lists:seq(1, 200)],
        _ = poll(fun() -> lists:sum(Monitors()) =< ?SHARDS end, 3000),
        Ms = Monitors(),
        ?assert(lists:sum(Ms) =< ?SHARDS),
        %% The last owner's requests came last: it is the one kept idle
        %% in every shard it used, the first owner in none.
        ?assertMatch([0, _, _], Ms),
        ?assert(lists:last(Ms) >= 1),
        %% T is used here, so the collections in poll/2 cannot free it.
        ?assertEqual(0, size_of(T)),
        [P ! stop || P <- Ps]
    end}.

%% Entries whose owner died before their timeout send nothing.
owner_death_cancels_timeouts_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Parent = self(),
        Owner = spawn(fun() ->
                              ok = stanza_tracker:track(T, k, self(), 200),
                              Parent ! tracked,
                              receive stop -> ok end
                      end),
        receive tracked -> ok end,
        exit(Owner, kill),
        ?assert(poll(fun() -> size_of(T) =:= 0 end, 10000)),
        ?assertEqual(error, stanza_tracker:take(T, k))
    end}.

%% A tracker nobody references is freed, timer thread, entries and
%% monitors included; erlang:memory(system) sees its memory go.
dropped_tracker_frees_everything_test_() ->
    {timeout, 60, fun() ->
        {_, Trackers0} = stanza_ids_nif:live(),
        Self = self(),
        Pid = spawn(fun() ->
                            T = stanza_tracker:new(#{capacity => 1000000}),
                            [ok = stanza_tracker:track(T, {k, N}, Self, infinity)
                             || N <- lists:seq(1, 10000)],
                            ok = stanza_tracker:track(T, soon, Self, 5),
                            Self ! {made, erlang:memory(system)},
                            receive stop -> ok end
                    end),
        During = receive {made, M} -> M end,
        ?assertEqual(soon,
                     receive {stanza_timeout, _, K} -> K after 5000 -> none end),
        Pid ! stop,
        ?assert(poll(fun() ->
                             {_, Trackers} = stanza_ids_nif:live(),
                             Trackers =< Trackers0 andalso
                                 erlang:memory(system) < During - 20000000
                     end, 20000))
    end}.

%% Trackers made and dropped in a loop leave no thread or memory behind.
many_dropped_trackers_test_() ->
    {timeout, 60, fun() ->
        {_, Trackers0} = stanza_ids_nif:live(),
        Threads0 = threads(),
        [begin
             T = stanza_tracker:new(#{capacity => 16}),
             ok = stanza_tracker:track(T, k, self(), 600000)
         end || _ <- lists:seq(1, 200)],
        ?assert(poll(fun() ->
                             {_, Trackers} = stanza_ids_nif:live(),
                             Trackers =< Trackers0
                     end, 20000)),
        ?assert(threads() =< Threads0 + 2)
    end}.

%% Threads of this OS process (Linux).
threads() ->
    {ok, Names} = file:list_dir("/proc/self/task"),
    length(Names).

bad_arguments_test() ->
    T = stanza_tracker:new(),
    NotAlive = list_to_pid("<0.1.2>"),
    Bad = [fun() -> stanza_tracker:track(make_ref(), k, self(), 10) end,
           fun() -> stanza_tracker:track(T, k, not_a_pid, 10) end,
           fun() -> stanza_tracker:track(T, k, self(), -1) end,
           fun() -> stanza_tracker:track(T, k, self(), 1.5) end,
           fun() -> stanza_tracker:track(T, k, self(), 1 bsl 41) end,
           fun() -> stanza_tracker:track(T, k, self(), forever) end,
           fun() -> stanza_tracker:take(self(), k) end,
           fun() -> stanza_tracker:stats(<<>>) end,
           fun() -> stanza_tracker:track(T, binary:copy(<<0>>, 1 bsl 20), self(), 10) end],
    [?assertError(badarg, F()) || F <- Bad],
    [?assertError({bad_option, K, V}, stanza_tracker:new(#{K => V}))
     || {K, V} <- [{capacity, 0}, {capacity, 1 bsl 28 + 1}, {capacity, ten},
                   {timeout, 1}, {capactiy, 10}]],
    ?assertError({bad_options, []}, stanza_tracker:new([])),
    ?assertError({bad_options, [{capacity, 10}]}, stanza_tracker:new([{capacity, 10}])),
    %% A pid of this node that is not alive is refused, not a crash.
    ?assertEqual({error, noproc}, stanza_tracker:track(T, k, NotAlive, 10)),
    ?assertEqual(0, size_of(T)).

poll(Fun, Timeout) ->
    stanza_test_util:poll(Fun, Timeout).

%%--------------------------------------------------------------------
%% As a natter-style client uses it: ids in messages, values, reply and
%% await, call, close.

%% Timeouts say which tracker they come from.
timeout_names_its_tracker_test_() ->
    {timeout, 30, fun() ->
        A = stanza_tracker:new(),
        B = stanza_tracker:new(),
        ?assert(is_reference(stanza_tracker:id(A))),
        ?assertNotEqual(stanza_tracker:id(A), stanza_tracker:id(B)),
        ?assertEqual(stanza_tracker:id(A), stanza_tracker:id(A)),
        ok = stanza_tracker:track(A, same_key, self(), 5),
        ok = stanza_tracker:track(B, same_key, self(), 30),
        IdA = stanza_tracker:id(A),
        IdB = stanza_tracker:id(B),
        ?assertEqual([IdA, IdB],
                     [receive {stanza_timeout, Id, same_key} -> Id after 5000 -> none end
                      || _ <- [1, 2]])
    end}.

values_test_() ->
    T = stanza_tracker:new(),
    Value = #{request => {xmlel, <<"iq">>, [], []}, sent => 42, big => binary:copy(<<"v">>, 10000)},
    [?_assertEqual(ok, stanza_tracker:track(T, k1, self(), 60000, Value)),
     ?_assertEqual({ok, self(), Value}, stanza_tracker:take_value(T, k1)),
     ?_assertEqual(error, stanza_tracker:take_value(T, k1)),
     ?_assertEqual(ok, stanza_tracker:track(T, k2, self(), 60000)),
     ?_assertEqual({ok, self(), undefined}, stanza_tracker:take_value(T, k2)),
     ?_assertEqual(ok, stanza_tracker:track(T, k3, self(), infinity, [1, 2])),
     ?_assertEqual({ok, self()}, stanza_tracker:take(T, k3)),
     ?_assertError(badarg, stanza_tracker:track(T, k4, self(), 10,
                                                binary:copy(<<"x">>, 1 bsl 20 + 1))),
     ?_assertEqual(0, size_of(T))].

%% Values go with their entries however the entries end (taken, timed
%% out, owner died, closed, garbage collected): binary memory comes back.
values_freed_test_() ->
    {timeout, 60, fun() ->
        Value = binary:copy(<<"v">>, 100000),   % a value of ~100 KB
        Before = erlang:memory(binary),
        T = stanza_tracker:new(),
        [ok = stanza_tracker:track(T, {t, N}, self(), 1, {N, Value}) || N <- lists:seq(1, 100)],
        ?assertEqual(100, length(receive_timeouts(100))),
        Owner = spawn(fun() -> receive stop -> ok end end),
        [ok = stanza_tracker:track(T, {d, N}, Owner, infinity, {N, Value}) || N <- lists:seq(1, 100)],
        exit(Owner, kill),
        ?assert(poll(fun() -> size_of(T) =:= 0 end, 10000)),
        [ok = stanza_tracker:track(T, {c, N}, self(), infinity, {N, Value}) || N <- lists:seq(1, 100)],
        ok = stanza_tracker:close(T),
        {Pid, Ref} = spawn_monitor(fun() ->
            G = stanza_tracker:new(),
            [ok = stanza_tracker:track(G, {g, N}, self(), infinity, {N, Value}) || N <- lists:seq(1, 100)]
        end),
        receive {'DOWN', Ref, process, Pid, normal} -> ok end,
        erlang:garbage_collect(),
        %% 400 values of 100 KB went through; less than 2 of them remain.
        ?assert(poll(fun() -> erlang:memory(binary) < Before + 200000 end, 10000))
    end}.

reply_and_await_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Self = self(),
        Key = {<<"juliet@example.com">>, <<"id1">>},
        ok = stanza_tracker:track(T, Key, Self, 5000, sent_at_1),
        Router = spawn(fun() -> Self ! {routed, stanza_tracker:reply(T, Key, <<"pong">>)} end),
        ?assertEqual({ok, <<"pong">>}, stanza_tracker:await(T, Key, 5000)),
        ?assertEqual({ok, Self, sent_at_1}, receive {routed, R} -> R end),
        ?assert(is_pid(Router)),
        %% A second reply finds nobody.
        ?assertEqual(error, stanza_tracker:reply(T, Key, <<"again">>)),
        %% A timeout: await says so.
        ok = stanza_tracker:track(T, slow, Self, 20),
        ?assertEqual({error, timeout}, stanza_tracker:await(T, slow, 20)),
        %% A message for another key stays in the mailbox.
        ok = stanza_tracker:track(T, other, Self, 5000),
        ok = stanza_tracker:track(T, mine, Self, 5000),
        {ok, Self, undefined} = stanza_tracker:reply(T, other, x),
        {ok, Self, undefined} = stanza_tracker:reply(T, mine, y),
        ?assertEqual({ok, y}, stanza_tracker:await(T, mine, 5000)),
        ?assertEqual({ok, x}, stanza_tracker:await(T, other, 5000))
    end}.

call_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Self = self(),
        %% The "server" answers what call/5 sends.
        Server = spawn(fun Loop() ->
                               receive {iq, From, Id} ->
                                       _ = stanza_tracker:reply(T, {From, Id}, {result, Id}),
                                       Loop()
                               end
                       end),
        Send = fun(Id) -> fun() -> Server ! {iq, server, Id} end end,
        ?assertEqual({ok, {result, 1}}, stanza_tracker:call(T, {server, 1}, 5000, v, Send(1))),
        ?assertEqual({ok, {result, 2}}, stanza_tracker:call(T, {server, 2}, 5000, v, Send(2))),
        %% Nobody answers: the timeout.
        ?assertEqual({error, timeout},
                     stanza_tracker:call(T, {nobody, 1}, 20, v, fun() -> ok end)),
        %% A key in use is refused before anything is sent.
        ok = stanza_tracker:track(T, {server, 3}, Self, 5000),
        ?assertEqual({error, exists},
                     stanza_tracker:call(T, {server, 3}, 5000, v,
                                         fun() -> error(must_not_send) end)),
        exit(Server, kill)
    end}.

close_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(),
        Live0 = element(2, stanza_ids_nif:live()),
        ok = stanza_tracker:track(T, a, self(), 30, value),
        ok = stanza_tracker:track(T, b, self(), infinity),
        ok = stanza_tracker:close(T),
        ?assertEqual(0, size_of(T)),
        ?assertEqual(error, stanza_tracker:take(T, b)),
        ?assertEqual({error, closed}, stanza_tracker:track(T, c, self(), 10)),
        ?assertEqual(error, stanza_tracker:reply(T, a, x)),
        ok = stanza_tracker:close(T),
        %% No timeout comes from a closed tracker; await gives up alone.
        ?assertEqual([], begin timer:sleep(100), timeouts() end),
        ?assertEqual({error, timeout}, stanza_tracker:await(T, a, 0)),
        ?assert(is_integer(Live0))
    end}.

%% Closed before any request: the timer thread never starts, and a
%% tracker closed while its thread sleeps is collected like any other.
close_then_collect_test_() ->
    {timeout, 30, fun() ->
        {_, Trackers0} = stanza_ids_nif:live(),
        {Pid, Ref} = spawn_monitor(fun() ->
            A = stanza_tracker:new(),
            ok = stanza_tracker:close(A),
            {error, closed} = stanza_tracker:track(A, k, self(), 10),
            B = stanza_tracker:new(),
            ok = stanza_tracker:track(B, k, self(), 600000),
            ok = stanza_tracker:close(B)
        end),
        receive {'DOWN', Ref, process, Pid, Why} -> ?assertEqual(normal, Why) end,
        ?assert(poll(fun() ->
                             erlang:garbage_collect(),
                             {_, Trackers} = stanza_ids_nif:live(),
                             Trackers =< Trackers0
                     end, 10000))
    end}.
