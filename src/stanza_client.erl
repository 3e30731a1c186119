%% @doc A machine-to-machine XMPP client for IQ traffic, with the API of
%% natter's `natter_connection' and none of its routing bugs.
%%
%% ```
%% Config = [{host, "localhost"}, {user, "foo"}, {password, "bar"}, {resource, "foo"}],
%% {ok, Cn} = stanza_client:start_link(Config),
%% stanza_client:register_default_exchange(Cn, self()),
%% stanza_client:register_exchange(Cn, "iq", "bar@localhost", self()),
%% Payload = {xmlelement, "hello-world", [], []},
%% ok = stanza_client:send_iq(Cn, "result", "100", "foo@localhost", Payload),
%% {ok, Reply} = stanza_client:send_wait_iq(Cn, "get", "", "bar@localhost/x", Payload).
%% %% other stanzas arrive as {packet, {xmlelement, "iq", [{"id", "101"}, ...], [...]}}
%% '''
%%
%% What it guarantees (doc/natter.md says what changed from natter):
%% <ul>
%% <li>A reply is matched to its request by the peer's prepared JID and
%% the id (stanza_tracker, stanza_jid): two requests to one peer each get
%% their own reply; a reply from someone else, a late reply and a
%% duplicate are dropped and counted, never handed to another caller.</li>
%% <li>Every request has exactly one outcome: `{ok, Reply}' (a result or
%% an error IQ), `{error, timeout}' or `{error, disconnected}' (at once
%% when the connection drops).</li>
%% <li>While disconnected, requests fail at once with
%% `{error, disconnected}'; with `reconnect' the client reconnects by
%% itself (exponential backoff with full jitter) and exchanges survive.</li>
%% <li>Transport: STARTTLS through stanza_tls, required and verified by
%% default (the domain is the expected name); SCRAM-SHA-256/SHA-1 (with
%% -PLUS channel binding where usable), PLAIN only inside TLS.</li>
%% </ul>
-module(stanza_client).
-behaviour(gen_server).

