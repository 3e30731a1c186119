%% @doc TLS over a gen_tcp socket you own, through OpenSSL 3, safe by
%% default: a client verifies the chain and the host name, TLS 1.2 and
%% 1.3 only, forward secrecy only, no renegotiation, no compression, and
%% a server asks for no client certificate unless told to.
%%
%% ```
%% {ok, S} = gen_tcp:connect("example.com", 5223, [binary, {active, false}]),
%% {ok, Tls} = stanza_tls:connect(S, #{server_name => "example.com"}),
%% ok = stanza_tls:send(Tls, <<"<stream:stream ...>">>),
%% {ok, Data} = stanza_tls:recv(Tls, 0, 5000).
%% '''
%%
%% The caller keeps the TCP socket: in active mode the owner receives
%% `{tcp, Socket, Bytes}' as usual and decrypts them with recv_data/2.
%% See doc/tls.md.
-module(stanza_tls).

-export([connect/2, accept/2, send/2, recv/2, recv/3, recv_data/2,
         setopts/2, controlling_process/2, close/1, peercert/1,
         negotiated/1, channel_binding/2, session/1, socket/1,
         sockname/1, peername/1, live/0, clear_cache/0]).
%% For the fast_tls compat application.
-export([context/2, new/4, handshake/3, handshake_step/2, established/1,
         verify_result/1, verify_string/1, finished/2, drop/1, queue/2]).

-record(stanza_tls, {socket :: gen_tcp:socket(),
                     conn :: stanza_tls_nif:conn()}).

-opaque tls() :: #stanza_tls{}.
-type version() :: 'tlsv1.2' | 'tlsv1.3'.
-type options() :: #{server_name => iodata(),
                     verify => peer | none,
                     cafile => file:filename_all(),
                     certfile => file:filename_all(),
                     keyfile => file:filename_all(),
                     alpn => [binary()],
                     versions => [version()],
                     ciphers => iodata(),
                     sni => #{iodata() => {file:filename_all(), file:filename_all()}},
                     session_tickets => boolean(),
                     session => binary(),
                     timeout => timeout()}.
-type reason() :: stanza_tls_nif:reason() | timeout | inet:posix()
                | {bad_option, atom()} | {tls_config, binary()}.
-export_type([tls/0, options/0, reason/0, version/0]).

-define(DEFAULT_TIMEOUT, 15000).
%% Plaintext per NIF send call at most (the NIF refuses more).
-define(SEND_PIECE, 262144).
%% The options that make a context (the rest are per connection).
-define(CTX_KEYS, [verify, cafile, certfile, keyfile, alpn, versions,
                   ciphers, sni, session_tickets]).

%% ---------------------------------------------------------------------
%% Connecting

%% @doc Runs a client handshake on a connected TCP socket. The socket is
%% set to `{active, false}' and binary mode; it is closed when the
%% handshake fails. Without `verify => none', `server_name' is required
%% and checked against the certificate (DNS names, or the XMPP names of
%% RFC 6120 section 13.7.1.4).
-spec connect(gen_tcp:socket(), options()) -> {ok, tls()} | {error, reason()}.
connect(Socket, Opts) ->
    start(client, Socket, Opts).

