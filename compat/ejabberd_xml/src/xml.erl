%% @doc ejabberd 2.x's `xml' module, on stanza_xml.
%%
%% Code written for ejabberd 2.1 keeps working unchanged: the same
%% functions with the same results, strings where 2.x returned strings.
%% ```
%% 1> El = xml_stream:parse_element("<message to='a@b'><body>hi</body></message>").
%% {xmlelement,"message",[{"to","a@b"}],
%%             [{xmlelement,"body",[],[{xmlcdata,<<"hi">>}]}]}
%% 2> xml:get_tag_attr_s("to", El).
%% "a@b"
%% 3> xml:get_path_s(El, [{elem, "body"}, cdata]).
%% "hi"
%% 4> xml:get_tag_attr_s("type", El).
%% ""
%% 5> xml:element_to_string(El).
%% "<message to='a@b'><body>hi</body></message>"
%% 6> xml:crypt(io_lib:format("~s", ["<b>"])).
%% [["&lt;",98,"&gt;"]]
%% '''
%% The differences from ejabberd 2.1.13 that remain are deliberate and are
%% listed in doc/migrating-from-ejabberd-2.md: the serializer checks names
%% and characters and raises `{badxml, El, Reason}' (see stanza_xml) where
%% 2.x wrote whatever it was given, and it escapes CR in text (and tab, LF,
%% CR in attribute values) as character references so that they survive
%% a parse; names are compared as bytes, so `"to"' also finds `<<"to">>';
%% the helpers also take `{xmlel, ...}' elements.
-module(xml).

-export([element_to_string/1, element_to_binary/1, crypt/1,
         make_text_node/1, start/0, remove_cdata/1, get_cdata/1,
         get_tag_cdata/1, get_attr/2, get_attr_s/2, get_tag_attr/2,
         get_tag_attr_s/2, get_subtag/2, get_subtag_cdata/2,
         append_subtags/2, get_path_s/2, replace_tag_attr/3]).

-export_type([deep_text/0]).

-type element() :: stanza_xml:element().
-type child() :: stanza_xml:child().
-type name() :: stanza_xml:name().
-type attr() :: stanza_xml:attr().
%% What crypt/1 returns: characters, entity strings and nested lists.
-type deep_text() :: [char() | string() | deep_text()].

%%--------------------------------------------------------------------
%% Serializing and escaping

%% @doc The element as XML: a flat string of bytes (UTF-8), what
%% `lists:flatten/1' of 2.x's deep list gives, so string functions work
%% on it directly. Raises `{badxml, El, Reason}'.
-spec element_to_string(child()) -> string().
element_to_string(El) ->
    binary_to_list(stanza_xml:element_to_binary(El)).

%% @doc The element as an XML binary. Raises `{badxml, El, Reason}'.
-spec element_to_binary(child()) -> binary().
element_to_binary(El) ->
    stanza_xml:element_to_binary(El).

