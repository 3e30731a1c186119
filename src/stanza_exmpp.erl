%% @doc exmpp_xml's everyday helpers, for code written against exmpp.
%%
%% Replace `exmpp_xml:' with `stanza_exmpp:' and these calls keep their
%% meaning on stanza's elements (`#xmlel{}' or `{xmlelement, ...}'; the
%% result has the form of the argument):
%% ```
%% 1> El = stanza_exmpp:element(<<"jabber:iq:version">>, <<"query">>).
%% {xmlel,<<"query">>,[{<<"xmlns">>,<<"jabber:iq:version">>}],[]}
%% 2> Iq = stanza_exmpp:set_attribute({xmlel, <<"iq">>, [], [El]}, type, get).
%% {xmlel,<<"iq">>,[{<<"type">>,<<"get">>}],
%%        [{xmlel,<<"query">>,[{<<"xmlns">>,<<"jabber:iq:version">>}],[]}]}
%% 3> stanza_exmpp:get_attribute(Iq, <<"id">>, undefined).
%% undefined
%% 4> stanza_exmpp:get_cdata(stanza_exmpp:get_element(Iq, <<"body">>)).
%% <<>>
%% 5> stanza_exmpp:get_ns_as_atom(El).
%% undefined
%% '''
%% Names may be binaries, strings or atoms (an atom is only read, never
%% made). Attribute values set from an atom or an integer are written as
%% their text. get_ns_as_atom/1 never creates an atom: a namespace for
%% which no atom exists yet gives `undefined' (exmpp created one for every
%% namespace it saw, so a peer could fill the atom table).
-module(stanza_exmpp).

-compile({no_auto_import, [element/2]}).

-export([get_attribute/3, set_attribute/3, remove_attribute/2,
         get_element/2, get_elements/2, get_cdata/1, element/1, element/2,
         element/4, get_ns_as_atom/1]).

-type name() :: stanza_xml:name() | atom().
-type element() :: stanza_xml:element().
-type value() :: iodata() | atom() | integer().

-define(IS_TAG(T), (T =:= xmlelement orelse T =:= xmlel)).

%% @doc The value of attribute Name, or Default when there is none.
-spec get_attribute(element(), name(), Default) -> iodata() | Default.
get_attribute({T, _, Attrs, _}, Name, Default) when ?IS_TAG(T) ->
    case stanza_xml:get_attr(name(Name), Attrs) of
        {value, Value} -> Value;
        false -> Default
    end.

%% @doc Sets attribute Name to Value: replaced where it is, or added last.
-spec set_attribute(element(), name(), value()) -> element().
set_attribute({T, ElName, Attrs, Children}, Name, Value) when ?IS_TAG(T) ->
    Key = name(Name),
    New = {like(ElName, Key), like(ElName, text(Value))},
    {T, ElName, set(Attrs, Key, New), Children}.

set([{K, _} = A | Rest], Key, New) ->
    case stanza_xml:same_name(K, Key) of
        true -> [New | [X || {K1, _} = X <- Rest,
                             not stanza_xml:same_name(K1, Key)]];
        false -> [A | set(Rest, Key, New)]
    end;
set([], _Key, New) ->
    [New].

%% @doc The element without attribute Name (every occurrence).
-spec remove_attribute(element(), name()) -> element().
remove_attribute({T, ElName, Attrs, Children}, Name) when ?IS_TAG(T) ->
    Key = name(Name),
    {T, ElName, [A || {K, _} = A <- Attrs, not stanza_xml:same_name(K, Key)],
     Children}.

%% @doc The first child element named Name, or `undefined'.
-spec get_element(element(), name()) -> element() | undefined.
get_element(El, Name) ->
    case stanza_xml:get_subtag(El, name(Name)) of
        false -> undefined;
        Sub -> Sub
    end.

%% @doc Every child element named Name.
-spec get_elements(element(), name()) -> [element()].
get_elements(El, Name) ->
    stanza_xml:get_subtags(El, name(Name)).

%% @doc The element's text (its direct text children, joined), a binary;
%% `<<>>' for `undefined', so that `get_cdata(get_element(El, N))' works
%% when the child is missing, as in exmpp.
-spec get_cdata(element() | undefined) -> binary().
get_cdata(undefined) ->
    <<>>;
get_cdata(El) ->
    stanza_xml:get_tag_cdata(El).

%% @doc An empty `#xmlel{}' named Name.
-spec element(name()) -> element().
element(Name) ->
    {xmlel, name(Name), [], []}.

%% @doc An empty `#xmlel{}' named Name in namespace NS (an `xmlns'
%% attribute).
-spec element(name(), name()) -> element().
element(NS, Name) ->
    {xmlel, name(Name), [{<<"xmlns">>, name(NS)}], []}.

%% @doc A `#xmlel{}' named Name in namespace NS with these attributes and
%% children, as exmpp_xml:element/4 made one. NS `undefined' (what
%% get_ns_as_atom/1 gives for no namespace) means no `xmlns' attribute.
%% Attributes are `{Name, Value}' pairs, each name and value a binary,
%% string or atom (an integer value too); they come after the `xmlns'.
-spec element(name() | undefined, name(), [{name(), value()}], [element() | stanza_xml:cdata()]) ->
          element().
element(undefined, Name, Attrs, Children) ->
    {xmlel, name(Name), [{name(K), text(V)} || {K, V} <- Attrs], Children};
element(NS, Name, Attrs, Children) ->
    {xmlel, Name1, Attrs1, Children1} = element(undefined, Name, Attrs, Children),
    {xmlel, Name1, [{<<"xmlns">>, name(NS)} | Attrs1], Children1}.

%% @doc The element's `xmlns' as an existing atom, or `undefined' when it
%% has none or no such atom exists.
-spec get_ns_as_atom(element()) -> atom().
get_ns_as_atom(El) ->
    case stanza_xml:get_tag_attr(<<"xmlns">>, El) of
        {value, NS} -> existing_atom(stanza_xml:to_bin(NS));
        false -> undefined
    end.

%%--------------------------------------------------------------------

existing_atom(NS) ->
    try binary_to_existing_atom(NS, utf8)
    catch error:badarg -> undefined
    end.

name(A) when is_atom(A) -> atom_to_binary(A, utf8);
name(B) when is_binary(B) -> B;
name(L) when is_list(L) -> stanza_xml:to_bin(L).

text(A) when is_atom(A) -> atom_to_binary(A, utf8);
text(I) when is_integer(I) -> integer_to_binary(I);
text(X) -> stanza_xml:to_bin(X).

%% A value in the form of the element's name: 2.x terms hold strings.
like(ElName, Bin) when is_list(ElName) -> binary_to_list(Bin);
like(_, Bin) -> Bin.
