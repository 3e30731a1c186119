%% EUnit tests of the compat module `xml': ejabberd 2.x's results, strings
%% where 2.x returned strings.
-module(xml_tests).

-include_lib("eunit/include/eunit.hrl").

-define(MSG, {xmlelement, "message", [{"to", "a@b"}, {"type", "chat"}],
              [{xmlelement, "body", [], [{xmlcdata, <<"caf\xc3\xa9 ">>}, {xmlcdata, <<"& co">>}]},
               {xmlelement, "x", [{"xmlns", "jabber:x:event"}], []},
               {xmlcdata, <<"\n">>}]}).

element_to_string_test_() ->
    [?_assertEqual(<<"<message to='a@b' type='chat'><body>caf\xc3\xa9 &amp; co</body>"
                     "<x xmlns='jabber:x:event'/>\n</message>">>,
                   iolist_to_binary(xml:element_to_string(?MSG))),
     ?_assertEqual(iolist_to_binary(xml:element_to_string(?MSG)), xml:element_to_binary(?MSG)),
     ?_assert(is_list(xml:element_to_string(?MSG))),
     ?_assertError({badxml, {xmlelement, "a b", [], []}, {bad_element_name, [], not_a_name}},
                   xml:element_to_string({xmlelement, "a b", [], []})),
     ?_assertError({badxml, "text", {bad_element, [], not_an_element}},
                   xml:element_to_string("text"))].

%% Parsing with xml_stream and writing with xml gives the input back.
round_trip_with_xml_stream_test() ->
    In = "<iq type='set' id='p1'><query xmlns='jabber:iq:private'>"
         "<storage xmlns='storage:bookmarks'><conference jid='room@muc' "
         "name='&lt;Room&gt; &amp; &apos;co&apos;'/></storage></query></iq>",
    El = xml_stream:parse_element(In),
    ?assertEqual(list_to_binary(In), xml:element_to_binary(El)).

%% 2.1.13's crypt/1 maps a list item by item and a binary as the list of
%% its bytes; nested lists and binaries (io_lib:format/2's results) are
%% escaped too.
crypt_test_() ->
    [?_assertEqual(["&lt;", $a, $\s, $h, $r, $e, $f, $=, "&quot;", $x, "&quot;",
                    "&gt;", "&amp;", "&apos;"],
                   xml:crypt("<a href=\"x\">&'")),
     ?_assertEqual("&lt;a href=&quot;x&quot;&gt;&amp;&apos;",
                   lists:flatten(xml:crypt("<a href=\"x\">&'"))),
     ?_assertEqual("", xml:crypt("")),
     ?_assertEqual("", xml:crypt(<<>>)),
     %% The issue's reproducers.
     ?_assertEqual([$a, "&amp;", $b], xml:crypt("a&b")),
     ?_assertEqual([$a, "&amp;", $b], xml:crypt(<<"a&b">>)),
     ?_assertEqual([["&lt;", $b, "&gt;"]], xml:crypt(io_lib:format("~s", ["<b>"]))),
     %% Nested binaries become escaped lists; other items stay.
     ?_assertEqual([[$x, "&lt;"], [[$y]], 16#20AC, "&quot;"],
                   xml:crypt([<<"x<">>, [<<"y">>], 16#20AC, $"])),
     ?_assertEqual([195, 169], xml:crypt(<<"\xc3\xa9">>))].

%% What code built on 2.x does with element_to_string/1's result.
element_to_string_is_a_string_test_() ->
    Str = xml:element_to_string(?MSG),
    [?_assertEqual(Str, lists:flatten(Str)),
     ?_assert(io_lib:printable_latin1_list(Str) orelse lists:all(fun is_integer/1, Str)),
     ?_assertEqual(10, string:str(Str, "to='a@b'")),
     ?_assertEqual("&lt;x&gt;", xml:element_to_string({xmlcdata, <<"<x>">>})),
     ?_assertEqual("<a>caf\xc3\xa9</a>",
                   xml:element_to_string({xmlelement, "a", [], [{xmlcdata, <<"caf\xc3\xa9">>}]}))].

%% 2.1.13's make_text_node/1 (the --enable-full-xml text writer).
make_text_node_test_() ->
    [?_assertEqual(<<"plain > text \"'">>, xml:make_text_node(<<"plain > text \"'">>)),
     ?_assertEqual(<<>>, xml:make_text_node(<<>>)),
     ?_assertEqual(<<"<![CDATA[a<b&c]]>">>, xml:make_text_node(<<"a<b&c">>)),
     ?_assertEqual(<<"<![CDATA[a]]]]><![CDATA[>b]]>">>, xml:make_text_node(<<"a]]>b">>)),
     ?_assertEqual(<<"<![CDATA[]]]]><![CDATA[>]]>">>, xml:make_text_node(<<"]]>">>)),
     ?_assertEqual(<<"<![CDATA[<]]]]><![CDATA[>x]]]]><![CDATA[>]]>">>,
                   xml:make_text_node(<<"<]]>x]]>">>)),
     ?_assertEqual(<<"<![CDATA[]]]]]><![CDATA[>]]>">>, xml:make_text_node(<<"]]]>">>)),
     ?_assertError(function_clause, xml:make_text_node("a<b")),
     %% Whatever it returns, a parser reads the text back.
     [?_assertEqual({xmlelement, "t", [], [{xmlcdata, T}]},
                    stanza_stream_merged(<<"<t>", (xml:make_text_node(T))/binary, "</t>">>))
      || T <- [<<"a]]>b">>, <<"]]>]]>">>, <<"<&>]]>x">>, <<"]]]]>>">>]]].

start_test() ->
    ?assertEqual(ok, xml:start()).

stanza_stream_merged(Bin) ->
    {ok, El} = stanza_stream:parse_element(Bin, #{format => legacy}),
    El.

cdata_test_() ->
    [?_assertEqual("caf\xc3\xa9 & co", xml:get_tag_cdata(xml:get_subtag(?MSG, "body"))),
     ?_assertEqual("caf\xc3\xa9 & co", xml:get_subtag_cdata(?MSG, "body")),
     ?_assertEqual("", xml:get_subtag_cdata(?MSG, "subject")),
     ?_assertEqual("", xml:get_subtag_cdata(?MSG, "x")),
     ?_assertEqual("\n", xml:get_tag_cdata(?MSG)),
     ?_assertEqual("", xml:get_cdata([])),
     ?_assertEqual("ab", xml:get_cdata([{xmlcdata, <<"a">>}, {xmlelement, "c", [], []},
                                        {xmlcdata, <<"b">>}])),
     ?_assertEqual([{xmlelement, "body", [], [{xmlcdata, <<"caf\xc3\xa9 ">>},
                                              {xmlcdata, <<"& co">>}]},
                    {xmlelement, "x", [{"xmlns", "jabber:x:event"}], []}],
                   xml:remove_cdata(element(4, ?MSG)))].

attr_test_() ->
    [?_assertEqual({value, "a@b"}, xml:get_attr("to", [{"to", "a@b"}])),
     ?_assertEqual(false, xml:get_attr("from", [{"to", "a@b"}])),
     ?_assertEqual(false, xml:get_attr("to", [])),
     ?_assertEqual("a@b", xml:get_attr_s("to", [{"to", "a@b"}])),
     ?_assertEqual("", xml:get_attr_s("from", [{"to", "a@b"}])),
     %% A binary name asked for: still 2.x's "" when missing.
     ?_assertEqual("", xml:get_attr_s(<<"from">>, [{<<"to">>, <<"a@b">>}])),
     ?_assertEqual({value, "chat"}, xml:get_tag_attr("type", ?MSG)),
     ?_assertEqual(false, xml:get_tag_attr("id", ?MSG)),
     ?_assertEqual("chat", xml:get_tag_attr_s("type", ?MSG)),
     ?_assertEqual("", xml:get_tag_attr_s("id", ?MSG))].

%% 2.1.13 looked attributes up with lists:keysearch/3 and deleted them
%% with lists:keydelete/3: non-tuples are skipped, the first tuple with
%% that name decides.
attr_non_pairs_test_() ->
    Attrs = [junk, {"to"}, {"to", "a@b"}],
    [?_assertEqual(false, xml:get_attr("to", Attrs)),
     ?_assertEqual("", xml:get_attr_s("to", Attrs)),
     ?_assertEqual({value, "a@b"}, xml:get_attr("to", [junk, "to", {"to", "a@b"}])),
     ?_assertEqual({value, "x"}, xml:get_attr("id", [{"to", "a", "b"}, {"id", "x"}])),
     ?_assertEqual({xmlelement, "a", [{"to", "c"}, junk, {"to", "a@b"}], []},
                   xml:replace_tag_attr("to", "c", {xmlelement, "a", Attrs, []}))].

%% Names are compared as bytes: a deliberate difference from 2.x, where a
%% string never matched a binary (doc/migrating-from-ejabberd-2.md).
mixed_names_test_() ->
    [?_assertEqual({value, "x"}, xml:get_attr("to", [{<<"to">>, "x"}])),
     ?_assertEqual({xmlelement, "a", [{"to", "y"}], []},
                   xml:replace_tag_attr("to", "y", {xmlelement, "a", [{<<"to">>, "x"}], []})),
     ?_assertEqual({xmlelement, <<"b">>, [], []},
                   xml:get_subtag({xmlelement, "a", [], [{xmlelement, <<"b">>, [], []}]}, "b"))].

subtag_test_() ->
    [?_assertEqual({xmlelement, "x", [{"xmlns", "jabber:x:event"}], []}, xml:get_subtag(?MSG, "x")),
     ?_assertEqual(false, xml:get_subtag(?MSG, "y")),
     ?_assertEqual(false, xml:get_subtag({xmlelement, "a", [], [{xmlcdata, <<"a">>}]}, "a"))].

path_test_() ->
    [?_assertEqual(?MSG, xml:get_path_s(?MSG, [])),
     ?_assertEqual("caf\xc3\xa9 & co", xml:get_path_s(?MSG, [{elem, "body"}, cdata])),
     ?_assertEqual("jabber:x:event", xml:get_path_s(?MSG, [{elem, "x"}, {attr, "xmlns"}])),
     ?_assertEqual("a@b", xml:get_path_s(?MSG, [{attr, "to"}])),
     ?_assertEqual("", xml:get_path_s(?MSG, [{elem, "nope"}, cdata])),
     ?_assertEqual("", xml:get_path_s(?MSG, [{elem, "nope"}])),
     ?_assertEqual("", xml:get_path_s(?MSG, [{elem, "body"}, {elem, "nope"}, {attr, "x"}])),
     ?_assertEqual("", xml:get_path_s(?MSG, [{elem, "body"}, {attr, "nope"}])),
     ?_assertEqual("", xml:get_path_s(?MSG, [{elem, "x"}, cdata]))].

modify_test_() ->
    [?_assertEqual({xmlelement, "a", [{"id", "2"}, {"to", "b"}], []},
                   xml:replace_tag_attr("id", "2", {xmlelement, "a", [{"id", "1"}, {"to", "b"}], []})),
     ?_assertEqual({xmlelement, "a", [{"id", "2"}], []},
                   xml:replace_tag_attr("id", "2", {xmlelement, "a", [], []})),
     ?_assertEqual({xmlelement, "a", [], [{xmlcdata, <<"x">>}, {xmlelement, "b", [], []}]},
                   xml:append_subtags({xmlelement, "a", [], [{xmlcdata, <<"x">>}]},
                                      [{xmlelement, "b", [], []}]))].

%% Element terms hold UTF-8 bytes: a list with a code point above 255 is
%% refused by both functions (2.x kept it in element_to_string/1 and
%% failed with badarg in element_to_binary/1).
code_points_above_255_test() ->
    El = {xmlelement, "a", [], [{xmlcdata, [16#20AC]}]},
    ?assertError({badxml, El, {bad_cdata, [1], not_iodata}}, xml:element_to_string(El)),
    ?assertError({badxml, El, {bad_cdata, [1], not_iodata}}, xml:element_to_binary(El)).
