%% Helpers shared by the test modules.
-module(stanza_test_util).

-export([in_peer/3, gen_events/0, poll/2]).

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