-export([start_link/1, close/1, stats/1, jid/1, subscribe/2,
         register_default_exchange/2, unregister_default_exchange/1,
         register_exchange/4, unregister_exchange/3,
         send_iq/5, send_wait_iq/5, send_wait_iq/6, send_iq_async/5, raw_send/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-export_type([client/0, config/0, reply/0]).

-include("stanza_xmlel.hrl").

-type client() :: pid().
-type config() :: [{atom(), term()}] | #{atom() => term()}.
-type reply() :: {ok, stanza_xml:element()} | {error, timeout | disconnected | term()}.

-define(DEFAULT_TIMEOUT, 60000).
-define(LOGIN_TIMEOUT, 15000).
-define(MIN_BACKOFF, 200).
-define(MAX_BACKOFF, 30000).

-record(state, {opts :: map(), session = undefined :: undefined | map(),
                tracker :: stanza_tracker:tracker(),
                dedup :: stanza_dedup:table() | undefined,
                waiting = #{} :: #{term() => {call, gen_server:from()} | {async, pid(), reference()}},
                exchanges :: stanza_client_exchanges:table(),
                monitors = #{} :: #{pid() => reference()},
                subscribers = [] :: [pid()],
                inspector :: undefined | {module(), term()},
                attempt = 0 :: non_neg_integer(),
                counts = #{} :: #{atom() => non_neg_integer()}}).

%%====================================================================
%% API
%%====================================================================

%% @doc Connects and logs in; returns once the session is bound, or with
%% the reason it could not be (`{error, {sasl_failure, not_authorized}}',
%% `{error, {tls, {verify_failed, _}}}', `{error, {connect, econnrefused}}',
%% `{error, {stream_error, Condition}}', `{error, timeout}', ...).
%% Options (a proplist as natter took, or a map): `host', `port' (5222),
%% `user', `password', `resource', `domain' (default `host'), `starttls'
%% (`required' | `optional' | `never'), `tls' (stanza_tls options), `timeout'
%% (default for send_wait_iq, ms), `login_timeout', `reconnect' (boolean),
%% `format' (`legacy' like natter, `binary' or `xmlel'), `presence'
%% (send initial presence, default true), `dedup' (suppress inbound
%% duplicates by sender and id, default true), `inspector'
%% (`{Module, Args}', see stanza_inspector), `legacy_auth',
%% `channel_binding', `max_stanza_size'.
-spec start_link(config()) -> {ok, client()} | {error, term()}.
start_link(Config) ->
    Opts = stanza_client_config:normalize(Config),
    gen_server:start_link(?MODULE, Opts, []).

%% @doc Ends the session (closing the stream and TLS properly) and stops.
-spec close(client()) -> ok.
close(Client) ->
    gen_server:stop(Client).

%% @doc The bound JID, or `undefined' while disconnected.
-spec jid(client()) -> binary() | undefined.
jid(Client) -> gen_server:call(Client, jid).

%% @doc Counters: stanzas sent and received, replies, late or foreign
%% replies dropped, duplicates dropped, unrouted stanzas, reconnects; and
%% whether it is connected, with the SASL mechanism the session logged in
%% with (`undefined' while disconnected).
-spec stats(client()) -> map().
stats(Client) -> gen_server:call(Client, stats).

%% @doc Pid gets `{stanza_client, Client, connected | disconnected}'.
-spec subscribe(client(), pid()) -> ok.
subscribe(Client, Pid) -> gen_server:call(Client, {subscribe, Pid}).

%% @doc Stanzas no other exchange takes go to Sink as `{packet, El}'.
%% (natter's argument order; the arguments the other way round work too.)
-spec register_default_exchange(pid(), pid()) -> ok.
register_default_exchange(Client, Sink) ->
    {C, S} = client_first(Client, Sink),
    gen_server:call(C, {register_default, S}).

%% @doc No default exchange.
-spec unregister_default_exchange(client()) -> ok.
unregister_default_exchange(Client) -> gen_server:call(Client, unregister_default).

%% @doc Stanzas of Type (`"iq"', `"message"', `"presence"') from Jid (a
%% full JID, or a bare JID for all its resources) go to Sink.
-spec register_exchange(client(), iodata(), iodata(), pid()) -> ok | {error, bad_jid}.
register_exchange(Client, Type, Jid, Sink) ->
    with_peer(Jid, fun(Key) -> gen_server:call(Client, {register, bin(Type), Key, Sink}) end).

%% @doc Removes an exchange.
-spec unregister_exchange(client(), iodata(), iodata()) -> ok | {error, bad_jid}.
unregister_exchange(Client, Type, Jid) ->
    with_peer(Jid, fun(Key) -> gen_server:call(Client, {unregister, bin(Type), Key}) end).

%% @doc Fire and forget: sends an IQ of Type with Id (an empty Id gets
%% one from stanza_ids) to To. A reply, if any, goes to the exchanges.
-spec send_iq(client(), iodata(), iodata(), iodata(), term()) -> ok | {error, term()}.
send_iq(Client, Type, Id, To, Payload) ->
    case stanza_client_iq:build(Type, id(Id), To, Payload) of
        {ok, Bytes} -> gen_server:call(Client, {send, Bytes});
        Error -> Error
    end.

%% @equiv send_wait_iq(Client, Type, Id, To, Payload, the client's timeout)
-spec send_wait_iq(client(), iodata(), iodata(), iodata(), term()) -> reply().
send_wait_iq(Client, Type, Id, To, Payload) ->
    send_wait_iq(Client, Type, Id, To, Payload, default).

%% @doc Sends a `get' or `set' IQ and waits for its reply: `{ok, Reply}'
%% (type result or error), `{error, timeout}', `{error, disconnected}'.
-spec send_wait_iq(client(), iodata(), iodata(), iodata(), term(), timeout() | default) ->
          reply().
send_wait_iq(Client, Type, Id, To, Payload, Timeout) ->
    request(Client, Type, Id, To, Payload, Timeout, call).

%% @doc send_wait_iq without blocking: returns `{ok, Ref}' and the outcome
%% arrives as `{stanza_client_reply, Ref, Reply}'.
-spec send_iq_async(client(), iodata(), iodata(), term(), timeout() | default) ->
          {ok, reference()} | {error, term()}.
send_iq_async(Client, Type, To, Payload, Timeout) ->
    Ref = make_ref(),
    case request(Client, Type, <<>>, To, Payload, Timeout, {async, self(), Ref}) of
        ok -> {ok, Ref};
        Error -> Error
    end.

%% @doc Sends bytes as they are (natter's raw_send/2): the caller answers
%% for their being well-formed.
-spec raw_send(client(), iodata()) -> ok | {error, term()}.
raw_send(Client, Data) ->
    gen_server:call(Client, {send, iolist_to_binary(Data)}).

request(Client, Type, Id0, To, Payload, Timeout, Mode) ->
    Id = id(Id0),
    case {lists:member(bin(Type), [<<"get">>, <<"set">>]), peer_key(To)} of
        {false, _} -> {error, {bad_type, Type}};
        {true, error} -> {error, bad_jid};
        {true, {ok, {Full, _Bare}}} ->
            case stanza_client_iq:build(Type, Id, To, Payload) of
                {ok, Bytes} ->
                    gen_server:call(Client, {request, {Full, Id}, Bytes, Timeout, Mode}, infinity);
                Error -> Error
            end
    end.

%%====================================================================
%% gen_server
%%====================================================================

%% @private
-spec init(map()) -> {ok, #state{}} | {stop, term()}.
init(Opts) ->
    process_flag(trap_exit, true),
    State = #state{opts = Opts, tracker = stanza_tracker:new(),
                   dedup = case maps:get(dedup, Opts) of
                               true -> stanza_dedup:new(#{capacity => 65536, ttl_ms => 300000});
                               false -> undefined
                           end,
                   exchanges = stanza_client_exchanges:new(),
                   inspector = init_inspector(maps:get(inspector, Opts))},
    case connect(State) of
        {ok, Connected} -> {ok, Connected};
        {error, Reason} -> {stop, Reason}
    end.

%% @private
-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, term(), #state{}}
                                                        | {noreply, #state{}}.
handle_call({request, _, _, _, _}, _From, #state{session = undefined} = S) ->
    {reply, {error, disconnected}, S};
handle_call({request, Key, Bytes, Timeout0, Mode}, From, S) ->
    Timeout = case Timeout0 of default -> maps:get(timeout, S#state.opts); T -> T end,
    case stanza_tracker:track(S#state.tracker, Key, self(), Timeout) of
        ok ->
            Waiter = case Mode of call -> {call, From}; {async, P, R} -> {async, P, R} end,
            S1 = outbound(Bytes, S#state{waiting = maps:put(Key, Waiter, S#state.waiting)}),
            case Mode of
                call -> {noreply, S1};
                _ -> {reply, ok, S1}
            end;
        {error, exists} -> {reply, {error, duplicate_id}, S};
        {error, full} -> {reply, {error, too_many_requests}, S}
    end;
handle_call({send, _}, _From, #state{session = undefined} = S) ->
    {reply, {error, disconnected}, S};
handle_call({send, Bytes}, _From, S) ->
    {reply, ok, outbound(Bytes, S)};
handle_call({register_default, Sink}, _From, #state{exchanges = E} = S) ->
    {reply, ok, watch(Sink, S#state{exchanges = stanza_client_exchanges:register_default(E, Sink)})};
handle_call(unregister_default, _From, #state{exchanges = E} = S) ->
    {reply, ok, S#state{exchanges = stanza_client_exchanges:unregister_default(E)}};
handle_call({register, Type, {Full, _Bare}, Sink}, _From, #state{exchanges = E} = S) ->
    {reply, ok, watch(Sink, S#state{exchanges = stanza_client_exchanges:register(E, Type, Full, Sink)})};
handle_call({unregister, Type, {Full, _Bare}}, _From, #state{exchanges = E} = S) ->
    {reply, ok, S#state{exchanges = stanza_client_exchanges:unregister(E, Type, Full)}};
handle_call({subscribe, Pid}, _From, #state{subscribers = Subs} = S) ->
    {reply, ok, watch(Pid, S#state{subscribers = lists:usort([Pid | Subs])})};
handle_call(jid, _From, #state{session = undefined} = S) ->
    {reply, undefined, S};
handle_call(jid, _From, #state{session = #{jid := Jid}} = S) ->
    {reply, Jid, S};
handle_call(stats, _From, S) ->
    {reply, stats_of(S), S}.

%% @private
-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_, S) ->
    {noreply, S}.

%% @private
-spec handle_info(term(), #state{}) -> {noreply, #state{}} | {stop, term(), #state{}}.
handle_info({stanza_timeout, TrackerId, Key}, #state{tracker = T} = S) ->
    case stanza_tracker:id(T) of
        TrackerId -> {noreply, finish(Key, {error, timeout}, S)};
        _ -> {noreply, S}
    end;
handle_info({delayed, in, El}, S) ->
    {noreply, deliver(El, S)};
handle_info({delayed, out, _Bytes}, #state{session = undefined} = S) ->
    {noreply, S};
handle_info({delayed, out, Bytes}, S) ->
    {noreply, write(Bytes, S)};
handle_info(reconnect, #state{session = undefined} = S) ->
    case connect(S) of
        {ok, S1} -> {noreply, S1};
        {error, _} -> {noreply, schedule_reconnect(S)}
    end;
handle_info({'DOWN', _, process, Pid, _}, #state{exchanges = E, subscribers = Subs} = S) ->
    {noreply, S#state{exchanges = stanza_client_exchanges:remove_pid(E, Pid),
                      subscribers = Subs -- [Pid],
                      monitors = maps:remove(Pid, S#state.monitors)}};
handle_info({'EXIT', _, normal}, S) ->
    {noreply, S};
handle_info(Msg, #state{session = #{transport := T}} = S) ->
    case stanza_client_transport:classify(T, Msg) of
        {data, Data} -> received(Data, S);
        closed -> {noreply, disconnected(closed, S)};
        {error, Reason} -> {noreply, disconnected(Reason, S)};
        other -> {noreply, S}
    end;
handle_info(_, S) ->
    {noreply, S}.

%% @private
-spec terminate(term(), #state{}) -> ok.
terminate(_, #state{session = undefined}) ->
    ok;
terminate(_, #state{session = #{transport := T, parser := P}} = S) ->
    _ = stanza_client_transport:send(T, <<"</stream:stream>">>),
    stanza_client_transport:close(T),
    _ = stanza_stream:close(P),
    _ = fail_all(disconnected, S),
    ok.

%%====================================================================
%% Connection
%%====================================================================

connect(#state{opts = Opts} = S) ->
    case stanza_client_login:login(Opts) of
        {ok, #{transport := T, jid := Jid} = Session} ->
            ok = stanza_client_transport:activate(T),
            S1 = S#state{session = Session#{own => own_keys(Jid)}, attempt = 0},
            S2 = case maps:get(presence, Opts) of
                     true -> write(<<"<presence/>">>, S1);
                     false -> S1
                 end,
            notify(connected, S2),
            {ok, S2};
        {error, _} = Error ->
            Error
    end.

disconnected(_Reason, #state{session = #{transport := T, parser := P}} = S) ->
    stanza_client_transport:close(T),
    _ = stanza_stream:close(P),
    S1 = fail_all(disconnected, S#state{session = undefined}),
    notify(disconnected, S1),
    S2 = bump(disconnects, S1),
    case maps:get(reconnect, S2#state.opts) of
        true -> schedule_reconnect(S2);
        false -> S2
    end.

%% Full jitter (a random wait up to the exponential bound) spreads many
%% clients that lost the same server.
schedule_reconnect(#state{attempt = N} = S) ->
    Bound = min(?MAX_BACKOFF, ?MIN_BACKOFF bsl min(N, 16)),
    erlang:send_after(?MIN_BACKOFF div 2 + rand:uniform(Bound), self(), reconnect),
    bump(reconnect_attempts, S#state{attempt = N + 1}).

notify(Event, #state{subscribers = Subs}) ->
    lists:foreach(fun(Pid) -> Pid ! {stanza_client, self(), Event} end, Subs).

%%====================================================================
%% Outbound
%%====================================================================

outbound(Bytes, #state{inspector = undefined} = S) ->
    write(Bytes, S);
outbound(Bytes, #state{inspector = {Mod, IS}} = S) ->
    %% The inspector sees elements; what we send is always well-formed.
    {ok, El} = stanza_stream:parse_element(Bytes, #{format => xmlel}),
    {Action, IS1} = Mod:inspect(out, El, IS),
    {Now, Later} = stanza_inspector:apply_action(Action, El),
    [erlang:send_after(Ms, self(), {delayed, out, stanza_xml:element_to_binary(E)})
     || {Ms, E} <- Later],
    lists:foldl(fun(E, Acc) -> write(stanza_xml:element_to_binary(E), Acc) end,
                S#state{inspector = {Mod, IS1}}, Now).

write(Bytes, #state{session = #{transport := T}} = S) ->
    case stanza_client_transport:send(T, Bytes) of
        ok -> bump(sent, S);
        {error, Reason} -> disconnected(Reason, S)
    end.

%%====================================================================
%% Inbound
%%====================================================================

received(Data, #state{session = #{parser := P}} = S) ->
    case stanza_stream:parse(P, Data) of
        {ok, Events} ->
            S1 = lists:foldl(fun event/2, S, Events),
            %% A failed activation means the socket is going: its
            %% tcp_closed (or error) message follows.
            _ = case S1#state.session of
                    undefined -> ok;
                    #{transport := T1} -> stanza_client_transport:activate(T1)
                end,
            {noreply, S1};
        {error, Reason} ->
            {noreply, disconnected({xml, Reason}, S)}
    end.

event(_, #state{session = undefined} = S) ->
    S;
event({xmlstreamelement, #xmlel{name = <<"stream:error">>}}, S) ->
    disconnected(stream_error, S);
event({xmlstreamelement, El}, S) ->
    inspect_in(El, bump(received, S));
event({xmlstreamend, _}, S) ->
    disconnected(closed, S);
event({xmlstreamerror, Reason}, S) ->
    disconnected({xml, Reason}, S);
event(_, S) ->
    S.

inspect_in(El, #state{inspector = undefined} = S) ->
    deliver(El, S);
inspect_in(El, #state{inspector = {Mod, IS}} = S) ->
    {Action, IS1} = Mod:inspect(in, El, IS),
    {Now, Later} = stanza_inspector:apply_action(Action, El),
    [erlang:send_after(Ms, self(), {delayed, in, E}) || {Ms, E} <- Later],
    lists:foldl(fun deliver/2, S#state{inspector = {Mod, IS1}}, Now).

deliver(El, S) ->
    Summary = stanza_client_iq:classify(El),
    case stanza_client_iq:is_reply(Summary) of
        true -> reply(El, Summary, S);
        false -> route(El, Summary, S)
    end.

%% A reply is ours only if its sender and id match a request still
%% waiting; anything else (late, duplicate, forged) is dropped.
reply(El, #{from := From, id := Id}, S) ->
    Keys = [{K, Id} || K <- reply_keys(From, S)],
    case [K || K <- Keys, stanza_tracker:take(S#state.tracker, K) =/= error] of
        [Key | _] -> bump(replies, finish(Key, {ok, format(El, S)}, S));
        [] -> bump(replies_dropped, S)
    end.

%% A request sent without `to' is answered by the server for the account:
%% from nobody, from the bare JID or from the domain.
reply_keys(From, #state{session = #{own := {Full, Bare, Domain}}}) ->
    case peer_key(From) of
        {ok, {<<>>, _}} -> [<<>>];
        {ok, {F, _}} when F =:= Bare; F =:= Full; F =:= Domain -> [F, <<>>];
        {ok, {F, _}} -> [F];
        error -> []
    end.

%% The account's own prepared full JID, bare JID and domain, worked out
%% once a session is bound rather than for every reply.
own_keys(Jid) ->
    {ok, {Full, Bare}} = peer_key(Jid),
    Domain = case binary:split(Bare, <<"@">>) of
                 [_, D] -> D;
                 [D] -> D
             end,
    {Full, Bare, Domain}.

route(El, #{name := Name, from := From, id := Id} = Summary, S) ->
    case is_duplicate(From, Id, S) of
        true -> bump(duplicates_dropped, S);
        false ->
            Keys = case peer_key(From) of {ok, K} -> K; error -> {<<>>, <<>>} end,
            case stanza_client_exchanges:route(S#state.exchanges, Name, Keys) of
                none -> unrouted(El, Summary, S);
                Sink -> Sink ! {packet, format(El, S)}, bump(routed, S)
            end
    end.

is_duplicate(_, _, #state{dedup = undefined}) -> false;
is_duplicate(_, <<>>, _) -> false;
is_duplicate(From, Id, #state{dedup = D}) ->
    stanza_dedup:seen(D, [From, 0, Id]).

%% RFC 6120 (8.2.3): a get or set must be answered; with nobody to answer
%% it, the client says service-unavailable.
unrouted(El, #{name := <<"iq">>, type := T}, S) when T =:= <<"get">>; T =:= <<"set">> ->
    bump(unrouted, write(error_reply(El), S));
unrouted(_, _, S) ->
    bump(unrouted, S).

error_reply(#xmlel{attrs = Attrs, children = Children}) ->
    Swapped = [{<<"type">>, <<"error">>}]
        ++ [{<<"to">>, V} || {<<"from">>, V} <- Attrs]
        ++ [{<<"id">>, V} || {<<"id">>, V} <- Attrs],
    Error = #xmlel{name = <<"error">>, attrs = [{<<"type">>, <<"cancel">>}],
                   children = [#xmlel{name = <<"service-unavailable">>,
                                      attrs = [{<<"xmlns">>,
                                                <<"urn:ietf:params:xml:ns:xmpp-stanzas">>}]}]},
    stanza_xml:element_to_binary(#xmlel{name = <<"iq">>, attrs = Swapped,
                                        children = Children ++ [Error]}).

%%====================================================================
%% Requests
%%====================================================================

finish(Key, Result, #state{waiting = W} = S) ->
    case maps:take(Key, W) of
        {{call, From}, W1} -> gen_server:reply(From, Result), S#state{waiting = W1};
        {{async, Pid, Ref}, W1} -> Pid ! {stanza_client_reply, Ref, Result}, S#state{waiting = W1};
        error -> S
    end.

fail_all(Reason, #state{waiting = W} = S) ->
    lists:foldl(fun(Key, Acc) ->
                        _ = stanza_tracker:take(Acc#state.tracker, Key),
                        finish(Key, {error, Reason}, Acc)
                end, S, maps:keys(W)).

%%====================================================================
%% Helpers
%%====================================================================

format(El, #state{opts = #{format := xmlel}}) -> El;
format(El, #state{opts = #{format := legacy}}) -> stanza_xml:to_xmlelement(El);
format(El, #state{opts = #{format := binary}}) -> binary_form(El).

binary_form(#xmlel{name = N, attrs = A, children = C}) ->
    {xmlelement, N, A, [binary_form(X) || X <- C]};
binary_form(Text) ->
    Text.

watch(Pid, #state{monitors = M} = S) ->
    case M of
        #{Pid := _} -> S;
        #{} -> S#state{monitors = M#{Pid => erlang:monitor(process, Pid)}}
    end.

bump(Counter, #state{counts = C} = S) ->
    S#state{counts = maps:update_with(Counter, fun(N) -> N + 1 end, 1, C)}.

stats_of(#state{counts = C, waiting = W, session = Session, inspector = I}) ->
    Base = maps:merge(#{sent => 0, received => 0, replies => 0, replies_dropped => 0,
                        duplicates_dropped => 0, routed => 0, unrouted => 0,
                        disconnects => 0, reconnect_attempts => 0}, C),
    Base#{waiting => map_size(W), connected => Session =/= undefined,
          mechanism => case Session of
                           #{mechanism := Mech} -> Mech;
                           _ -> undefined
                       end,
          inspector => case I of
                           {_, #{counts := IC}} -> IC;
                           _ -> #{}
                       end}.

init_inspector(undefined) -> undefined;
init_inspector({Mod, Args}) ->
    {ok, IS} = Mod:init(Args),
    {Mod, IS}.

%% The prepared full and bare forms of a JID, for matching; `<<>>' for
%% none (the server, for the account).
peer_key(Jid) ->
    case bin(Jid) of
        <<>> -> {ok, {<<>>, <<>>}};
        B -> stanza_client_config:peer_key(B)
    end.

with_peer(Jid, Fun) ->
    case peer_key(Jid) of
        {ok, Key} -> Fun(Key);
        error -> {error, bad_jid}
    end.

client_first(A, B) ->
    case is_client(A) orelse not is_client(B) of
        true -> {A, B};
        false -> {B, A}
    end.

is_client(Pid) when node(Pid) =:= node() ->
    case erlang:process_info(Pid, dictionary) of
        {dictionary, D} -> proplists:get_value('$initial_call', D) =:= {?MODULE, init, 1};
        undefined -> false
    end;
is_client(_) -> false.

id(Id) ->
    case bin(Id) of
        <<>> -> stanza_ids:new_id();
        B -> B
    end.

bin(X) -> stanza_client_iq:to_bin(X).
