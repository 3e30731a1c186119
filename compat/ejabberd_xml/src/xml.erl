%% @doc ejabberd 2.x's `xml' module, on stanza_xml.
%%
%% Code written for ejabberd 2.x keeps working unchanged: the same
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
%% 5> iolist_to_binary(xml:element_to_string(El)).
%% <<"<message to='a@b'><body>hi</body></message>">>
%% '''
%% Differences from 2.x, all on input 2.x would have turned into broken
%% XML: the serializer checks names and characters and raises
%% `{badxml, El, Reason}' (see stanza_xml) where 2.x wrote whatever it was
%% given, and it escapes CR in text (and tab, LF, CR in attribute values)
%% as character references so that they survive a parse.
%% element_to_string/1 returns an iolist, a list holding one binary.
-module(xml).

-export([element_to_string/1, element_to_binary/1, crypt/1,
         remove_cdata/1, get_cdata/1, get_tag_cdata/1, get_attr/2,
         get_attr_s/2, get_tag_attr/2, get_tag_attr_s/2, get_subtag/2,
         get_subtag_cdata/2, append_subtags/2, get_path_s/2,
         replace_tag_attr/3]).

-type element() :: stanza_xml:element().
-type child() :: stanza_xml:child().
-type name() :: stanza_xml:name().
-type attr() :: stanza_xml:attr().

%% @doc The element as XML, an iolist. Raises `{badxml, El, Reason}'.
-spec element_to_string(child()) -> iolist().
element_to_string(El) ->
    stanza_xml:element_to_iolist(El).

%% @doc The element as an XML binary. Raises `{badxml, El, Reason}'.
-spec element_to_binary(child()) -> binary().
element_to_binary(El) ->
    stanza_xml:element_to_binary(El).

%% @doc Escapes `& < > " ''; a string gives a string, a binary a binary.
-spec crypt(binary()) -> binary(); (string()) -> string().
crypt(S) ->
    stanza_xml:crypt(S).

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

%% @doc `{value, V}' or `false'.
-spec get_attr(name(), [attr()]) -> {value, iodata()} | false.
get_attr(Name, Attrs) ->
    stanza_xml:get_attr(Name, Attrs).

%% @doc The value, or `""' when there is no such attribute.
-spec get_attr_s(name(), [attr()]) -> iodata().
get_attr_s(Name, Attrs) ->
    case stanza_xml:get_attr(Name, Attrs) of
        {value, Value} -> Value;
        false -> ""
    end.

-spec get_tag_attr(name(), element()) -> {value, iodata()} | false.
get_tag_attr(Name, El) ->
    stanza_xml:get_tag_attr(Name, El).

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

%% @doc Deletes attribute Attr, then puts `{Attr, Value}' first.
-spec replace_tag_attr(name(), iodata(), element()) -> element().
replace_tag_attr(Attr, Value, El) ->
    stanza_xml:replace_tag_attr(Attr, Value, El).
