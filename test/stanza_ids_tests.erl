%% EUnit tests of stanza_ids: id format, uniqueness from many processes
%% and across nodes (peer), and random ids.
-module(stanza_ids_tests).

-include_lib("eunit/include/eunit.hrl").

%% Run in peer VMs.
-export([ids_of_this_node/1]).

-define(ID_RE, "^[A-Za-z0-9_-]{22}$").

well_formed(Id) ->
    is_binary(Id) andalso re:run(Id, ?ID_RE, [{capture, none}]) =:= match.

new_id_format_test() ->
    Ids = [stanza_ids:new_id() || _ <- lists:seq(1, 1000)],
    ?assert(lists:all(fun well_formed/1, Ids)).

random_id_format_test() ->
    Ids = [stanza_ids:random_id() || _ <- lists:seq(1, 1000)],
    ?assert(lists:all(fun well_formed/1, Ids)).

%% The first 12 characters (72 bits) are the node's prefix; the counter
%% follows, so consecutive ids differ.
new_id_shares_prefix_test() ->
    [A, B] = [stanza_ids:new_id(), stanza_ids:new_id()],
    ?assertEqual(binary:part(A, 0, 12), binary:part(B, 0, 12)),
    ?assertNotEqual(A, B).

million_ids_from_8_processes_test_() ->
    {timeout, 120, fun() ->
        Parent = self(),
        Pids = [spawn_link(fun() ->
                                   Ids = [stanza_ids:new_id()
                                          || _ <- lists:seq(1, 125000)],
                                   Parent ! {self(), Ids}
                           end)
                || _ <- lists:seq(1, 8)],
        All = lists:append([receive {P, Ids} -> Ids end || P <- Pids]),
        ?assertEqual(1000000, length(All)),
        ?assertEqual(1000000, length(lists:usort(All)))
    end}.

%% Two fresh nodes, as two cluster members or two restarts would be: no
%% id in common with each other or with this node, and different prefixes.
ids_across_nodes_test_() ->
    {timeout, 120, fun() ->
        {ok, A} = stanza_test_util:in_peer(?MODULE, ids_of_this_node, [100000]),
        {ok, B} = stanza_test_util:in_peer(?MODULE, ids_of_this_node, [100000]),
        Here = ids_of_this_node(100000),
        All = A ++ B ++ Here,
        ?assertEqual(300000, length(lists:usort(All))),
        Prefixes = lists:usort([binary:part(hd(L), 0, 12) || L <- [A, B, Here]]),
        ?assertEqual(3, length(Prefixes))
    end}.

ids_of_this_node(N) ->
    [stanza_ids:new_id() || _ <- lists:seq(1, N)].

%% 128 random bits: no repeats, and every character position takes many
%% values (a constant or a counter would not).
random_ids_test() ->
    Ids = [stanza_ids:random_id() || _ <- lists:seq(1, 100000)],
    ?assertEqual(100000, length(lists:usort(Ids))),
    lists:foreach(
      fun(Pos) ->
              Chars = lists:usort([binary:at(Id, Pos) || Id <- Ids]),
              %% The last character carries 2 bits: 4 values; the others 64.
              Want = case Pos of 21 -> 4; _ -> 64 end,
              ?assertEqual({Pos, Want}, {Pos, length(Chars)})
      end, lists:seq(0, 21)).
