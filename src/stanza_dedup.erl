%% @doc Duplicate stanza suppression: a bounded window of recently seen
%% keys, in C.
%%
%% ```
%% 1> T = stanza_dedup:new(#{capacity => 100000, ttl_ms => 60000}).
%% 2> K = stanza_dedup:stanza_key({xmlel, <<"message">>,
%%                                 [{<<"from">>, <<"a@b/c">>}, {<<"id">>, <<"42">>}],
%%                                 []}).
%% 3> stanza_dedup:seen(T, K).
%% false
%% 4> stanza_dedup:seen(T, K).
%% true
%% 5> stanza_dedup:stats(T).
%% #{capacity => 100000,memory => 3724352,size => 1}
%% '''
%%
%% `seen/2' answers `false' the first time it sees a key and records it in
%% the same step; `true' while the key is in the window. A key leaves the
%% window `ttl_ms' after it was first recorded (a repeat does not extend
%% it), or earlier when `capacity' newer keys have been recorded since
%% (oldest first).
%%
%% Keys are not stored: each table hashes them with SipHash-2-4-128 under
%% its own random 128-bit key (from OpenSSL's CSPRNG) and keeps the 128
%% bits. Two distinct keys in one window collide with probability about
%% n^2 / 2^129 for n keys in the window: below 10^-26 for a window of a
%% million, and an attacker who does not know the table's key cannot aim
%% for a collision. A collision would make `seen/2' answer `true' for a key
%% never seen (a false positive); there are no false negatives.
%%
%% Memory is allocated once, at `new/1', through enif_alloc (so
%% erlang:memory/0 counts it): 32 bytes per entry plus 4 to 8 bytes of
%% index, at most 40 bytes per entry of capacity. Calls from many processes
%% are safe; a mutex per table covers O(1) work (the key is hashed before
%% it is taken). A table nobody references is freed by the garbage
%% collector; `close/1' frees it at once.
-module(stanza_dedup).

-export([new/0, new/1, seen/2, stats/1, close/1, stanza_key/1]).

-export_type([table/0, options/0, stats/0]).

-include("stanza.hrl").
-include("stanza_xmlel.hrl").

-opaque table() :: reference().
-type options() :: #{capacity => pos_integer(),
                     ttl_ms => pos_integer() | infinity}.
-type stats() :: stanza_ids_nif:stats().

-define(DEFAULT_CAPACITY, 65536).
-define(DEFAULT_TTL_MS, 60000).
%% 2^28 entries: the C table's limit.
-define(MAX_CAPACITY, 268435456).
%% infinity, as far as a millisecond clock is concerned (146 million years).
-define(FOREVER_MS, 4611686018427387903).

%% @equiv new(#{})
-spec new() -> table().
new() ->
    new(#{}).

%% @doc A new table: `capacity' keys (default 65536, at most 2^28) for at
%% most `ttl_ms' milliseconds each (default 60000, or `infinity'). An
%% unknown option or a bad value raises `{bad_option, Key, Value}';
%% options that are not a map raise `{bad_options, Opts}'.
-spec new(options()) -> table().
new(Opts) when is_map(Opts) ->
    _ = maps:fold(fun check_option/3, ok, Opts),
    Capacity = maps:get(capacity, Opts, ?DEFAULT_CAPACITY),
    Ttl = ttl(maps:get(ttl_ms, Opts, ?DEFAULT_TTL_MS)),
    stanza_ids_nif:dedup_new(Capacity, Ttl);
new(Opts) ->
    erlang:error({bad_options, Opts}, [Opts]).

check_option(capacity, N, ok) when is_integer(N), N > 0, N =< ?MAX_CAPACITY -> ok;
check_option(ttl_ms, infinity, ok) -> ok;
check_option(ttl_ms, Ms, ok) when is_integer(Ms), Ms > 0, Ms =< ?FOREVER_MS -> ok;
check_option(Key, Value, ok) -> erlang:error({bad_option, Key, Value}).

ttl(infinity) -> ?FOREVER_MS;
ttl(Ms) -> Ms.

%% @doc `false' the first time Key is seen (and records it, atomically),
%% `true' when it was seen within the window. Key is any iodata of at most
%% 1 MB. Raises `badarg' if Table is not a table or Key not iodata, and
%% `closed' after close/1.
-spec seen(table(), iodata()) -> boolean().
seen(Table, Key) ->
    case stanza_ids_nif:dedup_seen(Table, Key) of
        closed -> erlang:error(closed, [Table, Key]);
        Seen -> Seen
    end.

%% @doc Keys held (expired ones not yet swept included), capacity, and
%% bytes allocated for the table, as counted by the table itself.
-spec stats(table()) -> stats().
stats(Table) ->
    case stanza_ids_nif:dedup_stats(Table) of
        closed -> erlang:error(closed, [Table]);
        Stats -> Stats
    end.

%% @doc Frees the table now. Later calls but close/1 raise `closed'.
-spec close(table()) -> ok.
close(Table) ->
    stanza_ids_nif:dedup_close(Table).

%% @doc The usual duplicate key of a stanza: its `from', `id' and `type'
%% attributes, each marked present or absent and length-prefixed, so no
%% two different triples give the same key. Takes `{xmlelement, ...}'
%% with binary or string (UTF-8 byte list) attributes and `#xmlel{}';
%% the same stanza gives the same key in every form.
%%
%% ```
%% stanza_dedup:stanza_key({xmlelement, "iq", [{"id", "1"}], []}) =:=
%%     stanza_dedup:stanza_key({xmlel, <<"iq">>, [{<<"id">>, <<"1">>}], []}).
%% '''
-spec stanza_key(#xmlel{} | #xmlelement{}) -> binary().
stanza_key({xmlel, _Name, Attrs, _Children}) when is_list(Attrs) ->
    key_of(Attrs);
stanza_key({xmlelement, _Name, Attrs, _Children}) when is_list(Attrs) ->
    key_of(Attrs);
stanza_key(Other) ->
    erlang:error(badarg, [Other]).

key_of(Attrs) ->
    Fields = [field(Name, Attrs) || Name <- [<<"from">>, <<"id">>, <<"type">>]],
    iolist_to_binary(Fields).

field(Name, Attrs) ->
    case find(Name, Attrs) of
        none -> <<0>>;
        Value -> [<<1, (byte_size(Value)):32>>, Value]
    end.

find(_Name, []) ->
    none;
find(Name, [{K, V} | Rest]) ->
    case to_binary(K) of
        Name -> to_binary(V);
        _ -> find(Name, Rest)
    end;
find(Name, [Other | _]) ->
    erlang:error(badarg, [{Name, Other}]).

%% ejabberd 2.x strings are UTF-8 byte lists; a list with code points
%% above 255 is taken as Unicode text.
to_binary(B) when is_binary(B) ->
    B;
to_binary(L) when is_list(L) ->
    try iolist_to_binary(L)
    catch error:badarg -> utf8(L)
    end;
to_binary(Other) ->
    erlang:error(badarg, [Other]).

utf8(L) ->
    case unicode:characters_to_binary(L) of
        B when is_binary(B) -> B;
        _ -> erlang:error(badarg, [L])
    end.
