%% @doc Streaming XMPP parser: libexpat in C, events as Erlang terms.
%%
%% ```
%% 1> {ok, P} = stanza_stream:new(#{}).
%% 2> stanza_stream:parse(P, <<"<stream:stream xmlns='jabber:client' "
%%                             "xmlns:stream='http://etherx.jabber.org/streams'>">>).
%% {ok,[{xmlstreamstart,<<"stream:stream">>,
%%       [{<<"xmlns">>,<<"jabber:client">>},
%%        {<<"xmlns:stream">>,<<"http://etherx.jabber.org/streams">>}]}]}
%% 3> stanza_stream:parse(P, <<"<message to='a@b'><body>hi</bo">>).
%% {ok,[]}
%% 4> stanza_stream:parse(P, <<"dy></message>">>).
%% {ok,[{xmlstreamelement,{xmlelement,<<"message">>,
%%                         [{<<"to">>,<<"a@b">>}],
%%                         [{xmlelement,<<"body">>,[],[{xmlcdata,<<"hi">>}]}]}}]}
%% 5> stanza_stream:parse_element(<<"<iq type='get'/>">>, #{format => xmlel}).
%% {ok,{xmlel,<<"iq">>,[{<<"type">>,<<"get">>}],[]}}
%% '''
%%
%% Options (a map, all optional):
%% <ul>
%% <li>`format => binary | legacy | xmlel' (default `binary'): `binary' gives
%%   `{xmlelement, Name, Attrs, Children}' with binaries; `legacy' gives
%%   exactly ejabberd 2.x's terms (strings for names and attributes,
%%   binaries for text); `xmlel' gives `#xmlel{}' (fast_xml's fxml.hrl, or include/stanza_xmlel.hrl).</li>
%% <li>`max_stanza_size => pos_integer() | infinity' (default `infinity'):
%%   bytes of one top-level stanza, from its `<' to the end of its end tag.
%%   Exactly N passes, N + 1 fails, however the input is chunked. A
%%   stanza that cannot fit is refused as soon as that is certain, so an
%%   endless stanza never fills memory. An endless stream header is refused
%%   the same way once it passes N bytes or 64 KB, whichever is larger.</li>
%% <li>`max_depth => pos_integer()' (default 1024): nesting inside one
%%   stanza; the stanza element is depth 1, the stream root does not count.</li>
%% <li>`restricted => reject | drop' (default `reject'): comments and
%%   processing instructions are errors (RFC 6120 section 11) or vanish, as
%%   in ejabberd 2.x. A DOCTYPE and entity references other than the five
%%   predefined ones are always errors; no entity is ever expanded.</li>
%% <li>`stream_cdata => boolean()' (default `false'): text between stanzas
%%   (whitespace keepalives) becomes `{xmlstreamcdata, Bin}' events, one
%%   per piece expat reports (a newline is a piece of its own, and a cut in
%%   the input cuts the text), as fast_xml reports it.</li>
%% <li>`xmlns_undeclaration => keep | drop' (default `drop'): whether
%%   `xmlns=""', which takes an element out of the default namespace,
%%   shows as the attribute `{"xmlns", ""}' (for callers that resolve
%%   namespaces from the attributes, as the fast_xml compat does) or
%%   vanishes, as in ejabberd 2.x.</li>
%% <li>`callback => pid()': push mode. Each event is sent to the pid as
%%   `{'$gen_event', Event}' (what gen_fsm:send_event/2 sends) and parse/2
%%   returns `{ok, []}'.</li>
%% </ul>
%%
%% Errors are the last event of the chunk in which they happen:
%% `{xmlstreamerror, Reason}', Reason one of `stanza_too_big', `too_deep',
%% `{restricted_xml, comment | processing_instruction | dtd |
%% entity_reference}', `{not_well_formed, #{code, message, line, column,
%% offset}}' or `out_of_memory'. The parser then stays failed, each parse
%% returning the same error event, until reset/1. In the `legacy' format the
%% reasons are ejabberd 2.x's: `"XML stanza is too big"' or
%% `{ExpatCode, String}' (code 35 with an explanatory string for the
%% conditions 2.x did not know: depth, comments, PIs, DTDs).
%%
%% Ownership: the process that called new/1 owns the parser; calls from
%% any other process return `{error, not_owner}' (hand it over with
%% controlling_process/2). A closed parser returns `{error, closed}'. A
%% parser that is dropped without close/1 is freed by the garbage collector.
%%
%% Scheduling: big inputs are parsed in slices and the call yields between
%% them (every 0.3 ms of work), so feeding 10 MB at once is fine. A stanza
%% that spans slices or calls is finished outside the caller's heap and a
%% big one reaches the caller as a message that parse/2 takes from the
%% mailbox itself (so no copy of megabytes holds the scheduler); closing
%% or resetting a parser in the middle of one leaves its memory to a
%% background thread. Measured on a 10 MB stanza and on 10 MB of small
%% stanzas (doc/big-stanzas.md): every schedule under 1 ms of CPU but one,
%% the end of an element with hundreds of thousands of children, whose
%% list is built in one step (about 5 ms for 640,000 children).
-module(stanza_stream).

-export([new/0, new/1, parse/2, reset/1, close/1, controlling_process/2,
         parse_element/1, parse_element/2, live_parsers/0]).

-export_type([parser/0, options/0, element_options/0, event/0, element/0,
              reason/0, format/0]).

-opaque parser() :: stanza_stream_nif:parser().
-type format() :: binary | legacy | xmlel.
-type options() :: #{format => format(),
                     max_stanza_size => pos_integer() | infinity,
                     max_depth => pos_integer(),
                     restricted => reject | drop,
                     stream_cdata => boolean(),
                     xmlns_undeclaration => keep | drop,
                     callback => pid()}.
-type element_options() :: #{format => format(),
                             max_stanza_size => pos_integer() | infinity,
                             max_depth => pos_integer(),
                             restricted => reject | drop,
                             merge_text => boolean()}.
-type name() :: binary() | string().
-type attrs() :: [{name(), binary() | string()}].
-type element() :: {xmlelement | xmlel, name(), attrs(),
                    [element() | {xmlcdata, binary()}]}.
-type reason() :: stanza_too_big | too_deep | out_of_memory
                | {restricted_xml, comment | processing_instruction | dtd
                                   | entity_reference}
                | {not_well_formed, #{code := integer(), message := binary(),
                                      line := integer(), column := integer(),
                                      offset := integer()}}
                | string() | {integer(), string()}.
-type event() :: {xmlstreamstart, name(), attrs()}
               | {xmlstreamelement, element()}
               | {xmlstreamcdata, binary()}
               | {xmlstreamend, name()}
               | {xmlstreamerror, reason()}.

-define(STREAM_MODE, 0).
-define(ELEMENT_MODE, 1).
%% Up to this size an element parses in well under a millisecond.
-define(SMALL_ELEMENT, 65536).

%% @equiv new(#{})
-spec new() -> {ok, parser()}.
new() ->
    new(#{}).

%% @doc A parser for one XMPP stream. An unknown option or a bad value
%% raises `{bad_option, Key, Value}'; options that are not a map (a
%% proplist, say) raise `{bad_options, Opts}'.
-spec new(options()) -> {ok, parser()}.
new(Opts) when is_map(Opts) ->
    {ok, create(Opts, maps:get(callback, Opts, undefined))};
new(Opts) ->
    erlang:error({bad_options, Opts}, [Opts]).

%% @doc Parses the next bytes of the stream. Data may be any iodata;
%% anything else gives `{error, badarg}'.
-spec parse(parser(), iodata()) ->
          {ok, [event()]} | {error, closed | not_owner | badarg}.
