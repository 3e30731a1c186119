%% @doc fast_tls 1.1.16's API (with the later finish_handshake/2 and
%% get_tls_cb_exporter/1) on stanza_tls, for code written against it,
%% ejabberd first.
%%
%% Verification keeps fast_tls's contract: a certificate that fails is
%% still accepted and the caller judges get_verify_result/1 (ejabberd
%% does). What changes, on purpose (doc/tls.md lists every difference):
%% close/1 sends close_notify; a server asks for a client certificate
%% only when given a `cafile' and no `verify_none'; TLS 1.2 and 1.3 only;
%% handshakes run on a dirty scheduler.
-module(fast_tls).

-include_lib("public_key/include/public_key.hrl").

-export([tcp_to_tls/2, tls_to_tcp/1, send/2, recv/2, recv/3, recv_data/2,
         setopts/2, sockname/1, peername/1, controlling_process/2, close/1,
         get_peer_certificate/1, get_peer_certificate/2, get_verify_result/1,
         get_cert_verify_string/2, add_certfile/2, get_certfile/1,
         delete_certfile/1, clear_cache/0, get_negotiated_cipher/1,
         get_tls_last_message/2, set_fips_mode/1, get_fips_mode/0,
         finish_handshake/2, get_tls_cb_exporter/1]).

-record(tlssock, {tcpsock :: inet:socket(), tlsport :: stanza_tls:tls()}).

-type tls_socket() :: #tlssock{}.
-type cert() :: #'Certificate'{} | #'OTPCertificate'{}.
-export_type([tls_socket/0]).

%% Where add_certfile/2 keeps the domain -> file registry.
-define(CERTFILES, {?MODULE, certfiles}).

%% ---------------------------------------------------------------------
%% Opening

