%% EUnit tests of stanza_xml: the serializer (output, escaping, checks and
%% error reasons, depth, size) and every helper's documented edge cases.
-module(stanza_xml_tests).

-include_lib("eunit/include/eunit.hrl").

%% Run in a peer VM by the deep and big element tests.
-export([serialize_deep/1, serialize_big_text/0, serialize_many_children/1]).

-define(SER(El), stanza_xml:element_to_binary(El)).
%% The argument is bound first: the term may hold a map, which cannot be
%% written in a pattern.
-define(BADXML(Reason, El),
        (fun(Bad__) ->
                 ?assertError({badxml, Bad__, Reason},
                              stanza_xml:element_to_binary(Bad__))
         end)(El)).

%%====================================================================
%% Output
%%====================================================================

every_term_shape_test_() ->
    Out = <<"<m to='a@b'><body>hi</body></m>">>,
    [?_assertEqual(Out, ?SER({xmlel, <<"m">>, [{<<"to">>, <<"a@b">>}],
                              [{xmlel, <<"body">>, [], [{xmlcdata, <<"hi">>}]}]})),
     ?_assertEqual(Out, ?SER({xmlelement, <<"m">>, [{<<"to">>, <<"a@b">>}],
                              [{xmlelement, <<"body">>, [],
                                [{xmlcdata, <<"hi">>}]}]})),
     ?_assertEqual(Out, ?SER({xmlelement, "m", [{"to", "a@b"}],
                              [{xmlelement, "body", [], [{xmlcdata, <<"hi">>}]}]})),
     %% Mixed forms in one tree, as code that migrates gradually makes.
     ?_assertEqual(Out, ?SER({xmlelement, "m", [{<<"to">>, "a@b"}],
                              [{xmlel, <<"body">>, [], [{xmlcdata, "hi"}]}]})),
     ?_assertEqual(<<"a &amp; b">>, ?SER({xmlcdata, <<"a & b">>}))].

empty_elements_test_() ->
    [?_assertEqual(<<"<a/>">>, ?SER({xmlel, <<"a">>, [], []})),
     ?_assertEqual(<<"<a k=''/>">>, ?SER({xmlel, <<"a">>, [{<<"k">>, <<>>}], []})),
     %% An empty text child is still a child: no self-closing tag.
     ?_assertEqual(<<"<a></a>">>, ?SER({xmlel, <<"a">>, [], [{xmlcdata, <<>>}]})),
     ?_assertEqual(<<>>, ?SER({xmlcdata, <<>>}))].

iodata_test_() ->
    [?_assertEqual(<<"<a k='xyz'>uvw</a>">>,
                   ?SER({xmlel, [<<"a">>], [{[$k], [<<"x">>, "y", [[$z]]]}],
                         [{xmlcdata, [<<"u">>, $v, [<<"w">>]]}]})),
     ?_assertEqual(<<"<p:a/>">>, ?SER({xmlel, [<<"p:">>, "a"], [], []}))].

escaping_test_() ->
    [?_assertEqual(<<"<a>&amp;&lt;&gt;&quot;&apos;</a>">>,
                   ?SER({xmlel, <<"a">>, [], [{xmlcdata, <<"&<>\"'">>}]})),
     ?_assertEqual(<<"<a k='&amp;&lt;&gt;&quot;&apos;'/>">>,
                   ?SER({xmlel, <<"a">>, [{<<"k">>, <<"&<>\"'">>}], []})),
     %% Tab and LF stay raw in text; CR would come back as LF.
     ?_assertEqual(<<"<a>\t\n&#xD;</a>">>,
                   ?SER({xmlel, <<"a">>, [], [{xmlcdata, <<"\t\n\r">>}]})),
     %% In attribute values all three would come back as spaces.
     ?_assertEqual(<<"<a k='&#x9;&#xA;&#xD;'/>">>,
                   ?SER({xmlel, <<"a">>, [{<<"k">>, <<"\t\n\r">>}], []})),
     %% Markup in text and values is text.
     ?_assertEqual(<<"<a k='&apos;/&gt;&lt;evil/&gt;'>&lt;/a&gt;&lt;evil/&gt;</a>">>,
                   ?SER({xmlel, <<"a">>, [{<<"k">>, <<"'/><evil/>">>}],
                         [{xmlcdata, <<"</a><evil/>">>}]})),
     ?_assertEqual(<<"<a>]]&gt;</a>">>,
                   ?SER({xmlel, <<"a">>, [], [{xmlcdata, <<"]]>">>}]})),
     %% Non-ASCII is written as it is.
     ?_assertEqual(<<"<a k='\xc3\xa9'>\xe4\xb8\xad\xf0\x9f\x98\x80</a>">>,
                   ?SER({xmlel, <<"a">>, [{<<"k">>, <<"\xc3\xa9">>}],
                         [{xmlcdata, <<"\xe4\xb8\xad\xf0\x9f\x98\x80">>}]}))].

