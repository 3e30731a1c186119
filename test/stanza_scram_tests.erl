%% The SCRAM client against the RFCs' own examples, against a server
%% written here from RFC 5802's server steps, and against ProcessOne's
%% `scram' module (Debian erlang-p1-xmpp, what ejabberd's server side uses).
-module(stanza_scram_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").

%% RFC 5802, section 5.
rfc5802_sha1_test() ->
    {First, S1} = stanza_scram:client_first(#{username => <<"user">>, password => <<"pencil">>,
                                              hash => sha, nonce => <<"fyko+d2lbbFgONRv9qkxdawL">>}),
    ?assertEqual(<<"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL">>, First),
    ServerFirst = <<"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096">>,
    {ok, Final, S2} = stanza_scram:client_final(S1, ServerFirst),
    ?assertEqual(<<"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                   "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=">>, Final),
    ?assertEqual(ok, stanza_scram:verify_server_final(S2, <<"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=">>)),
    ?assertEqual({error, bad_server_signature},
                 stanza_scram:verify_server_final(S2, <<"v=smF9pqV8S7suAoZWja4dJRkFsKQ=">>)).

%% RFC 7677, section 3.
rfc7677_sha256_test() ->
    {First, S1} = stanza_scram:client_first(#{username => <<"user">>, password => <<"pencil">>,
                                              hash => sha256, nonce => <<"rOprNGfwEbeRWgbNEkqO">>}),
    ?assertEqual(<<"n,,n=user,r=rOprNGfwEbeRWgbNEkqO">>, First),
    ServerFirst = <<"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096">>,
    {ok, Final, S2} = stanza_scram:client_final(S1, ServerFirst),
    ?assertEqual(<<"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=">>, Final),
    ?assertEqual(ok, stanza_scram:verify_server_final(
                       S2, <<"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=">>)).

username_escaping_test() ->
    ?assertEqual(<<"a=3Db=2Cc">>, stanza_scram:escape_username(<<"a=b,c">>)),
    {First, _} = stanza_scram:client_first(#{username => <<"x,y">>, password => <<"p">>,
                                             nonce => <<"abc">>}),
    ?assertEqual(<<"n,,n=x=2Cy,r=abc">>, First).

channel_binding_header_test_() ->
    Cases = [{none, <<"n,,">>, <<"biws">>},
             {not_offered, <<"y,,">>, base64:encode(<<"y,,">>)},
             {{tls_exporter, <<1, 2, 3>>}, <<"p=tls-exporter,,">>,
              base64:encode(<<"p=tls-exporter,,", 1, 2, 3>>)},
             {{tls_unique, <<9>>}, <<"p=tls-unique,,">>, base64:encode(<<"p=tls-unique,,", 9>>)}],
    [?_test(begin
                {First, S1} = stanza_scram:client_first(#{username => <<"u">>, password => <<"p">>,
                                                          nonce => <<"cn">>, channel_binding => Cb}),
                ?assertEqual(<<Header/binary, "n=u,r=cn">>, First),
                {ok, Final, _} = stanza_scram:client_final(S1, <<"r=cnsn,s=c2FsdA==,i=4096">>),
                ?assertMatch(<<"c=", C:(byte_size(C64))/binary, ",r=cnsn,p=", _/binary>>
                                 when C =:= C64, Final)
            end) || {Cb, Header, C64} <- Cases].

refusals_test_() ->
    Start = fun() -> element(2, stanza_scram:client_first(#{username => <<"u">>, password => <<"p">>,
                                                           nonce => <<"cn">>})) end,
    [?_assertEqual({error, nonce_mismatch},
                   stanza_scram:client_final(Start(), <<"r=xxsn,s=c2FsdA==,i=4096">>)),
     %% The server must add its own part to the nonce.
     ?_assertEqual({error, nonce_mismatch},
                   stanza_scram:client_final(Start(), <<"r=cn,s=c2FsdA==,i=4096">>)),
     ?_assertEqual({error, {iterations, 4095}},
                   stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==,i=4095">>)),
     ?_assertEqual({error, {iterations, 1000001}},
                   stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==,i=1000001">>)),
     ?_assertEqual({error, malformed}, stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==">>)),
     ?_assertEqual({error, malformed}, stanza_scram:client_final(Start(), <<"r=cnsn,s=!!,i=4096">>)),
     ?_assertEqual({error, malformed}, stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==,i=x">>)),
     ?_assertEqual({error, malformed}, stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==,i=-1">>)),
     ?_assertEqual({error, malformed}, stanza_scram:client_final(Start(), <<>>)),
     ?_assertEqual({error, {server_error, <<"other-error">>}},
                   stanza_scram:client_final(Start(), <<"e=other-error">>)),
     ?_test(begin
                {ok, _, S2} = stanza_scram:client_final(Start(), <<"r=cnsn,s=c2FsdA==,i=4096">>),
                ?assertEqual({error, {server_error, <<"invalid-proof">>}},
                             stanza_scram:verify_server_final(S2, <<"e=invalid-proof">>)),
                ?assertEqual({error, malformed}, stanza_scram:verify_server_final(S2, <<"x=1">>)),
                ?assertEqual({error, bad_server_signature},
                             stanza_scram:verify_server_final(S2, <<"v=AAAA">>))
            end)].

bad_options_test_() ->
    [?_assertError({bad_option, hash, md5},
                   stanza_scram:client_first(#{username => <<"u">>, password => <<"p">>, hash => md5})),
     ?_assertError({bad_option, nonce, <<"a,b">>},
                   stanza_scram:client_first(#{username => <<"u">>, password => <<"p">>,
                                               nonce => <<"a,b">>})),
     ?_assertError({bad_option, channel_binding, yes},
                   stanza_scram:client_first(#{username => <<"u">>, password => <<"p">>,
                                               channel_binding => yes})),
     ?_assertError({bad_option, password, control_characters},
                   stanza_scram:client_first(#{username => <<"u">>,
                                               password => <<"p", 16#C2, 16#85>>})),
     ?_assertError({bad_option, scram, #{username := "u"}},
                   stanza_scram:client_first(#{username => "u", password => <<"p">>}))].

mechanisms_test() ->
    Offered = [<<"PLAIN">>, <<"SCRAM-SHA-1">>, <<"SCRAM-SHA-1-PLUS">>, <<"SCRAM-SHA-256">>],
    ?assertEqual([{<<"SCRAM-SHA-1-PLUS">>, sha, plus}, {<<"SCRAM-SHA-256">>, sha256, plain},
                  {<<"SCRAM-SHA-1">>, sha, plain}], stanza_scram:mechanisms(Offered, true)),
    ?assertEqual([{<<"SCRAM-SHA-256">>, sha256, plain}, {<<"SCRAM-SHA-1">>, sha, plain}],
                 stanza_scram:mechanisms(Offered, false)),
    ?assertEqual([], stanza_scram:mechanisms([<<"PLAIN">>], true)).

%% A server following RFC 5802's steps (section 3) accepts every client
%% proof and proves itself, for any user, password, salt, count and
%% channel binding; a server with another password refuses the proof.
prop_server_round_trip() ->
    ?FORALL({User, Password, Salt, Iter, Hash, Cb},
            {proper_types:non_empty(proper_types:binary()), printable_password(),
             proper_types:non_empty(proper_types:binary()),
             proper_types:range(4096, 4200), proper_types:oneof([sha, sha256]),
             proper_types:oneof([none, not_offered, {tls_exporter, proper_types:binary(32)}])},
            begin
                {First, S1} = stanza_scram:client_first(#{username => User, password => Password,
                                                          hash => Hash, channel_binding => Cb}),
                {ServerFirst, Server} = stanza_scram_server:first(First, Salt, Iter),
                {ok, Final, S2} = stanza_scram:client_final(S1, ServerFirst),
                {ok, ServerFinal} = stanza_scram_server:final(Hash, Server, Final, Password),
                {error, bad_proof} =
                    stanza_scram_server:final(Hash, Server, Final, <<Password/binary, "x">>),
                ok =:= stanza_scram:verify_server_final(S2, ServerFinal)
            end).

server_round_trip_test() ->
    ?assert(proper:quickcheck(prop_server_round_trip(), [{numtests, 60}, {to_file, user}])).

%% The salted password agrees with ProcessOne's scram module (what
%% ejabberd's SCRAM server uses), when it is installed.
processone_salted_password_test() ->
    case code:which(scram) of
        non_existing -> error(erlang_p1_xmpp_not_installed);
        _ ->
            %% It prepares the password with stringprep's resourceprep.
            ok = stringprep:start(),
            [?assertEqual(scram:salted_password(H, P, S, I),
                          stanza_scram:salted_password(H, P, S, I))
             || H <- [sha, sha256], {P, S, I} <- [{<<"pencil">>, <<"salt">>, 4096},
                                                 {<<"çé"/utf8>>, <<0, 1, 2>>, 4097}]]
    end.

printable_password() ->
    ?BIND(L, proper_types:non_empty(proper_types:list(proper_types:range(16#20, 16#7E))),
          list_to_binary(L)).
