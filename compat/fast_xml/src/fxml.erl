%% @doc fast_xml's `fxml', on stanza_xml's serializer.
%%
%% Every function of fast_xml 1.1.49's fxml, with its results: the
%% serializer writes fast_xml's bytes (attributes single-quoted, `<a/>' for
%% an element without children, `& < > " '' escaped in text, `& < " '' and
%% tab, LF, CR in attribute values).
%% ```
%% 1> El = fxml_stream:parse_element(<<"<message to='a@b'><body>1 &lt; 2</body></message>">>).
%% {xmlel,<<"message">>,[{<<"to">>,<<"a@b">>}],
%%        [{xmlel,<<"body">>,[],[{xmlcdata,<<"1 < 2">>}]}]}
%% 2> fxml:element_to_binary(El).
%% <<"<message to='a@b'><body>1 &lt; 2</body></message>">>
%% 3> fxml:get_path_s(El, [{elem, <<"body">>}, cdata]).
%% <<"1 < 2">>
%% 4> fxml:element_to_binary({xmlel, <<"a><evil/">>, [], []}).
%% ** exception error: {badxml,{xmlel,<<"a><evil/">>,[],[]},
%%                             {bad_element_name,[],not_a_name}}
%% '''
%% Deliberate differences (doc/migrating-from-fast_xml.md): what would be
%% broken XML raises `{badxml, El, Reason}' (see stanza_xml) where fast_xml
%% wrote it out: a name that is not an XML Name, invalid UTF-8, a control
%% character. A term of the wrong shape raises `badarg' as in fast_xml.
%% The serializer also takes ejabberd 2.x's `{xmlelement, ...}' tuples,
%% which fast_xml refused, and never recurses in C, so no depth crashes it.
-module(fxml).

-export([element_to_binary/1, element_to_header/1, crypt/1,
         remove_cdata/1, remove_subtags/3, get_cdata/1, get_tag_cdata/1,
         get_attr/2, get_attr_s/2, get_tag_attr/2, get_tag_attr_s/2,
         get_subtag/2, get_subtags/2, get_subtag_cdata/2,
         get_subtag_with_xmlns/3, get_subtags_with_xmlns/3,
         append_subtags/2, get_path_s/2, replace_tag_attr/3,
         replace_subtag/2, to_xmlel/1]).
-export([load_nif/0, load_nif/1]).

-export_type([xmlel/0]).

-include("fxml.hrl").

%% @doc fast_xml loads its NIF here; stanza's load themselves: `ok'.
-spec load_nif() -> ok.
load_nif() ->
    ok.

%% @doc As load_nif/0: the path is not needed.
-spec load_nif(string()) -> ok.
load_nif(_Path) ->
    ok.

