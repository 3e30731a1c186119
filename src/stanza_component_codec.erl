%% @doc The XML parser and serializer a stanza_component uses, behind a
%% small behaviour so that the very same component can be measured on
%% another library (`make load' runs the echo component on stanza and on
%% fast_xml; test/stanza_component_fxml.erl is that other codec).
%%
%% This module is the default codec: stanza_stream (pull mode: the events
%% of a chunk come back from the call) and stanza_xml's serializer.
%%
%% A codec's parse/2 returns the events of the chunk in order; an error is
%% the last event, `{xmlstreamerror, Reason}', with Reason one of
%% stanza_stream's reasons (`stanza_too_big', `{not_well_formed, _}', ...)
%% so that the component's callers match the same terms whatever codec.
-module(stanza_component_codec).

-export([new_parser/1, parse/2, close_parser/1, encode/1]).

-type parser_options() :: #{format := stanza_stream:format(),
                            max_stanza_size := pos_integer() | infinity}.
-export_type([parser_options/0]).

-callback new_parser(parser_options()) -> term().
-callback parse(Parser :: term(), binary()) -> {[stanza_stream:event()], term()}.
-callback close_parser(Parser :: term()) -> ok.
-callback encode(stanza_xml:element()) -> iodata().

%% @doc A stanza_stream parser for one stream.
-spec new_parser(parser_options()) -> stanza_stream:parser().
new_parser(Opts) ->
    {ok, Parser} = stanza_stream:new(Opts),
    Parser.

%% @doc The events of the next bytes.
-spec parse(stanza_stream:parser(), binary()) ->
          {[stanza_stream:event()], stanza_stream:parser()}.
parse(Parser, Data) ->
    {ok, Events} = stanza_stream:parse(Parser, Data),
    {Events, Parser}.

%% @doc Frees the parser now.
-spec close_parser(stanza_stream:parser()) -> ok.
close_parser(Parser) ->
    stanza_stream:close(Parser).

%% @doc The element as XML (raises `{badxml, ...}' on a bad term).
-spec encode(stanza_xml:element()) -> binary().
encode(El) ->
    stanza_xml:element_to_binary(El).
