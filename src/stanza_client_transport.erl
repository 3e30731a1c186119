%% @doc The client's byte stream: a TCP socket, or stanza_tls over it
%% after STARTTLS. The only module of the client that knows which.
-module(stanza_client_transport).

-export([connect/3, send/2, recv/2, activate/1, close/1, starttls/2,
         classify/2, channel_binding/1, is_tls/1]).

-export_type([transport/0]).

-type transport() :: {tcp, gen_tcp:socket()} | {tls, stanza_tls:tls()}.

%% @doc A TCP connection to Host:Port, passive, binary.
-spec connect(inet:hostname() | inet:ip_address(), inet:port_number(), timeout()) ->
          {ok, transport()} | {error, term()}.
connect(Host, Port, Timeout) ->
    Opts = [binary, {active, false}, {packet, raw}, {nodelay, true}, {keepalive, true}],
    case gen_tcp:connect(Host, Port, Opts, Timeout) of
        {ok, Socket} -> {ok, {tcp, Socket}};
        {error, Reason} -> {error, {connect, Reason}}
    end.

%% @doc Sends bytes.
-spec send(transport(), iodata()) -> ok | {error, term()}.
send({tcp, S}, Data) -> gen_tcp:send(S, Data);
send({tls, T}, Data) -> stanza_tls:send(T, Data).

%% @doc Waits up to Timeout for bytes (passive mode, during login).
-spec recv(transport(), timeout()) -> {ok, binary()} | {error, term()}.
recv({tcp, S}, Timeout) -> gen_tcp:recv(S, 0, Timeout);
recv({tls, T}, Timeout) -> stanza_tls:recv(T, 0, Timeout).

%% @doc Asks for the next bytes as one message to the owner.
-spec activate(transport()) -> ok | {error, term()}.
activate({tcp, S}) -> inet:setopts(S, [{active, once}]);
activate({tls, T}) -> stanza_tls:setopts(T, [{active, once}]).

%% @doc Closes (with TLS, after close_notify).
-spec close(transport()) -> ok.
close({tcp, S}) -> _ = gen_tcp:close(S), ok;
close({tls, T}) -> _ = stanza_tls:close(T), ok.

%% @doc Upgrades a TCP transport to TLS (the handshake is complete, and
%% the certificate checked as Opts ask, when it returns).
-spec starttls(transport(), map()) -> {ok, transport()} | {error, term()}.
starttls({tcp, S}, Opts) ->
    case stanza_tls:connect(S, Opts) of
        {ok, T} -> {ok, {tls, T}};
        {error, Reason} -> {error, {tls, Reason}}
    end.

%% @doc What a message in the owner's mailbox means for this transport.
-spec classify(transport(), term()) -> {data, binary()} | closed | {error, term()} | other.
classify({tcp, S}, {tcp, S, Data}) -> {data, Data};
classify({tcp, S}, {tcp_closed, S}) -> closed;
classify({tcp, S}, {tcp_error, S, Reason}) -> {error, Reason};
classify({tls, T}, Msg) -> classify_tls(T, stanza_tls:socket(T), Msg);
classify(_, _) -> other.

%% stanza_tls leaves the socket to its owner: ciphertext arrives as TCP
%% messages and is decrypted here (possibly to nothing yet).
classify_tls(T, S, {tcp, S, Cipher}) ->
    case stanza_tls:recv_data(T, Cipher) of
        {ok, Plain} -> {data, Plain};
        {error, closed} -> closed;
        {error, Reason} -> {error, {tls, Reason}}
    end;
classify_tls(_, S, {tcp_closed, S}) -> closed;
classify_tls(_, S, {tcp_error, S, Reason}) -> {error, Reason};
classify_tls(_, _, _) -> other.

%% @doc Channel binding data SCRAM -PLUS can use on this transport, with
%% its type: tls-exporter (RFC 9266) on TLS 1.3, tls-unique (RFC 5929) on
%% TLS 1.2; `none' on TCP.
-spec channel_binding(transport()) -> stanza_scram:channel_binding().
channel_binding({tcp, _}) -> none;
channel_binding({tls, T}) ->
    Type = case stanza_tls:negotiated(T) of
               {ok, #{version := 'tlsv1.3'}} -> tls_exporter;
               _ -> tls_unique
           end,
    case stanza_tls:channel_binding(T, Type) of
        {ok, Data} -> {Type, Data};
        {error, _} -> none
    end.

%% @doc Whether the transport is encrypted.
-spec is_tls(transport()) -> boolean().
is_tls({tls, _}) -> true;
is_tls({tcp, _}) -> false.