header_test_() ->
    [?_assertEqual(<<"<stream:stream xmlns='jabber:client' to='a&amp;b'>">>,
                   stanza_xml:element_to_header(
                     {xmlel, <<"stream:stream">>,
                      [{<<"xmlns">>, <<"jabber:client">>}, {<<"to">>, <<"a&b">>}],
                      [{xmlel, <<"ignored">>, [], []}]})),
     ?_assertEqual(<<"<a>">>, stanza_xml:element_to_header({xmlelement, "a", [], []})),
     ?_assertError({badxml, {xmlcdata, <<"x">>}, {bad_element, [], not_an_element}},
                   stanza_xml:element_to_header({xmlcdata, <<"x">>})),
     ?_assertError({badxml, _, {bad_element_name, [], not_a_name}},
                   stanza_xml:element_to_header({xmlel, <<"a b">>, [], []}))].

iolist_test_() ->
    El = {xmlelement, "a", [], []},
    [?_assertEqual([<<"<a/>">>], stanza_xml:element_to_iolist(El)),
     ?_assertEqual([<<"<a/>">>], stanza_xml:element_to_string(El)),
     %% 2.x code appended to the result with ++.
     ?_assertEqual(<<"<a/>\n">>,
                   iolist_to_binary(stanza_xml:element_to_string(El) ++ "\n"))].

%%====================================================================
%% Checks and error reasons
%%====================================================================

names_test_() ->
    Ok = fun(N) -> ?_assertEqual(<<"<", N/binary, "/>">>, ?SER({xmlel, N, [], []})) end,
    Bad = fun(N) ->
                  El = {xmlel, N, [], []},
                  ?_assertError({badxml, El, {bad_element_name, [], _}}, ?SER(El))
          end,
    [Ok(N) || N <- [<<"a">>, <<"_a">>, <<"a-b.c9">>, <<"stream:stream">>,
                    <<"\xc3\xa9t\xc3\xa9">>, <<"\xe4\xb8\xad">>]]
        ++ [Bad(N) || N <- [<<>>, <<"a><evil/">>, <<"a b">>, <<"1a">>,
                            <<"-a">>, <<".a">>, <<"a'">>, <<"a/">>, <<"a=">>,
                            <<"a\"">>, <<"a&">>, <<"a\n">>, <<"\xff">>,
                            <<"\xc3">>, <<"a\x00">>]].

name_reasons_test_() ->
    [?_test(?BADXML({bad_element_name, [], not_a_name},
                    {xmlel, <<"a><evil/">>, [], []})),
     ?_test(?BADXML({bad_element_name, [], invalid_utf8},
                    {xmlel, <<"a\xff">>, [], []})),
     ?_test(?BADXML({bad_element_name, [], not_iodata},
                    {xmlel, message, [], []})),
     ?_test(?BADXML({bad_attribute_name, [{attr, 2}], not_a_name},
                    {xmlel, <<"a">>, [{<<"k">>, <<"v">>},
                                      {<<"x='1' y">>, <<"v">>}], []})),
     ?_test(?BADXML({bad_attribute_name, [{attr, 1}], not_iodata},
                    {xmlel, <<"a">>, [{to, <<"v">>}], []}))].

