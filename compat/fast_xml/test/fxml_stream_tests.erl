%% fxml_stream on its own: the API's edges (the differential test compares
%% the events with the real fast_xml's).
-module(fxml_stream_tests).

-include_lib("eunit/include/eunit.hrl").
-include("fxml.hrl").

-define(HEADER, <<"<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "xmlns:db='jabber:server:dialback'>">>).

mailbox() ->
    receive M -> [M | mailbox()]
    after 0 -> []
    end.

parse_all(S0, Chunks) ->
    lists:foldl(fun(C, S) -> fxml_stream:parse(S, C) end, S0, Chunks).

events_test() ->
    S = parse_all(fxml_stream:new(self()),
                  [?HEADER, <<" <message><body>hi</body></message></stream:stream>">>]),
    ?assertMatch([{'$gen_event', {xmlstreamstart, <<"stream:stream">>, _}},
                  {'$gen_all_state_event', {xmlstreamcdata, <<" ">>}},
                  {'$gen_event', {xmlstreamelement,
                                  #xmlel{name = <<"message">>, attrs = [],
                                         children = [#xmlel{name = <<"body">>}]}}},
                  {'$gen_event', {xmlstreamend, <<"stream:stream">>}}],
                 mailbox()),
    ?assert(fxml_stream:close(S)).

no_gen_server_test() ->
    S = parse_all(fxml_stream:new(self(), infinity, [no_gen_server]),
                  [?HEADER, <<"<a/> ">>]),
    ?assertMatch([{xmlstreamstart, _, _}, {xmlstreamelement, #xmlel{name = <<"a">>}},
                  {xmlstreamcdata, <<" ">>}], mailbox()),
    true = fxml_stream:close(S).

%% The namespace examples of fast_xml's behaviour ejabberd relies on.
namespaces_test() ->
    S = parse_all(fxml_stream:new(self(), infinity, [no_gen_server]),
                  [?HEADER,
                   <<"<message xmlns='jabber:client'><a:q xmlns:a='urn:x'/>"
                     "<x xmlns=''/></message>"
                     "<db:result from='a'>k</db:result>"
                     "<iq xmlns='jabber:server'><q xmlns='jabber:client'/></iq>">>]),
    [_Start | Stanzas] = mailbox(),
    ?assertEqual(
       [{xmlstreamelement,
         #xmlel{name = <<"message">>, attrs = [],
                children = [#xmlel{name = <<"q">>,
                                   attrs = [{<<"xmlns">>, <<"urn:x">>},
                                            {<<"xmlns:a">>, <<"urn:x">>}]},
                            #xmlel{name = <<"x">>, attrs = [{<<"xmlns">>, <<>>}]}]}},
        {xmlstreamelement,
         #xmlel{name = <<"db:result">>, attrs = [{<<"from">>, <<"a">>}],
                children = [{xmlcdata, <<"k">>}]}},
        {xmlstreamelement,
         #xmlel{name = <<"iq">>, attrs = [{<<"xmlns">>, <<"jabber:server">>}],
                children = [#xmlel{name = <<"q">>,
                                   attrs = [{<<"xmlns">>, <<"jabber:client">>}]}]}}],
       Stanzas),
    true = fxml_stream:close(S).

too_big_test() ->
    S = parse_all(fxml_stream:new(self(), 20),
                  [?HEADER, <<"<a>12345678901234567890</a>">>]),
    ?assertMatch([{'$gen_event', {xmlstreamstart, _, _}},
                  {'$gen_event', {xmlstreamerror, <<"XML stanza is too big">>}}],
                 mailbox()),
    true = fxml_stream:close(S).

not_well_formed_test() ->
    S = parse_all(fxml_stream:new(self()), [?HEADER, <<"<a></b>">>]),
    ?assertMatch([_, {'$gen_event', {xmlstreamerror, {7, <<"mismatched tag">>}}}],
                 mailbox()),
    true = fxml_stream:close(S).

reset_test() ->
    S1 = parse_all(fxml_stream:new(self()), [?HEADER, <<"<a>">>]),
    S2 = fxml_stream:reset(S1),
    _ = mailbox(),
    S3 = parse_all(S2, [<<"<?xml version='1.0'?>">>, ?HEADER, <<"<b/>">>]),
    ?assertMatch([{'$gen_event', {xmlstreamstart, _, _}},
                  {'$gen_event', {xmlstreamelement, #xmlel{name = <<"b">>}}}],
                 mailbox()),
    true = fxml_stream:close(S3).

change_callback_pid_test() ->
    Self = self(),
    Other = spawn_link(fun() -> receive stop -> Self ! {got, mailbox()} end end),
    S = fxml_stream:change_callback_pid(fxml_stream:new(self()), Other),
    S1 = parse_all(S, [?HEADER]),
    Other ! stop,
    ?assertMatch({got, [{'$gen_event', {xmlstreamstart, _, _}}]},
                 receive {got, _} = G -> G end),
    ?assertEqual([], mailbox()),
    true = fxml_stream:close(S1).

closed_test_() ->
    S = fxml_stream:new(self()),
    true = fxml_stream:close(S),
    [?_assertError(badarg, fxml_stream:close(S)),
     ?_assertError(badarg, fxml_stream:parse(S, <<"<a>">>)),
     ?_assertError(badarg, fxml_stream:reset(S)),
     ?_assertError(badarg, fxml_stream:change_callback_pid(S, self()))].

bad_arguments_test_() ->
    [?_assertError(badarg, fxml_stream:new(not_a_pid)),
     ?_assertError(badarg, fxml_stream:new(self(), -1)),
     ?_assertError(badarg, fxml_stream:new(self(), infinity, not_a_list)),
     ?_assertError(badarg, fxml_stream:parse(fxml_stream:new(self()), "a list")),
     ?_assertError(badarg, fxml_stream:parse_element("<a/>")),
     ?_assertEqual(ok, fxml_stream:load_nif()),
     ?_assertEqual(ok, fxml_stream:load_nif("/nowhere"))].

parse_element_test_() ->
    [?_assertEqual(#xmlel{name = <<"a:b">>,
                          attrs = [{<<"xmlns:a">>, <<"u">>}, {<<"x">>, <<"1">>}],
                          children = [{xmlcdata, <<"t">>}]},
                   fxml_stream:parse_element(<<"<a:b xmlns:a='u' x='1'>t</a:b>">>)),
     ?_assertEqual({error, {3, <<"no element found">>}},
                   fxml_stream:parse_element(<<"<a>">>)),
     ?_assertEqual({error, {9, <<"junk after document element">>}},
                   fxml_stream:parse_element(<<"<a/><b/>">>)),
     ?_assertEqual({error, {11, <<"undefined entity">>}},
                   fxml_stream:parse_element(<<"<a>&x;</a>">>))].

%% A big stanza in one chunk is parsed in slices: the call returns and
%% the stanza arrives whole.
big_chunk_test() ->
    Text = binary:copy(<<"0123456789">>, 200000),
    S = parse_all(fxml_stream:new(self(), infinity, [no_gen_server]),
                  [?HEADER, <<"<m>", Text/binary, "</m>">>]),
    ?assertMatch([_, {xmlstreamelement, #xmlel{children = [{xmlcdata, Text}]}}],
                 mailbox()),
    true = fxml_stream:close(S).
