%% Soak tests: long runs through one parser with memory sampled as it
%% goes, many live parsers at once, and many processes hammering one
%% parser, one port and one duplicate table.
%%
%% `make test' runs them at the sizes below; `make soak' runs them larger
%% (SOAK_STANZAS, SOAK_PARSERS, SOAK_HAMMER_MS, SOAK_DEDUP_KEYS). Each test
%% prints its figures to the console, on lines starting "soak:".
-module(stanza_soak_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HEADER, <<"<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'>">>).
-define(BATCH, 100).
-define(SAMPLES, 10).
%% "Flat": after the first sample (the warm-up: buffers reach their
%% working size), no sample may exceed the first by more than this. The
%% port driver's own count must not grow at all. erlang:memory(total) also
%% counts the heaps of every other process of the VM (the test runner's),
%% seen to jump by 3 MB for a moment under ASan: it is only a check for a
%% gross leak; the owner, binary and driver_alloc figures are the precise
%% ones (a leak of 8 bytes per stanza would be 8 MB over a million).
-define(SLACK, #{owner => 32768, binary => 1048576, total => 8388608,
                 driver_alloc => 65536, driver_bytes => 0}).
-define(HAMMERERS, 16).

%%====================================================================
%% Sizes
%%====================================================================

size_of(Name, Default) ->
    case os:getenv(Name) of
        false -> Default;
        Value -> list_to_integer(Value)
    end.

stanzas() -> size_of("SOAK_STANZAS", 1000000).
parsers() -> size_of("SOAK_PARSERS", 10000).
hammer_ms() -> size_of("SOAK_HAMMER_MS", 2000).
dedup_keys() -> size_of("SOAK_DEDUP_KEYS", 100000).

%% Generous: `make soak' runs ten times longer than `make test'.
timeout() -> 60 + stanzas() div 10000 + parsers() div 500 + hammer_ms() div 500.

%%====================================================================
%% Many stanzas through one parser, memory flat
%%====================================================================

million_stanzas_nif_test_() ->
    {timeout, timeout(), fun() -> stanzas_flat(stanza_stream) end}.

million_stanzas_port_test_() ->
    {timeout, timeout(), fun() -> stanzas_flat(stanza_port) end}.

%% Batches of 100 corpus stanzas, fed round and round through one parser
%% by a fresh owner; every batch must give the events it gave the first
%% time, and memory is sampled ?SAMPLES times.
stanzas_flat(Mod) ->
    Total = stanzas(),
    Batches = batches(),
    Started = erlang:monotonic_time(millisecond),
    {Samples, Count} = in_fresh_process(fun() -> soak_owner(Mod, Batches, Total) end),
    Ms = erlang:monotonic_time(millisecond) - Started,
    io:format(user, "~nsoak: ~s: ~b stanzas in ~b ms (~b/s); samples every ~b:~n",
              [Mod, Count, Ms, Count * 1000 div max(Ms, 1), Total div ?SAMPLES]),
    [io:format(user, "soak:   ~b ~s~n", [N, format_sample(S)]) || {N, S} <- Samples],
    ?assertEqual(Total, Count),
    ?assertEqual(?SAMPLES, length(Samples)),
    ?assertEqual([], growth(Mod, [S || {_, S} <- Samples])).

batches() ->
    #{stanzas := Stanzas} = stanza_corpus:generate(1000000),
    Whole = lists:sublist(Stanzas, (length(Stanzas) div ?BATCH) * ?BATCH),
    [iolist_to_binary(lists:sublist(Whole, I, ?BATCH))
     || I <- lists:seq(1, length(Whole), ?BATCH)].

