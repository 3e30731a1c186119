%% Helpers shared by the test modules.
-module(stanza_test_util).

-export([in_peer/3, gen_events/0, poll/2, driver_alloc_bytes/0, invalid_utf8/0]).

%% {ok, M:F(A...)} computed in a fresh VM, or {peer_died, Reason}: a NIF
%% that corrupts memory kills that VM and fails one test instead of
%% aborting the whole run.
in_peer(M, F, A) ->
    Paths = [D || D <- code:get_path(), not lists:prefix(code:root_dir(), D)],
    {ok, Peer, _} = peer:start(#{connection => standard_io,
                                 args => ["-pa" | Paths],
                                 env => [{"ERL_CRASH_DUMP_SECONDS", "0"}]}),
    try
        {ok, peer:call(Peer, M, F, A, 110000)}
    catch
        exit:Reason -> {peer_died, Reason}
    after
        catch peer:stop(Peer)
    end.

%% Every {'$gen_event', _} message already in the mailbox (the NIF sends
%% them before parse returns), in order.
gen_events() ->
    receive
        {'$gen_event', Event} -> [Event | gen_events()]
    after 0 ->
            []
    end.

%% True as soon as Fun() is, checked every 20 ms (after a garbage
%% collection, so that dropped resources are freed) for up to Timeout ms;
%% false if it never is.
poll(Fun, Timeout) ->
    poll_until(Fun, erlang:monotonic_time(millisecond) + Timeout).

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

%% The bytes of the driver_alloc blocks of every allocator instance:
%% enif_alloc (the NIF, expat included) and driver_alloc (the port driver)
%% both allocate there.
driver_alloc_bytes() ->
    lists:sum([Size || {instance, _, Info} <- erlang:system_info({allocator,
                                                                  driver_alloc}),
                       {Kind, Carrier} <- Info, Kind =:= mbcs orelse Kind =:= sbcs,
                       {blocks, Blocks} <- Carrier,
                       {_Type, Stats} <- Blocks,
                       {size, Size, _, _} <- Stats]).

%% Every class of invalid UTF-8, named, to place in text, attributes and
%% names.
invalid_utf8() ->
    [{"overlong 2-byte (C0)", <<16#C0, 16#AF>>},
     {"overlong 2-byte (C1)", <<16#C1, 16#BF>>},
     {"overlong 3-byte", <<16#E0, 16#80, 16#AF>>},
     {"overlong 4-byte", <<16#F0, 16#80, 16#80, 16#AF>>},
     {"high surrogate", <<16#ED, 16#A0, 16#80>>},
     {"low surrogate", <<16#ED, 16#BF, 16#BF>>},
     {"byte FE", <<16#FE>>},
     {"byte FF", <<16#FF>>},
     {"code point above U+10FFFF", <<16#F4, 16#90, 16#80, 16#80>>},
     {"lead byte F5", <<16#F5, 16#80, 16#80, 16#80>>},
     {"lone continuation byte", <<16#80>>},
     {"truncated 2-byte sequence", <<16#C3>>},
     {"truncated 3-byte sequence", <<16#E2, 16#82>>},
     {"truncated 4-byte sequence", <<16#F0, 16#9F, 16#98>>},
     {"bad continuation byte", <<16#C3, 16#28>>}].
