%% @private
%% @doc The NIF behind stanza_jid and the opt-in stringprep application.
%% Call those, not this: they check arguments first.
-module(stanza_jid_nif).

-export([prep/2, parse/1, part/2]).

-on_load(load/0).

-type reason() :: invalid_utf8 | too_long | prohibited | unassigned | bidi
                | bad_localpart | bad_domain | bad_resource | enomem.
-export_type([reason/0]).

-spec load() -> ok | {error, term()}.
load() ->
    Path = filename:join(stanza_priv:dir(), "stanza_jid_nif"),
    stanza_priv:load_nif_result(Path, erlang:load_nif(Path, 0), "erlang-dev").

%% Mode: 0 nodeprep, 1 nameprep, 2 resourceprep, 3 casefold (B.1, B.2,
%% NFKC), 4 casefold and the bidi rule; plus 8 for output longer than
%% 1023 bytes allowed.
-spec prep(0..12, binary()) -> binary() | reason().
prep(_Mode, _Binary) ->
    erlang:nif_error(nif_not_loaded).

-spec parse(binary()) -> {binary(), binary(), binary()} | reason().
parse(_Binary) ->
    erlang:nif_error(nif_not_loaded).

%% Kind: 0 localpart, 1 domainpart, 2 resourcepart.
-spec part(0..2, binary()) -> binary() | reason().
part(_Kind, _Binary) ->
    erlang:nif_error(nif_not_loaded).
