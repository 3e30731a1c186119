%% fxml on its own (the differential test compares every function with the
%% real fast_xml's on generated elements).
-module(fxml_tests).

-include_lib("eunit/include/eunit.hrl").
-include("fxml.hrl").

-define(EL, #xmlel{name = <<"message">>,
                   attrs = [{<<"to">>, <<"a@b">>}, {<<"type">>, <<"chat">>}],
                   children = [#xmlel{name = <<"body">>,
                                      children = [{xmlcdata, <<"1 < 2">>}]},
                               {xmlcdata, <<"t">>},
                               #xmlel{name = <<"x">>,
                                      attrs = [{<<"xmlns">>, <<"u">>}]}]}).

record_is_fast_xmls_test() ->
    ?assertEqual({xmlel, <<>>, [], []}, #xmlel{}).

serializer_test_() ->
    [?_assertEqual(<<"<message to='a@b' type='chat'><body>1 &lt; 2</body>t"
                     "<x xmlns='u'/></message>">>, fxml:element_to_binary(?EL)),
     %% fast_xml's escaping: '>' plain in attribute values, CR plain in text
     ?_assertEqual(<<"<a v='&lt;&amp;>&quot;&apos;&#x9;&#xA;&#xD;'>"
                     "&lt;&amp;&gt;&quot;&apos;\r\n</a>">>,
                   fxml:element_to_binary(
                     #xmlel{name = <<"a">>, attrs = [{<<"v">>, <<"<&>\"'\t\n\r">>}],
                            children = [{xmlcdata, <<"<&>\"'\r\n">>}]})),
     ?_assertEqual(<<"a &amp; b">>, fxml:element_to_binary({xmlcdata, <<"a & b">>})),
     ?_assertEqual(<<"<?xml version='1.0'?><stream:stream to='x'>">>,
                   fxml:element_to_header(#xmlel{name = <<"stream:stream">>,
                                                 attrs = [{<<"to">>, <<"x">>}],
                                                 children = [{xmlcdata, <<"i">>}]})),
     ?_assertError(badarg, fxml:element_to_binary({xmlel, a, [], []})),
     ?_assertError(badarg, fxml:element_to_binary(not_an_element)),
     ?_assertError(badarg, fxml:element_to_header({xmlcdata, <<"t">>})),
     ?_assertError({badxml, _, _},
                   fxml:element_to_binary(#xmlel{name = <<"a b">>}))].

helpers_test_() ->
    Body = hd(?EL#xmlel.children),
    X = lists:last(?EL#xmlel.children),
    [?_assertEqual(<<"&lt;&amp;&gt;&quot;&apos;">>, fxml:crypt(<<"<&>\"'">>)),
     ?_assertEqual([Body, X], fxml:remove_cdata(?EL#xmlel.children)),
     ?_assertEqual(<<"t">>, fxml:get_cdata(?EL#xmlel.children)),
     ?_assertEqual(<<"t">>, fxml:get_tag_cdata(?EL)),
     ?_assertEqual({value, <<"a@b">>}, fxml:get_tag_attr(<<"to">>, ?EL)),
     ?_assertEqual(false, fxml:get_attr(<<"from">>, ?EL#xmlel.attrs)),
     ?_assertEqual(<<>>, fxml:get_tag_attr_s(<<"from">>, ?EL)),
     ?_assertEqual(Body, fxml:get_subtag(?EL, <<"body">>)),
     ?_assertEqual(false, fxml:get_subtag(?EL, <<"nope">>)),
     ?_assertEqual([X], fxml:get_subtags(?EL, <<"x">>)),
     ?_assertEqual(X, fxml:get_subtag_with_xmlns(?EL, <<"x">>, <<"u">>)),
     ?_assertEqual([], fxml:get_subtags_with_xmlns(?EL, <<"x">>, <<"v">>)),
     ?_assertEqual(<<"1 < 2">>, fxml:get_subtag_cdata(?EL, <<"body">>)),
     ?_assertEqual(<<"1 < 2">>, fxml:get_path_s(?EL, [{elem, <<"body">>}, cdata])),
     ?_assertEqual(<<"u">>, fxml:get_path_s(?EL, [{elem, <<"x">>}, {attr, <<"xmlns">>}])),
     ?_assertEqual(<<>>, fxml:get_path_s(?EL, [{elem, <<"nope">>}, cdata])),
     ?_assertEqual([{<<"type">>, <<"normal">>}, {<<"to">>, <<"a@b">>}],
                   (fxml:replace_tag_attr(<<"type">>, <<"normal">>, ?EL))#xmlel.attrs),
     %% replace_subtag puts the new child first, as fast_xml does
     ?_assertEqual([#xmlel{name = <<"x">>}, Body, {xmlcdata, <<"t">>}],
                   (fxml:replace_subtag(#xmlel{name = <<"x">>}, ?EL))#xmlel.children),
     ?_assertEqual([Body, {xmlcdata, <<"t">>}],
                   (fxml:remove_subtags(?EL, <<"x">>, {<<"xmlns">>, <<"u">>}))#xmlel.children),
     ?_assertEqual(?EL#xmlel.children ++ [{xmlcdata, <<"more">>}],
                   (fxml:append_subtags(?EL, [{xmlcdata, <<"more">>}]))#xmlel.children),
     ?_assertEqual(#xmlel{name = <<"a">>, attrs = [{<<"k">>, <<"v">>}],
                          children = [{xmlcdata, <<"t">>}]},
                   fxml:to_xmlel({xmlelement, "a", [{"k", "v"}], [{xmlcdata, "t"}]})),
     ?_assertEqual(ok, fxml:load_nif()),
     ?_assertEqual(ok, fxml:load_nif("/nowhere"))].

%% The exports are fast_xml 1.1.49's fxml and fxml_stream exports.
exports_test_() ->
    [?_assertEqual(lists:sort(Expected), lists:sort(M:module_info(exports)))
     || {M, Expected} <-
            [{fxml, [{load_nif, 0}, {load_nif, 1}, {element_to_binary, 1},
                     {element_to_header, 1}, {crypt, 1}, {remove_cdata, 1},
                     {remove_subtags, 3}, {get_cdata, 1}, {get_tag_cdata, 1},
                     {get_attr, 2}, {get_attr_s, 2}, {get_tag_attr, 2},
                     {get_tag_attr_s, 2}, {get_subtag, 2}, {get_subtags, 2},
                     {get_subtag_with_xmlns, 3}, {get_subtags_with_xmlns, 3},
                     {get_subtag_cdata, 2}, {append_subtags, 2},
                     {get_path_s, 2}, {replace_tag_attr, 3},
                     {replace_subtag, 2}, {to_xmlel, 1},
                     {module_info, 0}, {module_info, 1}]},
             {fxml_stream, [{load_nif, 0}, {load_nif, 1}, {new, 1}, {new, 2},
                            {new, 3}, {reset, 1}, {change_callback_pid, 2},
                            {parse, 2}, {close, 1}, {parse_element, 1},
                            {module_info, 0}, {module_info, 1}]}]].
