%% mod_example_xmerl moved to stanza: stanza_stream:parse_element/1 for
%% xmerl_scan:string/1, stanza_xml's helpers for the XPath queries,
%% stanza_xml:element_to_binary/1 for xmerl:export_simple/3. Same answers,
%% as binaries.
-module(mod_example_stanza).

-export([iq_info/1, message_body/1, roster_jids/1, version_reply/3]).

iq_info(Packet) ->
    case stanza_stream:parse_element(Packet, #{format => xmlel}) of
        {ok, {xmlel, <<"iq">>, _, Children} = El} ->
            NS = case stanza_xml:remove_cdata(Children) of
                     [Query | _] -> stanza_xml:get_tag_attr_s(<<"xmlns">>, Query);
                     [] -> <<>>
                 end,
            {stanza_xml:get_tag_attr_s(<<"type">>, El),
             stanza_xml:get_tag_attr_s(<<"id">>, El), NS};
        {ok, _NotAnIq} ->
            {<<>>, <<>>, <<>>}
    end.

message_body(Packet) ->
    {ok, El} = stanza_stream:parse_element(Packet),
    stanza_xml:get_path_s(El, [{elem, <<"body">>}, cdata]).

roster_jids(Packet) ->
    {ok, El} = stanza_stream:parse_element(Packet),
    Query = stanza_xml:get_subtag(El, <<"query">>),
    [stanza_xml:get_tag_attr_s(<<"jid">>, Item)
     || Query =/= false, Item <- stanza_xml:get_subtags(Query, <<"item">>)].

version_reply(Packet, Name, Version) ->
    {ok, El} = stanza_stream:parse_element(Packet),
    Reply = {xmlel, <<"iq">>,
             [{<<"type">>, <<"result">>},
              {<<"id">>, stanza_xml:get_tag_attr_s(<<"id">>, El)},
              {<<"to">>, stanza_xml:get_tag_attr_s(<<"from">>, El)}],
             [{xmlel, <<"query">>, [{<<"xmlns">>, <<"jabber:iq:version">>}],
               [{xmlel, <<"name">>, [], [{xmlcdata, Name}]},
                {xmlel, <<"version">>, [], [{xmlcdata, Version}]}]}]},
    stanza_xml:element_to_binary(Reply).
