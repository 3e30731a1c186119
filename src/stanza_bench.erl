%% @doc Parse throughput from your own shell: stanza against the other
%% XML stream parsers installed in this node, on your captured stream or
%% on a small generated one.
%%
%% ```
%% 1> stanza_bench:parse().
%% 2> stanza_bench:parse(#{file => "capture.xml", chunk => 1024, runs => 7}).
%% 3> stanza_bench:parse(#{size => 4000000, format => binary}).
%% '''
%% Every parser gets the same bytes in the same chunks and delivers its
%% events to the process that owns it, as a server's connection process
%% uses it: stanza_stream in pull mode (events returned by parse/2) and in
%% push mode to itself (`callback => self()', events taken from its own
%% mailbox after each chunk), fast_xml's fxml_stream pushing to itself
%% (`fxml_stream:new(self(), infinity)', as ejabberd's c2s does) and
%% exml_stream (elements returned), the last two when they load here.
%% Each run is timed in a fresh process; the rows run in interleaved
%% rounds (every row once per round) and each row's ratio to stanza pull
%% is computed per round, so a machine that slows down for a while
%% charges every row alike. The table gives medians with min-max spreads.
%% A parser that fails on the input says so, with the stream offset of
%% the chunk it failed in, and the others still run.
%%
%% Options: `file' (a captured stream, starting with `<?xml' or
%% `<stream:stream', or stanzas one after another, which get a stream
%% header and trailer), `size' (bytes of generated stream when there is
%% no file, default 2,000,000), `chunk' (bytes per parse call, default
%% 4096), `runs' (rounds, default 5), `format' (stanza's term format,
%% default `xmlel', the terms fast_xml and exml build), `print' (default
%% `true').
%%
%% This is the quick check a user runs; the full comparison (memory,
%% scheduler holds, big stanzas, serializer, raw expat) is `make bench' in
%% the stanza repository, which is not part of the application.
-module(stanza_bench).

-export([parse/0, parse/1, generate/1]).

-export_type([options/0, row/0]).

-type options() :: #{file => file:filename(), size => pos_integer(),
                     chunk => pos_integer(), runs => pos_integer(),
                     format => stanza_stream:format(), print => boolean()}.
-type row() :: #{parser := string(), delivery := string(),
                 status := ok | {failed, string()} | {skipped, string()},
                 mbps => float(), mbps_min => float(), mbps_max => float(),
                 ratio => float(), ratio_min => float(), ratio_max => float()}.

-define(MB, 1000000).
-define(HEADER, <<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "from='example.com' id='s1' version='1.0' xml:lang='en'>">>).
-define(TRAILER, <<"</stream:stream>">>).

