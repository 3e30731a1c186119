%% @private
%% @doc fxml_stream's events with the `use_maps' option: fast_xml's
%% Elixir structs (FastXML.StreamStart, FastXML.El, FastXML.StreamEnd,
%% FastXML.StreamError) as plain maps; text between stanzas stays the
%% tuple `{xmlstreamcdata, Text}', as in fast_xml.
-module(stanza_fxml_maps).

-export([start/2, event/1]).

%% @doc The stream header: fast_xml keeps the root's namespace
%% declarations out of its attribute map.
-spec start(binary(), [{binary(), binary()}]) -> map().
start(Name, Attrs) ->
    #{'__struct__' => 'Elixir.FastXML.StreamStart', name => Name,
      attrs => maps:from_list([A || {K, _} = A <- Attrs, not is_declaration(K)])}.

%% @doc Every other event but stanzas (stanza_fxml_ns:stanza_map/2).
-spec event({xmlstreamend, binary()} | {xmlstreamerror, term()}
            | {xmlstreamcdata, binary()}) -> map() | {xmlstreamcdata, binary()}.
event({xmlstreamend, Name}) ->
    #{'__struct__' => 'Elixir.FastXML.StreamEnd', name => Name};
event({xmlstreamerror, Reason}) ->
    #{'__struct__' => 'Elixir.FastXML.StreamError', desc => Reason};
event({xmlstreamcdata, _} = Cdata) ->
    Cdata.

is_declaration(<<"xmlns">>) -> true;
is_declaration(<<"xmlns:", _/binary>>) -> true;
is_declaration(_) -> false.