%% @doc The element (or `{xmlcdata, Text}') as XML.
-spec element_to_binary(xmlel() | cdata()) -> binary().
element_to_binary(El) ->
    serialize(fun stanza_xml:element_to_binary/2, El).

%% @doc `<?xml version='1.0'?>' and the element's start tag: a stream
%% header. Its children are ignored.
-spec element_to_header(xmlel()) -> binary().
element_to_header(El) ->
    Tag = serialize(fun stanza_xml:element_to_header/2, El),
    <<"<?xml version='1.0'?>", Tag/binary>>.

%% @doc Escapes `& < > " '' as `&amp; &lt; &gt; &quot; &apos;'.
-spec crypt(binary()) -> binary().
crypt(Text) when is_binary(Text) ->
    stanza_xml:crypt(Text);
crypt(Text) ->
    erlang:error(badarg, [Text]).

%% @doc The `#xmlel{}' children of a child list (text dropped).
-spec remove_cdata([xmlel() | cdata()]) -> [xmlel()].
remove_cdata(Children) ->
    [El || El <- Children, is_record(El, xmlel)].

%% @doc El without its children named Name whose attribute AttrName is
%% AttrValue.
-spec remove_subtags(xmlel(), binary(), attr()) -> xmlel().
remove_subtags(#xmlel{children = Children} = El, Name, {AttrName, AttrValue}) ->
    Keep = fun(#xmlel{name = N, attrs = Attrs}) when N =:= Name ->
                   get_attr(AttrName, Attrs) =/= {value, AttrValue};
              (_) ->
                   true
           end,
    El#xmlel{children = lists:filter(Keep, Children)}.

%% @doc The text of a child list, concatenated.
-spec get_cdata([xmlel() | cdata()]) -> binary().
get_cdata(Children) ->
    iolist_to_binary([Text || {xmlcdata, Text} <- Children]).

%% @doc get_cdata/1 of an element's children.
-spec get_tag_cdata(xmlel()) -> binary().
get_tag_cdata(#xmlel{children = Children}) ->
    get_cdata(Children).

%% @doc `{value, Value}' of the first attribute named Name, or `false'.
-spec get_attr(binary(), [attr()]) -> {value, binary()} | false.
get_attr(Name, Attrs) ->
    case lists:keyfind(Name, 1, Attrs) of
        {_, Value} -> {value, Value};
        false -> false
    end.

%% @doc The value of attribute Name, `<<>>' when there is none.
-spec get_attr_s(binary(), [attr()]) -> binary().
get_attr_s(Name, Attrs) ->
    case lists:keyfind(Name, 1, Attrs) of
        {_, Value} -> Value;
        false -> <<>>
    end.

-spec get_tag_attr(binary(), xmlel()) -> {value, binary()} | false.
get_tag_attr(Name, #xmlel{attrs = Attrs}) ->
    get_attr(Name, Attrs).

-spec get_tag_attr_s(binary(), xmlel()) -> binary().
get_tag_attr_s(Name, #xmlel{attrs = Attrs}) ->
    get_attr_s(Name, Attrs).

%% @doc The first child element named Name, or `false'.
-spec get_subtag(xmlel(), binary()) -> xmlel() | false.
get_subtag(#xmlel{children = Children}, Name) ->
    first_named(Children, Name).

%% @doc Every child element named Name, in order.
-spec get_subtags(xmlel(), binary()) -> [xmlel()].
get_subtags(#xmlel{children = Children}, Name) ->
    [El || #xmlel{name = N} = El <- Children, N =:= Name].

%% @doc The first child element named Name whose `xmlns' is XMLNS, or
%% `false'.
-spec get_subtag_with_xmlns(xmlel(), binary(), binary()) -> xmlel() | false.
get_subtag_with_xmlns(El, Name, XMLNS) ->
    first(get_subtags_with_xmlns(El, Name, XMLNS)).

%% @doc Every child element named Name whose `xmlns' is XMLNS.
-spec get_subtags_with_xmlns(xmlel(), binary(), binary()) -> [xmlel()].
get_subtags_with_xmlns(#xmlel{children = Children}, Name, XMLNS) ->
    [El || #xmlel{name = N, attrs = Attrs} = El <- Children, N =:= Name,
           get_attr(<<"xmlns">>, Attrs) =:= {value, XMLNS}].

%% @doc The text of the first child named Name, `<<>>' when there is none.
-spec get_subtag_cdata(xmlel(), binary()) -> binary().
get_subtag_cdata(El, Name) ->
    case get_subtag(El, Name) of
        false -> <<>>;
        Sub -> get_tag_cdata(Sub)
    end.

%% @doc The element with Children appended to its children.
-spec append_subtags(xmlel(), [xmlel() | cdata()]) -> xmlel().
append_subtags(#xmlel{children = Old} = El, Children) ->
    El#xmlel{children = Old ++ Children}.

%% @doc `{elem, Name}' steps into the first child of that name; the last
%% item may be `{attr, Name}' (its value) or `cdata' (its text). `<<>>'
%% when a step misses; an empty path gives El.
-spec get_path_s(xmlel(), [{elem, binary()} | {attr, binary()} | cdata]) ->
          xmlel() | binary().
get_path_s(El, []) ->
    El;
get_path_s(El, [{elem, Name} | Path]) ->
    case get_subtag(El, Name) of
        false -> <<>>;
        Sub -> get_path_s(Sub, Path)
    end;
get_path_s(El, [{attr, Name}]) ->
    get_tag_attr_s(Name, El);
get_path_s(El, [cdata]) ->
    get_tag_cdata(El).

%% @doc Deletes the first attribute Name, then puts `{Name, Value}' first.
-spec replace_tag_attr(binary(), binary(), xmlel()) -> xmlel().
replace_tag_attr(Name, Value, #xmlel{attrs = Attrs} = El) ->
    El#xmlel{attrs = [{Name, Value} | lists:keydelete(Name, 1, Attrs)]}.

%% @doc Deletes the first child whose second field is Tag's name (as
%% fast_xml does, a text child equal to the name counts), then puts Tag
%% first.
-spec replace_subtag(xmlel(), xmlel()) -> xmlel().
replace_subtag(#xmlel{name = Name} = Tag, #xmlel{children = Children} = El) ->
    El#xmlel{children = [Tag | lists:keydelete(Name, 2, Children)]}.

%% @doc Any `{Tag, Name, Attrs, Children}' (ejabberd 2.x's xmlelement with
%% strings, say) as `#xmlel{}' with binaries, at any depth.
-spec to_xmlel({atom(), iodata(), [{iodata(), iodata()}], list()}
               | {xmlcdata, iodata()}) -> xmlel() | cdata().
to_xmlel({xmlcdata, Text}) ->
    {xmlcdata, iolist_to_binary(Text)};
to_xmlel({_, Name, Attrs, Children}) ->
    #xmlel{name = iolist_to_binary(Name),
           attrs = [{iolist_to_binary(K), iolist_to_binary(V)} || {K, V} <- Attrs],
           children = [to_xmlel(C) || C <- Children]}.

%%--------------------------------------------------------------------

first([El | _]) -> El;
first([]) -> false.

first_named([#xmlel{name = Name} = El | _], Name) -> El;
first_named([_ | Rest], Name) -> first_named(Rest, Name);
first_named([], _Name) -> false.

%% A term of the wrong shape is badarg, as in fast_xml; what would be
%% broken XML is stanza's {badxml, El, Reason}.
serialize(Serializer, El) ->
    try
        Serializer(El, fast_xml)
    catch
        error:{badxml, _, {_What, _Path, Why}} when Why =:= not_an_element;
                                                   Why =:= not_a_pair;
                                                   Why =:= not_a_list;
                                                   Why =:= not_iodata ->
            erlang:error(badarg, [El])
    end.
