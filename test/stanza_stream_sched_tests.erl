%% Scheduler friendliness and memory bounds of stanza_stream (the NIF)
%% and stanza_port (the port driver).
%%
%% erlang:system_monitor(long_schedule) reports any stretch in which a
%% process held its scheduler longer than the bound. The NIF yields about
%% every millisecond; the bound is generous because this machine is shared
%% and a garbage collection of the growing result also counts.
-module(stanza_stream_sched_tests).

-include_lib("eunit/include/eunit.hrl").

-define(BOUND_MS, 20).
-define(STREAM_HEADER, <<"<stream:stream xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams'>">>).

%%--------------------------------------------------------------------
%% Inputs

%% About 10 MB of ordinary messages.
many_stanzas() ->
    iolist_to_binary(
      [[<<"<message to='u">>, integer_to_binary(I),
        <<"@example.com' id='m">>, integer_to_binary(I),
        <<"'><body>hello &amp; \xc3\xa9t\xc3\xa9 ">>, integer_to_binary(I),
        <<"</body></message>">>] || I <- lists:seq(1, 100000)]).

%% One roster result of about 10 MB.
one_big_stanza() ->
    Items = [[<<"<item jid='user">>, integer_to_binary(I),
              <<"@example.com' subscription='both'><group>Friends</group>"
                "</item>">>] || I <- lists:seq(1, 125000)],
    iolist_to_binary([<<"<iq type='result' id='r'>"
                        "<query xmlns='jabber:iq:roster'>">>, Items,
                      <<"</query></iq>">>]).

%%--------------------------------------------------------------------
%% Scheduler holds

ten_mb_chunk_of_stanzas_pull_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_stream, many_stanzas(), pull, 100000) end}.

ten_mb_chunk_of_stanzas_push_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_stream, many_stanzas(), push, 100000) end}.

ten_mb_stanza_in_one_chunk_pull_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_stream, one_big_stanza(), pull, 1) end}.

ten_mb_stanza_in_one_chunk_push_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_stream, one_big_stanza(), push, 1) end}.

%% A loop of single-slice calls: each is short, but the process must still
%% be preempted (the NIF charges its timeslice by size).
ten_mb_in_8k_chunks_loop_test_() ->
    {timeout, 120,
     fun() -> assert_no_long_schedule(stanza_stream, {chunks, 8192, many_stanzas()}, pull, 100000) end}.

