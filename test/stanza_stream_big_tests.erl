%% EUnit tests of how stanza_stream delivers big stanzas (issue 15): a
%% stanza that spans a yield or a call is finished outside the caller's
%% heap and, when big, moved to the caller by a message that
%% stanza_stream:parse/2 takes from the mailbox; a half-built big stanza
%% dropped by close, reset, an error or the garbage collector is freed by
%% the reaper thread. Correctness only: the speed and the scheduler holds
%% are measured by bench/perf_big_stanza.escript.
-module(stanza_stream_big_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HEADER, <<"<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'>">>).
-define(SMALL, <<"<message to='a@b'><body>hi</body></message>">>).

%% The stanza of issue 15: Reps times text and a small element in one body.
big_stanza(Reps) ->
    iolist_to_binary([<<"<message to='a@b' id='x'><body>">>,
                      lists:duplicate(Reps, <<"0123456789abcdef<b x='1'>txt</b>">>),
                      <<"</body></message>">>]).

roster(N) ->
    iolist_to_binary(
      [<<"<iq type='result' id='r'><query xmlns='jabber:iq:roster'>">>,
       [[<<"<item jid='u">>, integer_to_binary(I),
         <<"@example.com' subscription='both'><group>Friends</group>"
           "</item>">>] || I <- lists:seq(1, N)],
       <<"</query></iq>">>]).

chunks(Bin, N) when byte_size(Bin) =< N -> [Bin];
chunks(Bin, N) -> <<C:N/binary, R/binary>> = Bin, [C | chunks(R, N)].

%% All events of Chunks after the header, in a fresh parser.
events(Opts, Chunks) ->
    {ok, P} = stanza_stream:new(Opts),
    {ok, _} = stanza_stream:parse(P, ?HEADER),
    Events = lists:append([begin {ok, E} = stanza_stream:parse(P, C), E end
                           || C <- Chunks]),
    ok = stanza_stream:close(P),
    Events.

%% The element as parse_element/2 sees it: the reference result.
reference_element(Bin, Opts) ->
    {ok, El} = stanza_stream:parse_element(Bin, Opts),
    El.

assert_no_stray_messages() ->
    receive Msg -> ?assertEqual(no_message, Msg)
    after 0 -> ok
    end.

%%--------------------------------------------------------------------
%% Pull mode

%% A big stanza in one call, between two small ones, in every format: the
%% events come back in document order and nothing is left in the mailbox.
big_stanza_in_one_call_test_() ->
    Big = big_stanza(20000),
    [{atom_to_list(F), fun() ->
          Opts = #{format => F},
          Events = events(Opts, [<<?SMALL/binary, Big/binary, ?SMALL/binary,
                                   "</stream:stream>">>]),
          Small = reference_element(?SMALL, Opts),
          ?assertMatch([{xmlstreamelement, Small},
                        {xmlstreamelement, _},
                        {xmlstreamelement, Small},
                        {xmlstreamend, _}], Events),
          ?assertEqual({xmlstreamelement, reference_element(Big, Opts)},
                       lists:nth(2, Events)),
          assert_no_stray_messages()
      end} || F <- [binary, legacy, xmlel]].

