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

crypt_test_() ->
    [?_assertEqual("&lt;a href=&quot;x&quot;&gt;&amp;&apos;", xml:crypt("<a href=\"x\">&'")),
     ?_assertEqual(<<"&lt;&gt;">>, xml:crypt(<<"<>">>)),
     ?_assertEqual("", xml:crypt(""))].

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
