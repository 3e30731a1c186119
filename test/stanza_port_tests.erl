%% EUnit tests of stanza_port, the port driver front-end.
%%
%% The driver must give exactly the NIF's events: most tests here are
%% differential, running the same input through stanza_stream and
%% stanza_port, in every format, pull and push, and comparing every reply.
%% The rest is what only a port has: ownership by linking, owner death,
%% port_close, loading errors.
-module(stanza_port_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").

%% Run in peer VMs.
-export([load_from/1, check_parity_property/1]).

-define(FORMATS, [binary, legacy, xmlel]).
-define(HEADER, <<"<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'>">>).


%%====================================================================
%% Helpers
%%====================================================================

%% Every reply of every call, as the module gave it: chunks after an
%% error must repeat the error, in both.
replies(Mod, Opts, Chunks) ->
    {ok, P} = Mod:new(Opts),
    Replies = [Mod:parse(P, C) || C <- Chunks],
    ok = Mod:close(P),
    Replies.

%% Push mode: the replies, then the events that reached the callback.
pushed(Mod, Opts, Chunks) ->
    Replies = replies(Mod, Opts#{callback => self()}, Chunks),
    {Replies, stanza_test_util:gen_events()}.

%% The NIF's and the driver's replies for one input, in every format.
same_in_every_format(Opts, Chunks) ->
    [{F, replies(stanza_stream, Opts#{format => F}, Chunks),
      replies(stanza_port, Opts#{format => F}, Chunks)} || F <- ?FORMATS].

assert_parity(Opts, Chunks) ->
    [?assertEqual({F, Nif}, {F, Port})
     || {F, Nif, Port} <- same_in_every_format(Opts, Chunks)],
    ?assertEqual(pushed(stanza_stream, Opts, Chunks),
                 pushed(stanza_port, Opts, Chunks)).

chunks_of(Bin, N) when byte_size(Bin) =< N ->
    [Bin];
chunks_of(Bin, N) ->
    <<Chunk:N/binary, Rest/binary>> = Bin,
    [Chunk | chunks_of(Rest, N)].

%% The driver's allocations, counted in C, over all ports but the one
%% opened to ask.
driver_bytes() ->
    {ok, P} = stanza_port:new(),
    {ok, #{driver_bytes := Bytes}} = stanza_port:info(P),
    ok = stanza_port:close(P),
    Bytes.

roster(Items) ->
    iolist_to_binary(
      [<<"<iq type='result' id='r'><query xmlns='jabber:iq:roster'>">>,
       [[<<"<item jid='user">>, integer_to_binary(I),
         <<"@example.com' subscription='both'><group>Friends</group>"
           "</item>">>] || I <- lists:seq(1, Items)],
       <<"</query></iq>">>]).

wait_until(Fun) ->
    stanza_test_util:poll(Fun, 2000).

%%====================================================================
%% API
%%====================================================================

new_and_close_test() ->
    {ok, P} = stanza_port:new(),
    ?assert(is_port(stanza_port:port(P))),
    ?assertEqual(ok, stanza_port:close(P)),
    ?assertEqual(ok, stanza_port:close(P)),
    ?assertEqual(undefined, erlang:port_info(stanza_port:port(P))).

bad_option_test_() ->
    [?_assertError({bad_option, format, text},
                   stanza_port:new(#{format => text})),
     ?_assertError({bad_option, max_depth, 0},
                   stanza_port:new(#{max_depth => 0})),
     ?_assertError({bad_option, colour, red},
                   stanza_port:new(#{colour => red})),
     ?_assertError({bad_options, []}, stanza_port:new([])),
     ?_assertError({bad_options, [{format, legacy}]},
                   stanza_port:parse_element(<<"<a/>">>, [{format, legacy}])),
     ?_assertMatch({'EXIT', {{bad_option, callback, Pid}, _}} when is_pid(Pid),
                   catch stanza_port:parse_element(<<"<a/>">>, #{callback => self()}))].

parse_accepts_iodata_test() ->
    {ok, P} = stanza_port:new(),
    {ok, [_]} = stanza_port:parse(P, ?HEADER),
    ?assertMatch({ok, [{xmlstreamelement, {xmlelement, <<"a">>, [], []}}]},
                 stanza_port:parse(P, ["<a", [$/], <<">">>])),
    ?assertEqual({error, badarg}, stanza_port:parse(P, [foo])),
    ?assertEqual({error, badarg}, stanza_port:parse(P, 42)),
    ok = stanza_port:close(P).

closed_port_test() ->
    {ok, P} = stanza_port:new(),
    ok = stanza_port:close(P),
    ?assertEqual({error, closed}, stanza_port:parse(P, <<"<a/>">>)),
    ?assertEqual({error, closed}, stanza_port:reset(P)),
    ?assertEqual({error, closed}, stanza_port:info(P)),
    ?assertEqual({error, closed}, stanza_port:controlling_process(P, self())).

other_process_is_refused_test() ->
    {ok, P} = stanza_port:new(),
    {ok, [_]} = stanza_port:parse(P, ?HEADER),
    Self = self(),
    Other = spawn(fun() ->
                          Self ! {results,
                                  [stanza_port:parse(P, <<"<a/>">>),
                                   stanza_port:reset(P),
                                   stanza_port:close(P),
                                   stanza_port:info(P),
                                   stanza_port:controlling_process(P, self())]}
                  end),
    Results = receive {results, R} -> R end,
    ?assertEqual(lists:duplicate(5, {error, not_owner}), Results),
    exit(Other, kill),
    %% The owner's stream is untouched by the refused calls.
    ?assertMatch({ok, [{xmlstreamelement, _}]},
                 stanza_port:parse(P, <<"<b/>">>)),
    ok = stanza_port:close(P).

controlling_process_hands_over_test() ->
    {ok, P} = stanza_port:new(),
    {ok, [_]} = stanza_port:parse(P, ?HEADER),
    Self = self(),
    New = spawn(fun() ->
                        receive go -> ok end,
                        Self ! {parsed, stanza_port:parse(P, <<"<a/>">>)},
                        receive stop -> ok end
                end),
    ?assertEqual(ok, stanza_port:controlling_process(P, New)),
    ?assertEqual({error, not_owner}, stanza_port:parse(P, <<"<b/>">>)),
    New ! go,
    ?assertMatch({parsed, {ok, [{xmlstreamelement, _}]}},
                 receive {parsed, _} = M -> M end),
    %% The new owner is linked: its death closes the port.
    Port = stanza_port:port(P),
    ?assertEqual({links, [New]}, erlang:port_info(Port, links)),
    New ! stop,
    ?assert(wait_until(fun() -> erlang:port_info(Port) =:= undefined end)).

info_counts_test() ->
    {ok, P} = stanza_port:new(),
    {ok, _} = stanza_port:parse(P, [?HEADER, <<"<a/><b/>">>]),
    {ok, Info} = stanza_port:info(P),
    ?assertMatch(#{bytes := N, messages := 1, yields := 0,
                   driver_ports := Ports}
                   when N =:= byte_size(?HEADER) + 8 andalso Ports >= 1,
                 Info),
    ok = stanza_port:close(P).

parse_element_test_() ->
    [?_assertEqual({ok, {xmlelement, "iq", [{"type", "get"}],
                         [{xmlelement, "q", [], []}]}},
                   stanza_port:parse_element(<<"<iq type='get'><q/></iq>">>,
                                             #{format => legacy})),
     ?_assertEqual({ok, {xmlel, <<"a">>, [], [{xmlcdata, <<"x">>}]}},
                   stanza_port:parse_element(" <a>x</a> ",
                                             #{format => xmlel})),
     ?_assertMatch({error, {not_well_formed, #{code := 3}}},
                   stanza_port:parse_element(<<>>)),
     ?_assertMatch({error, {not_well_formed, #{code := 3}}},
                   stanza_port:parse_element(<<"<a>">>)),
     ?_assertEqual({error, badarg}, stanza_port:parse_element(an_atom))].

%% No driver port is left open (ports of earlier tests may still be
%% closing: only new ones count).
parse_element_leaves_no_port_test() ->
    Before = driver_ports(),
    {ok, _} = stanza_port:parse_element(<<"<a/>">>),
    {error, _} = stanza_port:parse_element(<<"<a>">>),
    ?assertEqual([], driver_ports() -- Before).

%%====================================================================
%% Parity with the NIF
%%====================================================================

corpus_parity_test_() ->
    Stream = stanza_corpus:stream(300000),
    {timeout, 120,
     [{integer_to_list(Size) ++ " byte chunks",
       fun() -> assert_parity(#{}, chunks_of(Stream, Size)) end}
      || Size <- [97, 1024, 4096, 65536, byte_size(Stream)]]}.

%% Each case: options and chunks; errors and limits included.
cases() ->
    Big = binary:copy(<<"<m>x</m>">>, 2000),
    [{"stanzas", #{}, [?HEADER, <<"<a x='1'>t<b/>u</a>">>, <<"<c/>">>]},
     {"split everywhere", #{},
      [<<B>> || <<B>> <= <<?HEADER/binary, "<a x='&amp;'>\xc3\xa9</a>">>]},
     {"stream end", #{}, [?HEADER, <<"<a/></stream:stream>">>]},
     {"junk after end", #{}, [?HEADER, <<"</stream:stream><a/>">>, <<"x">>]},
     {"mismatched tag", #{}, [?HEADER, <<"<a></b>">>, <<"<c/>">>]},
     {"invalid utf-8", #{}, [?HEADER, <<"<a>\xff</a>">>]},
     {"overlong utf-8", #{}, [?HEADER, <<"<a>\xc0\xaf</a>">>]},
     {"unbound prefix", #{}, [?HEADER, <<"<p:a/>">>]},
     {"duplicate attribute", #{}, [?HEADER, <<"<a x='1' x='2'/>">>]},
     {"comment rejected", #{}, [?HEADER, <<"<a><!-- c --></a>">>, <<"<b/>">>]},
     {"comment dropped", #{restricted => drop},
      [?HEADER, <<"<a>x<!-- c -->y</a>">>]},
     {"pi rejected", #{}, [?HEADER, <<"<a><?pi x?></a>">>]},
     {"pi dropped", #{restricted => drop}, [?HEADER, <<"<a><?pi x?></a>">>]},
     {"doctype", #{}, [<<"<!DOCTYPE s [<!ENTITY e 'x'>]>">>, ?HEADER]},
     {"entity reference", #{}, [?HEADER, <<"<a>&e;</a>">>]},
     {"too big", #{max_stanza_size => 10}, [?HEADER, <<"<a>1234</a>">>,
                                            <<"<a>12345</a>">>, <<"<b/>">>]},
     {"too big, chunked", #{max_stanza_size => 100},
      [?HEADER | chunks_of(Big, 7)]},
     {"too deep", #{max_depth => 2}, [?HEADER, <<"<a><b/></a>">>,
                                      <<"<a><b><c/></b></a>">>]},
     {"many in one chunk", #{}, [?HEADER, Big]},
     {"empty chunks", #{}, [<<>>, ?HEADER, <<>>, <<"<a/>">>, <<>>]},
     {"xml declaration", #{}, [<<"<?xml version='1.0'?>">>, ?HEADER]},
     {"text between stanzas", #{}, [?HEADER, <<"  \n <a/>\t">>]},
     {"cdata section", #{}, [?HEADER, <<"<a><![CDATA[<x>]]>y</a>">>]},
     {"huge attribute", #{}, [?HEADER, <<"<a v='">>,
                              binary:copy(<<"v">>, 100000), <<"'/>">>]}].

parity_cases_test_() ->
    [{Name, fun() -> assert_parity(Opts, Chunks) end}
     || {Name, Opts, Chunks} <- cases()].

%% A reset mid-stanza: both forget the stanza and take a new stream.
reset_mid_stanza_parity_test() ->
    Run = fun(Mod) ->
                  {ok, P} = Mod:new(),
                  R1 = Mod:parse(P, [?HEADER, <<"<a><b>">>]),
                  ok = Mod:reset(P),
                  R2 = Mod:parse(P, [<<"<?xml version='1.0'?>">>, ?HEADER,
                                     <<"<c/>">>]),
                  ok = Mod:close(P),
                  [R1, R2]
          end,
    ?assertEqual(Run(stanza_stream), Run(stanza_port)).

reset_clears_error_parity_test() ->
    Run = fun(Mod) ->
                  {ok, P} = Mod:new(#{format => legacy}),
                  R1 = Mod:parse(P, [?HEADER, <<"<a></b>">>]),
                  R2 = Mod:parse(P, <<"<c/>">>),
                  ok = Mod:reset(P),
                  R3 = Mod:parse(P, [?HEADER, <<"<c/>">>]),
                  ok = Mod:close(P),
                  [R1, R2, R3]
          end,
    ?assertEqual(Run(stanza_stream), Run(stanza_port)).

%% PropEr: random streams (stanza_stream_prop_tests' generator), random
%% cuts, random options, sometimes a corrupted byte: the same replies.
parity_property_test_() ->
    {timeout, 300,
     ?_assertEqual({ok, true},
                   stanza_test_util:in_peer(?MODULE, check_parity_property,
                                            [300]))}.

check_parity_property(NumTests) ->
    _ = rand:seed(exsplus, {3, 1, 1913}),
    proper:quickcheck(prop_parity(), [{numtests, NumTests}, {to_file, user}]).

prop_parity() ->
    ?FORALL({{_Stream, Bin, Cuts}, Opts, Corruption},
            {stanza_stream_prop_tests:chunked_stream(noisy), options(),
             corruption()},
            begin
                Input = corrupt(Bin, Corruption),
                Chunks = stanza_stream_prop_tests:split(Input, Cuts),
                Pull = same_in_every_format(Opts, Chunks),
                Push = {pushed(stanza_stream, Opts, Chunks),
                        pushed(stanza_port, Opts, Chunks)},
                ?WHENFAIL(io:format(user, "~nInput: ~p~nCuts: ~p~nOpts: ~p~n"
                                    "Pull: ~p~nPush: ~p~n",
                                    [Input, Cuts, Opts, Pull, Push]),
                          lists:all(fun({_, Nif, Port}) -> Nif =:= Port end,
                                    Pull)
                          andalso element(1, Push) =:= element(2, Push))
            end).

options() ->
    proper_types:bind(
      {proper_types:oneof([infinity, proper_types:choose(1, 300)]),
       proper_types:choose(1, 5),
       proper_types:oneof([reject, drop])},
      fun({Size, Depth, Restricted}) ->
              #{max_stanza_size => Size, max_depth => Depth,
                restricted => Restricted}
      end, false).

%% none, or {Position fraction, Byte}.
corruption() ->
    proper_types:frequency(
      [{3, none},
       {1, {proper_types:float(0.0, 1.0), proper_types:byte()}}]).

corrupt(Bin, none) ->
    Bin;
corrupt(<<>>, _) ->
    <<>>;
corrupt(Bin, {Where, Byte}) ->
    At = min(byte_size(Bin) - 1, trunc(Where * byte_size(Bin))),
    <<Before:At/binary, _, After/binary>> = Bin,
    <<Before/binary, Byte, After/binary>>.

%%====================================================================
%% Big inputs
%%====================================================================

ten_mb_stanza_test_() ->
    {timeout, 120,
     fun() ->
             Data = roster(125000),
             ?assert(byte_size(Data) > 10000000),
             [begin
                  Chunks = [?HEADER | chunks_of(Data, Size)],
                  Nif = replies(stanza_stream, #{}, Chunks),
                  Port = replies(stanza_port, #{}, Chunks),
                  ?assert(Nif =:= Port),
                  {ok, [{xmlstreamelement, {_, _, _, [{_, _, _, Items}]}}]} =
                      lists:last(Port),
                  ?assertEqual(125000, length(Items))
              end || Size <- [1024, byte_size(Data)]]
     end}.

ten_mb_stanza_over_the_limit_test() ->
    Data = roster(125000),
    {ok, P} = stanza_port:new(#{max_stanza_size => 65536}),
    {ok, [_]} = stanza_port:parse(P, ?HEADER),
    ?assertEqual({ok, [{xmlstreamerror, stanza_too_big}]},
                 stanza_port:parse(P, Data)),
    ok = stanza_port:close(P).

%%====================================================================
%% Big stanzas, sent ahead in fragments
%%====================================================================

%% About 2 MB: text between the items (children of a fragmented element),
%% and a nested element that is open across fragments.
big_mixed_stanza() ->
    Items = [[<<"\n <item jid='u">>, integer_to_binary(I),
              <<"@example.com'><group>G &amp; H</group>x</item>">>]
             || I <- lists:seq(1, 25000)],
    Deep = [<<"<deep><deeper>">>, binary:copy(<<"<leaf a='1'/>t">>, 20000),
            <<"</deeper></deep>">>],
    iolist_to_binary([<<"<iq type='result' id='big'><query xmlns='q'>">>,
                      Items, Deep, Items, <<"</query>tail</iq>">>]).

fragments_sent(Chunks, Opts) ->
    {ok, P} = stanza_port:new(Opts),
    _ = [stanza_port:parse(P, C) || C <- Chunks],
    {ok, #{fragments := N}} = stanza_port:info(P),
    ok = stanza_port:close(P),
    N.

big_stanza_in_fragments_parity_test_() ->
    Big = big_mixed_stanza(),
    {timeout, 120,
     [{integer_to_list(Size) ++ " byte chunks",
       fun() ->
               Chunks = [?HEADER | chunks_of(<<Big/binary, "<after/>">>, Size)],
               ?assert(fragments_sent(Chunks, #{}) > 0),
               assert_parity(#{}, Chunks)
       end} || Size <- [1024, 65536, byte_size(Big) + 8]]}.

%% The stanza fails after parts of it went out: the parts are dropped,
%% and the next stream is whole.
error_after_fragments_test_() ->
    Big = big_mixed_stanza(),
    Broken = <<(binary:part(Big, 0, byte_size(Big) - 5))/binary, "</x>">>,
    Cases = [{"not well-formed", #{}, Broken},
             {"too big", #{max_stanza_size => 1500000}, Big}],
    {timeout, 120,
     [{Name, fun() ->
                     Chunks = [?HEADER | chunks_of(Input, 4096)],
                     ?assert(fragments_sent(Chunks, Opts) > 0),
                     assert_parity(Opts, Chunks),
                     {ok, P} = stanza_port:new(Opts),
                     _ = [stanza_port:parse(P, C) || C <- Chunks],
                     Port = stanza_port:port(P),
                     ?assertEqual(undefined, get({stanza_port, Port})),
                     ok = stanza_port:reset(P),
                     ?assertMatch({ok, [_, {xmlstreamelement, _}]},
                                  stanza_port:parse(P, [?HEADER, <<"<a/>">>])),
                     ok = stanza_port:close(P)
             end} || {Name, Opts, Input} <- Cases]}.

%% A parser in the middle of a big stanza, parts of which the owner keeps.
mid_fragments() ->
    Half = binary:part(big_mixed_stanza(), 0, 1000000),
    {ok, P} = stanza_port:new(),
    Port = stanza_port:port(P),
    {ok, [_]} = stanza_port:parse(P, ?HEADER),
    {ok, []} = stanza_port:parse(P, Half),
    ?assertNotEqual(undefined, get({stanza_port, Port})),
    {P, Port, Half}.

reset_and_close_mid_fragments_test() ->
    {P, Port, Half} = mid_fragments(),
    ok = stanza_port:reset(P),
    ?assertEqual(undefined, get({stanza_port, Port})),
    ?assertMatch({ok, [_, {xmlstreamelement, {xmlelement, <<"a">>, [], []}}]},
                 stanza_port:parse(P, [?HEADER, <<"<a/>">>])),
    {ok, []} = stanza_port:parse(P, Half),
    ok = stanza_port:close(P),
    ?assertEqual(undefined, get({stanza_port, Port})).

%% A port closed under its owner mid-stanza: the parts the owner kept go
%% with the next call that finds it closed.
port_closed_mid_fragments_test() ->
    {P, Port, _Half} = mid_fragments(),
    true = erlang:port_close(Port),
    ?assertEqual({error, closed}, stanza_port:parse(P, <<"<a/>">>)),
    ?assertEqual(undefined, get({stanza_port, Port})).

controlling_process_mid_fragments_is_busy_test() ->
    {P, _Port, Half} = mid_fragments(),
    Big = big_mixed_stanza(),
    Rest = binary:part(Big, byte_size(Half), byte_size(Big) - byte_size(Half)),
    Other = spawn(fun() -> receive stop -> ok end end),
    ?assertEqual({error, busy}, stanza_port:controlling_process(P, Other)),
    {ok, [{xmlstreamelement, _}]} = stanza_port:parse(P, Rest),
    ?assertEqual(ok, stanza_port:controlling_process(P, Other)),
    Other ! stop.

%%====================================================================
%% Port lifecycle and memory
%%====================================================================

%% The owner dies with half of a big stanza parsed: the port closes and
%% every byte the driver allocated for it is freed.
owner_death_frees_memory_test_() ->
    {timeout, 60,
     fun() ->
             Baseline = driver_bytes(),
             Self = self(),
             Half = binary:part(roster(50000), 0, 2000000),
             Owner = spawn(fun() ->
                                   {ok, P} = stanza_port:new(),
                                   {ok, _} = stanza_port:parse(P, ?HEADER),
                                   {ok, []} = stanza_port:parse(P, Half),
                                   Self ! {port, stanza_port:port(P)},
                                   receive never -> ok end
                           end),
             Port = receive {port, Pt} -> Pt end,
             Held = driver_bytes() - Baseline,
             %% What C holds of the half-built stanza (parts of it went
             %% to the owner already, see the fragments tests).
             ?assert(Held > 100000),
             exit(Owner, kill),
             ?assert(wait_until(fun() -> erlang:port_info(Port) =:= undefined end)),
             ?assertEqual(Baseline, driver_bytes())
     end}.

port_close_mid_stanza_test() ->
    Baseline = driver_bytes(),
    {ok, P} = stanza_port:new(),
    {ok, _} = stanza_port:parse(P, [?HEADER, <<"<a><b>text">>]),
    Port = stanza_port:port(P),
    true = erlang:port_close(Port),
    ?assertEqual({error, closed}, stanza_port:parse(P, <<"</b></a>">>)),
    ?assertEqual(ok, stanza_port:close(P)),
    ?assertEqual(Baseline, driver_bytes()).

%% A port killed while its owner waits for the reply: the owner gets
%% {error, closed}, not a hang.
port_killed_during_parse_test_() ->
    {timeout, 60,
     fun() ->
             process_flag(trap_exit, true),
             {ok, P} = stanza_port:new(),
             Port = stanza_port:port(P),
             Killer = spawn(fun() -> timer:sleep(5), exit(Port, kill) end),
             Result = stanza_port:parse(P, binary:copy(<<"<a>x</a>">>,
                                                       4000000)),
             ?assert(lists:member(Result, [{error, closed}]) orelse
                     element(1, Result) =:= ok),
             exit(Killer, kill),
             receive {'EXIT', Port, _} -> ok after 1000 -> ok end,
             process_flag(trap_exit, false)
     end}.

close_flushes_exit_message_of_trapping_owner_test() ->
    process_flag(trap_exit, true),
    {ok, P} = stanza_port:new(),
    ok = stanza_port:close(P),
    Port = stanza_port:port(P),
    ?assertEqual(nothing,
                 receive {'EXIT', Port, _} = M -> M after 50 -> nothing end),
    process_flag(trap_exit, false).

many_ports_test() ->
    Ports = [begin {ok, P} = stanza_port:new(), P end
             || _ <- lists:seq(1, 1000)],
    Results = [stanza_port:parse(P, [?HEADER, <<"<a/>">>]) || P <- Ports],
    ?assertEqual(1000, length([R || {ok, [_, _]} = R <- Results])),
    [ok = stanza_port:close(P) || P <- Ports].

%%====================================================================
%% Loading
%%====================================================================

%% In a fresh VM, where the driver is not loaded yet.
missing_driver_is_a_clear_error_test() ->
    Dir = temp_dir(),
    try
        ?assertMatch({ok, {error, {stanza_driver_not_loaded, _, Why}}}
                       when is_list(Why),
                     stanza_test_util:in_peer(?MODULE, load_from, [Dir]))
    after
        file:del_dir_r(Dir)
    end.

broken_driver_is_a_clear_error_test() ->
    Dir = temp_dir(),
    ok = file:write_file(filename:join(Dir, "stanza_drv.so"),
                         <<"not a shared object">>),
    try
        {ok, {error, {stanza_driver_not_loaded, Path, Why}}} =
            stanza_test_util:in_peer(?MODULE, load_from, [Dir]),
        ?assertEqual(filename:join(Dir, "stanza_drv.so"), Path),
        ?assertNotEqual([], Why)
    after
        file:del_dir_r(Dir)
    end.

load_from(Dir) ->
    try stanza_port_driver:load(Dir) of
        ok -> ok
    catch
        error:Reason -> {error, Reason}
    end.

temp_dir() ->
    Dir = filename:join(["/tmp", "stanza_drv_test_" ++
                             integer_to_list(erlang:unique_integer([positive]))]),
    ok = file:make_dir(Dir),
    Dir.

%%====================================================================
%% xml_stream on the port backend
%%====================================================================

%% The whole xml_stream suite again, with the port behind it.
xml_stream_on_port_backend_test_() ->
    {setup,
     fun() -> application:set_env(stanza, xml_stream_backend, port) end,
     fun(_) -> application:unset_env(stanza, xml_stream_backend) end,
     [{atom_to_list(F), fun xml_stream_tests:F/0}
      || {F, 0} <- xml_stream_tests:module_info(exports),
         lists:suffix("_test", atom_to_list(F))]}.

xml_stream_port_backend_is_a_port_test() ->
    application:set_env(stanza, xml_stream_backend, port),
    try
        %% the one new driver port, not a count of all the VM's ports: others
        %% (sockets, programs and ports of earlier tests' exited processes)
        %% may open or close meanwhile
        Before = driver_ports(),
        S = xml_stream:new(self()),
        [Port] = driver_ports() -- Before,
        true = xml_stream:close(S),
        ?assertEqual(undefined, erlang:port_info(Port))
    after
        application:unset_env(stanza, xml_stream_backend)
    end.

driver_ports() ->
    [P || P <- erlang:ports(), erlang:port_info(P, name) =:= {name, "stanza_drv"}].

bad_backend_test() ->
    application:set_env(stanza, xml_stream_backend, dirty),
    try
        ?assertError({bad_xml_stream_backend, dirty}, xml_stream:new(self()))
    after
        application:unset_env(stanza, xml_stream_backend)
    end.
