%% The server side of SCRAM (RFC 5802, section 3), written from the RFC
%% for tests: the client is checked against it, and the fake XMPP server
%% uses it to log clients in.
-module(stanza_scram_server).

-export([first/3, final/4]).

%% The server-first-message for a client-first-message, and what the
%% final step needs.
-spec first(binary(), binary(), pos_integer()) -> {binary(), map()}.
first(ClientFirst, Salt, Iter) ->
    %% gs2-header is "flag,authzid," and the bare message follows.
    [Flag, Rest] = binary:split(ClientFirst, <<",">>),
    [AuthzId, Bare] = binary:split(Rest, <<",">>),
    {match, [CNonce]} = re:run(Bare, "r=([^,]+)$", [{capture, all_but_first, binary}]),
    SNonce = <<CNonce/binary, (base64:encode(crypto:strong_rand_bytes(6)))/binary>>,
    ServerFirst = <<"r=", SNonce/binary, ",s=", (base64:encode(Salt))/binary, ",i=",
                    (integer_to_binary(Iter))/binary>>,
    {ServerFirst, #{gs2 => <<Flag/binary, ",", AuthzId/binary, ",">>, bare => Bare,
                    server_first => ServerFirst, nonce => SNonce, salt => Salt, iter => Iter}}.

%% Checks the client's proof with Password; the server-final-message.
-spec final(sha | sha256, map(), binary(), binary()) ->
          {ok, binary()} | {error, bad_proof | malformed}.
final(Hash, #{gs2 := Gs2, bare := Bare, server_first := ServerFirst, nonce := SNonce,
              salt := Salt, iter := Iter}, ClientFinal, Password) ->
    case re:run(ClientFinal, "^(c=([^,]*),r=([^,]+)),p=(.+)$",
                [{capture, all_but_first, binary}]) of
        {match, [Without, C64, SNonce, Proof64]} ->
            case base64:decode(C64) of
                <<Gs2:(byte_size(Gs2))/binary, _CbData/binary>> ->
                    check(Hash, Password, Salt, Iter,
                          <<Bare/binary, ",", ServerFirst/binary, ",", Without/binary>>,
                          base64:decode(Proof64));
                _ -> {error, malformed}
            end;
        _ -> {error, malformed}
    end.

check(Hash, Password, Salt, Iter, AuthMessage, Proof) ->
    Salted = crypto:pbkdf2_hmac(Hash, Password, Salt, Iter, byte_size(crypto:hash(Hash, <<>>))),
    StoredKey = crypto:hash(Hash, crypto:mac(hmac, Hash, Salted, <<"Client Key">>)),
    ClientKey = crypto:exor(Proof, crypto:mac(hmac, Hash, StoredKey, AuthMessage)),
    case crypto:hash(Hash, ClientKey) of
        StoredKey ->
            ServerKey = crypto:mac(hmac, Hash, Salted, <<"Server Key">>),
            {ok, <<"v=", (base64:encode(crypto:mac(hmac, Hash, ServerKey, AuthMessage)))/binary>>};
        _ ->
            {error, bad_proof}
    end.
