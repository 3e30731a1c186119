%% EUnit tests of stanza_jid: parsing, the parts' rules, the profiles,
%% bad input of every kind, and JIDs as keys of stanza_tracker and
%% stanza_dedup. (Agreement with libidn and Python on a large generated
%% set is test/c/stringprep_diff.c's job, run by `make check-jid'.)
-module(stanza_jid_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_jid.hrl").

-define(J(L, D, R), #stanza_jid{localpart = L, domain = D, resource = R}).

parse_test_() ->
    [?_assertEqual({ok, ?J(<<"juliet">>, <<"example.com">>, <<"balcony">>)},
                   stanza_jid:parse(<<"Juliet@Example.COM/balcony">>)),
     ?_assertEqual({ok, ?J(<<>>, <<"example.com">>, <<>>)},
                   stanza_jid:parse(<<"example.com">>)),
     ?_assertEqual({ok, ?J(<<>>, <<"example.com">>, <<"r/s@t">>)},
                   stanza_jid:parse(<<"example.com./r/s@t">>)),
     ?_assertEqual({ok, ?J(<<"ä"/utf8>>, <<"öö.de"/utf8>>, <<"Ü"/utf8>>)},
                   stanza_jid:parse(<<"Ä@ÖÖ.de/Ü"/utf8>>)),
     %% decomposed input comes out composed (NFKC)
     ?_assertEqual({ok, ?J(<<"ä"/utf8>>, <<"x">>, <<>>)},
                   stanza_jid:parse(<<"A", 16#CC, 16#88, "@x">>)),
     ?_assertEqual({ok, ?J(<<"a">>, <<"[::1]">>, <<"r">>)},
                   stanza_jid:parse(<<"a@[::1]/r">>)),
     ?_assertEqual({ok, ?J(<<"a">>, <<"192.168.0.1">>, <<>>)},
                   stanza_jid:parse(<<"a@192.168.0.1">>)),
     ?_assertEqual({ok, ?J(<<"a">>, <<"b.c.d">>, <<>>)},
                   stanza_jid:parse(<<"a@b。c．d"/utf8>>)),
     ?_assertEqual({ok, ?J(<<"a">>, <<"א.com"/utf8>>, <<>>)},
                   stanza_jid:parse(<<"a@א.com"/utf8>>))].

parse_error_test_() ->
    [?_assertEqual({error, R}, stanza_jid:parse(B)) || {B, R} <-
        [{<<"@example.com">>, bad_localpart},
         {<<"a@example.com/">>, bad_resource},
         {<<"a@">>, bad_domain},
         {<<>>, bad_domain},
         {<<"a@b@c">>, bad_domain},
         {<<"a@b..c">>, bad_domain},
         {<<"a@-b.c">>, bad_domain},
         {<<"a@b_c.d">>, bad_domain},
         {<<"a@[1.2.3.4]">>, bad_domain},
         {<<"a@xn--bücher.de"/utf8>>, bad_domain},
         {<<"a b@c">>, prohibited},
         {<<"a@c/\t">>, prohibited},
         {<<"ab\"c@d">>, prohibited},
         {<<"a@c/", 0>>, prohibited},
         {<<"a", 0, "@c">>, prohibited},
         {<<"a@c", 0>>, bad_domain},
         {<<"ȡ@c"/utf8>>, unassigned},
         {<<"אa@c"/utf8>>, bidi},
         {<<"a@c/", 16#ED, 16#A0, 16#80>>, invalid_utf8},
         {<<"User", 16#C0, 16#AF, "X@c">>, invalid_utf8},
         {<<"a@b", 16#C0, 16#AF, "x">>, invalid_utf8},
         {<<"a@b", 16#F4, 16#90, 16#80, 16#80>>, invalid_utf8},
         {<<16#C2, 16#AD, "@c">>, bad_localpart}]].

lengths_test_() ->
    Part = fun(N) -> binary:copy(<<"a">>, N) end,
    Domain1023 = iolist_to_binary(lists:join(".", lists:duplicate(16, Part(63)))),
    [?_assertMatch({ok, _}, stanza_jid:parse(<<(Part(1023))/binary, "@c">>)),
     ?_assertEqual({error, too_long}, stanza_jid:parse(<<(Part(1024))/binary, "@c">>)),
     ?_assertEqual({error, too_long}, stanza_jid:parse(<<(Part(1025))/binary, "@c">>)),
     ?_assertMatch({ok, _}, stanza_jid:parse(<<"c/", (Part(1023))/binary>>)),
     ?_assertEqual({error, too_long}, stanza_jid:parse(<<"c/", (Part(1024))/binary>>)),
     ?_assertEqual(1023, byte_size(Domain1023)),
     ?_assertMatch({ok, _}, stanza_jid:parse(Domain1023)),
     ?_assertEqual({error, too_long}, stanza_jid:parse(<<Domain1023/binary, "a">>)),
     ?_assertEqual({error, too_long}, stanza_jid:parse(binary:copy(<<"a">>, 10000000))),
     ?_assertEqual({error, too_long}, stanza_jid:nodeprep(Part(1024))),
     ?_assertEqual({error, too_long}, stanza_jid:tolower(binary:copy(<<"é"/utf8>>, 5000000))),
     %% 341 x U+FDFA: 1023 bytes in, far more out: too long for a part
     ?_assertEqual({error, too_long},
                   stanza_jid:nameprep(binary:copy(<<16#FDFA/utf8>>, 341))),
     ?_assertEqual({error, too_long},
                   stanza_jid:make(<<>>, <<"c">>, binary:copy(<<16#FDFA/utf8>>, 341)))].

bad_terms_test_() ->
    Bad = [foo, 1, "string", [<<"iolist">>], {a}, self(), make_ref(), 1.5,
           <<1:3>>],
    lists:append(
      [[?_assertError(badarg, stanza_jid:parse(T)),
        ?_assertError(badarg, stanza_jid:nodeprep(T)),
        ?_assertError(badarg, stanza_jid:nameprep(T)),
        ?_assertError(badarg, stanza_jid:resourceprep(T)),
        ?_assertError(badarg, stanza_jid:tolower(T)),
        ?_assertError(badarg, stanza_jid:make(T, <<"c">>, <<>>)),
        ?_assertError(badarg, stanza_jid:to_binary(T)),
        ?_assertError(badarg, stanza_jid:bare(T)),
        ?_assertError(badarg, stanza_jid:equal(T, <<"c">>))] || T <- Bad]).

make_test_() ->
    [?_assertEqual(stanza_jid:parse(<<"Juliet@Example.com/balcony">>),
                   stanza_jid:make(<<"Juliet">>, <<"Example.com">>, <<"balcony">>)),
     ?_assertEqual({ok, ?J(<<>>, <<"c">>, <<>>)},
                   stanza_jid:make(<<>>, <<"c">>, <<>>)),
     ?_assertEqual({error, bad_domain}, stanza_jid:make(<<"a">>, <<>>, <<>>)),
     ?_assertEqual({error, prohibited}, stanza_jid:make(<<"a@b">>, <<"c">>, <<>>)),
     ?_assertEqual({error, bad_localpart}, stanza_jid:make(<<16#C2, 16#AD>>, <<"c">>, <<>>)),
     ?_assertEqual({ok, ?J(<<>>, <<"c">>, <<"x/y@z">>)},
                   stanza_jid:make(<<>>, <<"c">>, <<"x/y@z">>))].

to_binary_bare_equal_test_() ->
    {ok, J} = stanza_jid:parse(<<"Juliet@Example.COM/balcony">>),
    [?_assertEqual(<<"juliet@example.com/balcony">>, stanza_jid:to_binary(J)),
     ?_assertEqual(<<"juliet@example.com">>, stanza_jid:to_binary(stanza_jid:bare(J))),
     ?_assertEqual(<<"example.com">>,
                   stanza_jid:to_binary(?J(<<>>, <<"example.com">>, <<>>))),
     ?_assert(stanza_jid:equal(J, <<"JULIET@example.com./balcony">>)),
     ?_assert(stanza_jid:equal(<<"ä@x"/utf8>>, <<"A", 16#CC, 16#88, "@X">>)),
     ?_assertNot(stanza_jid:equal(J, <<"juliet@example.com/Balcony">>)),
     ?_assertNot(stanza_jid:equal(J, stanza_jid:bare(J))),
     ?_assertNot(stanza_jid:equal(<<"@bad">>, <<"@bad">>))].

profiles_test_() ->
    [?_assertEqual({ok, <<"dž"/utf8>>}, stanza_jid:nodeprep(<<"Ǆ"/utf8>>)),
     ?_assertEqual({ok, <<>>}, stanza_jid:nodeprep(<<>>)),
     ?_assertEqual({ok, <<"ss">>}, stanza_jid:nodeprep(<<"ß"/utf8>>)),
     ?_assertEqual({ok, <<"ß"/utf8>>}, stanza_jid:resourceprep(<<"ß"/utf8>>)),
     ?_assertEqual({ok, <<"Balcony x">>}, stanza_jid:resourceprep(<<"Balcony x">>)),
     ?_assertEqual({ok, <<"a", 0>>}, stanza_jid:nameprep(<<"A", 0>>)),
     ?_assertEqual({error, prohibited}, stanza_jid:nodeprep(<<"a b">>)),
     %% the issue's example: fast_stringprep reorders these marks wrongly
     ?_assertEqual({ok, <<16#49, 16#030A/utf8, 16#E7/utf8, 16#0308/utf8,
                         16#0301/utf8, 16#0302/utf8>>},
                   stanza_jid:resourceprep(<<16#49, 16#030A/utf8, 16#63, 16#0344/utf8,
                                             16#0302/utf8, 16#0327/utf8>>)),
     ?_assertEqual({ok, <<"džאa"/utf8>>}, stanza_jid:tolower(<<"Ǆאa"/utf8>>)),
     ?_assertEqual({ok, <<"ȡ"/utf8>>}, stanza_jid:tolower(<<"ȡ"/utf8>>)),
     ?_assertEqual({error, invalid_utf8}, stanza_jid:tolower(<<16#C0, 16#80>>))].

%% A result equal to the input is the input binary itself: nothing copied.
unchanged_is_same_binary_test() ->
    B = <<"juliet">>,
    {ok, Out} = stanza_jid:nodeprep(B),
    ?assert(erts_debug:same(B, Out)).

%% Keys built from parsed JIDs match whatever case and form the peer
%% writes: the tracker and the duplicate table compare bytes, so the
%% prepared form is what goes in.
tracker_keys_test() ->
    T = stanza_tracker:new(#{capacity => 16}),
    Key = fun(Text, Id) ->
                  {ok, J} = stanza_jid:parse(Text),
                  {stanza_jid:to_binary(J), Id}
          end,
    ok = stanza_tracker:track(T, Key(<<"juliet@example.com/balcony">>, <<"1">>),
                              self(), 5000),
    ok = stanza_tracker:track(T, Key(<<"ä@example.com"/utf8>>, <<"2">>), self(), 5000),
    ?assertEqual({ok, self()},
                 stanza_tracker:take(T, Key(<<"Juliet@EXAMPLE.com./balcony">>, <<"1">>))),
    ?assertEqual({ok, self()},
                 stanza_tracker:take(T, Key(<<"A", 16#CC, 16#88, "@Example.Com">>, <<"2">>))),
    %% the resource is case-sensitive: a different address
    ok = stanza_tracker:track(T, Key(<<"a@b/Res">>, <<"3">>), self(), 5000),
    ?assertEqual(error, stanza_tracker:take(T, Key(<<"a@b/res">>, <<"3">>))).

dedup_keys_test() ->
    D = stanza_dedup:new(#{capacity => 16, ttl_ms => infinity}),
    Key = fun(Text) ->
                  {ok, J} = stanza_jid:parse(Text),
                  [stanza_jid:to_binary(J), <<" id-1">>]
          end,
    ?assertNot(stanza_dedup:seen(D, Key(<<"romeo@montague.lit/orchard">>))),
    ?assert(stanza_dedup:seen(D, Key(<<"ROMEO@Montague.LIT/orchard">>))),
    ?assert(stanza_dedup:seen(D, Key(<<"romeo@montague.lit。/orchard"/utf8>>))),
    ?assertNot(stanza_dedup:seen(D, Key(<<"romeo@montague.lit/Orchard">>))).
