%% An XEP-0114 echo component on stanza (our own code; what the exmpp
%% component tutorial's component does, written the modern way):
%%  - a message comes back to its sender with from and to swapped and a
%%    new id (an error message is never echoed, so two echoes cannot loop);
%%  - disco#info is answered with the component's identity and features;
%%  - any other IQ get or set is answered with its payload's namespace:
%%    <query xmlns=NS><response xmlns=NS>your iq has been received</response></query>;
%%  - presences and IQ results are ignored.
%% It keeps its connection up by itself (reconnect) and counts what it
%% echoed. `make example-echo' runs it against a private ejabberd.
%%
%%   {ok, Pid} = echo_component:start_link(#{host => "127.0.0.1", port => 5275,
%%                                           domain => "echo.localhost",
%%                                           secret => "secret"}).
%%   echo_component:stats(Pid).
%%
%% Options are stanza_component:start_link/1's (reconnect defaults to
%% true here); `codec' picks the XML library, which `make load' uses to
%% run this same component on fast_xml.
-module(echo_component).

-behaviour(gen_server).

-include_lib("stanza/include/stanza_component.hrl").

-export([start_link/1, stats/1, stop/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(NS_DISCO_INFO, <<"http://jabber.org/protocol/disco#info">>).
-define(NS_VERSION, <<"jabber:iq:version">>).

-record(state, {session :: pid(), echoed = 0 :: non_neg_integer(),
                answered = 0 :: non_neg_integer(), failed = 0 :: non_neg_integer()}).

-spec start_link(stanza_component:options()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    gen_server:start_link(?MODULE, Opts, []).

%% The component's counters (stanza_component:stats/1) and ours.
-spec stats(pid()) -> map().
stats(Pid) ->
    gen_server:call(Pid, stats).

-spec stop(pid()) -> ok.
stop(Pid) ->
    gen_server:call(Pid, stop).

init(Opts) ->
    Defaults = #{reconnect => true, owner => self()},
    case stanza_component:start_link(maps:merge(Defaults, Opts)) of
        {ok, Session} -> {ok, #state{session = Session}};
        {error, Reason} -> {stop, Reason}
    end.

handle_call(stats, _From, State = #state{session = S}) ->
    Mine = #{echoed => State#state.echoed, answered => State#state.answered,
             send_failed => State#state.failed},
    {reply, maps:merge(stanza_component:stats(S), Mine), State};
handle_call(stop, _From, State = #state{session = S}) ->
    ok = stanza_component:stop(S),
    {stop, normal, ok, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(#received_packet{packet_type = message, type_attr = Type, raw_packet = Msg},
            State) when Type =/= "error" ->
    {noreply, sent(send(State, echo(Msg)), echoed, State)};
handle_info(#received_packet{packet_type = iq, type_attr = Type, queryns = NS,
                             raw_packet = Iq}, State)
  when Type =:= "get"; Type =:= "set" ->
    {noreply, sent(send(State, answer(NS, Type, Iq)), answered, State)};
handle_info(#received_packet{}, State) ->
    {noreply, State};
handle_info({stanza_component, _Pid, Event}, State) ->
    error_logger:info_msg("echo_component: ~p~n", [Event]),
    {noreply, State};
handle_info(_Other, State) ->
    {noreply, State}.

%% from and to swapped; the id is dropped so send_packet gives a new one.
echo(Msg) ->
    From = stanza_exmpp:get_attribute(Msg, from, <<>>),
    To = stanza_exmpp:get_attribute(Msg, to, <<>>),
    Swapped = stanza_exmpp:set_attribute(stanza_exmpp:set_attribute(Msg, from, To), to, From),
    stanza_exmpp:remove_attribute(Swapped, id).

answer(?NS_DISCO_INFO, "get", Iq) ->
    Identity = stanza_exmpp:element(undefined, identity,
                                    [{category, component}, {type, generic},
                                     {name, <<"stanza echo component">>}], []),
    Features = [stanza_exmpp:element(undefined, feature, [{var, NS}], [])
                || NS <- [?NS_DISCO_INFO, ?NS_VERSION]],
    stanza_exmpp_iq:result(Iq, stanza_exmpp:element(?NS_DISCO_INFO, query, [],
                                                     [Identity | Features]));
answer(?NS_VERSION, "get", Iq) ->
    Fields = [stanza_exmpp:element(undefined, N, [], [{xmlcdata, V}])
              || {N, V} <- [{name, <<"stanza echo component">>}, {version, <<"1.0">>}]],
    stanza_exmpp_iq:result(Iq, stanza_exmpp:element(?NS_VERSION, query, [], Fields));
answer(undefined, _Type, Iq) ->
    stanza_exmpp_iq:error(Iq, 'bad-request');
answer(NS, _Type, Iq) ->
    Response = stanza_exmpp:element(NS, response, [],
                                    [{xmlcdata, <<"your iq has been received">>}]),
    stanza_exmpp_iq:result(Iq, stanza_exmpp:element(NS, query, [], [Response])).

send(#state{session = S}, Packet) ->
    stanza_component:send_packet(S, Packet).

sent({error, _}, _Counter, State = #state{failed = N}) -> State#state{failed = N + 1};
sent(_Id, echoed, State = #state{echoed = N}) -> State#state{echoed = N + 1};
sent(_Id, answered, State = #state{answered = N}) -> State#state{answered = N + 1}.