%% @equiv parse(#{})
-spec parse() -> [row()].
parse() ->
    parse(#{}).

%% @doc Measures every parser installed here, prints a table (unless
%% `print => false') and returns the rows, stanza pull first.
-spec parse(options()) -> [row()].
parse(Opts0) when is_map(Opts0) ->
    Opts = maps:merge(#{size => 2 * ?MB, chunk => 4096, runs => 5,
                        format => xmlel, print => true}, Opts0),
    ok = maps:foreach(fun check/2, Opts),
    Stream = stream(Opts),
    Chunks = chunks(Stream, maps:get(chunk, Opts)),
    Rows0 = [prepare(Def, Chunks) || Def <- peers(maps:get(format, Opts))],
    Rows1 = lists:foldl(fun(_, Rows) -> [time_row(R, Chunks) || R <- Rows] end,
                        Rows0, lists:seq(1, maps:get(runs, Opts))),
    Rows = finish(Rows1, byte_size(Stream)),
    _ = maps:get(print, Opts) andalso print(Rows, Stream, Opts),
    Rows.

%% @doc A generated client stream of about `Bytes' bytes: chat in several
%% languages, presence, MUC, roster and pubsub stanzas, keepalives. The
%% same size gives the same bytes.
-spec generate(pos_integer()) -> binary().
generate(Bytes) when is_integer(Bytes), Bytes > 0 ->
    Stanzas = templates(),
    N = tuple_size(Stanzas),
    Body = fill(Bytes - byte_size(?HEADER) - byte_size(?TRAILER), Stanzas, N, 0, []),
    iolist_to_binary([?HEADER, Body, ?TRAILER]).

%%--------------------------------------------------------------------
%% Input

check(K, V) when K =:= size; K =:= chunk; K =:= runs ->
    true = is_integer(V) andalso V > 0 orelse erlang:error({bad_option, K, V}),
    ok;
check(format, V) when V =:= binary; V =:= legacy; V =:= xmlel -> ok;
check(print, V) when is_boolean(V) -> ok;
check(file, V) ->
    true = io_lib:char_list(V) orelse is_binary(V) orelse erlang:error({bad_option, file, V}),
    ok;
check(K, V) ->
    erlang:error({bad_option, K, V}).

stream(#{file := File}) ->
    {ok, Data} = file:read_file(File),
    case is_stream(Data) of
        true -> Data;
        false -> iolist_to_binary([?HEADER, Data, ?TRAILER])
    end;
stream(#{size := Size}) ->
    generate(Size).

is_stream(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t; C =:= $\r; C =:= $\n ->
    is_stream(Rest);
is_stream(<<"<?xml", _/binary>>) -> true;
is_stream(<<"<stream:stream", _/binary>>) -> true;
is_stream(_) -> false.

chunks(Bin, Size) when byte_size(Bin) > Size ->
    <<Chunk:Size/binary, Rest/binary>> = Bin,
    [Chunk | chunks(Rest, Size)];
chunks(Bin, _Size) ->
    [Bin].

fill(Budget, _Stanzas, _N, _I, Acc) when Budget =< 0 ->
    lists:reverse(Acc);
fill(Budget, Stanzas, N, I, Acc) ->
    Stanza = element(1 + I rem N, Stanzas),
    Keepalive = case I rem 23 of 0 -> <<"\n">>; _ -> <<>> end,
    fill(Budget - byte_size(Stanza) - byte_size(Keepalive), Stanzas, N, I + 1,
         [Keepalive, Stanza | Acc]).

templates() ->
    {<<"<message from='alice@example.org/phone' to='me@example.org/pc' type='chat' "
       "id='a1'><body>Salut ! &#199;a va tr\xc3\xa8s bien, &amp; toi ?</body>"
       "<active xmlns='http://jabber.org/protocol/chatstates'/></message>">>,
     <<"<message from='dima@xmpp.ru/pc' to='me@example.org/pc' type='chat' id='a2'>"
       "<body>\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82! \xd0\x9a\xd0\xb0\xd0\xba "
       "\xd0\xb4\xd0\xb5\xd0\xbb\xd0\xb0?</body></message>">>,
     <<"<message from='wang@jabber.cn/m' to='me@example.org/pc' type='chat' id='a3'>"
       "<body>\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x81\xe6\x88\x91\xe4\xbb\xac\xe6\x98\x8e"
       "\xe5\xa4\xa9\xe8\xa7\x81\xe3\x80\x82 \xf0\x9f\x98\x80</body></message>">>,
     <<"<message from='salma@example.org/w' to='me@example.org/pc' type='chat' id='a4'>"
       "<body>\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd8\xa8\xd9\x83 "
       "<![CDATA[if (a < b) {}]]></body></message>">>,
     <<"<presence from='bob@example.org/laptop' to='me@example.org/pc'><show>away</show>"
       "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
       "node='http://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>">>,
     <<"<presence from='xsf@conference.example.org/Eve' to='me@example.org/pc'>"
       "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
       "role='participant'/></x></presence>">>,
     <<"<iq type='result' id='r1' to='me@example.org/pc'><query xmlns='jabber:iq:roster'>"
       "<item jid='alice@example.org' name='Alice' subscription='both'><group>Friends"
       "</group></item><item jid='bob@example.org' subscription='to'/></query></iq>">>,
     <<"<message from='pubsub.example.org' to='me@example.org/pc'><event "
       "xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:microblog:0'>"
       "<item id='p1'><a:entry xmlns:a='http://www.w3.org/2005/Atom'><a:title>News"
       "</a:title></a:entry></item></items></event></message>">>}.

%%--------------------------------------------------------------------
%% The parsers: each a fun run in a fresh process over the chunks, which
%% returns the number of stanzas delivered.

peers(Format) ->
    [{"stanza_stream", "pull: returned by parse/2", fun(Cs) -> stanza_pull(Format, Cs) end},
     {"stanza_stream", "push to itself: own mailbox",
      fun(Cs) -> stanza_push_self(Format, Cs) end},
     {"fxml_stream (fast_xml)", "push to itself: own mailbox", fun fxml_push_self/1},
     {"exml_stream (exml)", "pull: returned by parse/2", fun exml_pull/1}].

stanza_pull(Format, Chunks) ->
    {ok, P} = stanza_stream:new(#{format => Format}),
    N = fold_chunks(fun(C, Acc) ->
                            {ok, Events} = stanza_stream:parse(P, C),
                            Acc + count(Events)
                    end, 0, Chunks),
    ok = stanza_stream:close(P),
    N.

stanza_push_self(Format, Chunks) ->
    {ok, P} = stanza_stream:new(#{format => Format, callback => self()}),
    N = fold_chunks(fun(C, Acc) ->
                            {ok, []} = stanza_stream:parse(P, C),
                            drain(Acc)
                    end, 0, Chunks),
    ok = stanza_stream:close(P),
    N.

%% Optional libraries are called through module variables, so neither
%% the compiler nor Dialyzer needs them.
fxml_push_self(Chunks) ->
    Mod = fxml_stream,
    _ = application:ensure_all_started(fast_xml),
    S0 = Mod:new(self(), infinity),
    {S, N} = fold_chunks(fun(C, {S1, Acc}) -> {Mod:parse(S1, C), drain(Acc)} end,
                         {S0, 0}, Chunks),
    _ = Mod:close(S),
    drain(N).

exml_pull(Chunks) ->
    Mod = exml_stream,
    {ok, P0} = Mod:new_parser(),
    {P, N} = fold_chunks(fun(C, {P1, Acc}) ->
                                 {ok, P2, Els} = Mod:parse(P1, C),
                                 {P2, Acc + length([E || E <- Els, element(1, E) =:= xmlel])}
                         end, {P0, 0}, Chunks),
    _ = Mod:free_parser(P),
    N.

%% lists:foldl/3 over the chunks that remembers where the current chunk
%% starts in the stream, for the report of a parser that fails.
fold_chunks(Fun, Acc, Chunks) ->
    fold_chunks(Fun, Acc, Chunks, 0).

fold_chunks(_Fun, Acc, [], _Offset) ->
    Acc;
fold_chunks(Fun, Acc, [Chunk | Rest], Offset) ->
    put(stanza_bench_offset, Offset),
    fold_chunks(Fun, Fun(Chunk, Acc), Rest, Offset + byte_size(Chunk)).

count(Events) ->
    lists:foldl(fun({xmlstreamelement, _}, N) -> N + 1;
                   ({xmlstreamerror, Why}, _) -> erlang:error({xmlstreamerror, Why});
                   (_, N) -> N
                end, 0, Events).

drain(N) ->
    receive
        {'$gen_event', {xmlstreamelement, _}} -> drain(N + 1);
        {'$gen_event', {xmlstreamerror, Why}} -> erlang:error({xmlstreamerror, Why});
        {'$gen_event', _} -> drain(N)
    after 0 -> N
    end.

%%--------------------------------------------------------------------
%% Timing

%% The warm-up run decides whether the row runs: the stanza count every
%% later run must reach, or why it cannot run.
prepare({Name, Delivery, Fun}, Chunks) ->
    Row = #{parser => Name, delivery => Delivery, fun_ => Fun, seconds => []},
    case fresh(Fun, Chunks) of
        {ok, Stanzas, _} -> Row#{status => ok, stanzas => Stanzas};
        {error, error, undef} -> Row#{status => {skipped, "not installed here"}};
        {error, Class, Reason} -> failed(Row, Class, Reason)
    end.

time_row(#{status := ok, fun_ := Fun, stanzas := Want, seconds := Ss} = Row, Chunks) ->
    case fresh(Fun, Chunks) of
        {ok, Want, S} -> Row#{seconds := [S | Ss]};
        {ok, Got, _} -> failed(Row, error, {stanzas, Got, expected, Want});
        {error, Class, Reason} -> failed(Row, Class, Reason)
    end;
time_row(Row, _Chunks) ->
    Row.

failed(Row, Class, {Reason, at_offset, Offset}) when is_integer(Offset) ->
    Row#{status => {failed, lists:flatten(
                              io_lib:format("FAILED in the chunk at byte ~B: ~0p:~0P",
                                            [Offset, Class, Reason, 10]))}};
failed(Row, Class, Reason) ->
    Row#{status => {failed, lists:flatten(io_lib:format("FAILED: ~0p:~0P",
                                                        [Class, Reason, 10]))}}.

%% {ok, Stanzas, Seconds} or {error, Class, Reason}, in a new process.
fresh(Fun, Chunks) ->
    true = erlang:garbage_collect(),
    Parent = self(),
    Ref = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Parent ! {Ref, timed(Fun, Chunks)} end),
    receive
        {Ref, Result} -> erlang:demonitor(MRef, [flush]), Result;
        {'DOWN', MRef, process, Pid, Why} -> {error, exit, Why}
    end.

timed(Fun, Chunks) ->
    try
        T0 = erlang:monotonic_time(),
        N = Fun(Chunks),
        T1 = erlang:monotonic_time(),
        {ok, N, seconds(T1 - T0)}
    catch
        Class:Reason:Stack -> caught(Class, Reason, Stack)
    end.

%% A peer library that is not loadable is skipped, anything else failed.
caught(error, undef, [{M, _, _, _} | _]) when M =:= fxml_stream; M =:= exml_stream ->
    {error, error, undef};
caught(Class, Reason, _Stack) ->
    {error, Class, {Reason, at_offset, get(stanza_bench_offset)}}.

seconds(Native) ->
    max(erlang:convert_time_unit(Native, native, nanosecond), 1) / 1.0e9.

finish(Rows, Bytes) ->
    Base = hd(Rows),
    [summary(R, Base, Bytes) || R <- Rows].

summary(#{status := ok, seconds := Ss} = Row, Base, Bytes) when Ss =/= [] ->
    Mbps = [Bytes / ?MB / S || S <- Ss],
    Ratios = case Base of
                 #{status := ok, seconds := Bs} when length(Bs) =:= length(Ss) ->
                     [B / S || {S, B} <- lists:zip(Ss, Bs)];
                 _ -> []
             end,
    Clean = maps:with([parser, delivery, status], Row),
    maps:merge(Clean#{mbps => median(Mbps), mbps_min => lists:min(Mbps),
                      mbps_max => lists:max(Mbps)}, ratios(Ratios));
summary(Row, _Base, _Bytes) ->
    maps:with([parser, delivery, status], Row).

ratios([]) -> #{};
ratios(Rs) -> #{ratio => median(Rs), ratio_min => lists:min(Rs), ratio_max => lists:max(Rs)}.

median(Xs) ->
    Sorted = lists:sort(Xs),
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

%%--------------------------------------------------------------------
%% Printing

print(Rows, Stream, #{chunk := Chunk, runs := Runs, format := Format}) ->
    io:format("~.2f MB stream in ~B B chunks, ~B interleaved rounds, stanza "
              "format ~p; median [min-max]~n",
              [byte_size(Stream) / ?MB, Chunk, Runs, Format]),
    io:format("~-24s ~-30s ~24s ~22s~n",
              ["parser", "events delivered", "MB/s", "vs stanza pull"]),
    lists:foreach(fun print_row/1, Rows).

print_row(#{parser := P, delivery := D, status := ok} = R) ->
    #{mbps := M, mbps_min := Lo, mbps_max := Hi} = R,
    Ratio = case R of
                #{ratio := X, ratio_min := RLo, ratio_max := RHi} ->
                    io_lib:format("~.2fx [~.2f-~.2f]", [X, RLo, RHi]);
                _ -> "-"
            end,
    io:format("~-24s ~-30s ~24s ~22s~n",
              [P, D, io_lib:format("~.1f [~.1f-~.1f]", [M, Lo, Hi]), Ratio]);
print_row(#{parser := P, delivery := D, status := {_, Why}}) ->
    io:format("~-24s ~-30s ~ts~n", [P, D, Why]).