%% @doc 2.x's escaping of `& < > " ''. A binary is escaped as the list of
%% its bytes, a list item by item, nested lists and binaries included (as
%% io_lib:format/2 returns them): each special character becomes its
%% entity string, other items stay. So the result is always a list, deep
%% where the input was (`"a&b"' gives `[$a, "&amp;", $b]'); use it as
%% iodata or flatten it.
-spec crypt(binary() | iolist() | deep_text()) -> deep_text().
crypt(Bytes) when is_binary(Bytes) ->
    crypt(binary_to_list(Bytes));
crypt(Items) when is_list(Items) ->
    lists:map(fun crypt_item/1, Items).

crypt_item($&) -> "&amp;";
crypt_item($<) -> "&lt;";
crypt_item($>) -> "&gt;";
crypt_item($") -> "&quot;";
crypt_item($') -> "&apos;";
crypt_item(Nested) when is_list(Nested); is_binary(Nested) -> crypt(Nested);
crypt_item(Other) -> Other.

%% @doc The text node of 2.x's "full XML" build: the text unchanged when it
%% holds no `<', `&' or `]]>'; otherwise CDATA sections, cut just after
%% the `]]' of every `]]>' so that no section ends early.
-spec make_text_node(binary()) -> binary().
make_text_node(Text) when is_binary(Text) ->
    Ends = [Start || {Start, _} <- binary:matches(Text, <<"]]>">>)],
    case Ends =:= [] andalso binary:match(Text, [<<"<">>, <<"&">>]) of
        nomatch -> Text;
        _ -> iolist_to_binary([[<<"<![CDATA[">>, Part, <<"]]>">>]
                               || Part <- cut_after_brackets(Text, 0, Ends)])
    end.

cut_after_brackets(Text, From, [End | Ends]) ->
    Cut = End + 2,
    [binary:part(Text, From, Cut - From) | cut_after_brackets(Text, Cut, Ends)];
cut_after_brackets(Text, From, []) ->
    [binary:part(Text, From, byte_size(Text) - From)].

%% @doc 2.x loaded its optional serializer NIF here. stanza loads its NIFs
%% by itself, so there is nothing to do.
-spec start() -> ok.
start() ->
    ok.

%%--------------------------------------------------------------------
%% Reading and changing elements

-spec remove_cdata([child()]) -> [element()].
remove_cdata(Children) ->
    stanza_xml:remove_cdata(Children).

%% @doc The text of a child list as a string (`""' when there is none).
-spec get_cdata([child()]) -> string().
get_cdata(Children) ->
    binary_to_list(stanza_xml:get_cdata(Children)).

-spec get_tag_cdata(element()) -> string().
get_tag_cdata(El) ->
    binary_to_list(stanza_xml:get_tag_cdata(El)).

%% @doc `{value, V}' or `false'. As with 2.x's lists:keysearch/3, items
%% that are not tuples are skipped, and when the first tuple named Name is
%% not a pair the answer is `false'.
-spec get_attr(name(), [attr()]) -> {value, iodata()} | false.
get_attr(Name, Attrs) ->
    case find_attr(Name, Attrs) of
        {_, Value} -> {value, Value};
        _ -> false
    end.

%% @doc The value, or `""' when there is no such attribute.
-spec get_attr_s(name(), [attr()]) -> iodata().
get_attr_s(Name, Attrs) ->
    case get_attr(Name, Attrs) of
        {value, Value} -> Value;
        false -> ""
    end.

-spec get_tag_attr(name(), element()) -> {value, iodata()} | false.
get_tag_attr(Name, {_, _, Attrs, _}) ->
    get_attr(Name, Attrs).

-spec get_tag_attr_s(name(), element()) -> iodata().
get_tag_attr_s(Name, {_, _, Attrs, _}) ->
    get_attr_s(Name, Attrs).

%% @doc The first child element named Name, or `false'.
-spec get_subtag(element(), name()) -> element() | false.
get_subtag(El, Name) ->
    stanza_xml:get_subtag(El, Name).

%% @doc That child's text as a string, `""' when there is no such child.
-spec get_subtag_cdata(element(), name()) -> string().
get_subtag_cdata(El, Name) ->
    binary_to_list(stanza_xml:get_subtag_cdata(El, Name)).

-spec append_subtags(element(), [child()]) -> element().
append_subtags(El, Children) ->
    stanza_xml:append_subtags(El, Children).

%% @doc `{elem, Name}' steps, then optionally `{attr, Name}' or `cdata'
%% last; `""' when a step misses.
-spec get_path_s(element(), [stanza_xml:path_item()]) ->
          element() | iodata().
get_path_s(El, []) ->
    El;
get_path_s(El, [{elem, Name} | Path]) ->
    case stanza_xml:get_subtag(El, Name) of
        false -> "";
        Sub -> get_path_s(Sub, Path)
    end;
get_path_s(El, [{attr, Name}]) ->
    get_tag_attr_s(Name, El);
get_path_s(El, [cdata]) ->
    get_tag_cdata(El).

%% @doc Deletes the first tuple named Attr (as 2.x's lists:keydelete/3),
%% then puts `{Attr, Value}' first.
-spec replace_tag_attr(name(), iodata(), element()) -> element().
replace_tag_attr(Attr, Value, {Tag, Name, Attrs, Children}) ->
    {Tag, Name, [{Attr, Value} | delete_attr(Attr, Attrs)], Children}.

%%--------------------------------------------------------------------

%% The first tuple of Attrs whose first element is Name.
find_attr(Name, [Item | Rest]) when is_tuple(Item), tuple_size(Item) > 0 ->
    case stanza_xml:same_name(element(1, Item), Name) of
        true -> Item;
        false -> find_attr(Name, Rest)
    end;
find_attr(Name, [_ | Rest]) ->
    find_attr(Name, Rest);
find_attr(_Name, []) ->
    false.

delete_attr(Name, [Item | Rest]) when is_tuple(Item), tuple_size(Item) > 0 ->
    case stanza_xml:same_name(element(1, Item), Name) of
        true -> Rest;
        false -> [Item | delete_attr(Name, Rest)]
    end;
delete_attr(Name, [Item | Rest]) ->
    [Item | delete_attr(Name, Rest)];
delete_attr(_Name, []) ->
    [].