soak_owner(Mod, Batches, Total) ->
    {ok, P} = Mod:new(),
    {ok, [{xmlstreamstart, _, _}]} = Mod:parse(P, ?HEADER),
    %% The first round: the events each batch must always give, kept as a
    %% hash so that the owner's own memory stays small enough to measure.
    First = [begin {ok, Events} = Mod:parse(P, B), Events end || B <- Batches],
    ?BATCH = length(hd(First)),
    Expected = [erlang:phash2(Events, 1 bsl 32) || Events <- First],
    Ring = lists:zip(Batches, Expected),
    Every = Total div ?SAMPLES,
    Fed = length(Batches) * ?BATCH,
    Samples = soak_loop(Mod, P, Ring, Ring, Fed, Total, Every, []),
    ok = Mod:close(P),
    {Samples, Fed + (Total - Fed) div ?BATCH * ?BATCH}.

soak_loop(_Mod, _P, _Ring, _All, Fed, Total, _Every, Samples) when Fed >= Total ->
    lists:reverse(Samples);
soak_loop(Mod, P, [], All, Fed, Total, Every, Samples) ->
    soak_loop(Mod, P, All, All, Fed, Total, Every, Samples);
soak_loop(Mod, P, [{Batch, Expected} | Ring], All, Fed, Total, Every, Samples) ->
    {ok, Events} = Mod:parse(P, Batch),
    Expected = erlang:phash2(Events, 1 bsl 32),
    Fed1 = Fed + ?BATCH,
    Samples1 = case Fed1 div Every > Fed div Every of
                   true -> [{Fed1, sample(Mod, P)} | Samples];
                   false -> Samples
               end,
    soak_loop(Mod, P, Ring, All, Fed1, Total, Every, Samples1).

