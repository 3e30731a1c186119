%% The exmpp component tutorial's code shape on stanza: the same calls in
%% the same order, with exmpp_component, exmpp_xml and exmpp_iq renamed to
%% stanza_component, stanza_exmpp and stanza_exmpp_iq (our own code). The
%% CT suite runs it against a real ejabberd to prove that code written
%% this way works after renaming modules only.
-module(stanza_tutorial_component).

-behaviour(gen_server).

-include("stanza_component.hrl").

-export([start_link/4, stop/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

%% The IQ namespace the test client uses. It is written here as an atom,
%% so get_ns_as_atom/1 finds it (stanza makes no atom from the wire).
-define(NS_TUTORIAL, 'urn:stanza:tutorial').

-record(state, {session}).

start_link(Component, Secret, Host, Port) ->
    gen_server:start_link(?MODULE, [Component, Secret, Host, Port], []).

stop(Pid) ->
    gen_server:call(Pid, stop).

init([Component, Secret, Host, Port]) ->
    ?NS_TUTORIAL = list_to_existing_atom("urn:stanza:tutorial"),
    Session = stanza_component:start_link(),
    stanza_component:auth(Session, Component, Secret),
    _StreamId = stanza_component:connect(Session, Host, Port),
    ok = stanza_component:handshake(Session),
    {ok, #state{session = Session}}.

handle_call(stop, _From, #state{session = Session} = State) ->
    stanza_component:stop(Session),
    {stop, normal, ok, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(#received_packet{} = Packet, #state{session = Session} = State) ->
    spawn(fun() -> process_received_packet(Session, Packet) end),
    {noreply, State};
handle_info(_Other, State) ->
    {noreply, State}.

process_received_packet(Session, #received_packet{packet_type = message} = Packet) ->
    process_received_message(Session, Packet);
process_received_packet(Session, #received_packet{packet_type = iq, type_attr = Type} = Packet)
  when Type =:= "get"; Type =:= "set" ->
    process_received_iq(Session, Packet);
process_received_packet(_Session, _Packet) ->
    ok.

process_received_message(Session, #received_packet{packet_type = message, raw_packet = Packet}) ->
    From = stanza_exmpp:get_attribute(Packet, from, <<"unknown">>),
    To = stanza_exmpp:get_attribute(Packet, to, <<"unknown">>),
    Pkt1 = stanza_exmpp:set_attribute(Packet, from, To),
    Pkt2 = stanza_exmpp:set_attribute(Pkt1, to, From),
    NewPacket = stanza_exmpp:remove_attribute(Pkt2, id),
    stanza_component:send_packet(Session, NewPacket).

process_received_iq(Session, #received_packet{packet_type = iq, type_attr = _Type, raw_packet = IQ}) ->
    NS = stanza_exmpp:get_ns_as_atom(stanza_exmpp_iq:get_payload(IQ)),
    Reply = stanza_exmpp:element(NS, 'response', [], [{xmlcdata, <<"your iq has been received">>}]),
    Result = stanza_exmpp_iq:result(IQ, stanza_exmpp:element(NS, 'query', [], [Reply])),
    stanza_component:send_packet(Session, Result).
