%% Runs a function in a fresh VM, so that a NIF that corrupts memory kills
%% that VM and fails one test instead of aborting the whole run.
-module(stanza_test_peer).

-export([call/3]).

%% {ok, M:F(A...)} computed in a fresh VM, or {peer_died, Reason}.
call(M, F, A) ->
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
