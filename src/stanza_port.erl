%% @doc The streaming XMPP parser as a port driver: the same parser as
%% stanza_stream (one C core serves both), with the same API, options,
%% events and errors, so switching is a change of module name.
%%
%% ```
%% 1> {ok, P} = stanza_port:new(#{format => xmlel}).
%% 2> stanza_port:parse(P, <<"<stream:stream xmlns='jabber:client' "
%%                           "xmlns:stream='http://etherx.jabber.org/streams'>">>).
%% {ok,[{xmlstreamstart,<<"stream:stream">>,
%%       [{<<"xmlns">>,<<"jabber:client">>},
%%        {<<"xmlns:stream">>,<<"http://etherx.jabber.org/streams">>}]}]}
%% 3> stanza_port:parse(P, <<"<message to='a@b'><body>hi</body></message>">>).
%% {ok,[{xmlstreamelement,{xmlel,<<"message">>,
%%                         [{<<"to">>,<<"a@b">>}],
%%                         [{xmlel,<<"body">>,[],[{xmlcdata,<<"hi">>}]}]}}]}
%% 4> stanza_port:close(P).
%% ok
%% '''
%%
%% Options and events: see stanza_stream. What differs is the model: each
%% parser is a port, linked to the process that created it (its owner),
%% so the port closes when the owner exits, as ejabberd 2.x's expat_erl
%% ports did. The driver builds whole stanzas in C and sends them to the
%% owner as messages, which parse/2 collects; in push mode (`callback')
%% parse/2 forwards each event as `{'$gen_event', Event}'. Only the owner
%% may use the parser; others get `{error, not_owner}'.
%%
%% A big input is parsed in slices of about a millisecond, the owner
%% yielding its scheduler between them, so a port never holds a
%% scheduler for long. Since parse/2 waits for its reply with a selective
%% receive, a process with thousands of unrelated messages queued pays for
%% scanning them on each call: the NIF (stanza_stream) has no such cost.
-module(stanza_port).

-export([new/0, new/1, parse/2, reset/1, close/1, controlling_process/2,
         parse_element/1, parse_element/2, port/1, info/1]).

-export_type([parser/0, info/0]).

-record(stanza_port, {port :: port(), callback :: pid() | undefined}).

-opaque parser() :: #stanza_port{}.
-type info() :: stanza_port_driver:stats().

-define(STREAM_MODE, 0).
-define(ELEMENT_MODE, 1).

