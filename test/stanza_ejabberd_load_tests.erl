%% The report side of `make load''s ejabberd comparison
%% (stanza_ejabberd_load): options, medians with spreads, RSS from /proc.
-module(stanza_ejabberd_load_tests).

-include_lib("eunit/include/eunit.hrl").

options_test() ->
    O = stanza_ejabberd_load:options("--out x.md --append --rounds 3 --chat_think 0.25 "
                                     "--drop-in /a --drop-in /b --only chat --chat_users 7"),
    ?assertMatch(#{out := "x.md", append := true, rounds := 3, chat_think := 0.25,
                   drop_ins := ["/a", "/b"], scenarios := [chat], chat_users := 7,
                   users := 200}, O).

libsets_test() ->
    ?assertMatch(#{libsets := [stanza, own]}, stanza_ejabberd_load:options("")),
    ?assertMatch(#{libsets := [stanza, own, xml, tls, stringprep]},
                 stanza_ejabberd_load:options("--libsets stanza,own,xml,tls,stringprep")),
    ?assertError(_, stanza_ejabberd_load:options("--libsets stanza,eunit")).

unknown_option_fails_test() ->
    ?assertError(_, stanza_ejabberd_load:options("--no_such_option_here 3")).

spread_test() ->
    ?assertEqual({2, 1, 9}, stanza_ejabberd_load:spread([9, 1, 2])),
    ?assertEqual({2.5, 1, 4}, stanza_ejabberd_load:spread([4, 1, 2, 3])),
    %% the component scenario has no memory figure: no number, no spread
    ?assertEqual(undefined, stanza_ejabberd_load:spread([undefined, undefined])),
    ?assertEqual({5, 5, 5}, stanza_ejabberd_load:spread([undefined, 5])).

summary_test() ->
    Row = fun(S, L, Rate, Lost) ->
                  #{scenario => S, libs => L, msgs_per_s => Rate, rtts_us => [1000, 2000, 3000],
                    cpu_us_per_msg => Rate / 10, mem_per_session => undefined,
                    rss_per_session => undefined, errors => 1, lost => Lost}
          end,
    Rows = [Row(component, stanza, 100, false), Row(component, own, 90, false),
            Row(chat, stanza, 50, false), Row(chat, own, 40, false),
            Row(component, stanza, 300, true), Row(component, own, 70, false)],
    [C1, C2, C3, C4] = stanza_ejabberd_load:summary(Rows),
    %% first-round order, medians over the rounds, errors summed, loss any
    ?assertMatch(#{scenario := component, libs := stanza, msgs_per_s := {200.0, 100, 300},
                   errors := 2, lost := true, mem_per_session := undefined}, C1),
    ?assertMatch(#{scenario := component, libs := own, msgs_per_s := {80.0, 70, 90},
                   lost := false}, C2),
    ?assertMatch(#{scenario := chat, libs := stanza, p50_ms := {2.0, 2.0, 2.0},
                   p99_ms := {3.0, 3.0, 3.0}}, C3),
    ?assertMatch(#{scenario := chat, libs := own, errors := 1}, C4).

rss_of_this_vm_test() ->
    Kb = stanza_ejabberd_load:rss_kb(os:getpid()),
    ?assert(Kb > 1000).
