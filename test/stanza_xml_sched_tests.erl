%% Scheduler friendliness of the serializer.
%%
%% erlang:system_monitor(long_schedule) reports any stretch in which a
%% process held its scheduler longer than the bound. The NIF yields about
%% every millisecond; the bound is generous because this machine is shared
%% and a garbage collection of the large terms also counts.
-module(stanza_xml_sched_tests).

-include_lib("eunit/include/eunit.hrl").

-define(BOUND_MS, 20).

%% A roster result of about 23 MB: many small elements.
big_roster() ->
    Items = [{xmlel, <<"item">>,
              [{<<"jid">>, <<"user", (integer_to_binary(I))/binary, "@example.com">>},
               {<<"subscription">>, <<"both">>}],
              [{xmlel, <<"group">>, [], [{xmlcdata, <<"Friends & co">>}]}]}
             || I <- lists:seq(1, 250000)],
    {xmlel, <<"iq">>, [{<<"type">>, <<"result">>}],
     [{xmlel, <<"query">>, [{<<"xmlns">>, <<"jabber:iq:roster">>}], Items}]}.

%% One text node of about 16 MB (escaped to more).
big_text() ->
    {xmlel, <<"message">>, [],
     [{xmlel, <<"body">>, [], [{xmlcdata, binary:copy(<<"<\xc3\xa9&>">>, 2000000)}]}]}.

%% 400k levels: deep enough that writing it takes well over the bound.
deep() ->
    lists:foldl(fun(_, Acc) -> {xmlel, <<"abcdef">>, [], [Acc]} end,
                {xmlcdata, <<"x">>}, lists:seq(1, 400000)).

big_roster_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(fun big_roster/0) end}.

big_text_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(fun big_text/0) end}.

deep_element_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(fun deep/0) end}.

assert_no_long_schedule(Make) ->
    Self = self(),
    Worker = spawn_link(fun() -> serialize_when_told(Self, Make()) end),
    receive {ready, Worker} -> ok end,
    erlang:system_monitor(Self, [{long_schedule, ?BOUND_MS}]),
    Ref = monitor(process, Worker),
    Worker ! go,
    Size = receive {done, Worker, N} -> N end,
    %% The report comes when the worker is scheduled out, which may be
    %% after its last message: wait for its exit, and a little more.
    receive {'DOWN', Ref, process, Worker, _} -> ok end,
    Reports = long_schedules(Worker, 200),
    erlang:system_monitor(undefined),
    ?assert(Size > 1000000),
    ?assertEqual([], Reports).

serialize_when_told(Owner, El) ->
    erlang:garbage_collect(),
    Owner ! {ready, self()},
    receive go -> ok end,
    Bin = stanza_xml:element_to_binary(El),
    Owner ! {done, self(), byte_size(Bin)}.

long_schedules(Pid, Wait) ->
    receive
        {monitor, Pid, long_schedule, Info} -> [Info | long_schedules(Pid, 0)];
        {monitor, _Other, long_schedule, _} -> long_schedules(Pid, Wait)
    after Wait -> []
    end.
