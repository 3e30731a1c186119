%% @doc stanza_client's options: natter's proplist (strings welcome) or a
%% map, checked and completed with defaults; and the prepared form of
%% JIDs the client matches on.
-module(stanza_client_config).

-export([normalize/1, peer_key/1]).

-define(DEFAULTS, #{port => 5222, resource => <<>>, starttls => required, tls => #{},
                    timeout => 60000, login_timeout => 15000, reconnect => false,
                    format => legacy, presence => true, dedup => true,
                    inspector => undefined, legacy_auth => false, channel_binding => true,
                    max_stanza_size => 1048576}).

%% @doc The options as a complete map; raises `{bad_option, Name, Value}'.
-spec normalize([{atom(), term()}] | map()) -> map().
normalize(Config) when is_list(Config) ->
    case lists:all(fun(P) -> is_tuple(P) andalso tuple_size(P) =:= 2 end, Config) of
        true -> normalize(maps:from_list(lists:reverse(Config)));
        false -> erlang:error({bad_option, config, Config})
    end;
normalize(#{} = Config) ->
    [erlang:error({bad_option, K, missing}) || K <- [host, user, password],
                                               not maps:is_key(K, Config)],
    Opts = maps:merge(?DEFAULTS, Config),
    Known = maps:keys(?DEFAULTS) ++ [host, user, password, domain],
    [erlang:error({bad_option, K, V}) || {K, V} <- maps:to_list(Opts), not lists:member(K, Known)],
    Host = host(maps:get(host, Opts)),
    maps:map(fun check/2,
             Opts#{host := Host, timeout => maps:get(timeout, Opts),
                   domain => bin(maps:get(domain, Opts, host_name(Host))),
                   user => bin(maps:get(user, Opts)), password => bin(maps:get(password, Opts)),
                   resource => bin(maps:get(resource, Opts)),
                   login_timeout := maps:get(login_timeout, Opts)});
normalize(Config) ->
    erlang:error({bad_option, config, Config}).

%% @doc The prepared full JID and its bare form, for matching peers
%% whatever case and form they use; `error' for a malformed JID.
-spec peer_key(binary()) -> {ok, {binary(), binary()}} | error.
peer_key(Jid) ->
    case stanza_jid:parse(Jid) of
        {ok, J} -> {ok, {stanza_jid:to_binary(J), stanza_jid:to_binary(stanza_jid:bare(J))}};
        {error, _} -> error
    end.

check(port, P) when is_integer(P), P > 0, P < 65536 -> P;
check(starttls, P) when P =:= required; P =:= optional; P =:= never -> P;
check(tls, T) when is_map(T) -> T;
check(tls, T) when is_list(T) -> maps:from_list(T);
check(K, T) when K =:= timeout; K =:= login_timeout ->
    (is_integer(T) andalso T > 0) orelse T =:= infinity orelse erlang:error({bad_option, K, T}),
    T;
check(format, F) when F =:= legacy; F =:= binary; F =:= xmlel -> F;
check(K, B) when (K =:= reconnect orelse K =:= presence orelse K =:= dedup orelse
                  K =:= legacy_auth orelse K =:= channel_binding), is_boolean(B) -> B;
check(inspector, undefined) -> undefined;
check(inspector, {M, _} = I) when is_atom(M) -> I;
check(max_stanza_size, N) when (is_integer(N) andalso N > 0) orelse N =:= infinity -> N;
check(K, V) when K =:= host; K =:= domain; K =:= user; K =:= password; K =:= resource -> V;
check(K, V) -> erlang:error({bad_option, K, V}).

host(H) when is_tuple(H) -> H;
host(H) when is_atom(H) -> atom_to_list(H);
host(H) -> unicode:characters_to_list(bin(H)).

host_name(H) when is_tuple(H) -> inet:ntoa(H);
host_name(H) -> H.

bin(X) when is_atom(X) -> atom_to_binary(X);
bin(X) -> stanza_xml:to_bin(X).
