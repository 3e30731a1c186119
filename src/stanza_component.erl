%% @doc XEP-0114 external components: exmpp_component's API on stanza's
%% parser, serializer and ids, plus a self-connecting, reconnecting mode.
%%
%% The exmpp way (rename `exmpp_component' to `stanza_component'):
%% ```
%% 1> rr("include/stanza_component.hrl").
%% 2> S = stanza_component:start_link().
%% 3> stanza_component:auth(S, "echo.localhost", "secret").
%% 4> StreamId = stanza_component:connect(S, "127.0.0.1", 5275).
%% "3186373532..."
%% 5> ok = stanza_component:handshake(S).
%% 6> stanza_component:send_packet(S, {xmlel, <<"message">>,
%%        [{<<"to">>, <<"alice@localhost">>}, {<<"from">>, <<"echo.localhost">>}],
%%        [{xmlel, <<"body">>, [], [{xmlcdata, <<"hi">>}]}]}).
%% <<"q3V0cmJxSi1XAAAAAAAAAA">>
%% 7> flush().
%% Shell got {received_packet,message,"chat",<<"alice@localhost/x">>,...}
%% '''
%% The modern way: `start_link(#{host, port, domain, secret})' connects and
%% handshakes before it returns `{ok, Pid}'; with `reconnect' it keeps the
%% connection up by itself.
%%
%% == Calls ==
%% `connect/3' returns the server's stream id as a string, or `{error,
%% Reason}'; `handshake/1' returns `ok' or `{error, Reason}' with Reason
%% the server's stream error condition as an atom (`not_authorized',
%% `host_unknown', `conflict', `improper_addressing', `invalid_namespace',
%% ... any RFC 6120 condition), or `timeout' (no answer within
%% `handshake_timeout'), `closed' (the server closed the stream or the
%% socket), or a parse error (below). `send_packet/2' takes an element in
%% any form stanza serializes (`#xmlel{}', `{xmlelement, ...}' with
%% binaries or strings), gives it an `id' made by stanza_ids:new_id/0 when
%% it has none, and returns the id (a binary), or `{error, not_connected
%% | queue_full | {badxml, _}}'.
%%
%% == What the owner receives ==
%% The owner is the process that started the component (or `owner', or
%% the one given to set_controlling_process/2). It receives
%% <ul>
%% <li>`#received_packet{}' (include/stanza_component.hrl) for each
%%   stanza, in order;</li>
%% <li>`{stanza_component, Pid, connected}' each time a self-connecting
%%   component (start_link/1) has completed a handshake, the first one
%%   included;</li>
%% <li>`{stanza_component, Pid, {disconnected, Reason}}' when an
%%   established connection is lost. Reason is `closed', `timeout' (the
%%   server stopped answering: nothing received for `ping_interval', then
%%   no answer to an XEP-0199 ping within `ping_timeout'), `{stream_error,
%%   Condition}' (Condition as in handshake/1, or the element's name as a
%%   binary for a condition RFC 6120 does not define), `stanza_too_big'
%%   (the server sent more than `max_stanza_size' bytes in one stanza),
%%   `{not_well_formed, Detail}', `{restricted_xml, What}', `too_deep',
%%   `{socket_error, Posix}'.</li>
%% </ul>
%% The component never exits because of the peer: a lost connection is a
%% message, not a crash, so a linked owner is safe. It exits (normally)
%% when stop/1 is called or when its owner exits.
%%
%% == Reconnecting and sending while disconnected ==
%% With `reconnect => true' (or `#{min_ms, max_ms}', default 200 and
%% 30000) a self-connecting component retries a lost connection after
%% min_ms, doubling up to max_ms, each delay drawn at random from its
%% upper half (jitter, so that many components do not retry in step).
%% While it is disconnected send_packet/2 queues up to `queue_max'
%% stanzas (default 1000), sent in order as soon as the handshake is done;
%% beyond that bound it refuses with `{error, queue_full}' and sends
%% nothing. Without `reconnect' (and on the exmpp API) sending while not
%% connected is `{error, not_connected}'.
%%
%% == Options of start_link/1 ==
%% `host', `port', `domain', `secret' (required); `owner' (pid, default
%% the caller); `format' of raw_packet (`xmlel' default, `binary',
%% `legacy': see stanza_stream); `reconnect' (`false' default);
%% `max_stanza_size' (bytes, default 1048576); `dedup' (`false' default;
%% `true' or stanza_dedup:new/1 options: a stanza whose `from', `id' and
%% `type' were seen within the window is dropped, counted in stats/1);
%% `queue_max'; `connect_timeout' (5000 ms); `handshake_timeout' (10000
%% ms, from the TCP connect to the server's `<handshake/>');
%% `ping_interval' (30000 ms or `infinity'); `ping_timeout' (10000 ms);
%% `codec' (stanza_component_codec by default); `measure_codec' (`false'
%% default; `true' adds `codec_us' to stats/1: the time spent parsing and
%% serializing, for `make load').
%%
%% start_link/1 returns `{ok, Pid}' once the first handshake is done. If
%% it fails: without `reconnect', `{error, Reason}'; with `reconnect',
%% `{error, Reason}' for a refusal that retrying cannot mend
%% (`not_authorized', `host_unknown', `improper_addressing',
%% `invalid_namespace'), otherwise `{ok, Pid}' and the component keeps
%% trying (the owner then waits for `connected').
-module(stanza_component).

-behaviour(gen_server).

-export([start/0, start_link/0, start_link/1, auth/3, connect/3,
         handshake/1, send_packet/2, set_controlling_process/2, stop/1,
         stats/1]).
-export([init/1, handle_continue/2, handle_call/3, handle_cast/2,
         handle_info/2, terminate/2]).

-export_type([options/0, reason/0]).

-include("stanza_component.hrl").

-type options() :: #{host := inet:hostname() | inet:ip_address() | binary(),
                     port := inet:port_number(),
                     domain := iodata(), secret := iodata(),
                     owner => pid(), format => stanza_stream:format(),
                     reconnect => boolean() | #{min_ms => pos_integer(),
                                                max_ms => pos_integer()},
                     max_stanza_size => pos_integer() | infinity,
                     dedup => boolean() | stanza_dedup:options(),
                     queue_max => non_neg_integer(),
                     connect_timeout => timeout(),
                     handshake_timeout => timeout(),
                     ping_interval => pos_integer() | infinity,
                     ping_timeout => pos_integer(),
                     codec => module(), measure_codec => boolean()}.
-type reason() :: atom() | {stream_error, atom() | binary()}
                | {not_well_formed, term()} | {restricted_xml, atom()}
                | {socket_error, term()}.

-define(NS_ACCEPT, "jabber:component:accept").
-define(NS_STREAMS, "http://etherx.jabber.org/streams").
-define(NS_STREAM_ERRORS, <<"urn:ietf:params:xml:ns:xmpp-streams">>).
-define(PING_PREFIX, "stz-ping-").
-define(ACTIVE_N, 100).

-record(st, {owner :: pid(),
             owner_ref :: reference(),
             domain :: binary() | undefined,
             secret :: binary() | undefined,
             host :: term(),
             port :: inet:port_number() | undefined,
             auto = false :: boolean(),
             reconnect = false :: false | {pos_integer(), pos_integer()},
             attempt = 0 :: non_neg_integer(),
             codec :: module(),
             parser_opts :: stanza_component_codec:parser_options(),
             sock :: gen_tcp:socket() | undefined,
             parser :: term(),
             phase = idle :: idle | opening | opened | handshaking
                           | connected | waiting,
             stream_id :: binary() | undefined,
             last_error :: reason() | undefined,
             waiter :: {connect | handshake | await, gen_server:from()}
                     | undefined,
             timer :: reference() | undefined,
             connect_timeout :: timeout(),
             handshake_timeout :: timeout(),
             ping_interval :: pos_integer() | infinity,
             ping_timeout :: pos_integer(),
             ping_sent = false :: boolean(),
             rx = false :: boolean(),
             queue = queue:new() :: queue:queue(binary()),
             queue_len = 0 :: non_neg_integer(),
             queue_max :: non_neg_integer(),
             dedup :: stanza_dedup:table() | undefined,
             %% time spent in the codec (native units), with measure_codec
             codec_ns :: integer() | undefined,
             stats = #{} :: #{atom() => non_neg_integer()}}).

%%====================================================================
%% exmpp's API
%%====================================================================

%% @doc A component, not linked, owned by the caller (exmpp's start/0).
-spec start() -> pid().
start() ->
    {ok, Pid} = gen_server:start(?MODULE, {classic, self()}, []),
    Pid.

%% @doc A component linked to and owned by the caller; then auth/3,
%% connect/3, handshake/1 (exmpp_component:start_link/0).
-spec start_link() -> pid().
start_link() ->
    {ok, Pid} = gen_server:start_link(?MODULE, {classic, self()}, []),
    Pid.

%% @doc The component's domain (its JID) and the secret shared with the
%% server.
-spec auth(pid(), iodata(), iodata()) -> ok.
auth(Pid, Domain, Secret) ->
    gen_server:call(Pid, {auth, to_bin(Domain), to_bin(Secret)}).

%% @doc Opens the stream to Host:Port; the server's stream id as a string.
-spec connect(pid(), inet:hostname() | inet:ip_address() | binary(),
              inet:port_number()) -> string() | {error, reason()}.
connect(Pid, Host, Port) ->
    gen_server:call(Pid, {connect, host(Host), Port}, infinity).

%% @doc Authenticates the stream opened by connect/3.
-spec handshake(pid()) -> ok | {error, reason()}.
handshake(Pid) ->
    gen_server:call(Pid, handshake, infinity).

%% @doc Sends a stanza; its id (given one when it has none).
-spec send_packet(pid(), stanza_xml:element()) -> binary() | {error, term()}.
send_packet(Pid, Packet) ->
    {Id, WithId} = ensure_id(Packet),
    case gen_server:call(Pid, {send, WithId}, 30000) of
        ok -> Id;
        {error, _} = Error -> Error
    end.

%% @doc Makes Pid the owner: the process that receives the packets.
-spec set_controlling_process(pid(), pid()) -> ok.
set_controlling_process(Component, Pid) ->
    gen_server:call(Component, {owner, Pid}).

%% @doc Closes the stream (politely when connected) and ends the process.
-spec stop(pid()) -> ok.
stop(Pid) ->
    gen_server:call(Pid, stop, 30000).

%%====================================================================
%% The self-connecting API
%%====================================================================

%% @doc A component that connects and handshakes by itself (module doc).
-spec start_link(options()) -> {ok, pid()} | {error, reason()}.
start_link(Opts) when is_map(Opts) ->
    Owner = maps:get(owner, Opts, self()),
    {ok, Pid} = gen_server:start_link(?MODULE, {auto, Owner, Opts}, []),
    Wait = case {maps:get(connect_timeout, Opts, 5000),
                  maps:get(handshake_timeout, Opts, 10000)} of
               {C, H} when is_integer(C), is_integer(H) -> C + H + 5000;
               _ -> infinity
           end,
    case gen_server:call(Pid, await, Wait) of
        ok -> {ok, Pid};
        {error, Reason} ->
            case maps:get(reconnect, Opts, false) =/= false
                andalso not permanent(Reason) of
                true -> {ok, Pid};
                false -> ok = stop(Pid), {error, Reason}
            end
    end.

%% @doc Counters: stanzas `in' (delivered to the owner), `out' (written to
%% the socket), `duplicates' (dropped by dedup), `connects' (handshakes
%% done), `queued' (now waiting to be sent), `refused' (queue_full), and
%% with `measure_codec', `codec_us' (microseconds spent in the codec).
-spec stats(pid()) -> #{atom() => non_neg_integer()}.
stats(Pid) ->
    gen_server:call(Pid, stats).

