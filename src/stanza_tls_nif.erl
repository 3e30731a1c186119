%% @private
%% @doc The NIF behind stanza_tls and the fast_tls compat application.
%% Call stanza_tls, not this module: it checks arguments and owns the
%% socket side.
%%
%% OpenSSL keeps malloc unless `{stanza, [{tls_openssl_memory, enif}]}'
%% asks to route its memory through enif_alloc, which works only when
%% this NIF loads before anything else in the VM touched libcrypto (see
%% doc/tls.md: it makes OpenSSL's memory visible to erlang:memory, at a
%% cost in RSS).
-module(stanza_tls_nif).

-export([ctx_new/1, ctx_add_sni/3, conn_new/5, handshake/2, recv/2, send/2,
         close/1, info/1, peercert/1, verify_result/1, verify_string/1,
         binding/2, session/1, reused/1, established/1, buffered/1, unread/2, queue/2, live/0,
         max_call_ns/1, timing/1, memory_routed/0]).

-on_load(load/0).

-type ctx() :: reference().
-type conn() :: reference().
-type reason() :: closed | enomem | not_established
                | {tls_alert, atom() | integer()}
                | {verify_failed, binary()}
                | {hostname_mismatch, binary()}
                | {tls_error, binary()}.
-export_type([ctx/0, conn/0, reason/0]).

-spec load() -> ok | {error, term()}.
load() ->
    Path = filename:join(stanza_priv:dir(), "stanza_tls_nif"),
    %% Loaded, so that -stanza tls_openssl_memory malloc on the command
    %% line counts even when the application is not started.
    _ = application:load(stanza),
    Memory = application:get_env(stanza, tls_openssl_memory, malloc),
    stanza_priv:load_nif_result(Path, erlang:load_nif(Path, Memory),
                                "libssl-dev and erlang-dev").

-spec ctx_new(map()) -> {ok, ctx()} | {error, binary() | enomem}.
ctx_new(_Config) ->
    erlang:nif_error(nif_not_loaded).

-spec ctx_add_sni(ctx(), binary(), ctx()) -> ok | {error, enomem}.
ctx_add_sni(_Base, _Name, _Named) ->
    erlang:nif_error(nif_not_loaded).

-spec conn_new(ctx(), server | client, binary(), boolean(), binary()) ->
          conn() | {error, enomem}.
conn_new(_Ctx, _Role, _Host, _CheckHost, _Session) ->
    erlang:nif_error(nif_not_loaded).

-spec handshake(conn(), binary()) ->
          {ok | continue, binary()} | {error, reason(), binary()}.
handshake(_Conn, _In) ->
    erlang:nif_error(nif_not_loaded).

-spec recv(conn(), binary()) ->
          {ok | closed, binary(), binary()} | {more, binary(), binary(), binary()}
          | {error, reason(), binary()}.
recv(_Conn, _In) ->
    erlang:nif_error(nif_not_loaded).

-spec send(conn(), iodata()) -> {ok, binary()} | {error, reason()}.
send(_Conn, _Plain) ->
    erlang:nif_error(nif_not_loaded).

-spec close(conn()) -> binary().
close(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec info(conn()) -> map() | {error, closed | not_established}.
info(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec peercert(conn()) -> {ok, binary()} | {error, no_peercert | closed}.
peercert(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec verify_result(conn()) -> integer().
verify_result(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec verify_string(integer()) -> binary().
verify_string(_Code) ->
    erlang:nif_error(nif_not_loaded).

-spec binding(conn(), tls_exporter | tls_unique | self | peer) ->
          {ok, binary()} | {error, not_established | undefined}.
binding(_Conn, _Kind) ->
    erlang:nif_error(nif_not_loaded).

-spec session(conn()) -> {ok, binary()} | none.
session(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec reused(conn()) -> boolean().
reused(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec established(conn()) -> boolean().
established(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec buffered(conn()) -> non_neg_integer().
buffered(_Conn) ->
    erlang:nif_error(nif_not_loaded).

-spec unread(conn(), binary()) -> ok | {error, closed | enomem}.
unread(_Conn, _Plain) ->
    erlang:nif_error(nif_not_loaded).

-spec queue(conn(), iodata()) -> ok | {error, closed | enomem}.
queue(_Conn, _Plain) ->
    erlang:nif_error(nif_not_loaded).

-spec live() -> {non_neg_integer(), non_neg_integer()}.
live() ->
    erlang:nif_error(nif_not_loaded).

-spec max_call_ns(handshake | handshake_dirty | data | other) ->
          {Wall :: non_neg_integer(), Cpu :: non_neg_integer()}.
max_call_ns(_Kind) ->
    erlang:nif_error(nif_not_loaded).

-spec timing(boolean()) -> ok.
timing(_On) ->
    erlang:nif_error(nif_not_loaded).

-spec memory_routed() -> enif | malloc.
memory_routed() ->
    erlang:nif_error(nif_not_loaded).
