%% @doc One interface over every streaming parser the benchmark compares,
%% for the measurements that need a live parser rather than a throughput
%% loop: memory per parser, scheduler holds, chunking linearity.
%%
%% A library is a map of funs: `new' makes a parser, `feed' gives it one
%% chunk and returns the parser with the number of stanzas that chunk
%% completed, `close' frees it, and `subjects' names the processes and
%% ports that do the parser's work besides the caller (what a
%% long_schedule report may name). A library that is not installed, or
%% does not work, is `{skip, Why}'.
%%
%% The optional libraries (fast_xml, exml) are called through module
%% variables, so neither the compiler nor Dialyzer needs them.
-module(stanza_bench_libs).

-export([all/0, lib/1, label/1, header/0]).

-export_type([key/0, lib/0, parser/0]).

-type key() :: stanza_nif | stanza_push_self | stanza_port | fxml | exml
             | xmerl_sax.
-type parser() :: term().
-type lib() :: #{key := key(), label := string(),
                 new := fun(() -> parser()),
                 feed := fun((parser(), binary()) -> {parser(), non_neg_integer()}),
                 close := fun((parser()) -> ok),
                 reset => fun((parser()) -> ok),
                 subjects := fun((parser()) -> [pid() | port()])}.

-define(HEADER, <<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "from='example.com' id='c2s-4f2a9b' version='1.0' "
                  "xml:lang='en'>">>).

%% @doc Every library, installed or not, in the order of the tables.
-spec all() -> [{key(), lib() | {skip, string()}}].
all() ->
    [{K, lib(K)} || K <- [stanza_nif, stanza_port, fxml, exml, xmerl_sax]].

%% @doc The name a table shows for a library, installed or not.
-spec label(key()) -> string().
label(stanza_nif) -> "stanza_stream (NIF)";
label(stanza_push_self) -> "stanza_stream push to itself";
label(stanza_port) -> "stanza_port (driver)";
label(fxml) -> "fxml_stream (fast_xml)";
label(exml) -> "exml_stream (exml)";
label(xmerl_sax) -> "xmerl_sax_parser (a process each)".

%% @doc The stream header a server sends a client, as the benchmark feeds it.
-spec header() -> binary().
header() ->
    ?HEADER.

%% @doc One library, or why it cannot run here.
-spec lib(key()) -> lib() | {skip, string()}.
lib(stanza_nif) ->
    stanza_lib(stanza_nif, stanza_stream);
lib(stanza_push_self) ->
    stanza_push_self_lib();
lib(stanza_port) ->
    Lib = stanza_lib(stanza_port, stanza_port),
    Lib#{subjects := fun(P) -> [stanza_port:port(P)] end};
lib(fxml) ->
    probe(fxml_lib(), fun fxml_works/1);
lib(exml) ->
    probe(exml_lib(), fun exml_works/1);
lib(xmerl_sax) ->
    xmerl_sax_lib().

%%--------------------------------------------------------------------
%% stanza: the NIF and the driver share an API (pull mode).

stanza_lib(Key, Mod) ->
    #{key => Key, label => label(Key),
      new => fun() -> {ok, P} = Mod:new(#{}), P end,
      feed => fun(P, Chunk) ->
                      case Mod:parse(P, Chunk) of
                          {ok, Events} -> {P, count_stanzas(Events)};
                          {error, Reason} -> erlang:error({Key, Reason})
                      end
              end,
      close => fun(P) -> ok = Mod:close(P) end,
      reset => fun(P) -> ok = Mod:reset(P) end,
      subjects => fun(_) -> [] end}.

%% Push mode with the caller as the callback: events are taken out of its
%% own mailbox after each chunk, as for fast_xml below.
stanza_push_self_lib() ->
    #{key => stanza_push_self, label => label(stanza_push_self),
      new => fun() -> {ok, P} = stanza_stream:new(#{callback => self()}), P end,
      feed => fun(P, Chunk) ->
                      {ok, []} = stanza_stream:parse(P, Chunk),
                      {P, fxml_drain(0)}
              end,
      close => fun(P) -> ok = stanza_stream:close(P), _ = fxml_drain(0), ok end,
      reset => fun(P) -> ok = stanza_stream:reset(P) end,
      subjects => fun(_) -> [] end}.

count_stanzas(Events) ->
    lists:foldl(fun({xmlstreamelement, _}, N) -> N + 1;
                   ({xmlstreamerror, Why}, _) -> erlang:error({parse_failed, Why});
                   (_, N) -> N
                end, 0, Events).

%%--------------------------------------------------------------------
%% fast_xml: events are messages to a callback pid, here the caller,
%% which takes them out of its mailbox after each chunk as an owner
%% would.

fxml_lib() ->
    Mod = fxml_stream,
    #{key => fxml, label => label(fxml),
      new => fun() -> Mod:new(self()) end,
      feed => fun(S, Chunk) ->
                      S1 = Mod:parse(S, Chunk),
                      {S1, fxml_drain(0)}
              end,
      close => fun(S) -> _ = Mod:close(S), _ = fxml_drain(0), ok end,
      subjects => fun(_) -> [] end}.

fxml_drain(N) ->
    receive
        {'$gen_event', {xmlstreamelement, _}} -> fxml_drain(N + 1);
        {'$gen_event', {xmlstreamerror, Why}} -> erlang:error({fxml, Why});
        {'$gen_event', _} -> fxml_drain(N)
    after 0 -> N
    end.

fxml_works(#{new := New, feed := Feed, close := Close}) ->
    case code:which(fxml_stream) of
        non_existing -> {skip, "fast_xml not installed (Debian: erlang-p1-xml)"};
        _ ->
            _ = application:ensure_all_started(fast_xml),
            works(New, Feed, Close)
    end.

%%--------------------------------------------------------------------
%% exml (Erlang Solutions): exml_stream returns the elements it finished.

exml_lib() ->
    Mod = exml_stream,
    #{key => exml, label => label(exml),
      new => fun() -> {ok, P} = Mod:new_parser(), P end,
      feed => fun(P, Chunk) ->
                      case Mod:parse(P, Chunk) of
                          {ok, P1, Elements} -> {P1, count_xmlel(Elements)};
                          {error, Reason} -> erlang:error({exml, Reason})
                      end
              end,
      close => fun(P) -> _ = Mod:free_parser(P), ok end,
      subjects => fun(_) -> [] end}.

count_xmlel(Elements) ->
    length([E || E <- Elements, element(1, E) =:= xmlel]).

exml_works(#{new := New, feed := Feed, close := Close}) ->
    case code:which(exml_stream) of
        non_existing -> {skip, "exml not in the code path (not packaged in Debian)"};
        _ -> works(New, Feed, Close)
    end.

%%--------------------------------------------------------------------
%% xmerl_sax_parser has no parser object: a stream is a process blocked
%% in its continuation fun, which a user would run per connection. Its
%% memory is that process's.

xmerl_sax_lib() ->
    #{key => xmerl_sax, label => label(xmerl_sax),
      new => fun xmerl_sax_new/0,
      feed => fun xmerl_sax_feed/2,
      close => fun xmerl_sax_close/1,
      subjects => fun(Pid) -> [Pid] end}.

xmerl_sax_new() ->
    Owner = self(),
    spawn_link(fun() -> xmerl_sax_run(Owner) end).

%% Waits for the process to be gone, so that its memory is freed when
%% close returns, as with the other libraries.
xmerl_sax_close(Pid) ->
    unlink(Pid),
    MRef = monitor(process, Pid),
    exit(Pid, kill),
    receive {'DOWN', MRef, process, Pid, _} -> ok end.

xmerl_sax_feed(Pid, Chunk) ->
    Ref = make_ref(),
    Pid ! {feed, self(), Ref, Chunk},
    receive
        {Ref, Stanzas} -> {Pid, Stanzas};
        {'EXIT', Pid, Why} -> erlang:error({xmerl_sax, Why})
    end.

%% The continuation fun is called when the parser has used every byte it
%% was given: that is when the chunk's stanzas are known.
xmerl_sax_run(Owner) ->
    put(stanzas, 0),
    Opts = [{event_fun, fun xmerl_sax_event/3}, {event_state, 0},
            {continuation_fun, fun xmerl_sax_next/1},
            {continuation_state, none}],
    case xmerl_sax_parser:stream(<<>>, Opts) of
        {ok, _, _} -> ok;
        Error -> unlink(Owner), exit({xmerl_sax, element(1, Error)})
    end.

xmerl_sax_next(none) ->
    xmerl_sax_wait();
xmerl_sax_next({From, Ref}) ->
    From ! {Ref, get(stanzas)},
    xmerl_sax_wait().

xmerl_sax_wait() ->
    put(stanzas, 0),
    receive
        {feed, From, Ref, Chunk} -> {Chunk, {From, Ref}}
    end.

xmerl_sax_event({startElement, _, _, _, _}, _, Depth) ->
    Depth + 1;
xmerl_sax_event({endElement, _, _, _}, _, 2) ->
    put(stanzas, get(stanzas) + 1),
    1;
xmerl_sax_event({endElement, _, _, _}, _, Depth) ->
    Depth - 1;
xmerl_sax_event(_Event, _Location, Depth) ->
    Depth.

%%--------------------------------------------------------------------
%% Checking that an optional library works before measuring it.

probe(Lib, Check) ->
    try Check(Lib) of
        ok -> Lib;
        {skip, Why} -> {skip, Why}
    catch
        Class:Reason ->
            {skip, lists:flatten(io_lib:format("does not work here: ~0p:~0P",
                                               [Class, Reason, 8]))}
    end.

works(New, Feed, Close) ->
    P = New(),
    {P1, 0} = Feed(P, ?HEADER),
    {P2, 1} = Feed(P1, <<"<message><body>hi</body></message>">>),
    Close(P2).