%% The mechanism: a call that yields with the stanza open finishes it
%% outside the caller's heap and moves it by message; the raw NIF says
%% so, and parse/2 hides it.
big_stanza_is_moved_by_message_test() ->
    Big = big_stanza(20000),
    {ok, P} = stanza_stream:new(#{}),
    {ok, _} = stanza_stream:parse(P, ?HEADER),
    {moved, ['$stanza_moved']} = stanza_stream_nif:parse(P, Big),
    receive {'$stanza_moved', {xmlstreamelement, El}} ->
            ?assertEqual(reference_element(Big, #{}), El)
    after 0 -> ?assert(false)
    end,
    ok = stanza_stream:close(P).

%% However it is cut, the big stanza and the roster give the same events.
big_stanza_in_chunks_test_() ->
    Big = big_stanza(20000),
    Roster = roster(3000),
    [{lists:flatten(io_lib:format("~s in ~p-byte chunks", [Name, N])), fun() ->
          Expected = [{xmlstreamelement, reference_element(Bin, #{})}],
          ?assertEqual(Expected, events(#{}, chunks(Bin, N))),
          assert_no_stray_messages()
      end} || {Name, Bin} <- [{"stanza", Big}, {"roster", Roster}],
              N <- [1024, 4096, 65536]].

%% A small stanza cut across two calls is copied out: no message.
small_stanza_across_calls_test() ->
    {ok, P} = stanza_stream:new(#{}),
    {ok, _} = stanza_stream:parse(P, ?HEADER),
    <<A:10/binary, B/binary>> = ?SMALL,
    {ok, []} = stanza_stream_nif:parse(P, A),
    {ok, [{xmlstreamelement, El}]} = stanza_stream_nif:parse(P, B),
    ?assertEqual(reference_element(?SMALL, #{}), El),
    assert_no_stray_messages(),
    ok = stanza_stream:close(P).

%% An error after a big stanza in the same call: both in order.
error_after_big_stanza_test() ->
    Big = big_stanza(20000),
    Events = events(#{}, [<<Big/binary, "<a></b>">>]),
    ?assertMatch([{xmlstreamelement, _},
                  {xmlstreamerror, {not_well_formed, _}}], Events),
    assert_no_stray_messages().

%%--------------------------------------------------------------------
%% Push mode: the same stanza reaches the callback whole and in order.

big_stanza_push_test() ->
    Big = big_stanza(20000),
    {ok, P} = stanza_stream:new(#{callback => self()}),
    {ok, []} = stanza_stream:parse(P, <<?HEADER/binary, ?SMALL/binary>>),
    [{ok, []} = stanza_stream:parse(P, C) || C <- chunks(Big, 4096)],
    {ok, []} = stanza_stream:parse(P, Big),
    Expected = reference_element(Big, #{}),
    receive {'$gen_event', {xmlstreamstart, _, _}} -> ok end,
    receive {'$gen_event', {xmlstreamelement, S}} -> ?assertEqual(reference_element(?SMALL, #{}), S) end,
    receive {'$gen_event', {xmlstreamelement, E1}} -> ?assertEqual(Expected, E1) end,
    receive {'$gen_event', {xmlstreamelement, E2}} -> ?assertEqual(Expected, E2) end,
    ok = stanza_stream:close(P),
    assert_no_stray_messages().

%%--------------------------------------------------------------------
%% Dropping a half-built big stanza: the reaper frees it, the parser goes
%% on (reset) or is gone (close, garbage collection).

half_big_stanza(P) ->
    Big = big_stanza(20000),
    Open = binary:part(Big, 0, byte_size(Big) - 20),
    [{ok, []} = stanza_stream:parse(P, C) || C <- chunks(Open, 65536)],
    {ok, binary:part(Big, byte_size(Big) - 20, 20)}.

open_parser() ->
    {ok, P} = stanza_stream:new(#{}),
    {ok, _} = stanza_stream:parse(P, ?HEADER),
    {ok, _Rest} = half_big_stanza(P),
    P.

close_hands_big_stanza_to_reaper_test() ->
    P = open_parser(),
    Before = stanza_stream_nif:reaped_envs(),
    ok = stanza_stream:close(P),
    ?assertEqual(Before + 1, stanza_stream_nif:reaped_envs()),
    ?assertEqual({error, closed}, stanza_stream:parse(P, <<"x">>)).

reset_hands_big_stanza_to_reaper_test() ->
    P = open_parser(),
    Before = stanza_stream_nif:reaped_envs(),
    ok = stanza_stream:reset(P),
    ?assertEqual(Before + 1, stanza_stream_nif:reaped_envs()),
    %% The parser is pristine and builds big stanzas again.
    {ok, [_]} = stanza_stream:parse(P, ?HEADER),
    {ok, Rest} = half_big_stanza(P),
    {ok, [{xmlstreamelement, _}]} = stanza_stream:parse(P, Rest),
    ok = stanza_stream:close(P),
    assert_no_stray_messages().

error_hands_big_stanza_to_reaper_test() ->
    P = open_parser(),
    Before = stanza_stream_nif:reaped_envs(),
    {ok, [{xmlstreamerror, _}]} = stanza_stream:parse(P, <<"</x>">>),
    ?assertEqual(Before + 1, stanza_stream_nif:reaped_envs()),
    ok = stanza_stream:close(P).

garbage_collected_parser_hands_big_stanza_to_reaper_test() ->
    Before = stanza_stream_nif:reaped_envs(),
    {Pid, Ref} = spawn_monitor(fun() -> _ = open_parser(), ok end),
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    wait_for(fun() -> stanza_stream_nif:reaped_envs() > Before end, 100).

%% A small half-built stanza is freed in place: the reaper is not needed.
small_half_stanza_is_freed_in_place_test() ->
    {ok, P} = stanza_stream:new(#{}),
    {ok, _} = stanza_stream:parse(P, <<?HEADER/binary, "<message><body>hi">>),
    Before = stanza_stream_nif:reaped_envs(),
    ok = stanza_stream:close(P),
    ?assertEqual(Before, stanza_stream_nif:reaped_envs()).

wait_for(Pred, 0) ->
    ?assert(Pred());
wait_for(Pred, N) ->
    case Pred() of
        true -> ok;
        false -> timer:sleep(10), wait_for(Pred, N - 1)
    end.