%% @equiv new(#{})
-spec new() -> {ok, parser()}.
new() ->
    new(#{}).

%% @doc A parser for one XMPP stream: a new port owned by the caller. The
%% options are stanza_stream's; a bad one raises `{bad_option, Key,
%% Value}'. A driver that cannot be loaded raises
%% `{stanza_driver_not_loaded, Path, Why}'.
-spec new(stanza_stream:options()) -> {ok, parser()}.
new(Opts) when is_map(Opts) ->
    Settings = stanza_options:settings(Opts),
    ok = nif_only_options(Opts),
    Port = stanza_port_driver:open(),
    ok = stanza_port_driver:configure(Port, {Settings, ?STREAM_MODE}),
    {ok, #stanza_port{port = Port,
                      callback = maps:get(callback, Opts, undefined)}};
new(Opts) ->
    erlang:error({bad_options, Opts}, [Opts]).

%% @doc Parses the next bytes of the stream. Data may be any iodata;
%% anything else gives `{error, badarg}'.
-spec parse(parser(), iodata()) ->
          {ok, [stanza_stream:event()]}
        | {error, closed | not_owner | badarg}.
parse(#stanza_port{} = Parser, Data) when is_binary(Data) ->
    command(Parser, Data);
parse(#stanza_port{} = Parser, Data) ->
    try iolist_size(Data) of
        _ -> command(Parser, Data)
    catch
        error:badarg -> {error, badarg}
    end.

%% @doc Back to a pristine parser for the same options (a stream restart
%% after STARTTLS or SASL).
-spec reset(parser()) -> ok | {error, closed | not_owner}.
reset(#stanza_port{port = Port}) ->
    case stanza_port_driver:reset(Port) of
        ok -> _ = erase({?MODULE, Port}), ok;
        Error -> Error
    end.

%% @doc Closes the port and frees its memory now. Closing twice is fine.
-spec close(parser()) -> ok | {error, not_owner}.
close(#stanza_port{port = Port}) ->
    Self = self(),
    case erlang:port_info(Port, connected) of
        undefined ->
            _ = erase({?MODULE, Port}),
            ok;
        {connected, Self} ->
            _ = erase({?MODULE, Port}),
            catch erlang:port_close(Port),
            %% As gen_tcp:close/1: an owner trapping exits is not left
            %% with the port's exit message.
            receive {'EXIT', Port, _} -> ok after 0 -> ok end;
        {connected, _} ->
            {error, not_owner}
    end.

%% @doc Makes Pid the owner: the process linked to the port, the only one
%% that may use it. `{error, busy}' while a big stanza (hundreds of KB)
%% that arrived in parts is open: its parts are with the current owner.
-spec controlling_process(parser(), pid()) ->
          ok | {error, closed | not_owner | busy}.
controlling_process(#stanza_port{port = Port}, Pid) when is_pid(Pid) ->
    Self = self(),
    case erlang:port_info(Port, connected) of
        undefined ->
            {error, closed};
        {connected, Self} ->
            hand_over(Port, Pid, get({?MODULE, Port}));
        {connected, _} ->
            {error, not_owner}
    end.

%% The parts of a big stanza received so far live in the owner's process
%% dictionary: a port cannot change hands in the middle of such a stanza.
hand_over(Port, Pid, undefined) ->
    try erlang:port_connect(Port, Pid) of
        true -> unlink(Port), ok
    catch
        error:badarg -> {error, closed}
    end;
hand_over(_Port, _Pid, _Fragments) ->
    {error, busy}.

%% @equiv parse_element(Data, #{})
-spec parse_element(iodata()) ->
          {ok, stanza_stream:element()}
        | {error, stanza_stream:reason() | badarg}.
parse_element(Data) ->
    parse_element(Data, #{}).

%% stream_cdata and xmlns_undeclaration are the NIF's alone (the fast_xml
%% compat uses them); the driver refuses them rather than ignore them.
nif_only_options(#{stream_cdata := true}) ->
    erlang:error({bad_option, stream_cdata, true});
nif_only_options(#{xmlns_undeclaration := keep}) ->
    erlang:error({bad_option, xmlns_undeclaration, keep});
nif_only_options(_) ->
    ok.

%% @doc Parses one whole element through a short-lived port. Takes the
%% options of new/1 but `callback'. stanza_stream:parse_element/2 gives
%% the same result without opening a port, and is much faster.
-spec parse_element(iodata(), stanza_stream:options()) ->
          {ok, stanza_stream:element()}
        | {error, stanza_stream:reason() | badarg}.
parse_element(Data, Opts) when is_map(Opts), not is_map_key(callback, Opts) ->
    Settings = stanza_options:settings(Opts),
    Port = stanza_port_driver:open(),
    ok = stanza_port_driver:configure(Port, {Settings, ?ELEMENT_MODE}),
    Parser = #stanza_port{port = Port},
    try parse(Parser, Data) of
        {ok, Events} -> element_result(Events);
        {error, badarg} = Error -> Error
    after
        close(Parser)
    end;
parse_element(Data, #{callback := Pid} = Opts) ->
    erlang:error({bad_option, callback, Pid}, [Data, Opts]);
parse_element(Data, Opts) ->
    erlang:error({bad_options, Opts}, [Data, Opts]).

%% @doc The port behind the parser, to link to or monitor it.
-spec port(parser()) -> port().
port(#stanza_port{port = Port}) ->
    Port.

%% @doc Counters of the port: `bytes' parsed, `messages' sent to the
%% owner, `busy_ns' spent parsing, of which `deliver_ns' building and
%% sending the messages, `yields' (continuations after a time slice),
%% `fragments' (parts of big stanzas sent ahead);
%% and of the whole driver: `driver_bytes' allocated, `driver_ports' open.
-spec info(parser()) -> {ok, info()} | {error, closed | not_owner}.
info(#stanza_port{port = Port}) ->
    stanza_port_driver:stats(Port).

%%--------------------------------------------------------------------

command(#stanza_port{port = Port, callback = Callback}, Data) ->
    Ref = erlang:monitor(port, Port),
    try erlang:port_command(Port, Data) of
        true -> collect(Port, Ref, Callback, [])
    catch
        error:badarg ->
            erlang:demonitor(Ref, [flush]),
            _ = erase({?MODULE, Port}),
            {error, closed}
    end.

%% The driver sends the events of one call as one or more messages, the
%% last tagged done. After each `more' (about a millisecond of parsing)
%% this process lets others run, then has the driver go on. A big stanza
%% comes in fragments first (see c_src/drv_builder.h): they are kept in
%% the process dictionary until the event that completes the stanza.
collect(Port, Ref, Callback, Acc) ->
    receive
        {stanza_port, Port, fragment, Items} ->
            keep_fragment(Port, Items),
            collect(Port, Ref, Callback, Acc);
        {stanza_port, Port, Status, Events} when Status =:= more;
                                                 Status =:= more_marked ->
            Acc1 = deliver(Callback, resolve(Port, Status, Events), Acc),
            erlang:yield(),
            _ = stanza_port_driver:continue(Port),
            collect(Port, Ref, Callback, Acc1);
        {stanza_port, Port, Status, Events} when Status =:= done;
                                                 Status =:= done_marked ->
            erlang:demonitor(Ref, [flush]),
            Acc1 = deliver(Callback, resolve(Port, Status, Events), Acc),
            {ok, lists:append(lists:reverse(Acc1))};
        {stanza_port, Port, not_owner} ->
            erlang:demonitor(Ref, [flush]),
            {error, not_owner};
        {'DOWN', Ref, port, Port, _} ->
            _ = erase({?MODULE, Port}),
            {error, closed}
    end.

keep_fragment(Port, Items) ->
    Key = {?MODULE, Port},
    case get(Key) of
        undefined -> put(Key, [Items]);
        Kept -> put(Key, [Items | Kept])
    end.

%% Markers stand for a stanza sent in fragments, or for its fragments to
%% drop; only marked messages have them.
resolve(_Port, Status, Events) when Status =:= more; Status =:= done ->
    Events;
resolve(Port, _Marked, Events) ->
    lists:filtermap(fun(E) -> resolve_event(Port, E) end, Events).

resolve_event(Port, {'$stanza_fragments', Last, Count}) ->
    Fragments = lists:reverse(erase({?MODULE, Port})),
    Count = length(Fragments),
    {true, {xmlstreamelement, assemble(Fragments, Last)}};
resolve_event(Port, {'$stanza_dropped', _Count}) ->
    _ = erase({?MODULE, Port}),
    false;
resolve_event(_Port, Event) ->
    {true, Event}.

%% The items of the fragments, then the last ones: {open, Tag, Name,
%% Attrs}, finished children, close. The children come built from C;
%% only the outer elements are put together here.
assemble([Items | Fragments], Last) ->
    assemble(Fragments, Last, items(Items, []));
assemble([], Last) ->
    assemble([], Last, {more, []}).

assemble([Items | Fragments], Last, {more, Stack}) ->
    assemble(Fragments, Last, items(Items, Stack));
assemble([], Last, {more, Stack}) ->
    {done, Element} = items(Last, Stack),
    Element.

items([{open, Tag, Name, Attrs} | Rest], Stack) ->
    items(Rest, [{Tag, Name, Attrs, []} | Stack]);
items([close], [{Tag, Name, Attrs, Children}]) ->
    {done, {Tag, Name, Attrs, lists:reverse(Children)}};
items([close | Rest], [{Tag, Name, Attrs, Children}, {T, N, A, C} | Stack]) ->
    El = {Tag, Name, Attrs, lists:reverse(Children)},
    items(Rest, [{T, N, A, [El | C]} | Stack]);
items([Child | Rest], [{T, N, A, C} | Stack]) ->
    items(Rest, [{T, N, A, [Child | C]} | Stack]);
items([], Stack) ->
    {more, Stack}.

deliver(undefined, Events, Acc) ->
    [Events | Acc];
deliver(Callback, Events, Acc) ->
    _ = [Callback ! {'$gen_event', Event} || Event <- Events],
    Acc.

element_result(Events) ->
    case lists:last(Events) of
        {xmlstreamelement, Element} -> {ok, Element};
        {xmlstreamerror, Reason} -> {error, Reason}
    end.
