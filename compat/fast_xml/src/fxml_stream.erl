%% @doc fast_xml's `fxml_stream', on stanza_stream.
%%
%% ejabberd (through xmpp_socket) and other fast_xml users keep working
%% unchanged: the same functions, events, terms and namespace handling.
%% ```
%% 1> S0 = fxml_stream:new(self(), 65536).
%% 2> S1 = fxml_stream:parse(S0, <<"<stream:stream xmlns='jabber:client' "
%%                               "xmlns:stream='http://etherx.jabber.org/streams'> "
%%                               "<message><body>hi</body></message>">>).
%% 3> flush().
%% Shell got {'$gen_event',{xmlstreamstart,<<"stream:stream">>,
%%                          [{<<"xmlns">>,<<"jabber:client">>},
%%                           {<<"xmlns:stream">>,<<"http://etherx.jabber.org/streams">>}]}}
%% Shell got {'$gen_all_state_event',{xmlstreamcdata,<<" ">>}}
%% Shell got {'$gen_event',{xmlstreamelement,{xmlel,<<"message">>,[],
%%                          [{xmlel,<<"body">>,[],[{xmlcdata,<<"hi">>}]}]}}}
%% 4> fxml_stream:parse_element(<<"<a>">>).
%% {error,{3,<<"no element found">>}}
%% '''
%% Differences from fast_xml 1.1.49, all deliberate (the full list, with
%% the reasons, is in doc/migrating-from-fast_xml.md):
%% <ul>
%% <li>MaxSize counts the bytes of each stanza exactly (N passes, N + 1
%%   fails, however the input is cut), where fast_xml counted the bytes of
%%   the chunks received since the last event.</li>
%% <li>Comments and processing instructions are refused (RFC 6120 section
%%   11), as `{xmlstreamerror, {35, <<"comments are not allowed">>}}' and
%%   the like; fast_xml dropped them. A DOCTYPE gives
%%   `{35, <<"DTDs are not allowed">>}' where fast_xml said
%%   `{35, <<"parsing aborted">>}'.</li>
%% <li>A stanza nested deeper than 1024 elements is refused
%%   (`{35, <<"XML stanza is too deep">>}').</li>
%% <li>The state is a value: use the one new/2,3, parse/2, reset/1 and
%%   change_callback_pid/2 return, in the process that called new/2,3.</li>
%% <li>parse/2 never holds a scheduler for long: big chunks are parsed in
%%   slices.</li>
%% </ul>
-module(fxml_stream).

-export([new/1, new/2, new/3, parse/2, close/1, reset/1,
         change_callback_pid/2, parse_element/1]).
-export([load_nif/0, load_nif/1]).

-export_type([xml_stream_state/0, xml_stream_el/0]).

-include("fxml.hrl").

-record(xml_stream_state,
        {parser :: stanza_stream:parser(),
         callback_pid :: pid(),
         gen_server = true :: boolean(),
         use_maps = false :: boolean(),
         %% set by the stream header, for the stanzas that follow it
         context = undefined :: stanza_fxml_ns:context() | undefined}).

-opaque xml_stream_state() :: #xml_stream_state{}.
-type xml_stream_el() :: {xmlstreamraw, binary()}
                       | {xmlstreamcdata, binary()}
                       | {xmlstreamelement, xmlel()}
                       | {xmlstreamend, binary()}
                       | {xmlstreamstart, binary(), [attr()]}
                       | {xmlstreamerror, binary() | {integer(), binary()}}.

%% @doc fast_xml loads its NIF here; stanza's load themselves: `ok'.
-spec load_nif() -> ok.
load_nif() ->
    ok.

%% @doc As load_nif/0: the path is not needed.
-spec load_nif(string()) -> ok.
load_nif(_Path) ->
    ok.

%% @equiv new(CallbackPid, infinity)
-spec new(pid()) -> xml_stream_state().
new(CallbackPid) ->
    new(CallbackPid, infinity).

%% @equiv new(CallbackPid, MaxSize, [])
-spec new(pid(), non_neg_integer() | infinity) -> xml_stream_state().
new(CallbackPid, MaxSize) ->
    new(CallbackPid, MaxSize, []).

%% @doc A stream whose events go to CallbackPid, as `{'$gen_event', Event}'
%% (text between stanzas as `{'$gen_all_state_event', {xmlstreamcdata,
%% Text}}'), or bare with the option `no_gen_server'. `use_maps' gives
%% fast_xml's Elixir structs. Other options are ignored, as fast_xml
%% ignores them. MaxSize: the bytes a stanza may have, or `infinity'.
-spec new(pid(), non_neg_integer() | infinity, list()) -> xml_stream_state().
new(CallbackPid, MaxSize, Options)
  when is_pid(CallbackPid), node(CallbackPid) =:= node(), is_list(Options),
       (MaxSize =:= infinity orelse (is_integer(MaxSize) andalso MaxSize >= 0)) ->
    {ok, Parser} = stanza_stream:new(#{format => xmlel,
                                       max_stanza_size => max_size(MaxSize),
                                       stream_cdata => true,
                                       xmlns_undeclaration => keep}),
    #xml_stream_state{parser = Parser, callback_pid = CallbackPid,
                      gen_server = not lists:member(no_gen_server, Options),
                      use_maps = lists:member(use_maps, Options)};
