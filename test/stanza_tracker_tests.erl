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
        {stanza_timeout, K} -> [K | receive_timeouts(N - 1)]
    after 10000 ->
            []
    end.

%% Every {stanza_timeout, Key} already in the mailbox.
timeouts() ->
    receive
        {stanza_timeout, K} -> [K | timeouts()]
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
        Got = [receive {stanza_timeout, K} -> K after 5000 -> none end
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
        ?assertEqual({stanza_timeout, fast},
                     receive {stanza_timeout, _} = M -> M after 5000 -> none end)
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

%% An owner is monitored once while it has entries and stays monitored
%% when idle, up to `capacity' idle owners: past that, the owner idle
%% longest is demonitored.
idle_owners_are_bounded_test_() ->
    {timeout, 30, fun() ->
        T = stanza_tracker:new(#{capacity => 2}),
        Ps = [spawn_link(fun() -> receive stop -> ok end end) || _ <- [1, 2, 3]],
        Monitors = fun() -> [length(element(2, process_info(P, monitored_by)))
                             || P <- Ps] end,
        [begin
             ok = stanza_tracker:track(T, {k, P, N}, P, infinity),
             {ok, P} = stanza_tracker:take(T, {k, P, N})
         end || P <- Ps, N <- [1, 2]],
        _ = poll(fun() -> Monitors() =:= [0, 1, 1] end, 3000),
        ?assertEqual([0, 1, 1], Monitors()),
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
        ?assertEqual({stanza_timeout, soon},
                     receive {stanza_timeout, _} = Msg -> Msg after 5000 -> none end),
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
           fun() -> stanza_tracker:track(T, binary:copy(<<0>>, 1 bsl 20), self(), 10) end,
           fun() -> stanza_tracker:new(#{capacity => 0}) end,
           fun() -> stanza_tracker:new(#{capacity => 1 bsl 28 + 1}) end,
           fun() -> stanza_tracker:new(#{timeout => 1}) end,
           fun() -> stanza_tracker:new([]) end],
    [?assertError(badarg, F()) || F <- Bad],
    %% A pid of this node that is not alive is refused, not a crash.
    ?assertEqual({error, noproc}, stanza_tracker:track(T, k, NotAlive, 10)),
    ?assertEqual(0, size_of(T)).

poll(Fun, Timeout) ->
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    poll_until(Fun, Deadline).

poll_until(Fun, Deadline) ->
    erlang:garbage_collect(),
    case Fun() of
        true -> true;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> false;
                false -> timer:sleep(20), poll_until(Fun, Deadline)
            end
    end.
