#!/usr/bin/env escript
%%! -pa _build/default/lib/stanza/ebin
%% -*- erlang -*-
%%
%% The measurements behind issue 15 (big stanzas, scheduler holds, the
%% serializer, parse throughput), for the C side of stanza. Run from the
%% repository root after `make compile` (and `make bench/raw_expat` for
%% the throughput section):
%%
%%   bench/perf_issue15.escript big [Rounds]        goal 1: pull, push, fast_xml
%%   bench/perf_issue15.escript holds [Word...]     goal 2: longest schedules
%%                                   (only the cases whose name has a Word)
%%   bench/perf_issue15.escript serialize [Rounds]  goal 3: vs fxml:element_to_binary
%%   bench/perf_issue15.escript throughput [Rounds] goal 4: vs raw expat
%%
%% Every figure is CPU time, not wall time: this is meant for a shared
%% machine where other jobs preempt us at random. Each run is a fresh
%% process; libraries alternate within a round; medians over the rounds.
%% fast_xml is Debian's (erlang-p1-xml), on the default code path; events
%% go to the process that owns the parser, as ejabberd uses it.
-mode(compile).

-define(HDR, <<"<stream:stream xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams'>">>).

main(["big" | Rest]) -> big(rounds(Rest, 5));
main(["holds" | Only]) -> holds(Only);
main(["serialize" | Rest]) -> serialize(rounds(Rest, 5));
main(["throughput" | Rest]) -> throughput(rounds(Rest, 7));
main(_) ->
    io:format("usage: bench/perf_issue15.escript big|holds|serialize|throughput [Rounds]~n"),
    halt(2).

rounds([N | _], _) -> list_to_integer(N);
rounds([], D) -> D.

%%--------------------------------------------------------------------
%% Inputs

%% The stanza of issue 15: Reps times text and a small element in a body.
big_stanza(Reps) ->
    iolist_to_binary([<<"<message to='a@b' id='x'><body>">>,
                      lists:duplicate(Reps, <<"0123456789abcdef<b x='1'>txt</b>">>),
                      <<"</body></message>">>]).

roster(N) ->
    iolist_to_binary(
      [<<"<iq type='result' id='r'><query xmlns='jabber:iq:roster'>">>,
       [[<<"<item jid='user">>, integer_to_binary(I), <<"@example.com' name='User ">>,
         integer_to_binary(I), <<"' subscription='both'><group>Friends</group></item>">>]
        || I <- lists:seq(1, N)],
       <<"</query></iq>">>]).

%% About 10 MB of ordinary messages.
many() ->
    iolist_to_binary(
      [[<<"<message to='u">>, integer_to_binary(I), <<"@example.com' id='m">>,
        integer_to_binary(I), <<"'><body>hello &amp; \xc3\xa9t\xc3\xa9 ">>,
        integer_to_binary(I), <<"</body></message>">>] || I <- lists:seq(1, 100000)]).

chunks(Bin, all) -> [Bin];
chunks(Bin, N) when byte_size(Bin) =< N -> [Bin];
chunks(Bin, N) -> <<C:N/binary, R/binary>> = Bin, [C | chunks(R, N)].

cpu_us() -> {Ms, _} = erlang:statistics(runtime), Ms * 1000.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

%% Runs Fun in a fresh process; its result.
fresh(Fun) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), Fun()} end),
    receive
        {Pid, R} -> receive {'DOWN', Ref, _, _, _} -> R end;
        {'DOWN', Ref, _, _, Why} -> {failed, Why}
    end.

%%--------------------------------------------------------------------
%% Goal 1: one big stanza, pull and push to self, against fast_xml pushing
%% to self; the time until the stanza is on the owner's heap.

big(Rounds) ->
    Libs = [stanza_pull, stanza_push, fxml],
    Inputs = [{"10 MB stanza", big_stanza(320000)}, {"5 MB stanza", big_stanza(160000)},
              {"roster 10,000 items", roster(10000)}],
    Res = [{Name, Sz, [{L, median(Ts)} || {L, Ts} <- interleave(Libs, chunks(Bin, Sz), Rounds)]}
           || {Name, Bin} <- Inputs, Sz <- [all, 1024, 4096, 65536]],
    [io:format("~-20s ~-6w pull ~6.1f ms  push ~6.1f ms  fxml ~6.1f ms   pull/push ~.2f  fxml/pull ~.2f~n",
               [N, Sz, P / 1000, Pu / 1000, F / 1000, P / Pu, F / P])
     || {N, Sz, [{_, P}, {_, Pu}, {_, F}]} <- Res],
    Lin = [begin
               {_, _, [{_, P10} | _]} = lists:keyfind(Sz, 2, [R || {"10 MB stanza", _, _} = R <- Res]),
               {_, _, [{_, P5} | _]} = lists:keyfind(Sz, 2, [R || {"5 MB stanza", _, _} = R <- Res]),
               {Sz, P10 / P5}
           end || Sz <- [all, 1024, 4096, 65536]],
    io:format("pull 10 MB / 5 MB: ~p~n", [Lin]).