%% @doc Options as fast_tls takes them: `connect', `{certfile, F}',
%% `{keyfile, F}', `{cafile, F}', `verify_none', `compression_none',
%% `{ciphers, S}', `{protocol_options, S}', `{dh, Der}', `{dhfile, F}',
%% `{sni, Name}', `{alpn, [Proto]}'. The handshake runs in recv_data/2
%% (a client starts it with `recv_data(S, <<>>)') or finish_handshake/2.
-spec tcp_to_tls(inet:socket(), [atom() | {atom(), any()}]) ->
          {ok, tls_socket()} | {error, no_certfile | binary()}.
tcp_to_tls(TCPSocket, Options) ->
    Role = case lists:member(connect, Options) of
               true -> client;
               false -> server
           end,
    case Role =:= client orelse proplists:get_value(certfile, Options, "") =/= "" of
        true -> open(Role, TCPSocket, Options);
        false -> {error, no_certfile}
    end.

open(Role, TCPSocket, Options) ->
    case stanza_tls:new(Role, TCPSocket, stanza_opts(Role, Options), false) of
        {ok, Tls} -> {ok, #tlssock{tcpsock = TCPSocket, tlsport = Tls}};
        {error, Reason} -> {error, reason(Reason)}
    end.

stanza_opts(Role, Options) ->
    Base = #{verify => verify_mode(Role, Options)},
    lists:foldl(fun(O, Acc) -> stanza_opt(Role, O, Acc) end,
                add_registry(Role, Base), Options).

%% fast_tls's verification: check, record, never refuse.
verify_mode(Role, Options) ->
    case {lists:member(verify_none, Options), Role, proplists:is_defined(cafile, Options)} of
        {true, _, _} -> none;
        {false, client, _} -> report;
        {false, server, true} -> report;
        {false, server, false} -> none
    end.

stanza_opt(_, {certfile, F}, Acc) when F =/= "", F =/= <<>> -> Acc#{certfile => F};
stanza_opt(_, {keyfile, F}, Acc) when F =/= "", F =/= <<>> -> Acc#{keyfile => F};
stanza_opt(_, {cafile, F}, Acc) when F =/= "", F =/= <<>> -> Acc#{cafile => F};
stanza_opt(_, {ciphers, C}, Acc) when C =/= "", C =/= <<>> -> Acc#{ciphers => C};
stanza_opt(_, {protocol_options, P}, Acc) -> protocol_options(P, Acc);
stanza_opt(client, {sni, Name}, Acc) when Name =/= "", Name =/= <<>> -> Acc#{server_name => Name};
stanza_opt(_, {alpn, Protos}, Acc) when Protos =/= [] -> Acc#{alpn => Protos};
stanza_opt(_, _, Acc) -> Acc.

%% Only the version switches mean something here: TLS 1.0/1.1 and SSL
%% are never on, compression never, and the cipher order is the server's.
protocol_options(P, Acc) ->
    Flags = binary:split(iolist_to_binary(P), <<"|">>, [global]),
    Versions = ['tlsv1.2' || not lists:member(<<"no_tlsv1_2">>, Flags)]
        ++ ['tlsv1.3' || not lists:member(<<"no_tlsv1_3">>, Flags)],
    case Versions of
        [] -> Acc;
        _ -> Acc#{versions => Versions}
    end.

%% A server answers SNI from the add_certfile/2 registry (each file
%% holds the certificate and its key, as ejabberd's do).
add_registry(client, Opts) ->
    Opts;
add_registry(server, Opts) ->
    case certfiles() of
        Map when map_size(Map) =:= 0 -> Opts;
        Map -> Opts#{sni => maps:map(fun(_, File) -> {File, File} end, Map)}
    end.

%% ---------------------------------------------------------------------
%% Data

-spec tls_to_tcp(tls_socket()) -> inet:socket().
tls_to_tcp(#tlssock{tlsport = Tls}) ->
    stanza_tls:drop(Tls).

%% @doc Feeds bytes from the peer; runs the handshake while it is not
%% done; returns the plaintext (possibly `<<>>').
-spec recv_data(tls_socket(), binary()) -> {ok, binary()} | {error, inet:posix() | binary()}.
recv_data(#tlssock{tlsport = Tls}, Packet) ->
    try iolist_to_binary(Packet) of
        Bin ->
            case stanza_tls:established(Tls) of
                true -> data(Tls, Bin);
                false -> step(Tls, Bin)
            end
    catch error:badarg -> {error, einval}
    end.

step(Tls, Packet) ->
    case stanza_tls:handshake_step(Tls, Packet) of
        {ok, _} -> data(Tls, <<>>);
        {continue, _} -> {ok, <<>>};
        {error, Reason} -> {error, reason(Reason)}
    end.

data(Tls, Packet) ->
    case stanza_tls:recv_data(Tls, Packet) of
        {ok, Plain} -> {ok, Plain};
        {error, Reason} -> {error, reason(Reason)}
    end.

%% @doc Sends (queued until the handshake ends, as fast_tls does).
-spec send(tls_socket(), iodata()) -> ok | {error, inet:posix() | binary() | timeout}.
send(#tlssock{tlsport = Tls}, Packet) ->
    Result = case stanza_tls:established(Tls) of
                 true -> stanza_tls:send(Tls, Packet);
                 false -> stanza_tls:queue(Tls, Packet)
             end,
    case Result of
        ok -> ok;
        {error, Reason} -> {error, reason(Reason)}
    end.

-spec recv(tls_socket(), non_neg_integer()) -> {ok, binary()} | {error, inet:posix() | binary()}.
recv(Socket, Length) ->
    recv(Socket, Length, infinity).

-spec recv(tls_socket(), non_neg_integer(), timeout()) ->
          {ok, binary()} | {error, inet:posix() | binary()}.
recv(#tlssock{tlsport = Tls} = Socket, Length, Timeout) ->
    case finish_handshake(Socket, Timeout) of
        ok ->
            case stanza_tls:recv(Tls, Length, Timeout) of
                {ok, Data} -> {ok, Data};
                {error, Reason} -> {error, reason(Reason)}
            end;
        Error ->
            Error
    end.

%% @doc Runs the handshake to its end on a passive socket.
-spec finish_handshake(tls_socket(), timeout()) -> ok | {error, inet:posix() | binary()}.
finish_handshake(#tlssock{tlsport = Tls}, Timeout) ->
    case stanza_tls:established(Tls) of
        true -> ok;
        false ->
            case stanza_tls:handshake(Tls, <<>>, Timeout) of
                {ok, _} -> ok;
                {error, Reason} -> {error, reason(Reason)}
            end
    end.

-spec setopts(tls_socket(), list()) -> ok | {error, inet:posix()}.
setopts(#tlssock{tlsport = Tls}, Opts) ->
    stanza_tls:setopts(Tls, Opts).

-spec sockname(tls_socket()) -> {ok, {inet:ip_address(), inet:port_number()}} | {error, inet:posix()}.
sockname(#tlssock{tcpsock = S}) ->
    inet:sockname(S).

-spec peername(tls_socket()) -> {ok, {inet:ip_address(), inet:port_number()}} | {error, inet:posix()}.
peername(#tlssock{tcpsock = S}) ->
    inet:peername(S).

-spec controlling_process(tls_socket(), pid()) -> ok | {error, term()}.
controlling_process(#tlssock{tcpsock = S}, Pid) ->
    gen_tcp:controlling_process(S, Pid).

%% @doc Sends close_notify (fast_tls does not), then closes the socket.
-spec close(tls_socket()) -> ok.
close(#tlssock{tlsport = Tls}) ->
    stanza_tls:close(Tls).

%% ---------------------------------------------------------------------
%% Certificates

-spec get_peer_certificate(tls_socket()) -> {ok, cert()} | error.
get_peer_certificate(TLSSock) ->
    get_peer_certificate(TLSSock, plain).

-spec get_peer_certificate(tls_socket(), otp | plain) -> {ok, cert()} | error;
                          (tls_socket(), der) -> {ok, binary()} | error.
get_peer_certificate(#tlssock{tlsport = Tls}, Type) ->
    case stanza_tls:peercert(Tls) of
        {ok, Der} when Type =:= der -> {ok, Der};
        {ok, Der} -> decode_cert(Der, Type);
        {error, _} -> error
    end.

decode_cert(Der, Type) ->
    try {ok, public_key:pkix_decode_cert(Der, Type)}
    catch _:_ -> error
    end.

%% @doc OpenSSL's X509_V_ERR_* code for the peer's certificate (0: ok).
-spec get_verify_result(tls_socket()) -> byte().
get_verify_result(#tlssock{tlsport = Tls}) ->
    stanza_tls:verify_result(Tls).

-spec get_cert_verify_string(number(), cert() | binary()) -> binary().
get_cert_verify_string(21, Cert) ->
    case self_signed(Cert) of
        true -> <<"self-signed certificate">>;
        false -> stanza_tls:verify_string(21)
    end;
get_cert_verify_string(Code, _Cert) when is_integer(Code) ->
    stanza_tls:verify_string(Code).

self_signed(#'Certificate'{} = Cert) ->
    self_signed(public_key:pkix_encode('Certificate', Cert, plain));
self_signed(#'OTPCertificate'{} = Cert) ->
    self_signed(public_key:pkix_encode('OTPCertificate', Cert, otp));
self_signed(Der) when is_binary(Der) ->
    public_key:pkix_is_self_signed(Der).

-spec add_certfile(iodata(), iodata()) -> ok.
add_certfile(Domain, File) ->
    set_certfiles(maps:put(domain(Domain), iolist_to_binary(File), certfiles())).

-spec delete_certfile(iodata()) -> boolean().
delete_certfile(Domain) ->
    Map = certfiles(),
    Key = domain(Domain),
    case maps:is_key(Key, Map) of
        true -> set_certfiles(maps:remove(Key, Map)), true;
        false -> false
    end.

%% @doc The file for a domain, or for its `*.' wildcard.
-spec get_certfile(iodata()) -> {ok, binary()} | error.
get_certfile(Domain) ->
    Map = certfiles(),
    Name = domain(Domain),
    case maps:find(Name, Map) of
        {ok, File} -> {ok, File};
        error -> maps:find(wildcard(Name), Map)
    end.

wildcard(Name) ->
    case binary:split(Name, <<".">>) of
        [<<_, _/binary>>, Rest] -> <<"*.", Rest/binary>>;
        _ -> Name
    end.

%% @doc Forgets the contexts built so far (files are read again).
-spec clear_cache() -> ok.
clear_cache() ->
    stanza_tls:clear_cache().

certfiles() ->
    persistent_term:get(?CERTFILES, #{}).

set_certfiles(Map) ->
    persistent_term:put(?CERTFILES, Map),
    ok.

domain(Domain) ->
    string:lowercase(iolist_to_binary(Domain)).

%% ---------------------------------------------------------------------
%% What was negotiated

%% @doc `{ok, <<"TLSv1.3 TLS_AES_256_GCM_SHA384">>}' (version, space,
%% cipher, as OpenSSL names them).
-spec get_negotiated_cipher(tls_socket()) -> error | {ok, binary()}.
get_negotiated_cipher(#tlssock{tlsport = Tls}) ->
    case stanza_tls:negotiated(Tls) of
        {ok, #{version := V, cipher := C}} -> {ok, <<(version_name(V))/binary, " ", C/binary>>};
        {error, _} -> error
    end.

version_name('tlsv1.3') -> <<"TLSv1.3">>;
version_name('tlsv1.2') -> <<"TLSv1.2">>.

-spec get_tls_last_message(peer | self, tls_socket()) -> {ok, binary()} | {error, term()}.
get_tls_last_message(Which, #tlssock{tlsport = Tls}) when Which =:= peer; Which =:= self ->
    stanza_tls:finished(Tls, Which).

%% @doc RFC 9266 tls-exporter channel binding data.
-spec get_tls_cb_exporter(tls_socket()) -> {ok, binary()} | {error, term()}.
get_tls_cb_exporter(#tlssock{tlsport = Tls}) ->
    stanza_tls:channel_binding(Tls, tls_exporter).

%% @doc FIPS mode is not offered: false is accepted, true refused.
-spec set_fips_mode(boolean()) -> ok | {error, binary()}.
set_fips_mode(false) -> ok;
set_fips_mode(true) -> {error, <<"FIPS mode is not supported by stanza_tls">>}.

-spec get_fips_mode() -> boolean().
get_fips_mode() ->
    false.

%% ---------------------------------------------------------------------

%% fast_tls's errors are binaries (or closed and posix atoms).
reason(Reason) when is_atom(Reason) -> Reason;
reason({tls_alert, Alert}) -> iolist_to_binary(io_lib:format("tls alert: ~p", [Alert]));
reason({tls_error, Text}) -> Text;
reason({verify_failed, Text}) -> Text;
reason({hostname_mismatch, Name}) -> <<"hostname mismatch: ", Name/binary>>;
reason({tls_config, Text}) -> Text;
reason(Other) -> iolist_to_binary(io_lib:format("~p", [Other])).
