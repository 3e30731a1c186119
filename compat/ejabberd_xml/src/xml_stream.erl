%% @doc ejabberd 2.x's `xml_stream', on stanza_stream.
%%
%% Code written for ejabberd 2.x keeps working unchanged:
%% ```
%% 1> S0 = xml_stream:new(self()).
%% 2> S1 = xml_stream:parse(S0, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>").
%% 3> S2 = xml_stream:parse(S1, "<message><body>hi</body></message>").
%% 4> flush().
%% Shell got {'$gen_event',{xmlstreamstart,"stream:stream",
%%                          [{"xmlns:stream","http://etherx.jabber.org/streams"}]}}
%% Shell got {'$gen_event',{xmlstreamelement,
%%                          {xmlelement,"message",[],
%%                           [{xmlelement,"body",[],[{xmlcdata,<<"hi">>}]}]}}}
%% 5> xml_stream:parse_element("<iq type='get'/>").
%% {xmlelement,"iq",[{"type","get"}],[]}
%% '''
%% Terms are 2.x's (strings for names and attribute values, binaries for
%% text), comments and processing instructions are dropped as 2.x did, and
%% errors are `{xmlstreamerror, {Code, String}}' or
%% `{xmlstreamerror, "XML stanza is too big"}'. Unlike 2.x, the size limit
%% counts the bytes of each stanza exactly, and `reset/1' (from fast_xml)
%% restarts the stream after STARTTLS or SASL. Every difference from
%% ejabberd 2.1.13 is listed in doc/migrating-from-ejabberd-2.md.
%%
%% The state belongs to the process that called new/1,2: parse it there.
%%
%% Backend: the NIF (stanza_stream) by default, or the port driver
%% (stanza_port) as 2.x used, chosen by the application environment key
%% `xml_stream_backend' (`nif' or `port'), read when a stream is created:
%% ```
%% %% in sys.config
%% [{stanza, [{xml_stream_backend, port}]}].
%% %% or at run time
%% application:set_env(stanza, xml_stream_backend, port).
%% '''
%% With the port backend each stream is a port linked to the process that
%% created it, and closed when that process exits.
-module(xml_stream).

-export([new/1, new/2, parse/2, close/1, reset/1, parse_element/1]).

-export_type([xml_stream_state/0]).

-define(ELEMENT_OPTIONS,
        #{format => legacy, restricted => drop, merge_text => false}).

-record(xml_stream_state, {callback_pid :: pid(),
                           backend :: stanza_stream | stanza_port,
                           parser :: stanza_stream:parser()
                                   | stanza_port:parser(),
                           maxsize :: pos_integer() | infinity}).

-opaque xml_stream_state() :: #xml_stream_state{}.

%% @equiv new(CallbackPid, infinity)
-spec new(pid()) -> xml_stream_state().
new(CallbackPid) ->
    new(CallbackPid, infinity).

%% @doc A stream whose events go to CallbackPid as `{'$gen_event', Event}'.
-spec new(pid(), pos_integer() | infinity) -> xml_stream_state().
new(CallbackPid, MaxSize) ->
    Backend = backend(),
    {ok, Parser} = Backend:new(options(CallbackPid, MaxSize)),
    #xml_stream_state{callback_pid = CallbackPid, backend = Backend,
                      parser = Parser,
                      maxsize = MaxSize}.

%% @doc Parses more of the stream (a string or any iodata). As with 2.x's
%% port, using a closed state raises `badarg'.
-spec parse(xml_stream_state(), iodata()) -> xml_stream_state().
parse(#xml_stream_state{backend = Backend, parser = Parser} = State, Data) ->
    case Backend:parse(Parser, Data) of
        {ok, []} -> State;
        {error, _} -> erlang:error(badarg, [State, Data])
    end.

%% @doc A pristine stream for the same callback and limit (fast_xml's
%% reset/1): what a stream restart after STARTTLS or SASL needs.
-spec reset(xml_stream_state()) -> xml_stream_state().
reset(#xml_stream_state{backend = Backend, parser = Parser} = State) ->
    case Backend:reset(Parser) of
        ok -> State;
        {error, _} -> erlang:error(badarg, [State])
    end.

-spec close(xml_stream_state()) -> true.
close(#xml_stream_state{backend = Backend, parser = Parser}) ->
    _ = Backend:close(Parser),
    true.

%% @doc One whole element, as 2.x's parse_element/1 gave it: the element
%% with its text in the pieces expat reported (`"<a>x&amp;y</a>"' has the
%% three text children `<<"x">>', `<<"&">>' and `<<"y">>'; see
%% stanza_stream:parse_element/2's `merge_text'); `{error, parse_error}'
%% when something follows the element's end tag that is not whitespace, a
%% comment or a processing instruction; otherwise `{error, {Code,
%% String}}', expat's error (`""' and `"<a>"' give `{error, {3, "no
%% element found"}}'). Always parsed by the NIF, whatever the backend of
%% streams. Data that is not iodata raises `badarg'.
-spec parse_element(iodata()) ->
          stanza_stream:element() | {error, parse_error | {integer(), string()}}.
parse_element(Data) ->
    Bin = try iolist_to_binary(Data)
          catch error:badarg -> erlang:error(badarg, [Data])
          end,
    case stanza_stream:parse_element(Bin, ?ELEMENT_OPTIONS) of
        {ok, Element} -> Element;
        {error, {_Code, _String} = Reason} -> element_error(Bin, Reason)
    end.

%% 2.x read the events expat gave before its error in order: when the
%% element's end came first, the answer was parse_error.
element_error(Bin, Reason) ->
    case closed_before_error(Bin) of
        true -> {error, parse_error};
        false -> {error, Reason}
    end.

%% Whether the input's root element ends before the point where expat
%% failed: then the input cut there (or, when the failing token started
%% earlier, cut at that token, which parsing the cut input finds) is a
%% whole element. Each step cuts the input shorter.
closed_before_error(Bin) ->
    case stanza_stream:parse_element(Bin, #{restricted => drop}) of
        {ok, _} ->
            true;
        {error, {not_well_formed, #{offset := Offset}}}
          when Offset > 0, Offset < byte_size(Bin) ->
            closed_before_error(binary:part(Bin, 0, Offset));
        {error, _} ->
            false
    end.

%%--------------------------------------------------------------------

%% The backend module for new streams, from the application environment.
-spec backend() -> stanza_stream | stanza_port.
backend() ->
    case application:get_env(stanza, xml_stream_backend, nif) of
        nif -> stanza_stream;
        port -> stanza_port;
        Other -> erlang:error({bad_xml_stream_backend, Other})
    end.

-spec options(pid(), pos_integer() | infinity) -> stanza_stream:options().
options(CallbackPid, MaxSize) ->
    Base = #{format => legacy, restricted => drop, callback => CallbackPid},
    case MaxSize of
        infinity -> Base;
        N when is_integer(N), N > 0 -> Base#{max_stanza_size => N}
    end.
