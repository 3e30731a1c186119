%% @private
%% @doc The NIF behind stanza_xml's serializer. Call stanza_xml, not this
%% module.
-module(stanza_xml_nif).

-export([serialize/2]).

-on_load(load/0).

-spec load() -> ok | {error, term()}.
load() ->
    Path = filename:join(stanza_priv:dir(), "stanza_xml_nif"),
    stanza_priv:load_nif_result(Path, erlang:load_nif(Path, 0),
                                "erlang-dev").

%% Mode 0: the whole element; 1: its start tag only; plus 2: fast_xml's
%% escaping (">" plain in attribute values, CR plain in text).
-spec serialize(term(), 0..3) -> binary().
serialize(_Element, _Mode) ->
    erlang:nif_error(nif_not_loaded).
