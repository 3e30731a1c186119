%% @doc Element terms: a safe serializer (C) and the helpers ejabberd
%% modules use (ejabberd 2.x's `xml' table and fast_xml's `fxml' extras).
%%
%% Every function takes both tag forms, `{xmlelement, Name, Attrs,
%% Children}' (2.x, with strings or binaries) and `{xmlel, Name, Attrs,
%% Children}' (`#xmlel{}', binaries), and returns elements in the form it
%% was given. Names are compared as bytes, so `"to"' finds `<<"to">>'.
%%
%% ```
%% 1> El = {xmlel, <<"message">>, [{<<"to">>, <<"a@b">>}],
%%          [{xmlel, <<"body">>, [], [{xmlcdata, <<"1 < 2">>}]}]}.
%% 2> stanza_xml:element_to_binary(El).
%% <<"<message to='a@b'><body>1 &lt; 2</body></message>">>
%% 3> stanza_xml:get_path_s(El, [{elem, <<"body">>}, cdata]).
%% <<"1 < 2">>
%% 4> stanza_xml:get_tag_attr_s(<<"type">>, El).
%% <<>>
%% 5> stanza_xml:element_to_binary({xmlel, <<"a><evil/">>, [], []}).
%% ** exception error: {badxml,{xmlel,<<"a><evil/">>,[],[]},
%%                             {bad_element_name,[],not_a_name}}
%% '''
%%
%% == Serializer ==
%% element_to_binary/1 writes attributes single-quoted and childless
%% elements as `<a/>'. In text and attribute values it escapes
%% `& < > " '' as `&amp; &lt; &gt; &quot; &apos;' (as 2.x did) and CR as
%% `&#xD;'; attribute values also get tab and LF as `&#x9;' and `&#xA;'.
%% So every text and value comes back unchanged from a parser. Names,
%% attribute names and values, and text may be any iodata (strings are
%% byte lists, UTF-8 encoded, as in 2.x's terms).
%%
%% It checks what it writes: names must be XML Names (a prefix and colon
%% included), text and values valid UTF-8 with only characters XML 1.0
%% allows. The work is done by a loop with its own stack, so depth is
%% limited only by memory, and big elements are written in steps of about
%% a millisecond, yielding the scheduler in between.
%%
%% A bad term raises `error({badxml, Element, {What, Path, Why}})', where
%% Element is the argument, and:
%% <ul>
%% <li>What is `bad_element' (not an element or cdata tuple),
%%   `bad_element_name', `bad_attributes' (not a proper list),
%%   `bad_attribute' (an item that is not a pair), `bad_attribute_name',
%%   `bad_attribute_value', `bad_children' (not a proper list) or
%%   `bad_cdata';</li>
%% <li>Path locates it: the 1-based positions of the children to follow
%%   from the argument, `[]' for the argument itself; for the attribute
%%   reasons it ends with `{attr, N}', the attribute's position;</li>
%% <li>Why is `not_an_element', `not_a_pair', `not_a_list', `not_iodata',
%%   `not_a_name', `invalid_utf8' or `{forbidden_char, CodePoint}'.</li>
%% </ul>
%% For instance, invalid UTF-8 in the third attribute of the first child
%% of the argument's second child raises `{badxml, El,
%% {bad_attribute_value, [2, 1, {attr, 3}], invalid_utf8}}'.
%%
%% == Helpers ==
%% Text comes back as a binary (text is always `{xmlcdata, binary()}' in
%% parsed terms); attribute values come back as stored. A missing
%% attribute reads as the empty value of the type of the name asked with:
%% `""' for a string name (2.x), `<<>>' for a binary name. The compat
%% module `xml' returns strings everywhere, exactly as 2.x did.
-module(stanza_xml).

%% Serializer.
-export([element_to_binary/1, element_to_iolist/1, element_to_string/1,
         element_to_header/1, element_to_binary/2, element_to_header/2]).
%% ejabberd 2.x's xml table.
-export([crypt/1, remove_cdata/1, get_cdata/1, get_tag_cdata/1,
         get_attr/2, get_attr_s/2, get_tag_attr/2, get_tag_attr_s/2,
         get_subtag/2, get_subtag_cdata/2, append_subtags/2, get_path_s/2,
         replace_tag_attr/3]).
%% fast_xml's extras and the way back.
-export([get_subtags/2, get_subtag_with_xmlns/3, get_subtags_with_xmlns/3,
         replace_subtag/2, remove_subtags/3, to_xmlel/1, to_xmlelement/1]).
%% Shared with the other helper modules.
-export([same_name/2, to_bin/1]).

-export_type([element/0, child/0, cdata/0, attr/0, name/0, path_item/0,
              reason/0]).

-type name() :: binary() | string().
-type attr() :: {name(), iodata()}.
-type cdata() :: {xmlcdata, iodata()}.
-type element() :: {xmlelement | xmlel, name(), [attr()], [child()]}.
-type child() :: element() | cdata().
-type path_item() :: {elem, name()} | {attr, name()} | cdata.
-type reason() :: {bad_element | bad_element_name | bad_attributes
                   | bad_attribute | bad_attribute_name
                   | bad_attribute_value | bad_children | bad_cdata,
                   [pos_integer() | {attr, pos_integer()}],
                   not_an_element | not_a_pair | not_a_list | not_iodata
                   | not_a_name | invalid_utf8
                   | {forbidden_char, non_neg_integer()}}.

-define(IS_TAG(T), (T =:= xmlelement orelse T =:= xmlel)).

%%====================================================================
%% Serializer
%%====================================================================

%% @doc The element (or a `{xmlcdata, Text}') as XML. Raises
%% `{badxml, El, reason()}' on a bad term (see the module doc).
-spec element_to_binary(child()) -> binary().
element_to_binary(El) ->
    stanza_xml_nif:serialize(El, 0).

%% @doc element_to_binary/1 as an iolist: a list holding the binary, so
%% that 2.x code that appends to the result with `++' keeps working.
-spec element_to_iolist(child()) -> [binary()].
element_to_iolist(El) ->
    [stanza_xml_nif:serialize(El, 0)].

%% @equiv element_to_iolist(El)
-spec element_to_string(child()) -> [binary()].
element_to_string(El) ->
    element_to_iolist(El).

%% @doc The start tag only, `<name attrs>' (fast_xml's
%% element_to_header/1, for stream headers); children are ignored.
-spec element_to_header(element()) -> binary().
element_to_header(El) ->
    stanza_xml_nif:serialize(El, 1).

%% @doc element_to_binary/1 with an escaping style: `stanza' (that of
%% element_to_binary/1) or `fast_xml', which writes what fast_xml writes,
%% byte for byte: `>' plain in attribute values and CR plain in text (a
%% parser reads that CR back as LF). Both are well-formed XML; the checks
%% are the same.
-spec element_to_binary(child(), stanza | fast_xml) -> binary().
element_to_binary(El, Style) ->
    stanza_xml_nif:serialize(El, style_bits(Style)).

