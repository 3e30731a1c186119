%% @doc Certificates for the TLS tests, made at run time into a temporary
%% directory (no private key is ever committed): a test root, a server
%% and a client certificate it signed, and the bad ones (expired, wrong
%% host, self-signed, signed by an unknown root, XMPP names only).
-module(stanza_tls_test_certs).

-include_lib("public_key/include/public_key.hrl").

-export([make/1, make/2, pem_files/3]).

-define(XMPP_ADDR, {1, 3, 6, 1, 5, 5, 7, 8, 5}).
-define(SRV_NAME, {1, 3, 6, 1, 5, 5, 7, 8, 7}).

%% @doc Writes the set into Dir with P-256 keys; returns file names by role.
-spec make(file:filename()) -> map().
make(Dir) ->
    make(Dir, {namedCurve, secp256r1}).

-spec make(file:filename(), term()) -> map().
make(Dir, Key) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Root = root("stanza test root", Key),
    Other = root("unknown root", Key),
    Today = calendar:universal_time(),
    {{Y, M, D}, _} = Today,
    Files = #{
      server => peer(Dir, "server", Root, Key, [dns("localhost")], []),
      client => peer(Dir, "client", Root, Key, [dns("client.example")], []),
      expired => peer(Dir, "expired", Root, Key, [dns("localhost")],
                      [{validity, {{Y - 2, M, min(D, 28)}, {Y - 1, M, min(D, 28)}}}]),
      wrong_host => peer(Dir, "wrong_host", Root, Key, [dns("elsewhere.example")], []),
      unknown_ca => peer(Dir, "unknown_ca", Other, Key, [dns("localhost")], []),
      xmpp_addr => peer(Dir, "xmpp_addr", Root, Key,
                        [dns("other.example"), other(?XMPP_ADDR, 12, "xmpp.example")], []),
      srv_name => peer(Dir, "srv_name", Root, Key,
                       [other(?SRV_NAME, 22, "_xmpp-client.srv.example")], []),
      self_signed => self_signed(Dir, Key)},
    CaFile = filename:join(Dir, "ca.pem"),
    ok = file:write_file(CaFile, pem([{'Certificate', maps:get(cert, Root), not_encrypted}])),
    Files#{cafile => CaFile, dir => Dir}.

root(Name, Key) ->
    public_key:pkix_test_root_cert(Name, [{key, Key}, {digest, sha256}]).

peer(Dir, Name, Root, Key, SAN, Extra) ->
    Ext = #'Extension'{extnID = ?'id-ce-subjectAltName', critical = false, extnValue = SAN},
    Conf = public_key:pkix_test_data(#{root => Root, intermediates => [],
                                       peer => [{key, Key}, {digest, sha256}, {extensions, [Ext]} | Extra]}),
    pem_files(Dir, Name, Conf).

self_signed(Dir, Key) ->
    #{cert := Cert, key := PrivKey} = root("localhost", Key),
    pem_files(Dir, "self_signed", [{cert, Cert}, {key, encoded_key(PrivKey)}]).

encoded_key(#'ECPrivateKey'{} = K) -> {'ECPrivateKey', public_key:der_encode('ECPrivateKey', K)};
encoded_key(#'RSAPrivateKey'{} = K) -> {'RSAPrivateKey', public_key:der_encode('RSAPrivateKey', K)}.

dns(Name) -> {dNSName, Name}.

%% An otherName whose value is a DER string of the given tag (12:
%% UTF8String, 22: IA5String).
other(Oid, Tag, Value) ->
    Bin = list_to_binary(Value),
    {otherName, #'AnotherName'{'type-id' = Oid,
                               value = <<Tag, (byte_size(Bin)), Bin/binary>>}}.

%% @doc Writes a public_key test config's cert and key as PEM files.
-spec pem_files(file:filename(), string(), list()) -> map().
pem_files(Dir, Name, Conf) ->
    Cert = proplists:get_value(cert, Conf),
    {KeyType, KeyDer} = proplists:get_value(key, Conf),
    CertFile = filename:join(Dir, Name ++ "_cert.pem"),
    KeyFile = filename:join(Dir, Name ++ "_key.pem"),
    ok = file:write_file(CertFile, pem([{'Certificate', Cert, not_encrypted}])),
    ok = file:write_file(KeyFile, pem([{KeyType, KeyDer, not_encrypted}])),
    ok = file:change_mode(KeyFile, 8#600),
    #{certfile => CertFile, keyfile => KeyFile, der => Cert}.

pem(Entries) ->
    public_key:pem_encode(Entries).
