%% @private
%% @doc The parser options shared by stanza_stream and stanza_port:
%% checked once here, and turned into the numbers the C side takes.
-module(stanza_options).

-export([settings/1, stream_flags/1]).

-export_type([settings/0]).

%% {Format, MaxStanzaSize (0: none), MaxDepth, Drop}
-type settings() :: {0..2, non_neg_integer(), pos_integer(), 0 | 1}.

-define(DEFAULT_MAX_DEPTH, 1024).
%% Bounds of the C side's integers; a larger limit means no limit anyway.
-define(MAX_DEPTH_CAP, 16#FFFFFFFF).
-define(MAX_SIZE_CAP, 16#FFFFFFFFFFFFFFFF).

%% @doc The settings of an options map (stanza_stream:options()). An
%% unknown option or a bad value raises `{bad_option, Key, Value}'.
-spec settings(stanza_stream:options()) -> settings().
settings(Opts) when map_size(Opts) =:= 0 ->
    {format_code(binary), 0, ?DEFAULT_MAX_DEPTH, drop_code(reject)};
settings(Opts) ->
    _ = maps:fold(fun check_option/3, ok, Opts),
    {format_code(maps:get(format, Opts, binary)),
     max_size(maps:get(max_stanza_size, Opts, infinity)),
     min(maps:get(max_depth, Opts, ?DEFAULT_MAX_DEPTH), ?MAX_DEPTH_CAP),
     drop_code(maps:get(restricted, Opts, reject))}.

check_option(format, F, ok) when F =:= binary; F =:= legacy; F =:= xmlel -> ok;
check_option(max_stanza_size, infinity, ok) -> ok;
check_option(max_stanza_size, N, ok) when is_integer(N), N > 0 -> ok;
check_option(max_depth, N, ok) when is_integer(N), N > 0 -> ok;
check_option(restricted, R, ok) when R =:= reject; R =:= drop -> ok;
check_option(stream_cdata, B, ok) when is_boolean(B) -> ok;
check_option(xmlns_undeclaration, K, ok) when K =:= keep; K =:= drop -> ok;
check_option(callback, Pid, ok) when is_pid(Pid), node(Pid) =:= node() -> ok;
check_option(Key, Value, ok) -> erlang:error({bad_option, Key, Value}).

%% @doc The stream options only the NIF's streams take, as the bits its
%% new_parser expects: 1 for `stream_cdata => true', 2 for
%% `xmlns_undeclaration => keep'. Call settings/1 first (it checks them).
-spec stream_flags(stanza_stream:options()) -> 0..3.
stream_flags(Opts) ->
    flag(maps:get(stream_cdata, Opts, false), 1) +
        flag(maps:get(xmlns_undeclaration, Opts, drop) =:= keep, 2).

flag(true, Bit) -> Bit;
flag(false, _) -> 0.

format_code(binary) -> 0;
format_code(legacy) -> 1;
format_code(xmlel) -> 2.

max_size(infinity) -> 0;
max_size(N) -> min(N, ?MAX_SIZE_CAP).

drop_code(reject) -> 0;
drop_code(drop) -> 1.