%% A received stanza of megabytes joins the receiver's heap at its next
%% garbage collection (ERTS runs it on a dirty scheduler). In pull mode
%% that happens inside parse/2, which takes the stanza from the mailbox and
%% builds the result; a push receiver pays it at its next allocation. So
%% that every row does the same job, push and fast_xml rows collect once
%% after the receive.
joins_heap() -> erlang:garbage_collect().

interleave(Libs, Chunks, Rounds) ->
    R = [[{L, fresh(fun() -> run_big(L, Chunks) end)} || L <- Libs] || _ <- lists:seq(1, Rounds)],
    [{L, [T || Round <- R, {L1, T} <- Round, L1 =:= L]} || L <- Libs].

run_big(stanza_pull, Chunks) ->
    {ok, P} = stanza_stream:new(#{}),
    {ok, [_]} = stanza_stream:parse(P, ?HDR),
    T0 = cpu_us(),
    1 = lists:foldl(fun(C, A) -> {ok, E} = stanza_stream:parse(P, C), A + length(E) end,
                    0, Chunks),
    T1 = cpu_us(),
    ok = stanza_stream:close(P),
    T1 - T0;
run_big(stanza_push, Chunks) ->
    {ok, P} = stanza_stream:new(#{callback => self()}),
    {ok, []} = stanza_stream:parse(P, ?HDR),
    receive {'$gen_event', {xmlstreamstart, _, _}} -> ok end,
    T0 = cpu_us(),
    lists:foreach(fun(C) -> {ok, []} = stanza_stream:parse(P, C) end, Chunks),
    receive {'$gen_event', {xmlstreamelement, _}} -> ok end,
    joins_heap(),
    T1 = cpu_us(),
    ok = stanza_stream:close(P),
    T1 - T0;
run_big(fxml, Chunks) ->
    S = fxml_stream:new(self(), infinity),
    S1 = fxml_stream:parse(S, ?HDR),
    receive {'$gen_event', {xmlstreamstart, _, _}} -> ok end,
    T0 = cpu_us(),
    S2 = lists:foldl(fun(C, A) -> fxml_stream:parse(A, C) end, S1, Chunks),
    receive {'$gen_event', {xmlstreamelement, _}} -> ok end,
    joins_heap(),
    T1 = cpu_us(),
    fxml_stream:close(S2),
    T1 - T0.

%%--------------------------------------------------------------------
%% Goal 2: the CPU time of every schedule of the parsing process, from
%% `running' trace events with CPU timestamps and scheduler ids, so that
%% the OS preempting us does not count, and a garbage collection that ERTS
%% moved to a dirty scheduler (id 0) is told apart. Run with +S 1 for the
%% cleanest figures (erl +S 1 -noshell -pa ... -s ...); the escript runs
%% on whatever the VM has.

holds(Only) ->
    _ = erlang:trace(all, true, [cpu_timestamp]),
    Big = big_stanza(320000), Many = many(), Roster = roster(10000),
    Cases = [{"10 MB stanza, one call", {parse, Big, all}},
             {"10 MB stanza, 64 KB chunks", {parse, Big, 65536}},
             {"10 MB stanza, 1 KB chunks", {parse, Big, 1024}},
             {"10 MB of small stanzas", {parse, Many, all}},
             {"roster 10,000 items", {parse, Roster, all}},
             {"close mid 10 MB stanza", {close, Big}},
             {"reset mid 10 MB stanza", {reset, Big}},
             {"drop (GC) mid 10 MB stanza", {drop, Big}}],
    Picked = [C || {Name, _} = C <- Cases,
                   Only =:= [] orelse lists:any(fun(W) -> string:find(Name, W) =/= nomatch end, Only)],
    [[begin
          Hs = [measure(Op, Mode) || _ <- [1, 2, 3]],
          Worst = [case [W || {normal, W, _, _} <- H] of [] -> 0; Ws -> lists:max(Ws) end || H <- Hs],
          Over = [length([W || {normal, W, _, _} <- H, W > 1000]) || H <- Hs],
          Dirty = [case [W || {dirty, W, _, _} <- H] of [] -> 0; Ws -> lists:max(Ws) end || H <- Hs],
          io:format("~-28s ~s: longest normal schedule per run ~w us; >1 ms: ~w; longest dirty GC ~w us~n",
                    [Name, Mode, Worst, Over, Dirty])
      end || Mode <- [pull, push]] || {Name, Op} <- Picked],
    ok.

opts(pull) -> #{};
opts(push) -> #{callback => spawn(fun sink/0)}.
sink() -> receive _ -> sink() end.

run_hold({parse, Bin, Sz}, Mode) ->
    {ok, P} = stanza_stream:new(opts(Mode)),
    {ok, _} = stanza_stream:parse(P, ?HDR),
    go(),
    _ = [{ok, _} = stanza_stream:parse(P, C) || C <- chunks(Bin, Sz)],
    done(),
    stanza_stream:close(P);
run_hold({Op, Bin}, Mode) ->
    {ok, P} = stanza_stream:new(opts(Mode)),
    {ok, _} = stanza_stream:parse(P, ?HDR),
    Open = binary:part(Bin, 0, byte_size(Bin) - 10),
    _ = [{ok, []} = stanza_stream:parse(P, C) || C <- chunks(Open, 65536)],
    erlang:garbage_collect(),
    go(),
    case Op of
        close -> ok = stanza_stream:close(P);
        reset -> ok = stanza_stream:reset(P);
        drop -> erlang:garbage_collect() % P is dead here: the GC frees it
    end,
    erlang:garbage_collect(),
    done(),
    ok.

go() -> get(parent) ! {go, self()}, receive go -> ok end.
%% Waits before going on, so that the schedule in which the work ended
%% ends here (an `out' in the trace), not in the process' own exit, which
%% frees its heap and is not the parser's doing.
done() -> get(parent) ! {done, self()}, receive stop -> ok end.

measure(Op, Mode) ->
    Self = self(),
    Pid = spawn(fun() -> put(parent, Self), run_hold(Op, Mode) end),
    receive {go, Pid} -> ok end,
    erlang:trace(Pid, true, [running, timestamp, scheduler_id]),
    Pid ! go,
    Holds = collect(Pid, undefined, []),
    Pid ! stop,
    Holds.

%% Every schedule until the process says done and waits (trace messages
%% may come after its `done': they are taken for a further 200 ms).
collect(Pid, In, Acc) ->
    collect(Pid, In, Acc, infinity).

collect(Pid, In, Acc, Wait) ->
    receive
        {trace_ts, Pid, in, MFA, S, T} ->
            collect(Pid, {T, S, MFA}, Acc, Wait);
        {trace_ts, Pid, out, MFA, S, T} ->
            Acc1 = case In of
                       undefined -> Acc;
                       {T0, S0, MFA0} ->
                           Kind = case S0 =:= S andalso S >= 1 of
                                      true -> normal;
                                      false -> dirty
                                  end,
                           [{Kind, timer:now_diff(T, T0), MFA0, MFA} | Acc]
                   end,
            collect(Pid, undefined, Acc1, Wait);
        {done, Pid} -> collect(Pid, In, Acc, 200)
    after Wait -> Acc
    end.

%%--------------------------------------------------------------------
%% Goal 3: stanza_xml:element_to_binary/1 against fxml:element_to_binary/1
%% on the same #xmlel{} terms: chat messages in English (with the odd
%% accent and escape), and in Chinese, Arabic, Russian, Japanese, Korean
%% with emoji and astral characters; short bodies, then ten times longer.

serialize(Rounds) ->
    [begin
         Els = ser_corpus(K, Rep),
         Same = [E || E <- Els, stanza_xml:element_to_binary(E) =/= fxml:element_to_binary(E)],
         Res = [[{L, fresh(fun() -> ser_run(L, Els) end)} || L <- [stanza, fxml]]
                || _ <- lists:seq(1, Rounds)],
         S = median([T || R <- Res, {stanza, T} <- R]),
         X = median([T || R <- Res, {fxml, T} <- R]),
         Out = lists:sum([byte_size(stanza_xml:element_to_binary(E)) || E <- Els]),
         io:format("~-6s bodies x~-2w ~9w bytes: stanza ~6.1f ms  fxml ~6.1f ms  ratio ~.2f  (outputs differ on ~w)~n",
                   [K, Rep, Out, S / 1000, X / 1000, X / S, length(Same)])
     end || K <- [ascii, multi], Rep <- [1, 10]],
    ok.

texts(ascii) ->
    [<<"Hello, how are you doing today? Let's meet at 5pm & discuss the plan.">>,
     <<"ok">>, <<"See https://example.com/path?a=1&b=2 for details <urgent>">>,
     <<"The quick brown fox jumps over the lazy dog. Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9.">>,
     <<"Meeting notes: 1) budget 2) roadmap 3) hiring. Please review before Friday.">>];
texts(multi) ->
    [unicode:characters_to_binary(S) || S <-
        ["你好，今天怎么样？我们下午五点见面讨论计划。",
         "مرحبا، كيف حالك اليوم؟ دعنا نلتقي في الخامسة مساءً.",
         "Привет, как дела? Давай встретимся в пять вечера и обсудим план.",
         "こんにちは！今日はいい天気ですね。😀🎉👍 また明日会いましょう。",
         "안녕하세요 😀 𝄞 𠜎𠜱𠝹 emoji and astral 🚀🌍 text & more",
         "Ok 👍 ٣ 日本語 mixed with English words <b>"]].

ser_corpus(Kind, Rep) ->
    Ts = [binary:copy(T, Rep) || T <- texts(Kind)],
    N = length(Ts),
    [{xmlel, <<"message">>,
      [{<<"to">>, <<"juliet@capulet.lit/balcony">>}, {<<"from">>, <<"romeo@montague.lit/orchard">>},
       {<<"type">>, <<"chat">>}, {<<"id">>, integer_to_binary(I)}, {<<"xml:lang">>, <<"en">>}],
      [{xmlel, <<"body">>, [], [{xmlcdata, lists:nth(I rem N + 1, Ts)}]},
       {xmlel, <<"active">>, [{<<"xmlns">>, <<"http://jabber.org/protocol/chatstates">>}], []},
       {xmlel, <<"thread">>, [], [{xmlcdata, <<"e0ffe42b28561960c6b12b944a092794b9683a38">>}]}]}
     || I <- lists:seq(1, 20000)].

ser_run(Lib, Els) ->
    F = case Lib of
            stanza -> fun stanza_xml:element_to_binary/1;
            fxml -> fun fxml:element_to_binary/1
        end,
    T0 = cpu_us(),
    _ = [lists:foreach(F, Els) || _ <- lists:seq(1, 10)],
    (cpu_us() - T0) div 10.

%%--------------------------------------------------------------------
%% Goal 4: parse throughput against bench/raw_expat (NS mode, no-op
%% callbacks) on the same stream, 4 KB chunks; raw expat's CPU time is
%% its process's (bash's `time'), stanza's the VM's.

throughput(Rounds) ->
    Bin = stanza_corpus:stream(16000000),
    File = "/tmp/perf_issue15_corpus.xml",
    ok = file:write_file(File, Bin),
    Chunks = chunks(Bin, 4096),
    R = [{raw(File), fresh(fun() -> pull(Chunks) end)} || _ <- lists:seq(1, Rounds)],
    ok = file:delete(File),
    MB = byte_size(Bin) / 1.0e6,
    Raw = MB / median([A || {A, _} <- R]),
    Pull = MB / median([B || {_, B} <- R]),
    io:format("~w bytes in 4 KB chunks: raw expat ~.1f MB/s, stanza pull ~.1f MB/s: ~.1f% of raw~n",
              [byte_size(Bin), Raw, Pull, 100 * Pull / Raw]).

pull(Chunks) ->
    {ok, P} = stanza_stream:new(#{}),
    T0 = cpu_us(),
    _ = [{ok, _} = stanza_stream:parse(P, C) || C <- Chunks],
    T1 = cpu_us(),
    ok = stanza_stream:close(P),
    (T1 - T0) / 1.0e6.

raw(File) ->
    Out = os:cmd("bash -c 'TIMEFORMAT=\"cpu=%U+%S\"; time bench/raw_expat " ++ File
                 ++ " 1 4096 >/dev/null' 2>&1"),
    [V] = [V || "cpu=" ++ V <- string:tokens(Out, " \n")],
    [U, S] = string:tokens(V, "+"),
    list_to_float(U) + list_to_float(S).