value_and_text_reasons_test_() ->
    [?_test(?BADXML({bad_attribute_value, [{attr, 1}], invalid_utf8},
                    {xmlel, <<"a">>, [{<<"k">>, <<"\xc0\xaf">>}], []})),
     ?_test(?BADXML({bad_attribute_value, [{attr, 1}], {forbidden_char, 0}},
                    {xmlel, <<"a">>, [{<<"k">>, <<"a\x00">>}], []})),
     ?_test(?BADXML({bad_attribute_value, [{attr, 1}], not_iodata},
                    {xmlel, <<"a">>, [{<<"k">>, 42}], []})),
     ?_test(?BADXML({bad_cdata, [1], {forbidden_char, 16#1b}},
                    {xmlel, <<"a">>, [], [{xmlcdata, <<"esc \e[0m">>}]})),
     ?_test(?BADXML({bad_cdata, [1], not_iodata},
                    {xmlel, <<"a">>, [], [{xmlcdata, hello}]})),
     ?_test(?BADXML({bad_cdata, [], invalid_utf8}, {xmlcdata, <<"\x80">>}))].

forbidden_and_invalid_chars_test_() ->
    Text = fun(Bin) -> catch ?SER({xmlcdata, Bin}) end,
    Reason = fun(Bin) ->
                     case Text(Bin) of
                         {'EXIT', {{badxml, _, {bad_cdata, [], Why}}, _}} -> Why;
                         Other -> Other
                     end
             end,
    [%% C0 controls but tab, LF and CR.
     ?_assertEqual([{forbidden_char, C} || C <- lists:seq(0, 31),
                                           C =/= 9, C =/= 10, C =/= 13],
                   [Reason(<<C>>) || C <- lists:seq(0, 31),
                                     C =/= 9, C =/= 10, C =/= 13]),
     %% Surrogates (CESU-8 style), U+FFFE and U+FFFF.
     ?_assertEqual({forbidden_char, 16#D800}, Reason(<<16#ED, 16#A0, 16#80>>)),
     ?_assertEqual({forbidden_char, 16#DFFF}, Reason(<<16#ED, 16#BF, 16#BF>>)),
     ?_assertEqual({forbidden_char, 16#FFFE}, Reason(<<16#EF, 16#BF, 16#BE>>)),
     ?_assertEqual({forbidden_char, 16#FFFF}, Reason(<<16#EF, 16#BF, 16#BF>>)),
     %% Not UTF-8: stray continuation, overlong forms, truncated
     %% sequences, past U+10FFFF, bytes that never occur.
     [?_assertEqual(invalid_utf8, Reason(B))
      || B <- [<<16#80>>, <<16#C0, 16#80>>, <<16#C1, 16#BF>>,
               <<16#E0, 16#80, 16#80>>, <<16#F0, 16#80, 16#80, 16#80>>,
               <<16#E4, 16#B8>>, <<"a", 16#F0, 16#9F, 16#98>>,
               <<16#F4, 16#90, 16#80, 16#80>>, <<16#F5, 16#80, 16#80, 16#80>>,
               <<16#FE>>, <<16#FF>>, <<16#C3, 16#28>>]],
     %% The edges that are allowed.
     [?_assertEqual(B, Text(B))
      || B <- [<<16#7F>>, <<16#C2, 16#80>>, <<16#ED, 16#9F, 16#BF>>,
               <<16#EE, 16#80, 16#80>>, <<16#EF, 16#BF, 16#BD>>,
               <<16#F0, 16#90, 16#80, 16#80>>, <<16#F4, 16#8F, 16#BF, 16#BF>>]]].

structure_reasons_test_() ->
    [?_test(?BADXML({bad_element, [], not_an_element}, {xmlel, <<"a">>, []})),
     ?_test(?BADXML({bad_element, [], not_an_element}, <<"<a/>">>)),
     ?_test(?BADXML({bad_element, [], not_an_element}, {foo, <<"a">>, [], []})),
     ?_test(?BADXML({bad_element, [2], not_an_element},
                    {xmlel, <<"a">>, [], [{xmlcdata, <<"x">>}, "text"]})),
     ?_test(?BADXML({bad_attributes, [], not_a_list},
                    {xmlel, <<"a">>, #{<<"k">> => <<"v">>}, []})),
     ?_test(?BADXML({bad_attributes, [], not_a_list},
                    {xmlel, <<"a">>, [{<<"k">>, <<"v">>} | tail], []})),
     ?_test(?BADXML({bad_attribute, [{attr, 1}], not_a_pair},
                    {xmlel, <<"a">>, [{<<"k">>, <<"v">>, x}], []})),
     ?_test(?BADXML({bad_children, [], not_a_list},
                    {xmlel, <<"a">>, [], <<"text">>})),
     ?_test(?BADXML({bad_children, [1], not_a_list},
                    {xmlel, <<"a">>, [],
                     [{xmlel, <<"b">>, [], [{xmlcdata, <<"x">>} | tail]}]}))].

%% The path leads to the fault through several levels.
path_test_() ->
    Deep = {xmlel, <<"a">>, [],
            [{xmlcdata, <<"t">>},
             {xmlel, <<"b">>, [], []},
             {xmlel, <<"c">>, [],
              [{xmlel, <<"d">>, [{<<"k">>, <<"v">>}, {<<"j">>, <<"\x01">>}], []}]}]},
    [?_test(?BADXML({bad_attribute_value, [3, 1, {attr, 2}], {forbidden_char, 1}},
                    Deep)),
     ?_test(?BADXML({bad_element_name, [2, 2, 2], not_a_name},
                    {xmlel, <<"a">>, [],
                     [{xmlel, <<"x">>, [], []},
                      {xmlel, <<"b">>, [],
                       [{xmlcdata, <<"t">>},
                        {xmlel, <<"c">>, [],
                         [{xmlel, <<"ok">>, [], []},
                          {xmlel, <<"bad name">>, [], []}]}]}]}))].

%%====================================================================
%% Depth and size (in a peer VM: a crash fails one test)
%%====================================================================

deep_element_test_() ->
    {timeout, 120,
     ?_assertEqual({ok, ok}, stanza_test_util:in_peer(?MODULE, serialize_deep, [100000]))}.

serialize_deep(Depth) ->
    El = lists:foldl(fun(_, Acc) -> {xmlel, <<"a">>, [], [Acc]} end,
                     {xmlcdata, <<"x">>}, lists:seq(1, Depth)),
    Bin = stanza_xml:element_to_binary(El),
    Expected = iolist_to_binary([lists:duplicate(Depth, <<"<a>">>), <<"x">>,
                                 lists:duplicate(Depth, <<"</a>">>)]),
    Expected = Bin,
    %% A fault at the bottom is found, with its whole path.
    Bad = lists:foldl(fun(_, Acc) -> {xmlel, <<"a">>, [], [Acc]} end,
                      {xmlel, <<"a b">>, [], []}, lists:seq(1, Depth)),
    Path = lists:duplicate(Depth, 1),
    try stanza_xml:element_to_binary(Bad) of
        _ -> not_raised
    catch
        error:{badxml, Bad, {bad_element_name, Path, not_a_name}} -> ok
    end.

big_text_test_() ->
    {timeout, 120,
     ?_assertEqual({ok, ok}, stanza_test_util:in_peer(?MODULE, serialize_big_text, []))}.

%% Several MB of text in one node, written in slices; a fault past the
%% first slice is still found.
serialize_big_text() ->
    Text = binary:copy(<<"a<b & \xc3\xa9 ">>, 500000),
    Bin = stanza_xml:element_to_binary({xmlel, <<"a">>, [], [{xmlcdata, Text}]}),
    Escaped = binary:copy(<<"a&lt;b &amp; \xc3\xa9 ">>, 500000),
    Bin = <<"<a>", Escaped/binary, "</a>">>,
    Iolist = [Text, [Text]],
    Bin2 = stanza_xml:element_to_binary({xmlcdata, Iolist}),
    Bin2 = <<Escaped/binary, Escaped/binary>>,
    BadText = <<Text/binary, 1>>,
    Bad = {xmlel, <<"a">>, [], [{xmlcdata, BadText}]},
    try stanza_xml:element_to_binary(Bad) of
        _ -> not_raised
    catch
        error:{badxml, Bad, {bad_cdata, [1], {forbidden_char, 1}}} -> ok
    end.

many_children_test_() ->
    {timeout, 120,
     ?_assertEqual({ok, ok},
                   stanza_test_util:in_peer(?MODULE, serialize_many_children, [200000]))}.

serialize_many_children(N) ->
    Items = [{xmlel, <<"item">>, [{<<"jid">>, integer_to_binary(I)}], []}
             || I <- lists:seq(1, N)],
    El = {xmlel, <<"query">>, [{<<"xmlns">>, <<"jabber:iq:roster">>}], Items},
    Bin = stanza_xml:element_to_binary(El),
    Expected = iolist_to_binary(
                 [<<"<query xmlns='jabber:iq:roster'>">>,
                  [[<<"<item jid='">>, integer_to_binary(I), <<"'/>">>]
                   || I <- lists:seq(1, N)],
                  <<"</query>">>]),
    Expected = Bin,
    {ok, El} = stanza_stream:parse_element(Bin, #{format => xmlel}),
    ok.

%%====================================================================
%% Helpers
%%====================================================================

-define(MSG_BIN, {xmlel, <<"message">>,
                  [{<<"to">>, <<"a@b">>}, {<<"type">>, <<"chat">>}],
                  [{xmlcdata, <<" ">>},
                   {xmlel, <<"body">>, [], [{xmlcdata, <<"hi ">>}, {xmlcdata, <<"there">>}]},
                   {xmlel, <<"x">>, [{<<"xmlns">>, <<"ns1">>}], []},
                   {xmlel, <<"x">>, [{<<"xmlns">>, <<"ns2">>}], []},
                   {xmlel, <<"empty">>, [], []}]}).
-define(MSG_STR, {xmlelement, "message", [{"to", "a@b"}, {"type", "chat"}],
                  [{xmlcdata, <<" ">>},
                   {xmlelement, "body", [], [{xmlcdata, <<"hi ">>}, {xmlcdata, <<"there">>}]},
                   {xmlelement, "x", [{"xmlns", "ns1"}], []},
                   {xmlelement, "x", [{"xmlns", "ns2"}], []},
                   {xmlelement, "empty", [], []}]}).

crypt_test_() ->
    [?_assertEqual(<<"a&amp;b&lt;c&gt;d&quot;e&apos;f">>, stanza_xml:crypt(<<"a&b<c>d\"e'f">>)),
     ?_assertEqual("a&amp;b&lt;c&gt;d&quot;e&apos;f", stanza_xml:crypt("a&b<c>d\"e'f")),
     ?_assertEqual(<<"plain">>, stanza_xml:crypt(<<"plain">>)),
     ?_assertEqual(<<>>, stanza_xml:crypt(<<>>)),
     ?_assertEqual("", stanza_xml:crypt("")),
     %% Only the five: control characters and CR are not its business.
     ?_assertEqual(<<"\r\t\x01">>, stanza_xml:crypt(<<"\r\t\x01">>))].

cdata_test_() ->
    [?_assertEqual(<<"hi there">>, stanza_xml:get_path_s(?MSG_BIN, [{elem, <<"body">>}, cdata])),
     ?_assertEqual(<<" ">>, stanza_xml:get_tag_cdata(?MSG_BIN)),
     ?_assertEqual(<<>>, stanza_xml:get_cdata([])),
     ?_assertEqual(<<>>, stanza_xml:get_cdata([{xmlel, <<"a">>, [], [{xmlcdata, <<"x">>}]}])),
     ?_assertEqual(<<"ab">>, stanza_xml:get_cdata([{xmlcdata, "a"}, {xmlcdata, [<<"b">>]}])),
     ?_assertEqual(<<"hi there">>, stanza_xml:get_subtag_cdata(?MSG_STR, "body")),
     ?_assertEqual(<<>>, stanza_xml:get_subtag_cdata(?MSG_STR, "nobody")),
     ?_assertEqual(<<>>, stanza_xml:get_subtag_cdata(?MSG_BIN, <<"empty">>)),
     ?_assertEqual(4, length(stanza_xml:remove_cdata(element(4, ?MSG_BIN)))),
     ?_assertEqual([], stanza_xml:remove_cdata([{xmlcdata, <<"x">>}]))].

attr_test_() ->
    Attrs = [{<<"to">>, <<"a@b">>}, {<<"to">>, <<"second">>}],
    [?_assertEqual({value, <<"a@b">>}, stanza_xml:get_attr(<<"to">>, Attrs)),
     ?_assertEqual({value, <<"a@b">>}, stanza_xml:get_attr("to", Attrs)),
     ?_assertEqual(false, stanza_xml:get_attr(<<"from">>, Attrs)),
     ?_assertEqual(false, stanza_xml:get_attr(<<"to">>, [])),
     ?_assertEqual(<<>>, stanza_xml:get_attr_s(<<"from">>, Attrs)),
     ?_assertEqual("", stanza_xml:get_attr_s("from", Attrs)),
     ?_assertEqual("a@b", stanza_xml:get_tag_attr_s(<<"to">>, ?MSG_STR)),
     ?_assertEqual("", stanza_xml:get_tag_attr_s("id", ?MSG_STR)),
     ?_assertEqual(<<>>, stanza_xml:get_tag_attr_s(<<"id">>, ?MSG_BIN)),
     ?_assertEqual({value, <<"chat">>}, stanza_xml:get_tag_attr("type", ?MSG_BIN)),
     ?_assertEqual(false, stanza_xml:get_tag_attr("id", ?MSG_BIN)),
     %% An empty value is a value, not a missing attribute.
     ?_assertEqual({value, <<>>}, stanza_xml:get_attr(<<"k">>, [{<<"k">>, <<>>}]))].

subtag_test_() ->
    [?_assertMatch({xmlel, <<"x">>, [{_, <<"ns1">>}], []}, stanza_xml:get_subtag(?MSG_BIN, <<"x">>)),
     ?_assertMatch({xmlelement, "x", [{_, "ns1"}], []}, stanza_xml:get_subtag(?MSG_STR, <<"x">>)),
     ?_assertEqual(false, stanza_xml:get_subtag(?MSG_BIN, <<"nope">>)),
     ?_assertEqual(false, stanza_xml:get_subtag({xmlel, <<"a">>, [], []}, <<"a">>)),
     ?_assertEqual(2, length(stanza_xml:get_subtags(?MSG_BIN, <<"x">>))),
     ?_assertEqual([], stanza_xml:get_subtags(?MSG_STR, "nope")),
     ?_assertMatch({xmlel, <<"x">>, [{_, <<"ns2">>}], []},
                   stanza_xml:get_subtag_with_xmlns(?MSG_BIN, <<"x">>, <<"ns2">>)),
     ?_assertEqual(false, stanza_xml:get_subtag_with_xmlns(?MSG_BIN, <<"x">>, <<"ns3">>)),
     ?_assertEqual(false, stanza_xml:get_subtag_with_xmlns(?MSG_BIN, <<"empty">>, <<"ns1">>)),
     ?_assertMatch([{xmlelement, "x", [{_, "ns1"}], []}],
                   stanza_xml:get_subtags_with_xmlns(?MSG_STR, "x", "ns1")),
     ?_assertEqual([], stanza_xml:get_subtags_with_xmlns(?MSG_STR, "x", "ns3"))].

path_s_test_() ->
    [?_assertEqual(?MSG_BIN, stanza_xml:get_path_s(?MSG_BIN, [])),
     ?_assertMatch({xmlel, <<"body">>, _, _}, stanza_xml:get_path_s(?MSG_BIN, [{elem, <<"body">>}])),
     ?_assertEqual(<<"chat">>, stanza_xml:get_path_s(?MSG_BIN, [{attr, <<"type">>}])),
     ?_assertEqual(<<>>, stanza_xml:get_path_s(?MSG_STR, [{elem, "nobody"}, cdata])),
     ?_assertEqual("", stanza_xml:get_path_s(?MSG_STR, [{elem, "nobody"}, {attr, "k"}])),
     ?_assertEqual(<<>>, stanza_xml:get_path_s(?MSG_BIN, [{elem, <<"nobody">>}, {attr, <<"k">>}])),
     ?_assertEqual("", stanza_xml:get_path_s(?MSG_STR, [{elem, "nobody"}])),
     ?_assertEqual(<<>>, stanza_xml:get_path_s(?MSG_BIN, [{elem, <<"body">>}, {elem, <<"x">>}, cdata])),
     ?_assertEqual("", stanza_xml:get_path_s(?MSG_STR, [{attr, "missing"}]))].

modify_test_() ->
    [?_assertEqual({xmlel, <<"a">>, [], [{xmlcdata, <<"x">>}, {xmlel, <<"b">>, [], []}]},
                   stanza_xml:append_subtags({xmlel, <<"a">>, [], [{xmlcdata, <<"x">>}]},
                                             [{xmlel, <<"b">>, [], []}])),
     ?_assertEqual({xmlelement, "a", [], []}, stanza_xml:append_subtags({xmlelement, "a", [], []}, [])),
     %% Deletes the first match only, then prepends.
     ?_assertEqual({xmlelement, "a", [{"k", "new"}, {"j", "1"}, {"k", "old2"}], []},
                   stanza_xml:replace_tag_attr("k", "new",
                                               {xmlelement, "a", [{"j", "1"}, {"k", "old"}, {"k", "old2"}], []})),
     ?_assertEqual({xmlel, <<"a">>, [{<<"k">>, <<"v">>}], []},
                   stanza_xml:replace_tag_attr(<<"k">>, <<"v">>, {xmlel, <<"a">>, [], []})),
     ?_assertEqual({xmlel, <<"a">>, [], [{xmlel, <<"b">>, [], [{xmlcdata, <<"new">>}]},
                                         {xmlel, <<"b">>, [], []}]},
                   stanza_xml:replace_subtag({xmlel, <<"b">>, [], [{xmlcdata, <<"new">>}]},
                                             {xmlel, <<"a">>, [], [{xmlel, <<"b">>, [], []},
                                                                   {xmlel, <<"b">>, [], []}]})),
     %% No child by that name: appended.
     ?_assertEqual({xmlel, <<"a">>, [], [{xmlcdata, <<"t">>}, {xmlel, <<"b">>, [], []}]},
                   stanza_xml:replace_subtag({xmlel, <<"b">>, [], []},
                                             {xmlel, <<"a">>, [], [{xmlcdata, <<"t">>}]})),
     ?_assertEqual([{xmlel, <<"x">>, [{<<"xmlns">>, <<"ns2">>}], []}],
                   stanza_xml:get_subtags(stanza_xml:remove_subtags(?MSG_BIN, <<"x">>,
                                                                    {<<"xmlns">>, <<"ns1">>}),
                                          <<"x">>)),
     ?_assertEqual(?MSG_BIN, stanza_xml:remove_subtags(?MSG_BIN, <<"x">>, {<<"xmlns">>, <<"ns3">>})),
     ?_assertEqual(?MSG_BIN, stanza_xml:remove_subtags(?MSG_BIN, <<"y">>, {<<"xmlns">>, <<"ns1">>}))].

conversion_test_() ->
    [?_assertEqual(?MSG_BIN, stanza_xml:to_xmlel(?MSG_STR)),
     ?_assertEqual(?MSG_STR, stanza_xml:to_xmlelement(?MSG_BIN)),
     ?_assertEqual(?MSG_STR, stanza_xml:to_xmlelement(?MSG_STR)),
     ?_assertEqual(?MSG_BIN, stanza_xml:to_xmlel(?MSG_BIN)),
     ?_assertEqual({xmlcdata, <<"ab">>}, stanza_xml:to_xmlel({xmlcdata, ["a", <<"b">>]})),
     %% 2.x strings are UTF-8 bytes; a list of characters is encoded.
     ?_assertEqual({xmlel, <<"a">>, [{<<"k">>, <<"\xc3\xa9">>}], []},
                   stanza_xml:to_xmlel({xmlelement, "a", [{"k", [16#c3, 16#a9]}], []})),
     ?_assertEqual({xmlel, <<"a">>, [{<<"k">>, <<"\xe4\xb8\xad">>}], []},
                   stanza_xml:to_xmlel({xmlelement, "a", [{"k", [16#4e2d]}], []})),
     ?_assertEqual({xmlelement, "a", [{"k", [16#c3, 16#a9]}], []},
                   stanza_xml:to_xmlelement({xmlel, <<"a">>, [{<<"k">>, <<"\xc3\xa9">>}], []}))].

%% Parsed terms in each format go through the helpers alike.
formats_agree_test() ->
    Xml = <<"<iq type='get' id='1'><query xmlns='jabber:iq:roster'>"
            "<item jid='a@b'/></query></iq>">>,
    [B, L, X] = [element(2, stanza_stream:parse_element(Xml, #{format => F}))
                 || F <- [binary, legacy, xmlel]],
    ?assertEqual(L, stanza_xml:to_xmlelement(B)),
    ?assertEqual(X, stanza_xml:to_xmlel(L)),
    Path = [{elem, "query"}, {elem, "item"}, {attr, "jid"}],
    ?assertEqual([<<"a@b">>, "a@b", <<"a@b">>],
                 [stanza_xml:get_path_s(E, Path) || E <- [B, L, X]]),
    ?assertEqual([Xml, Xml, Xml],
                 [stanza_xml:element_to_binary(E) || E <- [B, L, X]]).