%% The port driver parses in slices too, and sends a huge stanza ahead
%% in fragments, so that no message takes long to build. (In push mode
%% stanza_port forwards each stanza with `!', which copies it in one go:
%% the README gives that cost, so push with a huge stanza is not here.)
port_ten_mb_stanza_in_one_chunk_pull_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_port, one_big_stanza(), pull, 1) end}.

port_ten_mb_chunk_of_stanzas_pull_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_port, many_stanzas(), pull, 100000) end}.

port_ten_mb_chunk_of_stanzas_push_test_() ->
    {timeout, 120, fun() -> assert_no_long_schedule(stanza_port, many_stanzas(), push, 100000) end}.

port_ten_mb_in_8k_chunks_loop_test_() ->
    {timeout, 120,
     fun() -> assert_no_long_schedule(stanza_port, {chunks, 8192, many_stanzas()}, pull, 100000) end}.

assert_no_long_schedule(Mod, Data, Mode, Expected) ->
    Self = self(),
    Sink = spawn_link(fun() -> sink(0) end),
    Opts = case Mode of push -> #{callback => Sink}; pull -> #{} end,
    Parser = spawn_link(fun() -> parse_when_told(Self, Mod, Opts, Data) end),
    Port = receive {ready, Parser, P} -> P end,
    erlang:system_monitor(Self, [{long_schedule, ?BOUND_MS}]),
    Ref = erlang:monitor(process, Parser),
    Parser ! go,
    Pulled = receive {parsed, Parser, N} -> N end,
    %% A long_schedule report is sent when the process is scheduled out,
    %% which can be after its last message: wait for its exit, and a
    %% little more for the report to arrive.
    receive {'DOWN', Ref, process, Parser, _} -> ok end,
    timer:sleep(100),
    erlang:system_monitor(undefined),
    Pushed = sink_count(Sink),
    ?assertEqual(Expected, Pulled + Pushed),
    ?assertEqual([], long_schedules([Parser, Port])).

parse_when_told(Owner, Mod, Opts, Data) ->
    {ok, P} = Mod:new(Opts),
    {ok, _} = Mod:parse(P, ?STREAM_HEADER),
    Owner ! {ready, self(), port_of(Mod, P)},
    receive go -> ok end,
    Events = parse_all(Mod, P, Data),
    Owner ! {parsed, self(), length([E || {xmlstreamelement, _} = E <- Events])}.

port_of(stanza_port, P) -> stanza_port:port(P);
port_of(stanza_stream, _) -> none.

parse_all(Mod, P, {chunks, Size, Data}) ->
    feed(Mod, P, Data, Size, []);
parse_all(Mod, P, Data) ->
    {ok, Events} = Mod:parse(P, Data),
    Events.

sink(N) ->
    receive
        {'$gen_event', {xmlstreamelement, _}} -> sink(N + 1);
        {'$gen_event', _} -> sink(N);
        {count, From} -> From ! {count, N}
    end.

sink_count(Sink) ->
    Sink ! {count, self()},
    receive {count, N} -> N end.

%% Reports about the parsing process or its port; others are noise, and
%% so is the parsing process's exit (in and out both undefined: freeing
%% its heap, the test's teardown, not stanza's work).
long_schedules(Watched) ->
    receive
        {monitor, Who, long_schedule, Info} ->
            Exit = lists:member({in, undefined}, Info) andalso
                lists:member({out, undefined}, Info),
            case lists:member(Who, Watched) andalso not Exit of
                true -> [{Who, Info} | long_schedules(Watched)];
                false -> long_schedules(Watched)
            end
    after 0 -> []
    end.

%%--------------------------------------------------------------------
%% Linear time: the work per byte does not grow with the stanza.

ten_mb_stanza_in_1k_chunks_test_() ->
    {timeout, 120,
     fun() ->
             Data = one_big_stanza(),
             {ok, P} = stanza_stream:new(#{}),
             {ok, _} = stanza_stream:parse(P, ?STREAM_HEADER),
             Events = feed(stanza_stream, P, Data, 1024, []),
             ?assertMatch([{xmlstreamelement,
                            {xmlelement, <<"iq">>, _,
                             [{xmlelement, <<"query">>, _, _}]}}],
                          Events),
             [{xmlstreamelement, {_, _, _, [{_, _, _, Items}]}}] = Events,
             ?assertEqual(125000, length(Items))
     end}.

feed(Mod, P, Data, Size, Acc) when byte_size(Data) =< Size ->
    {ok, Events} = Mod:parse(P, Data),
    lists:append(lists:reverse([Events | Acc]));
feed(Mod, P, Data, Size, Acc) ->
    <<Chunk:Size/binary, Rest/binary>> = Data,
    {ok, Events} = Mod:parse(P, Chunk),
    feed(Mod, P, Rest, Size, [Events | Acc]).

%%--------------------------------------------------------------------
%% Memory

%% Idle parsers: the issue's bound is 4 KB each, everything included
%% (resource, expat is created lazily on first use).
idle_parser_memory_test() ->
    PerParser = memory_per_parser(stanza_stream, fun(_) -> ok end),
    ?debugFmt("memory per idle parser: ~p bytes", [PerParser]),
    ?assert(PerParser =< 4096).

%% After a stream header the parser holds a live expat instance; report it
%% (the benchmark prints it) and keep it under fast_xml's 12.5 KB.
parser_after_header_memory_test() ->
    PerParser = memory_per_parser(
                  stanza_stream,
                  fun(P) -> {ok, [_]} = stanza_stream:parse(P, ?STREAM_HEADER) end),
    ?debugFmt("memory per parser after a stream header: ~p bytes", [PerParser]),
    ?assert(PerParser =< 12 * 1024).

%% Clients send an XML declaration before the header; expat keeps a 1 KB
%% pool block for the declaration's strings when a handler asks for them
%% (12.4 KB in all), so the core sets none.
parser_after_declaration_memory_test() ->
    PerParser = memory_per_parser(
                  stanza_stream,
                  fun(P) ->
                          {ok, [_]} = stanza_stream:parse(
                                        P, <<"<?xml version='1.0' encoding='UTF-8'?>",
                                             ?STREAM_HEADER/binary>>)
                  end),
    ?debugFmt("memory per parser after a declaration and a header: ~p bytes",
              [PerParser]),
    ?assert(PerParser =< 12 * 1024).

%% A port costs more than a resource: the port structure, its queue and
%% its link are the runtime's. Bounds from the measured figures
%% (README) with some room.
idle_port_memory_test() ->
    PerPort = memory_per_parser(stanza_port, fun(_) -> ok end),
    ?debugFmt("memory per idle port: ~p bytes", [PerPort]),
    ?assert(PerPort =< 8 * 1024).

port_after_header_memory_test() ->
    PerPort = memory_per_parser(
                stanza_port,
                fun(P) -> {ok, [_]} = stanza_port:parse(P, ?STREAM_HEADER) end),
    ?debugFmt("memory per port after a stream header: ~p bytes", [PerPort]),
    ?assert(PerPort =< 16 * 1024).

memory_per_parser(Mod, Prepare) ->
    Count = 10000,
    Self = self(),
    Holder = spawn_link(
               fun() ->
                       receive go -> ok end,
                       Parsers = [begin {ok, P} = Mod:new(#{}),
                                        Prepare(P), P end
                                  || _ <- lists:seq(1, Count)],
                       erlang:garbage_collect(),
                       Self ! built,
                       receive stop -> length(Parsers) end
               end),
    erlang:garbage_collect(),
    Before = erlang:memory(total),
    Holder ! go,
    receive built -> ok end,
    After = erlang:memory(total),
    Holder ! stop,
    %% The holder's references (a list of 10k refs) count too: honest.
    (After - Before) div Count.
