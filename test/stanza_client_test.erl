%% What the client's Common Test suites share: N concurrent requests whose
%% outcomes and stray messages are collected, and waiting for a condition.
-module(stanza_client_test).

-include_lib("stdlib/include/assert.hrl").

-export([requests_with_outcomes/5, wait_until/2]).

%% N processes each send one get to To with Timeout and report its
%% outcome; each then waits Timeout + 1 s more and reports whatever else
%% reached it (nothing may: exactly one outcome per request). Checks that
%% every outcome is a reply or a timeout and that nothing stray arrived;
%% returns the outcomes.
-spec requests_with_outcomes(pid(), string(), pos_integer(), pos_integer(), timeout()) ->
          [stanza_client:reply()].
requests_with_outcomes(Cn, To, N, Timeout, Wait) ->
    Self = self(),
    Pids = [spawn_link(fun() ->
                               R = stanza_client:send_wait_iq(Cn, "get", "", To, [], Timeout),
                               Self ! {out, self(), R},
                               receive after Timeout + 1000 -> ok end,
                               Self ! {quiet, self(), mailbox()}
                       end) || _ <- lists:seq(1, N)],
    Outcomes = [receive {out, P, R} -> R after Wait -> none end || P <- Pids],
    Extra = [receive {quiet, P, M} -> M after Wait -> none end || P <- Pids],
    ?assertEqual([], [O || O <- Outcomes, element(1, O) =/= ok, O =/= {error, timeout}]),
    ?assertEqual(lists:duplicate(N, []), Extra),
    Outcomes.

%% Asserts that Fun() becomes true within Ms milliseconds.
-spec wait_until(fun(() -> boolean()), pos_integer()) -> ok.
wait_until(Fun, Ms) ->
    ?assert(stanza_test_util:poll(Fun, Ms)),
    ok.

mailbox() ->
    receive M -> [M | mailbox()] after 0 -> [] end.
