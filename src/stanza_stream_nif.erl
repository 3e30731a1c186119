%% @private
%% @doc The NIF behind stanza_stream. Call stanza_stream, not this module:
%% it validates options and normalises iodata before anything reaches C.
-module(stanza_stream_nif).

-export([new_parser/7, parse/2, parse_final/2, parse_small_element/5,
         reset/1, close/1,
         controlling_process/2, live_parsers/0, reaped_envs/0]).

-on_load(load/0).

-type parser() :: reference().
-export_type([parser/0]).

-spec load() -> ok | {error, term()}.
load() ->
    Path = filename:join(stanza_priv:dir(), "stanza_stream_nif"),
    stanza_priv:load_nif_result(Path, erlang:load_nif(Path, 0),
                                "libexpat1-dev and erlang-dev").

%% Flags: 1 drops comments and PIs, 2 keeps expat's text pieces.
%% StreamFlags: 1 reports text between stanzas, 2 keeps xmlns=''.
-spec new_parser(0..2, non_neg_integer(), pos_integer(), 0..3, 0 | 1,
                 pid() | undefined, 0..3) -> parser().
new_parser(_Format, _MaxSize, _MaxDepth, _Flags, _ElementMode, _Callback,
           _StreamFlags) ->
    erlang:nif_error(nif_not_loaded).

%% Events newest first; {moved, Events}: see stanza_stream:take_moved/1.
-spec parse(parser(), binary()) ->
          {ok | moved, list()} | {error, closed | not_owner}.
parse(_Parser, _Data) ->
    erlang:nif_error(nif_not_loaded).

-spec parse_final(parser(), binary()) ->
          {ok | moved, list()} | {error, closed | not_owner}.
parse_final(_Parser, _Data) ->
    erlang:nif_error(nif_not_loaded).

-spec parse_small_element(binary(), 0..2, non_neg_integer(), pos_integer(),
                          0..3) -> list().
parse_small_element(_Data, _Format, _MaxSize, _MaxDepth, _Flags) ->
    erlang:nif_error(nif_not_loaded).

-spec reset(parser()) -> ok | {error, closed | not_owner}.
reset(_Parser) ->
    erlang:nif_error(nif_not_loaded).

-spec close(parser()) -> ok | {error, not_owner}.
close(_Parser) ->
    erlang:nif_error(nif_not_loaded).

-spec controlling_process(parser(), pid()) -> ok | {error, closed | not_owner}.
controlling_process(_Parser, _Pid) ->
    erlang:nif_error(nif_not_loaded).

-spec live_parsers() -> non_neg_integer().
live_parsers() ->
    erlang:nif_error(nif_not_loaded).

%% How many environments of half-built big stanzas were freed by the
%% background thread rather than on a scheduler (for tests).
-spec reaped_envs() -> non_neg_integer().
reaped_envs() ->
    erlang:nif_error(nif_not_loaded).