%% @doc element_to_header/1 with an escaping style (element_to_binary/2).
-spec element_to_header(element(), stanza | fast_xml) -> binary().
element_to_header(El, Style) ->
    stanza_xml_nif:serialize(El, 1 bor style_bits(Style)).

style_bits(stanza) -> 0;
style_bits(fast_xml) -> 2.

%%====================================================================
%% ejabberd 2.x's table
%%====================================================================

%% @doc Escapes `& < > " '' as `&amp; &lt; &gt; &quot; &apos;' (2.x's
%% crypt/1, nothing else). A binary gives a binary, a string a string.
-spec crypt(binary()) -> binary(); (string()) -> string().
crypt(S) when is_binary(S) ->
    case binary:match(S, [<<"&">>, <<"<">>, <<">">>, <<"\"">>, <<"'">>]) of
        nomatch -> S;
        _ -> << <<(crypt_byte(C))/binary>> || <<C>> <= S >>
    end;
crypt(S) when is_list(S) ->
    lists:flatmap(fun crypt_char/1, S).

crypt_byte($&) -> <<"&amp;">>;
crypt_byte($<) -> <<"&lt;">>;
crypt_byte($>) -> <<"&gt;">>;
crypt_byte($") -> <<"&quot;">>;
crypt_byte($') -> <<"&apos;">>;
crypt_byte(C) -> <<C>>.

crypt_char($&) -> "&amp;";
crypt_char($<) -> "&lt;";
crypt_char($>) -> "&gt;";
crypt_char($") -> "&quot;";
crypt_char($') -> "&apos;";
crypt_char(C) -> [C].

%% @doc The element children of a child list (text dropped).
-spec remove_cdata([child()]) -> [element()].
remove_cdata(Children) ->
    [El || {T, _, _, _} = El <- Children, ?IS_TAG(T)].

%% @doc The text of a child list, concatenated; `<<>>' when there is none.
-spec get_cdata([child()]) -> binary().
get_cdata(Children) ->
    iolist_to_binary([Text || {xmlcdata, Text} <- Children]).

%% @doc get_cdata/1 of an element's children.
-spec get_tag_cdata(element()) -> binary().
get_tag_cdata({T, _, _, Children}) when ?IS_TAG(T) ->
    get_cdata(Children).

%% @doc `{value, V}' for the first attribute named Name, or `false'.
-spec get_attr(name(), [attr()]) -> {value, iodata()} | false.
get_attr(Name, [{Key, Value} | Rest]) ->
    case same_name(Key, Name) of
        true -> {value, Value};
        false -> get_attr(Name, Rest)
    end;
get_attr(_Name, []) ->
    false.

%% @doc The value of attribute Name, or the empty value of Name's type
%% (`""' or `<<>>').
-spec get_attr_s(name(), [attr()]) -> iodata().
get_attr_s(Name, Attrs) ->
    case get_attr(Name, Attrs) of
        {value, Value} -> Value;
        false -> empty(Name)
    end.

%% @doc get_attr/2 on an element's attributes.
-spec get_tag_attr(name(), element()) -> {value, iodata()} | false.
get_tag_attr(Name, {T, _, Attrs, _}) when ?IS_TAG(T) ->
    get_attr(Name, Attrs).

%% @doc get_attr_s/2 on an element's attributes.
-spec get_tag_attr_s(name(), element()) -> iodata().
get_tag_attr_s(Name, {T, _, Attrs, _}) when ?IS_TAG(T) ->
    get_attr_s(Name, Attrs).

%% @doc The first child element named Name, or `false'.
-spec get_subtag(element(), name()) -> element() | false.
get_subtag({T, _, _, Children}, Name) when ?IS_TAG(T) ->
    first_child(Children, fun(El) -> is_named(El, Name) end).

%% @doc The text of the first child named Name, `<<>>' when there is no
%% such child.
-spec get_subtag_cdata(element(), name()) -> binary().
get_subtag_cdata(El, Name) ->
    case get_subtag(El, Name) of
        false -> <<>>;
        Sub -> get_tag_cdata(Sub)
    end.

%% @doc The element with Children appended to its children.
-spec append_subtags(element(), [child()]) -> element().
append_subtags({T, Name, Attrs, Old}, Children) when ?IS_TAG(T) ->
    {T, Name, Attrs, Old ++ Children}.

%% @doc Follows a path from El: `{elem, Name}' steps into the first child
%% of that name, then the last item may be `{attr, Name}' (its value) or
%% `cdata' (the text, a binary). An empty path gives El. When a step
%% misses, the result is the empty value of the last item's type: `""'
%% for a string name, `<<>>' for a binary name or `cdata'.
-spec get_path_s(element(), [path_item()]) -> element() | iodata().
get_path_s(El, []) ->
    El;
get_path_s(El, [{elem, Name} | Path]) ->
    case get_subtag(El, Name) of
        false -> path_miss(Path, Name);
        Sub -> get_path_s(Sub, Path)
    end;
get_path_s(El, [{attr, Name}]) ->
    get_tag_attr_s(Name, El);
get_path_s(El, [cdata]) ->
    get_tag_cdata(El).

path_miss([], Name) -> empty(Name);
path_miss(Path, _Name) ->
    case lists:last(Path) of
        cdata -> <<>>;
        {_, Name} -> empty(Name)
    end.

%% @doc Deletes the first attribute named Attr, then puts `{Attr, Value}'
%% first (2.x's order).
-spec replace_tag_attr(name(), iodata(), element()) -> element().
replace_tag_attr(Attr, Value, {T, Name, Attrs, Children}) when ?IS_TAG(T) ->
    {T, Name, [{Attr, Value} | delete_attr(Attr, Attrs)], Children}.

delete_attr(Name, [{Key, _} = A | Rest]) ->
    case same_name(Key, Name) of
        true -> Rest;
        false -> [A | delete_attr(Name, Rest)]
    end;
delete_attr(_Name, []) ->
    [].

%%====================================================================
%% fast_xml's extras
%%====================================================================

%% @doc Every child element named Name, in order.
-spec get_subtags(element(), name()) -> [element()].
get_subtags({T, _, _, Children}, Name) when ?IS_TAG(T) ->
    [El || El <- Children, is_named(El, Name)].

%% @doc The first child element named Name whose `xmlns' is XMLNS, or
%% `false'.
-spec get_subtag_with_xmlns(element(), name(), name()) -> element() | false.
get_subtag_with_xmlns({T, _, _, Children}, Name, XMLNS) when ?IS_TAG(T) ->
    first_child(Children, fun(El) -> has_xmlns(El, Name, XMLNS) end).

%% @doc Every child element named Name whose `xmlns' is XMLNS.
-spec get_subtags_with_xmlns(element(), name(), name()) -> [element()].
get_subtags_with_xmlns({T, _, _, Children}, Name, XMLNS) when ?IS_TAG(T) ->
    [El || El <- Children, has_xmlns(El, Name, XMLNS)].

%% @doc Replaces El's first child that has Tag's name by Tag, or appends
%% Tag when there is none (fast_xml's behaviour).
-spec replace_subtag(element(), element()) -> element().
replace_subtag({_, Name, _, _} = Tag, {T, ElName, Attrs, Children})
  when ?IS_TAG(T) ->
    {T, ElName, Attrs, replace_first(Tag, Name, Children)}.

replace_first(Tag, _Name, []) ->
    [Tag];
replace_first(Tag, Name, [Child | Rest]) ->
    case is_named(Child, Name) of
        true -> [Tag | Rest];
        false -> [Child | replace_first(Tag, Name, Rest)]
    end.

%% @doc Removes every child element named Name that has attribute
%% AttrName equal to AttrValue.
-spec remove_subtags(element(), name(), {name(), iodata()}) -> element().
remove_subtags({T, ElName, Attrs, Children}, Name, {AttrName, AttrValue})
  when ?IS_TAG(T) ->
    Keep = fun(Child) ->
                   not (is_named(Child, Name) andalso
                        same_value(get_tag_attr(AttrName, Child), AttrValue))
           end,
    {T, ElName, Attrs, lists:filter(Keep, Children)}.

%% @doc The element as `#xmlel{}' with binaries everywhere (names,
%% attributes and text), at any depth.
-spec to_xmlel(child()) -> child().
to_xmlel({T, Name, Attrs, Children}) when ?IS_TAG(T) ->
    {xmlel, to_bin(Name), [{to_bin(K), to_bin(V)} || {K, V} <- Attrs],
     [to_xmlel(C) || C <- Children]};
to_xmlel({xmlcdata, Text}) ->
    {xmlcdata, to_bin(Text)}.

%% @doc The element in ejabberd 2.x's form: `{xmlelement, Name, Attrs,
%% Children}' with names and attribute values as UTF-8 byte strings and
%% text as binaries, at any depth.
-spec to_xmlelement(child()) -> child().
to_xmlelement({T, Name, Attrs, Children}) when ?IS_TAG(T) ->
    {xmlelement, to_str(Name), [{to_str(K), to_str(V)} || {K, V} <- Attrs],
     [to_xmlelement(C) || C <- Children]};
to_xmlelement({xmlcdata, Text}) ->
    {xmlcdata, to_bin(Text)}.

%%====================================================================
%% Shared
%%====================================================================

%% @doc Whether two names (strings or binaries) are the same bytes.
-spec same_name(name() | iodata(), name() | iodata()) -> boolean().
same_name(A, A) -> true;
same_name(A, B) when is_binary(A), is_binary(B) -> false;
same_name(A, B) -> to_bin_or_error(A) =:= to_bin_or_error(B).

%% @doc iodata as a binary. 2.x's strings are UTF-8 byte lists; a list
%% holding a code point above 255 can only be characters, and is encoded
%% as UTF-8.
-spec to_bin(iodata() | string()) -> binary().
to_bin(B) when is_binary(B) ->
    B;
to_bin(L) ->
    try iolist_to_binary(L)
    catch error:badarg -> characters(L)
    end.

characters(L) ->
    case unicode:characters_to_binary(L) of
        B when is_binary(B) -> B;
        _ -> erlang:error(badarg, [L])
    end.

to_bin_or_error(X) ->
    try to_bin(X)
    catch error:badarg -> {not_iodata, X}
    end.

to_str(X) ->
    binary_to_list(to_bin(X)).

empty(Name) when is_binary(Name) -> <<>>;
empty(_) -> "".

is_named({T, ElName, _, _}, Name) when ?IS_TAG(T) -> same_name(ElName, Name);
is_named(_, _) -> false.

has_xmlns(El, Name, XMLNS) ->
    is_named(El, Name) andalso same_value(get_tag_attr(<<"xmlns">>, El), XMLNS).

same_value({value, V}, Expected) -> same_name(V, Expected);
same_value(false, _) -> false.

first_child([Child | Rest], Pred) ->
    case Pred(Child) of
        true -> Child;
        false -> first_child(Rest, Pred)
    end;
first_child([], _Pred) ->
    false.
