%% The fast_xml compat against the real fast_xml 1.1.49 (Debian's
%% erlang-p1-xml), each in a VM of its own (the modules share names):
%% `make bench-fast-xml'. A report for the compat's guide, not one of
%% stanza's benchmark claims.
%%
%% Same job in both: stanza_corpus's mixed client stream cut into chunks,
%% fed to fxml_stream by the process that owns the stream and receives its
%% events (as ejabberd's c2s does), in a fresh process per run; then
%% parse_element on every stanza, and element_to_binary on every element.
%% Runs alternate between the two VMs; the report gives the median and the
%% range over the runs.
-module(fxml_compat_bench).

-export([main/1]).
%% Run inside the peers.
-export([which/0, stream/1, parse_elements/1, elements/1, serialize/1]).

-spec main(string()) -> no_return().
main(Args) ->
    [Mb, Chunk, Runs] = [list_to_integer(A) || A <- string:lexemes(Args, " ")],
    Stream = stanza_corpus:stream(Mb * 1000000),
    Chunks = chunks(Stream, Chunk),
    #{stanzas := Stanzas} = stanza_corpus:generate(Mb * 1000000),
    Real = peer([]),
    Ours = peer(["-pa" | our_paths()]),
    try
        io:format("fast_xml (real): ~s~ncompat:          ~s~n",
                  [element(1, call(Real, which, [])),
                   element(1, call(Ours, which, []))]),
        Els = call(Real, parse_elements, [Stanzas]),
        Rows = [{"fxml_stream, owner receives events", stream, [Chunks],
                 byte_size(Stream)},
                {"fxml_stream:parse_element per stanza", elements, [Stanzas],
                 iolist_size(Stanzas)},
                {"fxml:element_to_binary per element", serialize, [Els],
                 iolist_size(Stanzas)}],
        io:format("~nmixed stream ~.1f MB, ~B-byte chunks, ~B runs each, "
                  "alternating; MB/s median (min-max)~n~n",
                  [byte_size(Stream) / 1.0e6, Chunk, Runs]),
        io:format("| job | fast_xml 1.1.49 | compat on stanza | ratio |~n"
                  "|---|---|---|---|~n"),
        lists:foreach(fun({Label, F, A, Bytes}) ->
                              row(Label, F, A, Bytes, Runs, Real, Ours)
                      end, Rows)
    after
        peer:stop(Real),
        peer:stop(Ours)
    end,
    halt(0).

row(Label, F, A, Bytes, Runs, Real, Ours) ->
    Times = [{call(Real, F, A), call(Ours, F, A)} || _ <- lists:seq(1, Runs)],
    R = [Bytes / 1.0e6 / T || {T, _} <- Times],
    O = [Bytes / 1.0e6 / T || {_, T} <- Times],
    io:format("| ~s | ~s | ~s | ~.2fx |~n",
              [Label, summary(R), summary(O), median(O) / median(R)]).

summary(L) ->
    io_lib:format("~.1f (~.1f-~.1f)", [median(L), lists:min(L), lists:max(L)]).

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).

chunks(Bin, N) when byte_size(Bin) =< N -> [Bin];
chunks(Bin, N) ->
    <<C:N/binary, Rest/binary>> = Bin,
    [C | chunks(Rest, N)].

our_paths() ->
    [filename:dirname(code:which(M)) || M <- [stanza_stream]] ++
        [filename:join(filename:dirname(filename:dirname(filename:dirname(
                                                           code:which(stanza_stream)))),
                       "fast_xml/ebin")].

peer(Args) ->
    {ok, Peer, _} = peer:start(#{connection => standard_io, args => Args,
                                 env => [{"ERL_LIBS", ""}]}),
    {Mod, Bin, File} = code:get_object_code(?MODULE),
    {module, Mod} = peer:call(Peer, code, load_binary, [Mod, File, Bin]),
    Peer.

call(Peer, F, A) ->
    peer:call(Peer, ?MODULE, F, A, 600000).

%%--------------------------------------------------------------------
%% In the peers: each returns seconds (or, for which/0, where the
%% modules come from).

-spec which() -> {term(), term()}.
which() ->
    {code:which(fxml_stream), code:which(fxml)}.

-spec stream([binary()]) -> float().
stream(Chunks) ->
    fresh(fun() ->
                  S0 = fxml_stream:new(self(), infinity),
                  T0 = erlang:monotonic_time(),
                  S = lists:foldl(fun(C, S) ->
                                          S1 = fxml_stream:parse(S, C),
                                          drain(),
                                          S1
                                  end, S0, Chunks),
                  T1 = erlang:monotonic_time(),
                  true = fxml_stream:close(S),
                  seconds(T1 - T0)
          end).

-spec parse_elements([binary()]) -> [term()].
parse_elements(Stanzas) ->
    [fxml_stream:parse_element(S) || S <- Stanzas].

-spec elements([binary()]) -> float().
elements(Stanzas) ->
    fresh(fun() ->
                  T0 = erlang:monotonic_time(),
                  _ = [fxml_stream:parse_element(S) || S <- Stanzas],
                  seconds(erlang:monotonic_time() - T0)
          end).

-spec serialize([term()]) -> float().
serialize(Els) ->
    fresh(fun() ->
                  T0 = erlang:monotonic_time(),
                  _ = [fxml:element_to_binary(E) || E <- Els],
                  seconds(erlang:monotonic_time() - T0)
          end).

drain() ->
    receive _ -> drain()
    after 0 -> ok
    end.

seconds(Native) ->
    erlang:convert_time_unit(Native, native, microsecond) / 1.0e6.

fresh(Fun) ->
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), Fun()} end),
    receive
        {Pid, Result} -> erlang:demonitor(Ref, [flush]), Result;
        {'DOWN', Ref, process, Pid, Why} -> exit({bench_run_failed, Why})
    end.
