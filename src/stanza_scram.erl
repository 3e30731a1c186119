%% @doc The client side of SASL SCRAM (RFC 5802), with SHA-1 and SHA-256
%% (RFC 7677) and the -PLUS variants that bind the exchange to the TLS
%% channel (RFC 5929 `tls-unique', RFC 9266 `tls-exporter').
%%
%% Three steps, each a pure function of the previous state, so that the
%% caller owns the transport (an XMPP client sends the messages base64
%% encoded inside `<auth/>', `<response/>' and reads `<challenge/>',
%% `<success/>'):
%% ```
%% 1> {First, S1} = stanza_scram:client_first(#{username => <<"user">>,
%%                                              password => <<"pencil">>,
%%                                              hash => sha256}).
%% 2> {ok, Final, S2} = stanza_scram:client_final(S1, ServerFirst).
%% 3> ok = stanza_scram:verify_server_final(S2, ServerFinal).
%% '''
%% What the client refuses, each as a matchable `{error, Reason}':
%% a server nonce that does not extend the client's (`nonce_mismatch'),
%% an iteration count below `min_iterations' (default 4096, RFC 7677's
%% floor, so a server cannot make the password cheap to attack) or above
%% `max_iterations' (default 1,000,000, so a server cannot make the client
%% burn seconds of CPU), a missing or malformed attribute (`malformed'),
%% an `e=' error from the server (`{server_error, Text}'), and a server
%% signature that does not prove the server knows the password
%% (`bad_server_signature'). The server signature is compared in
%% constant time.
%%
%% Passwords: printable ASCII is used as it is (SASLprep, RFC 4013, maps
%% none of it). Other passwords are NFKC-normalized and refused if they
%% hold control characters; full SASLprep tables are not applied.
-module(stanza_scram).

-export([client_first/1, client_final/2, verify_server_final/2,
         mechanisms/2, salted_password/4, escape_username/1]).

-export_type([hash/0, channel_binding/0, options/0, state/0, mechanism/0]).

-type hash() :: sha | sha256.
%% `none': no channel binding; `not_offered': the client could bind
%% but the server offered no -PLUS mechanism (gs2 flag `y', so that a
%% man in the middle who stripped -PLUS is detected by a server that
%% supports it); `{Type, Data}': bind to that TLS channel.
-type channel_binding() :: none | not_offered
                         | {tls_unique | tls_exporter, binary()}.
-type options() :: #{username := binary(), password := binary(),
                     hash => hash(), channel_binding => channel_binding(),
                     nonce => binary(), min_iterations => pos_integer(),
                     max_iterations => pos_integer()}.
-type mechanism() :: binary().
-opaque state() :: #{step := first | final, hash := hash(),
                     password := binary(), nonce := binary(),
                     gs2_header := binary(), cb_data := binary(),
                     client_first_bare := binary(),
                     min_iterations := pos_integer(),
                     max_iterations := pos_integer(),
                     server_key => binary(), auth_message => binary()}.

-define(MIN_ITERATIONS, 4096).
-define(MAX_ITERATIONS, 1000000).

%% @doc The client-first-message, and the state for the next step.
-spec client_first(options()) -> {binary(), state()}.
client_first(#{username := User, password := Password} = Opts)
  when is_binary(User), is_binary(Password) ->
    Hash = maps:get(hash, Opts, sha256),
    hash_size(Hash),
    {Gs2, CbData} = gs2(maps:get(channel_binding, Opts, none)),
    Nonce = maps:get(nonce, Opts, stanza_ids:random_id()),
    check_printable(Nonce),
    Bare = <<"n=", (escape_username(User))/binary, ",r=", Nonce/binary>>,
    State = #{step => first, hash => Hash, password => prepare(Password),
              nonce => Nonce, gs2_header => Gs2, cb_data => CbData,
              client_first_bare => Bare,
              min_iterations => maps:get(min_iterations, Opts, ?MIN_ITERATIONS),
              max_iterations => maps:get(max_iterations, Opts, ?MAX_ITERATIONS)},
    {<<Gs2/binary, Bare/binary>>, State};
client_first(Opts) ->
    erlang:error({bad_option, scram, Opts}).

%% @doc Given the server-first-message, the client-final-message with the
%% client's proof.
-spec client_final(state(), binary()) ->
          {ok, binary(), state()} | {error, term()}.
client_final(#{step := first} = State, ServerFirst) when is_binary(ServerFirst) ->
    case parse_attributes(ServerFirst) of
        #{$e := Error} -> {error, {server_error, Error}};
        #{$r := Nonce, $s := Salt64, $i := Iter} -> final(State, ServerFirst, Nonce, Salt64, Iter);
        _ -> {error, malformed}
    end.

%% @doc Checks the server-final-message's signature: `ok' when the server
%% has proved that it knows the password.
-spec verify_server_final(state(), binary()) -> ok | {error, term()}.
verify_server_final(#{step := final, hash := Hash, server_key := ServerKey,
                      auth_message := AuthMessage}, ServerFinal)
  when is_binary(ServerFinal) ->
    case parse_attributes(ServerFinal) of
        #{$e := Error} -> {error, {server_error, Error}};
        #{$v := Verifier64} ->
            Expected = crypto:mac(hmac, Hash, ServerKey, AuthMessage),
            case decode64(Verifier64) of
                {ok, Verifier} -> same(Expected, Verifier);
                error -> {error, malformed}
            end;
        _ -> {error, malformed}
    end.

%% @doc The SCRAM mechanisms this client can use, best first, out of those
%% a server offers: with channel binding data (from the TLS connection)
%% the -PLUS ones come first.
-spec mechanisms([mechanism()], boolean()) -> [{mechanism(), hash(), plus | plain}].
mechanisms(Offered, CanBind) ->
    Known = [{<<"SCRAM-SHA-256-PLUS">>, sha256, plus}, {<<"SCRAM-SHA-1-PLUS">>, sha, plus},
             {<<"SCRAM-SHA-256">>, sha256, plain}, {<<"SCRAM-SHA-1">>, sha, plain}],
    [M || {Name, _, Kind} = M <- Known, lists:member(Name, Offered),
          Kind =:= plain orelse CanBind].

%% @doc Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC. Exported so
%% that a client that reconnects often can keep it (it is the costly
%% step: 4096 rounds of HMAC).
-spec salted_password(hash(), binary(), binary(), pos_integer()) -> binary().
salted_password(Hash, Password, Salt, Iterations) ->
    crypto:pbkdf2_hmac(Hash, Password, Salt, Iterations, hash_size(Hash)).

%% @doc A username as SCRAM's saslname: `=' as `=3D' and `,' as `=2C'.
-spec escape_username(binary()) -> binary().
escape_username(User) ->
    << <<(escape_char(C))/binary>> || <<C>> <= User >>.

%% Internals

final(#{nonce := ClientNonce, min_iterations := Min, max_iterations := Max} = State,
      ServerFirst, Nonce, Salt64, IterBin) ->
    Size = byte_size(ClientNonce),
    case {Nonce, decode64(Salt64), iterations(IterBin)} of
        {<<ClientNonce:Size/binary, Rest/binary>>, {ok, Salt}, {ok, Iter}}
          when Rest =/= <<>>, Iter >= Min, Iter =< Max ->
            {Final, Proved} = prove(State, ServerFirst, Nonce, Salt, Iter),
            {ok, Final, Proved};
        {<<ClientNonce:Size/binary, Rest/binary>>, {ok, _}, {ok, Iter}} when Rest =/= <<>> ->
            {error, {iterations, Iter}};
        {_, {ok, _}, {ok, _}} -> {error, nonce_mismatch};
        _ -> {error, malformed}
    end.

prove(#{hash := Hash, password := Password, gs2_header := Gs2, cb_data := CbData,
        client_first_bare := Bare} = State, ServerFirst, Nonce, Salt, Iter) ->
    Salted = salted_password(Hash, Password, Salt, Iter),
    ClientKey = crypto:mac(hmac, Hash, Salted, <<"Client Key">>),
    StoredKey = crypto:hash(Hash, ClientKey),
    WithoutProof = <<"c=", (base64:encode(<<Gs2/binary, CbData/binary>>))/binary,
                     ",r=", Nonce/binary>>,
    AuthMessage = <<Bare/binary, ",", ServerFirst/binary, ",", WithoutProof/binary>>,
    Signature = crypto:mac(hmac, Hash, StoredKey, AuthMessage),
    Proof = crypto:exor(ClientKey, Signature),
    Final = <<WithoutProof/binary, ",p=", (base64:encode(Proof))/binary>>,
    {Final, State#{step := final, password := <<>>,
                   server_key => crypto:mac(hmac, Hash, Salted, <<"Server Key">>),
                   auth_message => AuthMessage}}.

gs2(none) -> {<<"n,,">>, <<>>};
gs2(not_offered) -> {<<"y,,">>, <<>>};
gs2({tls_unique, Data}) when is_binary(Data) -> {<<"p=tls-unique,,">>, Data};
gs2({tls_exporter, Data}) when is_binary(Data) -> {<<"p=tls-exporter,,">>, Data};
gs2(Other) -> erlang:error({bad_option, channel_binding, Other}).

hash_size(sha) -> 20;
hash_size(sha256) -> 32;
hash_size(Other) -> erlang:error({bad_option, hash, Other}).

%% `a=value' pairs separated by commas; the first value of each letter
%% wins. Extensions (other letters) are kept and ignored.
parse_attributes(Message) ->
    lists:foldl(fun(<<K, $=, V/binary>>, Acc) when not is_map_key(K, Acc) -> Acc#{K => V};
                   (_, Acc) -> Acc
                end, #{}, binary:split(Message, <<",">>, [global])).

iterations(Bin) ->
    try binary_to_integer(Bin) of
        N when N > 0 -> {ok, N};
        _ -> error
    catch error:badarg -> error
    end.

decode64(Bin) ->
    try {ok, base64:decode(Bin)} catch error:_ -> error end.

same(A, B) when byte_size(A) =:= byte_size(B) ->
    case crypto:hash_equals(A, B) of
        true -> ok;
        false -> {error, bad_server_signature}
    end;
same(_, _) ->
    {error, bad_server_signature}.

escape_char($=) -> <<"=3D">>;
escape_char($,) -> <<"=2C">>;
escape_char(C) -> <<C>>.

%% A nonce is printable ASCII without a comma (RFC 5802, section 7).
check_printable(Nonce) ->
    case Nonce =/= <<>> andalso
         lists:all(fun(C) -> C > 16#20 andalso C < 16#7F andalso C =/= $, end,
                   binary_to_list(Nonce)) of
        true -> ok;
        false -> erlang:error({bad_option, nonce, Nonce})
    end.

prepare(Password) ->
    case lists:all(fun(C) -> C >= 16#20 andalso C < 16#7F end, binary_to_list(Password)) of
        true -> Password;
        false -> prepare_unicode(Password)
    end.

prepare_unicode(Password) ->
    case unicode:characters_to_nfkc_binary(Password) of
        Nfkc when is_binary(Nfkc) ->
            case [C || C <- unicode:characters_to_list(Nfkc), C < 16#20 orelse
                                                                  (C >= 16#7F andalso C < 16#A0)] of
                [] -> Nfkc;
                _ -> erlang:error({bad_option, password, control_characters})
            end;
        _ -> erlang:error({bad_option, password, invalid_utf8})
    end.