new(CallbackPid, MaxSize, Options) ->
    erlang:error(badarg, [CallbackPid, MaxSize, Options]).

%% @doc Parses the next bytes of the stream, sending the events it
%% completes to the callback process. A closed state, or data that is not
%% a binary, raises `badarg' (as in fast_xml).
-spec parse(xml_stream_state(), binary()) -> xml_stream_state().
parse(#xml_stream_state{parser = Parser} = State, Data) when is_binary(Data) ->
    case stanza_stream:parse(Parser, Data) of
        {ok, Events} -> deliver(Events, State);
        {error, _} -> erlang:error(badarg, [State, Data])
    end;
parse(State, Data) ->
    erlang:error(badarg, [State, Data]).

%% @doc A pristine stream for the same callback, limit and options: what
%% a stream restart after STARTTLS or SASL needs.
-spec reset(xml_stream_state()) -> xml_stream_state().
reset(#xml_stream_state{parser = Parser} = State) ->
    case stanza_stream:reset(Parser) of
        ok -> State#xml_stream_state{context = undefined};
        {error, _} -> erlang:error(badarg, [State])
    end;
reset(State) ->
    erlang:error(badarg, [State]).

%% @doc Events go to Pid from now on. A closed state raises `badarg'.
-spec change_callback_pid(xml_stream_state(), pid()) -> xml_stream_state().
change_callback_pid(#xml_stream_state{parser = Parser} = State, Pid)
  when is_pid(Pid), node(Pid) =:= node() ->
    %% An empty parse changes nothing and tells whether the parser is open.
    case stanza_stream:parse(Parser, <<>>) of
        {ok, _} -> State#xml_stream_state{callback_pid = Pid};
        {error, _} -> erlang:error(badarg, [State, Pid])
    end;
change_callback_pid(State, Pid) ->
    erlang:error(badarg, [State, Pid]).

%% @doc Frees the parser: `true'. Closing a closed state raises `badarg',
%% as in fast_xml.
-spec close(xml_stream_state()) -> true.
close(#xml_stream_state{parser = Parser} = State) ->
    %% reset/1 is refused on a closed parser: the cheapest way to ask.
    case stanza_stream:reset(Parser) of
        ok ->
            ok = stanza_stream:close(Parser),
            true;
        {error, _} ->
            erlang:error(badarg, [State])
    end;
close(State) ->
    erlang:error(badarg, [State]).

%% @doc One whole element: `#xmlel{}' with names and namespace
%% declarations as written (fast_xml normalises only streams), or
%% `{error, {Code, Message}}'. Data must be a binary.
-spec parse_element(binary()) -> xmlel() | {error, {integer(), binary()}}.
parse_element(Data) when is_binary(Data) ->
    case stanza_stream:parse_element(Data, #{format => xmlel}) of
        {ok, El} -> El;
        {error, Reason} -> {error, error_reason(Reason)}
    end;
parse_element(Data) ->
    erlang:error(badarg, [Data]).

%%--------------------------------------------------------------------

%% fast_xml refuses every chunk once MaxSize is 0; a 1-byte limit refuses
%% every stanza.
max_size(infinity) -> infinity;
max_size(0) -> 1;
max_size(N) -> N.

deliver([], State) ->
    State;
deliver([Event | Events], State) ->
    deliver(Events, event(Event, State)).

event({xmlstreamelement, El}, #xml_stream_state{context = Context,
                                                 use_maps = Maps} = State) ->
    Stanza = case Maps of
                 false -> {xmlstreamelement,
                           stanza_fxml_ns:stanza(El, context(Context))};
                 true -> stanza_fxml_ns:stanza_map(El, context(Context))
             end,
    send(event, Stanza, State),
    State;
event({xmlstreamstart, Name, Attrs}, #xml_stream_state{use_maps = Maps} = State) ->
    Start = case Maps of
                false -> {xmlstreamstart, Name, stanza_fxml_ns:root_attrs(Attrs)};
                true -> stanza_fxml_maps:start(Name, Attrs)
            end,
    send(event, Start, State),
    State#xml_stream_state{context = stanza_fxml_ns:root(Attrs)};
event({xmlstreamcdata, _} = Event, State) ->
    send(all_state_event, Event, State),
    State;
event({xmlstreamerror, Reason}, State) ->
    other({xmlstreamerror, error_reason(Reason)}, State);
event({xmlstreamend, _} = Event, State) ->
    other(Event, State).

other(Event, #xml_stream_state{use_maps = false} = State) ->
    send(event, Event, State),
    State;
other(Event, State) ->
    send(event, stanza_fxml_maps:event(Event), State),
    State.

%% A stanza before any stream header cannot happen in stream mode; an
%% empty context keeps this total.
context(undefined) -> stanza_fxml_ns:root([]);
context(Context) -> Context.

%% fast_xml sends text between stanzas as gen_fsm's all-state event, the
%% rest as events; bare with no_gen_server.
send(Kind, Payload, #xml_stream_state{callback_pid = Pid, gen_server = GenServer}) ->
    Pid ! wrap(GenServer, Kind, Payload),
    ok.

wrap(false, _Kind, Payload) -> Payload;
wrap(true, event, Payload) -> {'$gen_event', Payload};
wrap(true, all_state_event, Payload) -> {'$gen_all_state_event', Payload}.

%% fast_xml's error terms: the size string that callers match to answer
%% policy-violation, else {ExpatCode, Message}. What expat had no code for
%% gets 35 (XML_ERROR_ABORTED, what fast_xml gave a DOCTYPE) and a
%% message that says why; an undefined entity is expat's 11.
error_reason(stanza_too_big) -> <<"XML stanza is too big">>;
error_reason({not_well_formed, #{code := Code, message := Message}}) ->
    {Code, Message};
error_reason({restricted_xml, entity_reference}) -> {11, <<"undefined entity">>};
error_reason({restricted_xml, comment}) -> {35, <<"comments are not allowed">>};
error_reason({restricted_xml, processing_instruction}) ->
    {35, <<"processing instructions are not allowed">>};
error_reason({restricted_xml, dtd}) -> {35, <<"DTDs are not allowed">>};
error_reason(too_deep) -> {35, <<"XML stanza is too deep">>};
error_reason(out_of_memory) -> {1, <<"out of memory">>}.
