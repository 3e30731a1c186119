%% @doc What every benchmark section shares: running a measurement in a
%% fresh process, medians, progress lines, formatting.
-module(stanza_bench_util).

-export([in_fresh_process/1, seconds/1, median/1, summary/1, chunks/2,
         feed_chunks/3, failure/3, quiet_worker/1, progress/2, quiet/1, flat/2]).

-export_type([summary/0]).

%% The median of a sample and its extremes.
-type summary() :: #{median := number(), min := number(), max := number()}.

%% @doc Fun's result, computed in a new process after a garbage
%% collection of the caller, so that every run starts from the same heap
%% state (runs timed one after another in one process gave bimodal
%% results as heap sizes carried over). A crash in Fun is raised here.
-spec in_fresh_process(fun(() -> Result)) -> Result.
in_fresh_process(Fun) ->
    true = erlang:garbage_collect(),
    Parent = self(),
    Ref = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Parent ! {Ref, protect(Fun)} end),
    receive
        {Ref, {ok, Result}} ->
            erlang:demonitor(MRef, [flush]),
            Result;
        {Ref, {crashed, Class, Reason, Stack}} ->
            erlang:demonitor(MRef, [flush]),
            erlang:raise(Class, Reason, Stack);
        {'DOWN', MRef, process, Pid, Reason} ->
            erlang:error({run_died, Reason})
    end.

protect(Fun) ->
    try
        true = erlang:garbage_collect(),
        {ok, Fun()}
    catch
        Class:Reason:Stack -> {crashed, Class, Reason, Stack}
    end.

%% @doc Wall-clock seconds that Fun takes, in the calling process.
-spec seconds(fun(() -> term())) -> float().
seconds(Fun) ->
    T0 = erlang:monotonic_time(),
    _ = Fun(),
    T1 = erlang:monotonic_time(),
    max(erlang:convert_time_unit(T1 - T0, native, nanosecond), 1) / 1.0e9.

-spec median([number(), ...]) -> number().
median(Xs) ->
    Sorted = lists:sort(Xs),
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

%% @doc A binary cut into pieces of Size bytes (the last one shorter), as
%% the benchmark feeds its parsers.
-spec chunks(binary(), pos_integer()) -> [binary()].
chunks(Bin, Size) when byte_size(Bin) > Size ->
    <<Chunk:Size/binary, Rest/binary>> = Bin,
    [Chunk | chunks(Rest, Size)];
chunks(Bin, _Size) ->
    [Bin].

%% @doc lists:foldl/3 over the chunks of a stream, for a parser's feed
%% fun. When Fun raises on a chunk, the error becomes
%% `{failed_at, Offset, Class, Reason}', Offset the byte of the stream at
%% which that chunk starts, so that a report can say where a library
%% failed (failure/3).
-spec feed_chunks(fun((binary(), Acc) -> Acc), Acc, [binary()]) -> Acc.
feed_chunks(Fun, Acc, Chunks) ->
    feed_chunks(Fun, Acc, Chunks, 0).

feed_chunks(_Fun, Acc, [], _Offset) ->
    Acc;
feed_chunks(Fun, Acc0, [Chunk | Rest], Offset) ->
    Acc = try Fun(Chunk, Acc0)
          catch
              error:{failed_at, _, _, _} = Nested -> erlang:error(Nested);
              Class:Reason -> erlang:error({failed_at, Offset, Class, Reason})
          end,
    feed_chunks(Fun, Acc, Rest, Offset + byte_size(Chunk)).

%% @doc Runs Fun in a process spawned to measure something: an error is
%% turned into an exit with the same reason and stack, which the
%% monitoring process reads from its 'DOWN' message, without an error
%% report on the terminal for every failing run of a failing library.
-spec quiet_worker(fun(() -> term())) -> term().
quiet_worker(Fun) ->
    try Fun()
    catch error:Reason:Stack -> exit({Reason, Stack})
    end.

%% @doc The text a table cell shows for a row whose library failed: the
%% byte offset when feed_chunks/3 knew it, the reason in short.
-spec failure(atom(), term(), list()) -> string().
failure(error, {failed_at, Offset, Class, Reason}, _Stack) ->
    flat("FAILED in the chunk at byte ~B: ~0p:~0P", [Offset, Class, Reason, 10]);
failure(error, {run_died, {{failed_at, _, _, _} = Failed, _Stack}}, Stack) ->
    failure(error, Failed, Stack);
failure(error, {run_died, Reason}, _Stack) ->
    flat("FAILED: the run's process died: ~0P", [Reason, 10]);
failure(Class, Reason, Stack) ->
    flat("FAILED: ~0p:~0P at ~0P", [Class, Reason, 10, Stack, 6]).

-spec summary([number(), ...]) -> summary().
summary(Xs) ->
    #{median => median(Xs), min => lists:min(Xs), max => lists:max(Xs)}.

%% @doc A progress message on standard error, so that standard output
%% carries only the report; nothing after quiet(true) in this process.
-spec progress(io:format(), [term()]) -> ok.
progress(Format, Args) ->
    case get(stanza_bench_quiet) of
        true -> ok;
        _ -> io:format(standard_error, Format, Args)
    end.

%% @doc Turns progress messages off (true) or on (false) for the calling
%% process, which runs the benchmark; returns the previous setting.
-spec quiet(boolean()) -> boolean().
quiet(Quiet) when is_boolean(Quiet) ->
    put(stanza_bench_quiet, Quiet) =:= true.

-spec flat(io:format(), [term()]) -> string().
flat(Format, Args) ->
    lists:flatten(io_lib:format(Format, Args)).