%%====================================================================
%% gen_server
%%====================================================================

%% @private
-spec init({classic, pid()} | {auto, pid(), options()}) ->
          {ok, #st{}} | {ok, #st{}, {continue, connect}}.
init({classic, Owner}) ->
    {ok, new_state(Owner, #{})};
init({auto, Owner, Opts}) ->
    St = new_state(Owner, Opts),
    {ok, St#st{auto = true,
               domain = to_bin(maps:get(domain, Opts)),
               secret = to_bin(maps:get(secret, Opts)),
               host = host(maps:get(host, Opts)),
               port = maps:get(port, Opts),
               reconnect = reconnect(maps:get(reconnect, Opts, false))},
     {continue, connect}}.

new_state(Owner, Opts) ->
    process_flag(trap_exit, true),
    #st{owner = Owner, owner_ref = erlang:monitor(process, Owner),
        codec = maps:get(codec, Opts, stanza_component_codec),
        parser_opts = #{format => maps:get(format, Opts, xmlel),
                        max_stanza_size => maps:get(max_stanza_size, Opts, 1048576)},
        connect_timeout = maps:get(connect_timeout, Opts, 5000),
        handshake_timeout = maps:get(handshake_timeout, Opts, 10000),
        ping_interval = maps:get(ping_interval, Opts, 30000),
        ping_timeout = maps:get(ping_timeout, Opts, 10000),
        queue_max = maps:get(queue_max, Opts, 1000),
        dedup = dedup(maps:get(dedup, Opts, false)),
        codec_ns = case maps:get(measure_codec, Opts, false) of
                       true -> 0;
                       false -> undefined
                   end,
        stats = #{in => 0, out => 0, duplicates => 0, connects => 0,
                  refused => 0}}.