parse(Parser, Data) when is_binary(Data) ->
    take_moved(stanza_stream_nif:parse(Parser, Data));
parse(Parser, Data) ->
    try iolist_to_binary(Data) of
        Bin -> take_moved(stanza_stream_nif:parse(Parser, Bin))
    catch
        error:badarg -> {error, badarg}
    end.

%% @doc Back to a pristine parser for the same options: what a stream
%% restart needs after STARTTLS or SASL (a new XML declaration and a new
%% stream header are allowed, and no stale event is left).
-spec reset(parser()) -> ok | {error, closed | not_owner}.
reset(Parser) ->
    stanza_stream_nif:reset(Parser).

%% @doc Frees the parser's memory now. Closing twice is fine.
-spec close(parser()) -> ok | {error, not_owner}.
close(Parser) ->
    stanza_stream_nif:close(Parser).

%% @doc Makes Pid the owner, the only process that may use the parser.
-spec controlling_process(parser(), pid()) -> ok | {error, closed | not_owner}.
controlling_process(Parser, Pid) ->
    stanza_stream_nif:controlling_process(Parser, Pid).

%% @equiv parse_element(Data, #{})
-spec parse_element(iodata()) -> {ok, element()} | {error, reason() | badarg}.
parse_element(Data) ->
    parse_element(Data, #{}).

%% @doc Parses one whole element (the stanza is the root). Takes the same
%% options as new/1 but the stream's own (`callback', `stream_cdata',
%% `xmlns_undeclaration'), and one more:
%% `merge_text => boolean()' (default `true'). With `false' the text is
%% kept in the pieces expat reports it in (a run of characters, each
%% reference, each line break, each CDATA section's lines are separate
%% `{xmlcdata, Bin}' children), which is what ejabberd 2.x's
%% xml_stream:parse_element/1 returned; inputs over 64 KB are fed in
%% slices, which may cut a piece in two.
%% Leading and trailing whitespace is fine; anything else around the
%% element is not well-formed.
-spec parse_element(iodata(), element_options()) ->
          {ok, element()} | {error, reason() | badarg}.
parse_element(Data, Opts) when is_map(Opts), not is_map_key(callback, Opts),
                               not is_map_key(stream_cdata, Opts),
                               not is_map_key(xmlns_undeclaration, Opts) ->
    Settings = element_settings(Opts),
    case to_binary(Data) of
        {ok, Bin} when byte_size(Bin) =< ?SMALL_ELEMENT ->
            element_result(small_element(Bin, Settings));
        {ok, Bin} ->
            element_result(large_element(Bin, Settings));
        error ->
            {error, badarg}
    end;
parse_element(Data, #{callback := Pid} = Opts) ->
    erlang:error({bad_option, callback, Pid}, [Data, Opts]);
parse_element(Data, #{stream_cdata := V} = Opts) ->
    erlang:error({bad_option, stream_cdata, V}, [Data, Opts]);
parse_element(Data, #{xmlns_undeclaration := V} = Opts) ->
    erlang:error({bad_option, xmlns_undeclaration, V}, [Data, Opts]);
parse_element(Data, Opts) ->
    erlang:error({bad_options, Opts}, [Data, Opts]).

%% @doc How many parsers exist in this node, closed or not, that the
%% garbage collector has not freed yet. For leak checks and monitoring.
-spec live_parsers() -> non_neg_integer().
live_parsers() ->
    stanza_stream_nif:live_parsers().

%%--------------------------------------------------------------------

%% Small elements parse in one NIF call with no parser resource: that is
%% most of the cost for a typical stanza. Larger ones go through a parser,
%% whose calls yield to the scheduler.
small_element(Bin, {Format, MaxSize, MaxDepth, Drop}) ->
    stanza_stream_nif:parse_small_element(Bin, Format, MaxSize, MaxDepth, Drop).

large_element(Bin, {Format, MaxSize, MaxDepth, Drop}) ->
    Parser = stanza_stream_nif:new_parser(Format, MaxSize, MaxDepth, Drop,
                                          ?ELEMENT_MODE, undefined, 0),
    {ok, Events} = take_moved(stanza_stream_nif:parse_final(Parser, Bin)),
    ok = stanza_stream_nif:close(Parser),
    Events.

%% A big stanza that spanned several slices of the NIF was finished outside
%% the caller's heap; rather than copy it (a long scheduler hold for a
%% stanza of megabytes), the NIF sent it to this very process, and put
%% '$stanza_moved' in its place. Messages to self arrive in order.
take_moved({moved, Events}) ->
    {ok, [take_moved_event(Event) || Event <- in_order(Events)]};
take_moved({ok, Events}) ->
    {ok, in_order(Events)};
take_moved(Result) ->
    Result.

%% The NIF gives the events newest first. Reversed here in Erlang, one
%% reduction an event, so that the 100,000 events of a 10 MB chunk of small
%% stanzas are preempted like any loop: reversed in C, or by the
%% lists:reverse/1 BIF, they held the scheduler 2.3-2.9 ms (measured).
in_order(Events) ->
    in_order(Events, []).

in_order([Event | Rest], Acc) ->
    in_order(Rest, [Event | Acc]);
in_order([], Acc) ->
    Acc.

take_moved_event('$stanza_moved') ->
    receive {'$stanza_moved', Event} -> Event end;
take_moved_event(Event) ->
    Event.

%% The stream settings, with the text-pieces flag (2) added to Drop.
element_settings(#{merge_text := Merge} = Opts) when is_boolean(Merge) ->
    {Format, MaxSize, MaxDepth, Drop} =
        stanza_options:settings(maps:remove(merge_text, Opts)),
    {Format, MaxSize, MaxDepth, Drop bor (case Merge of
                                              true -> 0;
                                              false -> 2
                                          end)};
element_settings(#{merge_text := Merge}) ->
    erlang:error({bad_option, merge_text, Merge});
element_settings(Opts) ->
    stanza_options:settings(Opts).

%% A final parse of one element ends with the element or with an error.
element_result(Events) ->
    case lists:last(Events) of
        {xmlstreamelement, Element} -> {ok, Element};
        {xmlstreamerror, Reason} -> {error, Reason}
    end.

to_binary(Data) when is_binary(Data) ->
    {ok, Data};
to_binary(Data) ->
    try {ok, iolist_to_binary(Data)}
    catch error:badarg -> error
    end.

create(Opts, Callback) ->
    {Format, MaxSize, MaxDepth, Drop} = stanza_options:settings(Opts),
    stanza_stream_nif:new_parser(Format, MaxSize, MaxDepth, Drop,
                                 ?STREAM_MODE, Callback,
                                 stanza_options:stream_flags(Opts)).