sample(Mod, P) ->
    erlang:garbage_collect(),
    {memory, Owner} = process_info(self(), memory),
    Base = #{owner => Owner, binary => erlang:memory(binary),
             total => erlang:memory(total),
             driver_alloc => stanza_test_util:driver_alloc_bytes()},
    case Mod of
        stanza_port ->
            {ok, #{driver_bytes := D}} = stanza_port:info(P),
            Base#{driver_bytes => D};
        stanza_stream ->
            Base
    end.

%% Each figure of each sample after the first, over the first by more than
%% its slack: [] when memory stayed flat.
%% A leak grows with the stanzas, so it shows in every sample of the second
%% half; what other activity in the VM allocates for a moment (driver_alloc
%% is counted VM-wide: a 128 KB buffer at one sample was seen) does not. So
%% the second half's smallest value is compared with the first sample.
growth(_Mod, [First | Rest]) ->
    Late = lists:nthtail(length(Rest) div 2, Rest),
    [{Key, {first, Value}, {later, Later}}
     || {Key, Value} <- maps:to_list(First),
        Later <- [lists:min([maps:get(Key, S) || S <- Late])],
        Later > Value + maps:get(Key, ?SLACK)].

format_sample(S) ->
    lists:flatten(
      [io_lib:format("~s=~b ", [K, V]) || {K, V} <- lists:sort(maps:to_list(S))]).

%%====================================================================
%% Many live parsers
%%====================================================================

live_parsers_nif_test_() ->
    {timeout, timeout(), fun() -> many_live(stanza_stream) end}.

live_parsers_port_test_() ->
    {timeout, timeout(), fun() -> many_live(stanza_port) end}.

%% N parsers open at once, each fed a stream header and a stanza (half of
%% it first, so that some state is held), then all closed: memory back to
%% the baseline.
many_live(Mod) ->
    N = parsers(),
    Before = memory_now(),
    Started = erlang:monotonic_time(millisecond),
    {PerParser, Live} = in_fresh_process(fun() -> hold_parsers(Mod, N, Before) end),
    Ms = erlang:monotonic_time(millisecond) - Started,
    ?assertEqual(N, Live),
    ?assert(poll_back(Before)),
    io:format(user, "~nsoak: ~s: ~b live parsers, ~b bytes each "
              "(driver_alloc), in ~b ms; memory back to baseline~n",
              [Mod, N, PerParser, Ms]).

hold_parsers(Mod, N, Before) ->
    Parsers = [begin
                   {ok, P} = Mod:new(),
                   {ok, [_]} = Mod:parse(P, [?HEADER, <<"<message to='a@b'><bo">>]),
                   P
               end || _ <- lists:seq(1, N)],
    Held = stanza_test_util:driver_alloc_bytes() - maps:get(driver_alloc, Before),
    Live = count_live(Mod, Parsers) - maps:get(parsers, Before),
    Done = [Mod:parse(P, <<"dy>x</body></message>">>) || P <- Parsers],
    N = length([ok || {ok, [{xmlstreamelement, _}]} <- Done]),
    [ok = Mod:close(P) || P <- Parsers],
    {Held div N, Live}.

count_live(stanza_stream, _Parsers) ->
    stanza_stream:live_parsers();
count_live(stanza_port, Parsers) ->
    %% So that the baseline's NIF parsers subtract to nothing.
    stanza_stream:live_parsers() +
        length([P || P <- Parsers, erlang:port_info(stanza_port:port(P)) =/= undefined]).

%%====================================================================
%% 16 processes on one parser, one port, one table
%%====================================================================

hammer_one_nif_parser_test_() ->
    {timeout, timeout(), fun() -> hammer_one_parser(stanza_stream) end}.

hammer_one_port_test_() ->
    {timeout, timeout(), fun() -> hammer_one_parser(stanza_port) end}.

%% The owner parses batches for SOAK_HAMMER_MS while 15 other processes
%% call parse, reset, close and controlling_process on the same parser as
%% fast as they can: each of their calls must be refused with
%% {error, not_owner}, and each of the owner's batches must give exactly
%% its events. After the owner closes it, everyone gets {error, closed}.
hammer_one_parser(Mod) ->
    Batches = lists:sublist(batches(), 4),
    Self = self(),
    {ok, P} = Mod:new(),
    {ok, [_]} = Mod:parse(P, ?HEADER),
    Expected = [begin {ok, E} = Mod:parse(P, B), E end || B <- Batches],
    Intruders = [spawn_link(fun() -> intrude(Mod, P, Self, #{}) end)
                 || _ <- lists:seq(2, ?HAMMERERS)],
    Deadline = erlang:monotonic_time(millisecond) + hammer_ms(),
    OwnerBatches = owner_loop(Mod, P, lists:zip(Batches, Expected), Deadline, 0),
    Refusals = stop_all(Intruders),
    ok = Mod:close(P),
    AfterClose = in_fresh_process(fun() -> all_calls(Mod, P) end),
    ?assertEqual([{error, closed}, {error, closed}, ok, {error, closed}],
                 AfterClose),
    Totals = merge_counts(Refusals),
    io:format(user, "~nsoak: ~s: owner parsed ~b batches of ~b stanzas in ~b ms "
              "while ~b processes made ~b calls on its parser: ~s~n",
              [Mod, OwnerBatches, ?BATCH, hammer_ms(), ?HAMMERERS - 1,
               lists:sum(maps:values(Totals)),
               [io_lib:format("~s ~w: ~b; ", [Call, Result, Count])
                || {{Call, Result}, Count} <- lists:sort(maps:to_list(Totals))]]),
    ?assert(OwnerBatches > 0),
    ?assertEqual([{error, not_owner}], lists:usort([R || {_, R} <- maps:keys(Totals)])).

owner_loop(Mod, P, Ring, Deadline, Done) ->
    case erlang:monotonic_time(millisecond) > Deadline of
        true ->
            Done;
        false ->
            _ = [{ok, Expected} = Mod:parse(P, B) || {B, Expected} <- Ring],
            owner_loop(Mod, P, Ring, Deadline, Done + length(Ring))
    end.

%% Tallies of {Call, Result}, sent to the test process when told to stop.
intrude(Mod, P, Test, Counts) ->
    receive
        stop -> Test ! {refusals, self(), Counts}
    after 0 ->
            Results = lists:zip([parse, reset, close, controlling_process],
                                all_calls(Mod, P)),
            intrude(Mod, P, Test,
                    lists:foldl(fun(R, C) -> maps:update_with(R, fun(X) -> X + 1 end,
                                                              1, C) end,
                                Counts, Results))
    end.

all_calls(Mod, P) ->
    [Mod:parse(P, <<"<intruder/>">>), Mod:reset(P), Mod:close(P),
     Mod:controlling_process(P, self())].

stop_all(Pids) ->
    [Pid ! stop || Pid <- Pids],
    [receive {refusals, Pid, Counts} -> unlink(Pid), Counts end || Pid <- Pids].

merge_counts(Maps) ->
    lists:foldl(fun(M, Acc) ->
                        maps:fold(fun(K, V, A) -> maps:update_with(K, fun(X) -> X + V end, V, A) end,
                                  Acc, M)
                end, #{}, Maps).

%% 16 processes see the same keys, each in its own order, in one table big
%% enough to hold them all for the whole test: each key must be new
%% (false) to exactly one of them.
hammer_one_dedup_table_test_() ->
    {timeout, timeout(), fun hammer_one_dedup_table/0}.

hammer_one_dedup_table() ->
    N = dedup_keys(),
    Table = stanza_dedup:new(#{capacity => N, ttl_ms => infinity}),
    Keys = [integer_to_binary(K) || K <- lists:seq(1, N)],
    Self = self(),
    Started = erlang:monotonic_time(millisecond),
    Pids = [spawn_link(fun() ->
                               receive go -> ok end,
                               Self ! {new_keys, self(), check_keys(Table, I, Keys)}
                       end)
            || I <- lists:seq(1, ?HAMMERERS)],
    %% All start together, so that they race on the same keys.
    [Pid ! go || Pid <- Pids],
    New = [receive {new_keys, Pid, K} -> K end || Pid <- Pids],
    Ms = erlang:monotonic_time(millisecond) - Started,
    All = lists:append(New),
    io:format(user, "~nsoak: stanza_dedup: ~b processes x ~b keys (~b calls) in "
              "~b ms; new per process: ~w~n",
              [?HAMMERERS, N, ?HAMMERERS * N, Ms, [length(K) || K <- New]]),
    ?assertEqual(N, length(All)),
    ?assertEqual(lists:sort(Keys), lists:sort(All)),
    ?assertEqual(#{size => N, capacity => N},
                 maps:with([size, capacity], stanza_dedup:stats(Table))),
    ok = stanza_dedup:close(Table).

%% The keys this process was first to see; process I starts at a different
%% place and goes the other way every second process, so that the sets
%% overlap in every possible order.
check_keys(Table, I, Keys) ->
    {Front, Back} = lists:split((I - 1) * length(Keys) div ?HAMMERERS, Keys),
    Order = case I rem 2 of
                0 -> Back ++ Front;
                1 -> lists:reverse(Back ++ Front)
            end,
    [K || K <- Order, not stanza_dedup:seen(Table, K)].

%%====================================================================
%% Helpers
%%====================================================================

in_fresh_process(Fun) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), Fun()} end),
    receive
        {Pid, Result} ->
            receive {'DOWN', Ref, process, Pid, _} -> Result end;
        {'DOWN', Ref, process, Pid, Reason} ->
            erlang:error({owner_died, Reason})
    end.

memory_now() ->
    _ = [erlang:garbage_collect(Pid) || Pid <- processes()],
    #{parsers => stanza_stream:live_parsers(),
      driver_alloc => stanza_test_util:driver_alloc_bytes(),
      driver_bytes => driver_bytes()}.

poll_back(#{parsers := P0, driver_alloc := A0, driver_bytes := D0}) ->
    stanza_test_util:poll(
      fun() ->
              #{parsers := P, driver_alloc := A, driver_bytes := D} = memory_now(),
              P =< P0 andalso D =:= D0 andalso A =< A0 + 65536
      end, 10000).
driver_bytes() ->
    {ok, P} = stanza_port:new(),
    {ok, #{driver_bytes := Bytes}} = stanza_port:info(P),
    ok = stanza_port:close(P),
    Bytes.