%% @doc Runs a server handshake on an accepted TCP socket (`certfile'
%% needed, or an `sni' map). `verify => peer' requires a client
%% certificate that verifies against `cafile'.
-spec accept(gen_tcp:socket(), options()) -> {ok, tls()} | {error, reason()}.
accept(Socket, Opts) ->
    start(server, Socket, Opts).

start(Role, Socket, Opts) ->
    Timeout = maps:get(timeout, Opts, ?DEFAULT_TIMEOUT),
    case new(Role, Socket, Opts, host_check(Role, Opts)) of
        {ok, Tls} -> handshake(Tls, <<>>, Timeout);
        Error -> Error
    end.

host_check(server, _Opts) -> false;
host_check(client, Opts) -> maps:get(verify, Opts, peer) =:= peer.

%% @private A connection not yet shaken hands (fast_tls runs the
%% handshake inside its own recv_data).
-spec new(server | client, gen_tcp:socket(), map(), boolean()) ->
          {ok, tls()} | {error, reason()}.
new(Role, Socket, Opts, CheckHost) ->
    case host(Role, Opts, CheckHost) of
        {ok, Host} ->
            with_context(Role, Opts, fun(Ctx) -> open(Ctx, Role, Socket, Host, CheckHost, Opts) end);
        Error ->
            Error
    end.

host(client, #{server_name := Name}, _) ->
    try iolist_to_binary(Name) of
        Host when byte_size(Host) > 0, byte_size(Host) < 256 ->
            case binary:match(Host, <<0>>) of
                nomatch -> {ok, Host};
                _ -> {error, {bad_option, server_name}}
            end;
        _ -> {error, {bad_option, server_name}}
    catch error:badarg -> {error, {bad_option, server_name}}
    end;
host(client, _, true) -> {error, {bad_option, server_name}};
host(_, _, _) -> {ok, <<>>}.

with_context(Role, Opts, Fun) ->
    case context(Role, Opts) of
        {ok, Ctx} -> Fun(Ctx);
        Error -> Error
    end.

open(Ctx, Role, Socket, Host, CheckHost, Opts) ->
    Session = maps:get(session, Opts, <<>>),
    case stanza_tls_nif:conn_new(Ctx, Role, Host, CheckHost, Session) of
        {error, _} = Error -> Error;
        Conn -> {ok, #stanza_tls{socket = Socket, conn = Conn}}
    end.

%% @private Runs the handshake to its end, feeding In first.
-spec handshake(tls(), binary(), timeout()) -> {ok, tls()} | {error, reason()}.
handshake(#stanza_tls{socket = S} = Tls, In, Timeout) ->
    case inet:setopts(S, [{active, false}, binary]) of
        ok -> handshake_loop(Tls, In, deadline(Timeout));
        {error, _} -> fail(Tls, closed)
    end.

handshake_loop(#stanza_tls{socket = S, conn = C} = Tls, In, Deadline) ->
    case stanza_tls_nif:handshake(C, In) of
        {ok, Out} ->
            case send_raw(S, Out) of
                ok -> {ok, Tls};
                {error, R} -> fail(Tls, R)
            end;
        {continue, Out} ->
            case send_raw(S, Out) of
                ok -> handshake_recv(Tls, Deadline);
                {error, R} -> fail(Tls, R)
            end;
        {error, Reason, Out} ->
            _ = send_raw(S, Out),
            fail(Tls, Reason)
    end.

handshake_recv(#stanza_tls{socket = S} = Tls, Deadline) ->
    case gen_tcp:recv(S, 0, remaining(Deadline)) of
        {ok, Data} -> handshake_loop(Tls, Data, Deadline);
        {error, Reason} -> fail(Tls, Reason)
    end.

%% @private One handshake step with the bytes the peer sent (fast_tls
%% runs the handshake inside recv_data). Sends what OpenSSL wrote; on
%% failure frees the connection but leaves the socket to the caller.
-spec handshake_step(tls(), binary()) -> {ok | continue, tls()} | {error, reason()}.
handshake_step(#stanza_tls{socket = S, conn = C} = Tls, In) ->
    case stanza_tls_nif:handshake(C, In) of
        {error, Reason, Out} ->
            _ = send_raw(S, Out),
            _ = stanza_tls_nif:close(C),
            {error, Reason};
        {Tag, Out} ->
            case send_raw(S, Out) of
                ok -> {Tag, Tls};
                {error, _} = Error -> Error
            end
    end.

%% @private
-spec established(tls()) -> boolean().
established(#stanza_tls{conn = C}) ->
    stanza_tls_nif:established(C).

%% @private The X509_V_ERR_* code of the peer's chain (0: verified).
-spec verify_result(tls()) -> integer().
verify_result(#stanza_tls{conn = C}) ->
    stanza_tls_nif:verify_result(C).

%% @private OpenSSL's text for an X509_V_ERR_* code.
-spec verify_string(integer()) -> binary().
verify_string(Code) ->
    stanza_tls_nif:verify_string(Code).

%% @private Plaintext to send when the handshake ends (fast_tls lets
%% code send before it has).
-spec queue(tls(), iodata()) -> ok | {error, closed | enomem}.
queue(#stanza_tls{conn = C}, Data) ->
    stanza_tls_nif:queue(C, Data).

%% @private Our (self) or the peer's last Finished message.
-spec finished(tls(), self | peer) -> {ok, binary()} | {error, not_established | undefined}.
finished(#stanza_tls{conn = C}, Which) ->
    stanza_tls_nif:binding(C, Which).

%% @private Frees the TLS state without a word to the peer; the socket
%% stays open (fast_tls:tls_to_tcp/1).
-spec drop(tls()) -> gen_tcp:socket().
drop(#stanza_tls{socket = S, conn = C}) ->
    _ = stanza_tls_nif:close(C),
    S.

fail(#stanza_tls{socket = S, conn = C}, Reason) ->
    _ = stanza_tls_nif:close(C),
    _ = gen_tcp:close(S),
    {error, Reason}.

deadline(infinity) -> infinity;
deadline(Ms) -> erlang:monotonic_time(millisecond) + Ms.

remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).

send_raw(_S, <<>>) -> ok;
send_raw(S, Bytes) -> gen_tcp:send(S, Bytes).

%% ---------------------------------------------------------------------
%% Contexts: built once per set of options (files read, CA store parsed
%% on a dirty I/O scheduler), then kept in persistent_term.

%% @private
-spec context(server | client, map()) ->
          {ok, stanza_tls_nif:ctx()} | {error, reason()}.
context(Role, Opts) ->
    Key = {?MODULE, ctx, Role, maps:with(?CTX_KEYS, Opts)},
    case persistent_term:get(Key, undefined) of
        undefined -> make_context(Key, Role, Opts);
        Ctx -> {ok, Ctx}
    end.

make_context(Key, Role, Opts) ->
    try build_context(Role, Opts) of
        {ok, Ctx} ->
            persistent_term:put(Key, Ctx),
            {ok, Ctx};
        Error ->
            Error
    catch
        throw:{bad_option, _} = Bad -> {error, Bad}
    end.

build_context(Role, Opts) ->
    Config = config(Role, Opts),
    case stanza_tls_nif:ctx_new(Config) of
        {ok, Base} -> add_sni(Base, Config, maps:to_list(maps:get(sni, Opts, #{})));
        {error, Why} -> {error, {tls_config, Why}}
    end.

add_sni(Base, _Config, []) ->
    {ok, Base};
add_sni(Base, Config, [{Name, {Cert, Key}} | Rest]) ->
    Named = Config#{certfile => file_opt(sni, Cert), keyfile => file_opt(sni, Key)},
    case stanza_tls_nif:ctx_new(Named) of
        {ok, Ctx} ->
            ok = stanza_tls_nif:ctx_add_sni(Base, bin_opt(sni, Name), Ctx),
            add_sni(Base, Config, Rest);
        {error, Why} ->
            {error, {tls_config, Why}}
    end;
add_sni(_, _, _) ->
    throw({bad_option, sni}).

config(Role, Opts) ->
    Base = #{server => Role =:= server,
             verify => verify_opt(Role, Opts),
             tickets => maps:get(session_tickets, Opts, false) =:= true},
    maps:fold(fun(K, V, Acc) -> config_opt(K, V, Acc) end, Base,
              maps:with([cafile, certfile, keyfile, alpn, versions, ciphers], Opts)).

verify_opt(Role, Opts) ->
    Default = case Role of client -> peer; server -> none end,
    case maps:get(verify, Opts, Default) of
        V when V =:= peer; V =:= none; V =:= report -> V;
        _ -> throw({bad_option, verify})
    end.

config_opt(alpn, Protocols, Acc) -> Acc#{alpn => alpn_wire(Protocols)};
config_opt(versions, Versions, Acc) -> maps:merge(Acc, version_range(Versions));
config_opt(ciphers, Ciphers, Acc) -> Acc#{ciphers => bin_opt(ciphers, Ciphers)};
config_opt(K, File, Acc) -> Acc#{K => file_opt(K, File)}.

alpn_wire(Protocols) when is_list(Protocols), Protocols =/= [] ->
    << <<(alpn_name(P))/binary>> || P <- Protocols >>;
alpn_wire(_) ->
    throw({bad_option, alpn}).

alpn_name(P) ->
    case bin_opt(alpn, P) of
        B when byte_size(B) > 0, byte_size(B) < 256 -> <<(byte_size(B)), B/binary>>;
        _ -> throw({bad_option, alpn})
    end.

version_range(Versions) when is_list(Versions), Versions =/= [] ->
    Codes = [version_code(V) || V <- Versions],
    #{min_version => lists:min(Codes), max_version => lists:max(Codes)};
version_range(_) ->
    throw({bad_option, versions}).

version_code('tlsv1.2') -> 16#0303;
version_code('tlsv1.3') -> 16#0304;
version_code(_) -> throw({bad_option, versions}).

file_opt(Key, File) ->
    try unicode:characters_to_binary(File) of
        B when is_binary(B) -> B;
        _ -> throw({bad_option, Key})
    catch error:_ -> throw({bad_option, Key})
    end.

bin_opt(Key, Value) ->
    try iolist_to_binary(Value)
    catch error:_ -> throw({bad_option, Key})
    end.

%% @doc Forgets the contexts built so far (after a certificate renewal,
%% say): the next connections read the files again.
-spec clear_cache() -> ok.
clear_cache() ->
    _ = [persistent_term:erase(K) || {{?MODULE, ctx, _, _} = K, _} <- persistent_term:get()],
    ok.

%% ---------------------------------------------------------------------
%% Data

%% @doc Encrypts and sends.
-spec send(tls(), iodata()) -> ok | {error, reason()}.
send(#stanza_tls{} = Tls, Data) when is_binary(Data), byte_size(Data) =< ?SEND_PIECE ->
    send_piece(Tls, Data);
send(#stanza_tls{} = Tls, Data) ->
    send_pieces(Tls, iolist_to_binary(Data)).

send_pieces(Tls, <<Piece:?SEND_PIECE/binary, Rest/binary>>) when Rest =/= <<>> ->
    case send_piece(Tls, Piece) of
        ok -> send_pieces(Tls, Rest);
        Error -> Error
    end;
send_pieces(Tls, Last) ->
    send_piece(Tls, Last).

send_piece(#stanza_tls{socket = S, conn = C}, Plain) ->
    case stanza_tls_nif:send(C, Plain) of
        {ok, Out} -> gen_tcp:send(S, Out);
        {error, _} = Error -> Error
    end.

%% @doc Like gen_tcp:recv/2 on a passive socket.
-spec recv(tls(), non_neg_integer()) -> {ok, binary()} | {error, reason()}.
recv(Tls, Length) ->
    recv(Tls, Length, infinity).

%% @doc Like gen_tcp:recv/3: Length 0 returns what is there (at least one
%% byte); otherwise exactly Length bytes, the rest kept for the next call.
-spec recv(tls(), non_neg_integer(), timeout()) -> {ok, binary()} | {error, reason()}.
recv(#stanza_tls{} = Tls, Length, Timeout) when is_integer(Length), Length >= 0 ->
    recv_loop(Tls, Length, <<>>, <<>>, deadline(Timeout)).

recv_loop(#stanza_tls{conn = C} = Tls, Length, In, Acc, Deadline) ->
    case recv_data(Tls, In) of
        {ok, Plain} ->
            Got = <<Acc/binary, Plain/binary>>,
            case enough(Got, Length) of
                {yes, Now, Later} ->
                    ok = keep(C, Later),
                    {ok, Now};
                no ->
                    recv_more(Tls, Length, Got, Deadline)
            end;
        {error, _} = Error ->
            ok = keep(C, Acc),
            Error
    end.

recv_more(#stanza_tls{socket = S, conn = C} = Tls, Length, Acc, Deadline) ->
    case gen_tcp:recv(S, 0, remaining(Deadline)) of
        {ok, Cipher} ->
            recv_loop(Tls, Length, Cipher, Acc, Deadline);
        {error, _} = Error ->
            ok = keep(C, Acc),
            Error
    end.

enough(<<>>, _) -> no;
enough(Got, 0) -> {yes, Got, <<>>};
enough(Got, Length) when byte_size(Got) >= Length ->
    <<Now:Length/binary, Later/binary>> = Got,
    {yes, Now, Later};
enough(_, _) -> no.

keep(_C, <<>>) -> ok;
keep(C, Plain) ->
    case stanza_tls_nif:unread(C, Plain) of
        ok -> ok;
        {error, _} -> ok
    end.

%% @doc Decrypts bytes the peer sent (the `Bytes' of a `{tcp, Socket,
%% Bytes}' message in active mode); may return `{ok, <<>>}' when they
%% hold no complete record. `{error, closed}' when the peer sent
%% close_notify and there is no data before it.
-spec recv_data(tls(), binary()) -> {ok, binary()} | {error, reason()}.
recv_data(#stanza_tls{} = Tls, Cipher) when is_binary(Cipher) ->
    recv_data(Tls, Cipher, []).

recv_data(#stanza_tls{socket = S, conn = C} = Tls, Cipher, Acc) ->
    case stanza_tls_nif:recv(C, Cipher) of
        {ok, Plain, Out} ->
            reply(send_raw(S, Out), join(Acc, Plain));
        {more, Plain, Out, Rest} ->
            _ = send_raw(S, Out),
            recv_data(Tls, Rest, [Acc, Plain]);
        {closed, Plain, Out} ->
            _ = send_raw(S, Out),
            closed(join(Acc, Plain));
        {error, Reason, Out} ->
            _ = send_raw(S, Out),
            {error, Reason}
    end.

%% The common case (one call) returns the NIF's binary as it is; pieces
%% of a big input are copied once, at the end.
join([], Plain) -> Plain;
join(Acc, Plain) -> iolist_to_binary([Acc, Plain]).

reply(ok, Plain) -> {ok, Plain};
reply({error, _} = Error, _) -> Error.

closed(<<>>) -> {error, closed};
closed(Plain) -> {ok, Plain}.

%% @doc inet:setopts/2 on the socket. When `active' is asked for while
%% decrypted or undecrypted bytes are held back, the owner first gets a
%% `{tcp, Socket, <<>>}' message, so recv_data/2 hands them over.
-spec setopts(tls(), [gen_tcp:option()]) -> ok | {error, inet:posix()}.
setopts(#stanza_tls{socket = S, conn = C}, Opts) ->
    _ = case wants_active(Opts) andalso stanza_tls_nif:buffered(C) > 0 of
            true -> self() ! {tcp, S, <<>>};
            false -> ok
        end,
    inet:setopts(S, Opts).

wants_active(Opts) ->
    case proplists:get_value(active, Opts, false) of
        false -> false;
        _ -> true
    end.

%% @doc gen_tcp:controlling_process/2 on the socket.
-spec controlling_process(tls(), pid()) -> ok | {error, term()}.
controlling_process(#stanza_tls{socket = S}, Pid) ->
    gen_tcp:controlling_process(S, Pid).

%% @doc Sends close_notify, closes the socket and frees the connection.
-spec close(tls()) -> ok.
close(#stanza_tls{socket = S, conn = C}) ->
    _ = send_raw(S, stanza_tls_nif:close(C)),
    _ = gen_tcp:close(S),
    ok.

%% ---------------------------------------------------------------------
%% What was negotiated

%% @doc The peer's certificate, DER (public_key:pkix_decode_cert/2 it).
-spec peercert(tls()) -> {ok, binary()} | {error, no_peercert | closed}.
peercert(#stanza_tls{conn = C}) ->
    stanza_tls_nif:peercert(C).

%% @doc `#{version := version(), cipher := binary(), alpn := binary() |
%% undefined, resumed := boolean()}'.
-spec negotiated(tls()) -> {ok, map()} | {error, closed | not_established}.
negotiated(#stanza_tls{conn = C}) ->
    case stanza_tls_nif:info(C) of
        #{} = Info -> {ok, Info#{resumed => stanza_tls_nif:reused(C)}};
        Error -> Error
    end.

%% @doc Channel binding data: `tls_exporter' (RFC 9266, 32 bytes) or
%% `tls_unique' (RFC 5929; TLS 1.2 only, `{error, undefined}' on 1.3).
-spec channel_binding(tls(), tls_exporter | tls_unique) ->
          {ok, binary()} | {error, not_established | undefined}.
channel_binding(#stanza_tls{conn = C}, Kind) when Kind =:= tls_exporter;
                                                  Kind =:= tls_unique ->
    stanza_tls_nif:binding(C, Kind).

%% @doc A client's session, to resume with the `session' option of a
%% later connect/2 (`none' until the server sent a ticket).
-spec session(tls()) -> {ok, binary()} | none.
session(#stanza_tls{conn = C}) ->
    stanza_tls_nif:session(C).

-spec socket(tls()) -> gen_tcp:socket().
socket(#stanza_tls{socket = S}) ->
    S.

-spec sockname(tls()) -> {ok, {inet:ip_address(), inet:port_number()}} | {error, inet:posix()}.
sockname(#stanza_tls{socket = S}) ->
    inet:sockname(S).

-spec peername(tls()) -> {ok, {inet:ip_address(), inet:port_number()}} | {error, inet:posix()}.
peername(#stanza_tls{socket = S}) ->
    inet:peername(S).

%% @doc Connections whose OpenSSL state is not yet freed (close/1, a
%% failed handshake or garbage collection frees it).
-spec live() -> non_neg_integer().
live() ->
    element(1, stanza_tls_nif:live()).