%% @private
-spec handle_continue(connect, #st{}) -> {noreply, #st{}}.
handle_continue(connect, St) ->
    {noreply, open(St)}.

%% @private
-spec handle_call(term(), gen_server:from(), #st{}) ->
          {reply, term(), #st{}} | {noreply, #st{}} | {stop, normal, ok, #st{}}.
handle_call({send, Packet}, _From, St) ->
    send(Packet, St);
handle_call({auth, Domain, Secret}, _From, St) ->
    {reply, ok, St#st{domain = Domain, secret = Secret}};
handle_call({connect, _Host, _Port}, _From, St = #st{domain = undefined}) ->
    {reply, {error, no_auth}, St};
handle_call({connect, Host, Port}, From, St = #st{phase = idle, auto = false}) ->
    {noreply, open(St#st{host = Host, port = Port, waiter = {connect, From}})};
handle_call({connect, _, _}, _From, St) ->
    {reply, {error, already_connected}, St};
handle_call(handshake, From, St = #st{phase = opened, handshake_timeout = Timeout}) ->
    %% the server's answer is awaited as long as the whole handshake may take
    St1 = set_timer(Timeout, deadline, St#st{waiter = {handshake, From}}),
    {noreply, send_handshake(St1)};
handle_call(handshake, _From, St = #st{phase = connected}) ->
    {reply, {error, already_connected}, St};
handle_call(handshake, _From, St) ->
    {reply, {error, not_connected}, St};
handle_call(await, _From, St = #st{phase = connected}) ->
    {reply, ok, St};
handle_call(await, _From, St = #st{last_error = Reason}) when Reason =/= undefined ->
    {reply, {error, caller_reason(Reason)}, St};
handle_call(await, From, St) ->
    {noreply, St#st{waiter = {await, From}}};
handle_call({owner, Pid}, _From, St = #st{owner_ref = Ref}) ->
    true = erlang:demonitor(Ref, [flush]),
    {reply, ok, St#st{owner = Pid, owner_ref = erlang:monitor(process, Pid)}};
handle_call(stats, _From, St = #st{stats = Stats, queue_len = Queued, codec_ns = Ns}) ->
    Codec = case Ns of
                undefined -> #{};
                _ -> #{codec_us => erlang:convert_time_unit(Ns, native, microsecond)}
            end,
    {reply, maps:merge(Stats#{queued => Queued}, Codec), St};
handle_call(stop, _From, St) ->
    {stop, normal, ok, St}.

%% @private
-spec handle_cast(term(), #st{}) -> {noreply, #st{}}.
handle_cast(_Msg, St) ->
    {noreply, St}.

%% @private
-spec handle_info(term(), #st{}) -> {noreply, #st{}} | {stop, normal, #st{}}.
handle_info({tcp, Sock, Data}, St = #st{sock = Sock}) ->
    {noreply, received(Data, St#st{rx = true})};
handle_info({tcp_passive, Sock}, St = #st{sock = Sock}) ->
    %% a socket closed meanwhile says so with tcp_closed, next
    _ = inet:setopts(Sock, [{active, ?ACTIVE_N}]),
    {noreply, St};
handle_info({tcp_closed, Sock}, St = #st{sock = Sock}) ->
    {noreply, lost(closed, St)};
handle_info({tcp_error, Sock, Why}, St = #st{sock = Sock}) ->
    {noreply, lost({socket_error, Why}, St)};
handle_info({timeout, Ref, What}, St = #st{timer = Ref}) ->
    {noreply, timer_fired(What, St#st{timer = undefined})};
handle_info({'DOWN', Ref, process, _, _}, St = #st{owner_ref = Ref}) ->
    {stop, normal, St};
handle_info(_Other, St) ->
    {noreply, St}.

%% @private
-spec terminate(term(), #st{}) -> ok.
terminate(_Reason, St = #st{sock = undefined}) ->
    close_parser(St);
terminate(_Reason, St = #st{sock = Sock}) ->
    _ = gen_tcp:send(Sock, <<"</stream:stream>">>),
    _ = gen_tcp:close(Sock),
    close_parser(St).

%%====================================================================
%% Connecting
%%====================================================================

%% TCP connect, stream header; the server's header comes as an event.
open(St = #st{host = Host, port = Port, connect_timeout = Timeout}) ->
    SockOpts = [binary, {active, ?ACTIVE_N}, {nodelay, true},
                {send_timeout, 10000}, {send_timeout_close, true}],
    case gen_tcp:connect(Host, Port, SockOpts, Timeout) of
        {ok, Sock} ->
            St1 = St#st{sock = Sock, phase = opening,
                        parser = new_parser(St)},
            St2 = set_timer(St1#st.handshake_timeout, deadline, St1),
            write(Sock, stream_header(St#st.domain), St2);
        {error, Why} ->
            lost(connect_error(Why), St)
    end.

connect_error(timeout) -> timeout;
connect_error(Why) -> {socket_error, Why}.

stream_header(Domain) ->
    ["<?xml version='1.0'?><stream:stream xmlns='", ?NS_ACCEPT,
     "' xmlns:stream='", ?NS_STREAMS, "' to='", stanza_xml:crypt(Domain), "'>"].

send_handshake(St = #st{sock = Sock, secret = Secret}) ->
    Digest = crypto:hash(sha, [St#st.stream_id, Secret]),
    write(Sock, ["<handshake>", hex(Digest), "</handshake>"],
          St#st{phase = handshaking}).

hex(Bin) ->
    << <<(hex_digit(N))>> || <<N:4>> <= Bin >>.

hex_digit(N) when N < 10 -> $0 + N;
hex_digit(N) -> $a + N - 10.

%%====================================================================
%% Receiving
%%====================================================================

received(Data, St = #st{codec = Codec, parser = Parser, codec_ns = undefined}) ->
    {Events, Parser1} = Codec:parse(Parser, Data),
    events(Events, St#st{parser = Parser1});
received(Data, St = #st{codec = Codec, parser = Parser, codec_ns = Ns}) ->
    T0 = erlang:monotonic_time(),
    {Events, Parser1} = Codec:parse(Parser, Data),
    Spent = erlang:monotonic_time() - T0,
    events(Events, St#st{parser = Parser1, codec_ns = Ns + Spent}).

events([], St) ->
    St;
events([Event | Rest], St) ->
    case event(Event, St) of
        {ok, St1} -> events(Rest, St1);
        {lost, Reason, St1} -> lost(Reason, St1)
    end.

event({xmlstreamstart, _Name, Attrs}, St = #st{phase = opening}) ->
    case attr(<<"id">>, Attrs) of
        undefined -> {lost, no_stream_id, St};
        Id -> stream_opened(Id, St#st{stream_id = Id})
    end;
event({xmlstreamelement, El}, St) ->
    top_element(El, St);
event({xmlstreamend, _}, St) ->
    {lost, closed, St};
event({xmlstreamerror, Reason}, St) ->
    {lost, Reason, St};
event(_Other, St) ->
    {ok, St}.

%% The exmpp API stops here until handshake/1; the other one goes on.
stream_opened(_Id, St = #st{auto = true}) ->
    {ok, send_handshake(St)};
stream_opened(Id, St = #st{waiter = {connect, From}}) ->
    gen_server:reply(From, binary_to_list(Id)),
    {ok, cancel_timer(St#st{phase = opened, waiter = undefined})}.

%% A prefixed top-level `error' is the stream's (a stanza never is).
top_element(El = {_, Name, Attrs, _}, St) ->
    case binary:split(to_bin(Name), <<":">>) of
        [_Prefix, <<"error">>] -> {lost, stream_error(El), St};
        [<<"handshake">>] when St#st.phase =:= handshaking -> {ok, handshake_done(St)};
        _ when St#st.phase =:= connected -> {ok, deliver(El, Attrs, St)};
        _ -> {ok, St}
    end.

handshake_done(St0 = #st{stats = Stats = #{connects := N}}) ->
    St = cancel_timer(St0),
    case St#st.waiter of
        {_, From} -> gen_server:reply(From, ok);
        undefined -> ok
    end,
    _ = St#st.auto andalso notify(connected, St),
    flush_queue(start_ping(St#st{phase = connected, waiter = undefined, attempt = 0,
                                 stats = Stats#{connects := N + 1}})).

%% A stanza for the owner, unless it is our own ping or a duplicate.
deliver(El, Attrs, St = #st{stats = Stats}) ->
    case is_own_ping(Attrs, St) of
        true -> St;
        false ->
            case is_duplicate(El, St) of
                true -> St#st{stats = bump(duplicates, Stats)};
                false ->
                    St#st.owner ! received_packet(El, Attrs),
                    St#st{stats = bump(in, Stats)}
            end
    end.

is_duplicate(_El, #st{dedup = undefined}) ->
    false;
is_duplicate(El, #st{dedup = Table}) ->
    stanza_dedup:seen(Table, stanza_dedup:stanza_key(El)).

received_packet(El = {_, Name, Attrs, Children}, Attrs) ->
    Type = packet_type(to_bin(Name)),
    #received_packet{packet_type = Type,
                     type_attr = case attr(<<"type">>, Attrs) of
                                     undefined -> undefined;
                                     T -> binary_to_list(T)
                                 end,
                     from = attr(<<"from">>, Attrs),
                     id = attr(<<"id">>, Attrs),
                     queryns = case Type of
                                   iq -> payload_ns(Children);
                                   _ -> undefined
                               end,
                     raw_packet = El}.

packet_type(<<"message">>) -> message;
packet_type(<<"iq">>) -> iq;
packet_type(<<"presence">>) -> presence;
packet_type(Other) -> Other.

payload_ns([{T, _, Attrs, _} | _]) when T =:= xmlel; T =:= xmlelement ->
    attr(<<"xmlns">>, Attrs);
payload_ns([_ | Rest]) ->
    payload_ns(Rest);
payload_ns([]) ->
    undefined.

%% <stream:error><not-authorized xmlns='...streams'/></stream:error>
stream_error({_, _, _, Children}) ->
    Conditions = [to_bin(Name) || {T, Name, Attrs, _} <- Children,
                                  T =:= xmlel orelse T =:= xmlelement,
                                  attr(<<"xmlns">>, Attrs) =:= ?NS_STREAM_ERRORS,
                                  to_bin(Name) =/= <<"text">>],
    case Conditions of
        [Condition | _] -> {stream_error, condition(Condition)};
        [] -> {stream_error, undefined_condition}
    end.

%% RFC 6120 4.9.3's conditions as atoms; nothing else becomes an atom.
condition(Bin) ->
    Known = [bad_format, bad_namespace_prefix, conflict, connection_timeout,
             host_gone, host_unknown, improper_addressing,
             internal_server_error, invalid_from, invalid_namespace,
             invalid_xml, not_authorized, not_well_formed, policy_violation,
             remote_connection_failed, reset, resource_constraint,
             restricted_xml, see_other_host, system_shutdown,
             undefined_condition, unsupported_encoding, unsupported_feature,
             unsupported_stanza_type, unsupported_version],
    Underscored = binary:replace(Bin, <<"-">>, <<"_">>, [global]),
    case [A || A <- Known, atom_to_binary(A, utf8) =:= Underscored] of
        [Atom] -> Atom;
        [] -> Bin
    end.

%%====================================================================
%% Sending
%%====================================================================

send(Packet, St = #st{codec = Codec, codec_ns = Ns}) ->
    T0 = case Ns of undefined -> 0; _ -> erlang:monotonic_time() end,
    try Codec:encode(Packet) of
        Bin when Ns =:= undefined -> send_bin(iolist_to_binary(Bin), St);
        Bin ->
            Bin1 = iolist_to_binary(Bin),
            Spent = erlang:monotonic_time() - T0,
            send_bin(Bin1, St#st{codec_ns = Ns + Spent})
    catch
        %% the caller's term, not the connection, is wrong: say so, go on
        error:{badxml, _, _} = Bad -> {reply, {error, Bad}, St};
        error:Other -> {reply, {error, {badxml, Packet, Other}}, St}
    end.

send_bin(Bin, St = #st{phase = connected, sock = Sock, stats = Stats}) ->
    case gen_tcp:send(Sock, Bin) of
        ok -> {reply, ok, St#st{stats = bump(out, Stats)}};
        {error, Why} -> {reply, {error, not_connected}, lost({socket_error, Why}, St)}
    end;
send_bin(_Bin, St = #st{reconnect = false}) ->
    {reply, {error, not_connected}, St};
send_bin(_Bin, St = #st{queue_len = Len, queue_max = Max, stats = Stats})
  when Len >= Max ->
    {reply, {error, queue_full}, St#st{stats = bump(refused, Stats)}};
send_bin(Bin, St = #st{queue = Q, queue_len = Len}) ->
    {reply, ok, St#st{queue = queue:in(Bin, Q), queue_len = Len + 1}}.

flush_queue(St = #st{queue_len = 0}) ->
    St;
flush_queue(St = #st{queue = Q, queue_len = Len, sock = Sock, stats = Stats}) ->
    {{value, Bin}, Q1} = queue:out(Q),
    case gen_tcp:send(Sock, Bin) of
        ok -> flush_queue(St#st{queue = Q1, queue_len = Len - 1,
                                stats = bump(out, Stats)});
        {error, Why} -> lost({socket_error, Why}, St)
    end.

write(Sock, Data, St) ->
    case gen_tcp:send(Sock, Data) of
        ok -> St;
        {error, Why} -> lost({socket_error, Why}, St)
    end.

%% An id for a stanza that has none (exmpp_component:send_packet/2 did
%% the same); the one it has otherwise.
ensure_id(Packet) ->
    case stanza_xml:get_tag_attr(<<"id">>, Packet) of
        {value, Id} -> {to_bin(Id), Packet};
        false ->
            Id = stanza_ids:new_id(),
            {Id, stanza_exmpp:set_attribute(Packet, <<"id">>, Id)}
    end.

%%====================================================================
%% Losing the connection, timers
%%====================================================================

lost(Reason, St0 = #st{phase = Phase}) ->
    St = close_socket(cancel_timer(St0)),
    reply_waiter(Reason, St),
    _ = Phase =:= connected andalso notify({disconnected, Reason}, St),
    retry_or_idle(St#st{waiter = undefined, ping_sent = false, last_error = Reason}).

reply_waiter(_Reason, #st{waiter = undefined}) ->
    ok;
reply_waiter(Reason, #st{waiter = {_, From}}) ->
    gen_server:reply(From, {error, caller_reason(Reason)}).

%% handshake/1 and connect/3 answer with the bare condition, as exmpp did.
caller_reason({stream_error, Condition}) -> Condition;
caller_reason(Reason) -> Reason.

retry_or_idle(St = #st{auto = true, reconnect = {Min, Max}, attempt = N}) ->
    Delay = min(Max, Min bsl min(N, 20)),
    Jittered = Delay - rand:uniform(Delay div 2 + 1) + 1,
    set_timer(Jittered, retry, St#st{phase = waiting, attempt = N + 1});
retry_or_idle(St) ->
    St#st{phase = idle}.

timer_fired(deadline, St) ->
    lost(timeout, St);
timer_fired(retry, St) ->
    open(St);
timer_fired(ping, St = #st{rx = true}) ->
    set_timer(St#st.ping_interval, ping, St#st{rx = false, ping_sent = false});
timer_fired(ping, St = #st{ping_sent = true}) ->
    lost(timeout, St);
timer_fired(ping, St = #st{sock = Sock, domain = Domain}) ->
    Ping = ["<iq type='get' from='", stanza_xml:crypt(Domain), "' to='",
            stanza_xml:crypt(Domain), "' id='", ?PING_PREFIX, stanza_ids:new_id(),
            "'><ping xmlns='urn:xmpp:ping'/></iq>"],
    set_timer(St#st.ping_timeout, ping, write(Sock, Ping, St#st{ping_sent = true})).

%% Silence is noticed by a tick every ping_interval: a tick that finds
%% nothing received since the last one sends a ping to our own domain
%% (the server routes it back to us), and the next tick, ping_timeout
%% later, gives up if still nothing came.
start_ping(St = #st{ping_interval = infinity}) ->
    St;
start_ping(St = #st{ping_interval = Interval}) ->
    set_timer(Interval, ping, St#st{rx = false, ping_sent = false}).

is_own_ping(Attrs, #st{domain = Domain}) ->
    case attr(<<"id">>, Attrs) of
        <<?PING_PREFIX, _/binary>> -> attr(<<"from">>, Attrs) =:= Domain;
        _ -> false
    end.

set_timer(infinity, _What, St) ->
    St;
set_timer(Ms, What, St) ->
    St1 = cancel_timer(St),
    St1#st{timer = erlang:start_timer(Ms, self(), What)}.

cancel_timer(St = #st{timer = undefined}) ->
    St;
cancel_timer(St = #st{timer = Ref}) ->
    _ = erlang:cancel_timer(Ref),
    St#st{timer = undefined}.

close_socket(St = #st{sock = undefined}) ->
    St;
close_socket(St = #st{sock = Sock}) ->
    ok = gen_tcp:close(Sock),
    ok = close_parser(St),
    St#st{sock = undefined, parser = undefined}.

new_parser(#st{codec = Codec, parser_opts = Opts}) ->
    Codec:new_parser(Opts).

close_parser(#st{parser = undefined}) -> ok;
close_parser(#st{codec = Codec, parser = Parser}) -> Codec:close_parser(Parser).

notify(Event, #st{owner = Owner}) ->
    Owner ! {stanza_component, self(), Event}.

%%====================================================================
%% Small things
%%====================================================================

%% Refusals that the same configuration will meet again.
permanent(Reason) ->
    lists:member(Reason, [not_authorized, host_unknown, improper_addressing,
                          invalid_namespace, no_auth]).

reconnect(false) -> false;
reconnect(true) -> reconnect(#{});
reconnect(Opts) when is_map(Opts) ->
    {maps:get(min_ms, Opts, 200), maps:get(max_ms, Opts, 30000)}.

dedup(false) -> undefined;
dedup(true) -> stanza_dedup:new();
dedup(Opts) when is_map(Opts) -> stanza_dedup:new(Opts).

%% Parsed attributes have binary names but in the legacy (string) format.
attr(Name, Attrs) ->
    case lists:keyfind(Name, 1, Attrs) of
        {_, V} -> to_bin(V);
        false when Attrs =/= [], is_list(element(1, hd(Attrs))) -> legacy_attr(Name, Attrs);
        false -> undefined
    end.

legacy_attr(Name, Attrs) ->
    case stanza_xml:get_attr(Name, Attrs) of
        {value, V} -> to_bin(V);
        false -> undefined
    end.

bump(Key, Stats) ->
    maps:update_with(Key, fun(N) -> N + 1 end, Stats).

host(B) when is_binary(B) -> binary_to_list(B);
host(H) -> H.

to_bin(X) -> stanza_xml:to_bin(X).
