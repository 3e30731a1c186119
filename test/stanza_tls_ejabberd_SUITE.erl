%% STARTTLS against a real ejabberd 23.01 (the Debian package, started
%% privately by test/stanza_ejabberd.erl on 127.0.0.1 and free ports):
%% stanza_tls and the fast_tls compat application as clients, the
%% certificate checked against ejabberd's own (self-signed, CN and SAN
%% localhost), the SASL offer read over TLS, the bad cases refused.
-module(stanza_tls_ejabberd_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([starttls_stanza_tls/1, starttls_fast_tls_compat/1, starttls_wrong_name/1,
         starttls_untrusted/1]).

-define(T, 15000).

all() ->
    [starttls_stanza_tls, starttls_fast_tls_compat, starttls_wrong_name, starttls_untrusted].

init_per_suite(Config) ->
    case stanza_ejabberd:available() of
        true ->
            {ok, E} = stanza_ejabberd:start(#{}),
            [{ejabberd, E} | Config];
        {false, Why} ->
            {skip, Why}
    end.

end_per_suite(Config) ->
    stanza_ejabberd:stop(?config(ejabberd, Config)).

%% ---------------------------------------------------------------------

header() ->
    <<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>">>.

%% Plain TCP up to ejabberd's <proceed/>.
starttls(Config) ->
    E = ?config(ejabberd, Config),
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, stanza_ejabberd:port(E, c2s),
                              [binary, {active, false}], ?T),
    ok = gen_tcp:send(S, header()),
    _ = recv_until(S, <<"</stream:features>">>),
    ok = gen_tcp:send(S, <<"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>">>),
    _ = recv_until(S, <<"<proceed">>),
    S.

recv_until(S, Want) ->
    recv_until(fun() -> gen_tcp:recv(S, 0, ?T) end, Want, <<>>).

recv_until(Recv, Want, Acc) ->
    case binary:match(Acc, Want) of
        nomatch ->
            case Recv() of
                {ok, More} -> recv_until(Recv, Want, <<Acc/binary, More/binary>>);
                Error -> error({Error, waiting_for, Want, got, Acc})
            end;
        _ -> Acc
    end.

cert(Config) ->
    stanza_ejabberd:cert(?config(ejabberd, Config)).

%% ---------------------------------------------------------------------

starttls_stanza_tls(Config) ->
    S = starttls(Config),
    {ok, Tls} = stanza_tls:connect(S, #{server_name => "localhost", cafile => cert(Config)}),
    {ok, #{version := 'tlsv1.3'}} = stanza_tls:negotiated(Tls),
    ok = stanza_tls:send(Tls, header()),
    Features = recv_until(fun() -> stanza_tls:recv(Tls, 0, ?T) end, <<"</stream:features>">>, <<>>),
    ct:log("features over TLS: ~s", [Features]),
    ?assertNotEqual(nomatch, binary:match(Features, <<"<mechanisms">>)),
    ?assertEqual(nomatch, binary:match(Features, <<"<starttls">>)),
    {ok, <<_:32/binary>>} = stanza_tls:channel_binding(Tls, tls_exporter),
    ok = stanza_tls:close(Tls).

starttls_fast_tls_compat(Config) ->
    S = starttls(Config),
    {ok, T} = fast_tls:tcp_to_tls(S, [connect, {cafile, cert(Config)}, {sni, "localhost"}]),
    ok = fast_tls:finish_handshake(T, ?T),
    ?assertEqual(0, fast_tls:get_verify_result(T)),
    {ok, <<"TLSv1.3 ", _/binary>>} = fast_tls:get_negotiated_cipher(T),
    ok = fast_tls:send(T, header()),
    Features = recv_until(fun() -> fast_tls:recv(T, 0, ?T) end, <<"</stream:features>">>, <<>>),
    ?assertNotEqual(nomatch, binary:match(Features, <<"<mechanisms">>)),
    ok = fast_tls:close(T).

starttls_wrong_name(Config) ->
    S = starttls(Config),
    ?assertEqual({error, {hostname_mismatch, <<"example.net">>}},
                 stanza_tls:connect(S, #{server_name => "example.net", cafile => cert(Config)})).

%% ejabberd's certificate is in no system store.
starttls_untrusted(Config) ->
    S = starttls(Config),
    ?assertEqual({error, {verify_failed, <<"self-signed certificate">>}},
                 stanza_tls:connect(S, #{server_name => "localhost"})).
