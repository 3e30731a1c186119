%% Hot code upgrade of the three NIF modules: each is loaded again twice
%% (code:load_file/1 after a purge, as a release upgrade does), while
%% parsers, duplicate tables and trackers made before are alive; those
%% keep working with the new code, and are freed by it afterwards.
-module(stanza_nif_upgrade_tests).

-include_lib("eunit/include/eunit.hrl").

-define(NIF_MODULES, [stanza_stream_nif, stanza_xml_nif, stanza_ids_nif]).

upgrade_test_() ->
    {timeout, 60, fun upgrade_with_live_resources/0}.

upgrade_with_live_resources() ->
    Live0 = settled_live(),
    {ok, Parser} = stanza_stream:new(#{}),
    {ok, [_Start]} = stanza_stream:parse(Parser, <<"<stream:stream xmlns='jabber:client' "
                                                   "xmlns:stream='s'><message><bo">>),
    Dedup = stanza_dedup:new(#{capacity => 100, ttl_ms => 600000}),
    false = stanza_dedup:seen(Dedup, <<"k1">>),
    Tracker = stanza_tracker:new(#{capacity => 100}),
    ok = stanza_tracker:track(Tracker, {<<"a@b">>, <<"1">>}, self(), 600000),
    ?assertEqual(add(Live0, {1, 1, 1}), live()),
    IdBefore = stanza_ids:new_id(),

    [reload(M) || _ <- [1, 2], M <- ?NIF_MODULES],
    [?assertMatch({file, _}, code:is_loaded(M)) || M <- ?NIF_MODULES],

    %% The parser goes on from the middle of its stanza.
    ?assertMatch({ok, [{xmlstreamelement, {xmlelement, <<"message">>, [],
                                           [{xmlelement, <<"body">>, [], [{xmlcdata, <<"hi">>}]}]}}]},
                 stanza_stream:parse(Parser, <<"dy>hi</body></message>">>)),
    %% The table remembers, the tracker still holds its request and its
    %% timer thread still sends timeouts.
    ?assert(stanza_dedup:seen(Dedup, <<"k1">>)),
    ?assertEqual({ok, self()}, stanza_tracker:take(Tracker, {<<"a@b">>, <<"1">>})),
    ok = stanza_tracker:track(Tracker, {<<"a@b">>, <<"2">>}, self(), 10),
    ?assertEqual(ok, receive {stanza_timeout, _, {<<"a@b">>, <<"2">>}} -> ok
                     after 5000 -> timeout end),
    %% Ids stay unique across the upgrade; the serializer works.
    ?assertNotEqual(IdBefore, stanza_ids:new_id()),
    ?assertEqual(<<"<a b='&lt;'/>">>,
                 stanza_xml:element_to_binary({xmlel, <<"a">>, [{<<"b">>, <<"<">>}], []})),
    Big = {xmlel, <<"r">>, [], [{xmlcdata, binary:copy(<<"x&">>, 2000000)}]},
    ?assertEqual(3 + 2000000 * 6 + 4, byte_size(stanza_xml:element_to_binary(Big))),
    ?assertEqual(add(Live0, {1, 1, 1}), live()),
    ?assertMatch(#{size := 0}, stanza_tracker:stats(Tracker)),

    %% The new code's destructors free what the old code made.
    ok = stanza_stream:close(Parser),
    ok = stanza_dedup:close(Dedup),
    drop(),
    ?assertEqual(Live0, wait_live(Live0, 50)).

%% Loads Module again, as a release upgrade does: old code purged first
%% (only this test's calls used it, and none is running), new code
%% loaded, its on_load loading the library again (the upgrade callback).
reload(Module) ->
    true = code:soft_purge(Module),
    ?assertEqual({module, Module}, code:load_file(Module)).

%% {parsers, dedup tables, trackers} alive in this node.
live() ->
    {Dedup, Trackers} = stanza_ids_nif:live(),
    {stanza_stream:live_parsers(), Dedup, Trackers}.

add({A, B, C}, {X, Y, Z}) -> {A + X, B + Y, C + Z}.

%% live() once what earlier tests left behind is collected: every
%% process garbage collected, and the counts the same 100 ms apart.
settled_live() ->
    [erlang:garbage_collect(P) || P <- processes()],
    First = live(),
    timer:sleep(100),
    case live() of
        First -> First;
        _ -> settled_live()
    end.

%% The tracker handle goes with this process's references to it: run
%% the garbage collector.
drop() ->
    erlang:garbage_collect().

wait_live(Want, 0) -> live() =:= Want orelse ok, live();
wait_live(Want, N) ->
    erlang:garbage_collect(),
    case live() of
        Want -> Want;
        _ -> timer:sleep(20), wait_live(Want, N - 1)
    end.
