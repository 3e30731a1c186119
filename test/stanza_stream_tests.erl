%% EUnit tests of stanza_stream: the streaming API, event shapes in every
%% format, limits, RFC 6120 restrictions, error handling, push mode,
%% reset, ownership, resource freeing and big inputs.
-module(stanza_stream_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza.hrl").
-include("stanza_xmlel.hrl").

%% Run in a peer VM by the push-mode stress tests.
-export([push_stress/2, deep_depths/0, big_push/1]).

-define(STREAM_NS, <<"http://etherx.jabber.org/streams">>).
-define(HEADER, <<"<?xml version='1.0'?>"
                  "<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "to='example.com' version='1.0'>">>).
-define(HEADER_ATTRS, [{<<"xmlns">>, <<"jabber:client">>},
                       {<<"xmlns:stream">>, ?STREAM_NS},
                       {<<"to">>, <<"example.com">>},
                       {<<"version">>, <<"1.0">>}]).
-define(END, <<"</stream:stream>">>).
-define(FORMATS, [binary, legacy, xmlel]).

%% A stanza with a namespace declaration after an attribute, a prefixed
%% child, an escaped character and multi-byte UTF-8 (é, €).
-define(STANZA, <<"<message to='juliet@example.com' xmlns:x='urn:x'>"
                  "<body>caf\xc3\xa9 &lt;3</body>"
                  "<x:y x:z='\xe2\x82\xac'/></message>">>).

-define(NWF(Code), {xmlstreamerror, {not_well_formed, #{code := Code}}}).
-define(ANY_NWF, {xmlstreamerror, {not_well_formed, #{}}}).

%%====================================================================
%% Helpers
%%====================================================================

new_parser(Opts) ->
    {ok, P} = stanza_stream:new(Opts),
    P.

parse_ok(P, Data) ->
    {ok, Events} = stanza_stream:parse(P, Data),
    Events.

%% The events of all chunks. An error must be the last event of its chunk;
%% every later chunk must give that same error alone, which is checked
%% here and not repeated in the result.
feed(P, Chunks) ->
    feed(P, Chunks, none, []).

feed(_P, [], _Error, Acc) ->
    lists:append(lists:reverse(Acc));
feed(P, [Chunk | Chunks], none, Acc) ->
    Events = parse_ok(P, Chunk),
    Errors = [E || {xmlstreamerror, _} = E <- Events],
    case Errors of
        [] ->
            feed(P, Chunks, none, [Events | Acc]);
        [Error] ->
            ?assertEqual(Error, lists:last(Events)),
            feed(P, Chunks, Error, [Events | Acc])
    end;
feed(P, [Chunk | Chunks], Error, Acc) ->
    ?assertEqual([Error], parse_ok(P, Chunk)),
    feed(P, Chunks, Error, Acc).

%% All events of a stream fed as the given chunks.
stream(Opts, Chunks) ->
    P = new_parser(Opts),
    Events = feed(P, Chunks),
    ok = stanza_stream:close(P),
    Events.

%% A parser that has consumed the stream header.
opened(Opts) ->
    P = new_parser(Opts),
    case parse_ok(P, ?HEADER) of
        [{xmlstreamstart, _, _}] -> P;
        [] when is_map_key(callback, Opts) -> P
    end.

%% The events that follow the stream header.
after_header(Opts, Chunks) ->
    P = opened(Opts),
    Events = feed(P, Chunks),
    ok = stanza_stream:close(P),
    Events.

after_header(Chunks) ->
    after_header(#{}, Chunks).

bytes(Bin) ->
    [<<B>> || <<B>> <= Bin].

%% [Bin] cut in two at every position, 0 and size included.
two_way_splits(Bin) ->
    [[binary:part(Bin, 0, I), binary:part(Bin, I, byte_size(Bin) - I)]
     || I <- lists:seq(0, byte_size(Bin))].

chunks_of(Bin, N) when byte_size(Bin) =< N ->
    [Bin];
chunks_of(Bin, N) ->
    <<C:N/binary, Rest/binary>> = Bin,
    [C | chunks_of(Rest, N)].

%% Converts an expected element written in the binary format.
in_format(binary, El) ->
    El;
in_format(xmlel, {xmlelement, N, A, C}) ->
    {xmlel, N, A, [in_format(xmlel, X) || X <- C]};
in_format(legacy, {xmlelement, N, A, C}) ->
    {xmlelement, binary_to_list(N),
     [{binary_to_list(K), binary_to_list(V)} || {K, V} <- A],
     [in_format(legacy, X) || X <- C]};
in_format(_, {xmlcdata, _} = Text) ->
    Text.

el(Name) -> {xmlelement, Name, [], []}.

el(Name, Children) -> {xmlelement, Name, [], Children}.

stanza_events(Elements) ->
    [{xmlstreamelement, E} || E <- Elements].

repeat(Unit, Size) ->
    binary:copy(Unit, Size div byte_size(Unit)).

nested(N) ->
    iolist_to_binary([lists:duplicate(N, <<"<a>">>),
                      lists:duplicate(N, <<"</a>">>)]).

%% Depth of a chain of single children, the element itself being 1.
chain_depth({_, _, _, []}, D) -> D;
chain_depth({_, _, _, [Child]}, D) -> chain_depth(Child, D + 1).

in_other_process(Fun) ->
    Self = self(),
    Ref = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Self ! {Ref, Fun()} end),
    receive
        {Ref, Result} ->
            erlang:demonitor(MRef, [flush]),
            Result;
        {'DOWN', MRef, process, Pid, Reason} ->
            erlang:error({other_process_died, Reason})
    after 60000 ->
            erlang:error(timeout)
    end.

in_peer(M, F, A) ->
    stanza_test_util:in_peer(M, F, A).

gen_events() ->
    stanza_test_util:gen_events().

poll(Fun, Deadline) ->
    erlang:garbage_collect(),
    case Fun() of
        true ->
            true;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> false;
                false -> timer:sleep(20), poll(Fun, Deadline)
            end
    end.

%% Collects every process' garbage, so that parsers left by earlier tests
%% are freed before a baseline is taken; returns live_parsers().
settle() ->
    [erlang:garbage_collect(Pid) || Pid <- processes()],
    N = stanza_stream:live_parsers(),
    timer:sleep(10),
    case stanza_stream:live_parsers() of
        N -> N;
        _ -> settle()
    end.

poll(Fun) ->
    poll(Fun, erlang:monotonic_time(millisecond) + 15000).

%%====================================================================
%% Basic API
%%====================================================================

new_returns_ok_test() ->
    ?assertMatch({ok, _}, stanza_stream:new(#{})),
    ?assertMatch({ok, _}, stanza_stream:new()).

every_option_accepted_test() ->
    Opts = #{format => legacy, max_stanza_size => 10, max_depth => 3,
             restricted => drop, callback => self()},
    ?assertMatch({ok, _}, stanza_stream:new(Opts)),
    ?assertMatch({ok, _}, stanza_stream:new(#{max_stanza_size => infinity})).

parse_accepts_iodata_test() ->
    P = opened(#{}),
    ?assertEqual({ok, stanza_events([el(<<"ab">>, [{xmlcdata, <<"xy">>}])])},
                 stanza_stream:parse(P, ["<a", [<<"b">>, $>], "x",
                                         [[<<"y</ab>">>]]])).

empty_chunk_gives_no_event_test() ->
    P = opened(#{}),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<>>)),
    ?assertEqual({ok, []}, stanza_stream:parse(P, [])).

close_returns_ok_test() ->
    ?assertEqual(ok, stanza_stream:close(new_parser(#{}))).

%%====================================================================
%% Event shapes, every format
%%====================================================================

binary_format_is_default_test() ->
    ?assertEqual(stream(#{format => binary}, [?HEADER, ?STANZA, ?END]),
                 stream(#{}, [?HEADER, ?STANZA, ?END])).

binary_format_events_test() ->
    ?assertEqual(
       [{xmlstreamstart, <<"stream:stream">>, ?HEADER_ATTRS},
        {xmlstreamelement,
         {xmlelement, <<"message">>,
          [{<<"xmlns:x">>, <<"urn:x">>}, {<<"to">>, <<"juliet@example.com">>}],
          [{xmlelement, <<"body">>, [], [{xmlcdata, <<"caf\xc3\xa9 <3">>}]},
           {xmlelement, <<"x:y">>, [{<<"x:z">>, <<"\xe2\x82\xac">>}], []}]}},
        {xmlstreamend, <<"stream:stream">>}],
       stream(#{format => binary}, [?HEADER, ?STANZA, ?END])).

legacy_format_events_test() ->
    ?assertEqual(
       [{xmlstreamstart, "stream:stream",
         [{"xmlns", "jabber:client"},
          {"xmlns:stream", "http://etherx.jabber.org/streams"},
          {"to", "example.com"}, {"version", "1.0"}]},
        {xmlstreamelement,
         {xmlelement, "message",
          [{"xmlns:x", "urn:x"}, {"to", "juliet@example.com"}],
          [{xmlelement, "body", [], [{xmlcdata, <<"caf\xc3\xa9 <3">>}]},
           {xmlelement, "x:y", [{"x:z", [16#e2, 16#82, 16#ac]}], []}]}},
        {xmlstreamend, "stream:stream"}],
       stream(#{format => legacy}, [?HEADER, ?STANZA, ?END])).

xmlel_format_events_test() ->
    ?assertEqual(
       [{xmlstreamstart, <<"stream:stream">>, ?HEADER_ATTRS},
        {xmlstreamelement,
         #xmlel{name = <<"message">>,
                attrs = [{<<"xmlns:x">>, <<"urn:x">>},
                         {<<"to">>, <<"juliet@example.com">>}],
                children =
                    [#xmlel{name = <<"body">>,
                            children = [{xmlcdata, <<"caf\xc3\xa9 <3">>}]},
                     #xmlel{name = <<"x:y">>,
                            attrs = [{<<"x:z">>, <<"\xe2\x82\xac">>}]}]}},
        {xmlstreamend, <<"stream:stream">>}],
       stream(#{format => xmlel}, [?HEADER, ?STANZA, ?END])).

%% Strings are lists of the UTF-8 bytes (binary_to_list), not of code points.
legacy_names_are_utf8_byte_lists_test() ->
    Name = <<"\xc3\xa9t\xc3\xa9">>,
    Stanza = <<"<", Name/binary, " \xc3\xbc='\xe6\x97\xa5'>",
               "\xf0\x9f\x98\x80</", Name/binary, ">">>,
    ?assertEqual(
       stanza_events([{xmlelement, binary_to_list(Name),
                       [{[16#c3, 16#bc], [16#e6, 16#97, 16#a5]}],
                       [{xmlcdata, <<"\xf0\x9f\x98\x80">>}]}]),
       after_header(#{format => legacy}, [Stanza])).

legacy_stanza_text_is_binary_test() ->
    [{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, Text}]}}] =
        after_header(#{format => legacy}, [<<"<a>hi</a>">>]),
    ?assertEqual(<<"hi">>, Text).

error_event_shape_binary_test() ->
    [Event] = after_header(#{format => binary}, [<<"<a></b>">>]),
    ?assertMatch({xmlstreamerror, {not_well_formed, #{}}}, Event),
    {xmlstreamerror, {not_well_formed, Map}} = Event,
    ?assertEqual([code, column, line, message, offset],
                 lists:sort(maps:keys(Map))),
    ?assertMatch(#{code := 7, message := <<"mismatched tag">>, line := 1},
                 Map),
    ?assert(is_integer(maps:get(column, Map))),
    ?assert(is_integer(maps:get(offset, Map))).

error_event_shape_xmlel_test() ->
    ?assertMatch([{xmlstreamerror,
                   {not_well_formed, #{code := 7, message := <<_/binary>>}}}],
                 after_header(#{format => xmlel}, [<<"<a></b>">>])).

error_event_shape_legacy_test() ->
    ?assertEqual([{xmlstreamerror, {7, "mismatched tag"}}],
                 after_header(#{format => legacy}, [<<"<a></b>">>])).

parse_element_every_format_test_() ->
    [{atom_to_list(F),
      ?_assertEqual({ok, in_format(F, stanza_binary())},
                    stanza_stream:parse_element(?STANZA, #{format => F}))}
     || F <- ?FORMATS].

parse_element_default_is_binary_test() ->
    ?assertEqual({ok, stanza_binary()}, stanza_stream:parse_element(?STANZA)).

parse_element_legacy_literal_test() ->
    ?assertEqual({ok, {xmlelement, "iq", [{"type", "get"}, {"id", "1"}],
                       [{xmlcdata, <<"x">>}]}},
                 stanza_stream:parse_element(<<"<iq type='get' id='1'>x</iq>">>,
                                             #{format => legacy})).

parse_element_xmlel_literal_test() ->
    ?assertEqual({ok, #xmlel{name = <<"iq">>, attrs = [{<<"type">>, <<"get">>}]}},
                 stanza_stream:parse_element(<<"<iq type='get'/>">>,
                                             #{format => xmlel})).

stanza_binary() ->
    {xmlelement, <<"message">>,
     [{<<"xmlns:x">>, <<"urn:x">>}, {<<"to">>, <<"juliet@example.com">>}],
     [{xmlelement, <<"body">>, [], [{xmlcdata, <<"caf\xc3\xa9 <3">>}]},
      {xmlelement, <<"x:y">>, [{<<"x:z">>, <<"\xe2\x82\xac">>}], []}]}.

%%====================================================================
%% Names and namespaces
%%====================================================================

prefixes_kept_as_written_test() ->
    Stanza = <<"<stream:features><p:item xmlns:p='urn:p' p:attr='1'/>"
               "</stream:features>">>,
    ?assertEqual(
       stanza_events([{xmlelement, <<"stream:features">>, [],
                       [{xmlelement, <<"p:item">>,
                         [{<<"xmlns:p">>, <<"urn:p">>}, {<<"p:attr">>, <<"1">>}],
                         []}]}]),
       after_header([Stanza])).

ns_declarations_first_in_document_order_test() ->
    Stanza = <<"<m a='1' xmlns:p='urn:p' b='2' xmlns='urn:d' p:c='3' "
               "xmlns:q='urn:q'/>">>,
    ?assertEqual(
       stanza_events([{xmlelement, <<"m">>,
                       [{<<"xmlns:p">>, <<"urn:p">>}, {<<"xmlns">>, <<"urn:d">>},
                        {<<"xmlns:q">>, <<"urn:q">>}, {<<"a">>, <<"1">>},
                        {<<"b">>, <<"2">>}, {<<"p:c">>, <<"3">>}],
                       []}]),
       after_header([Stanza])).

ns_declarations_first_in_stream_header_test() ->
    Header = <<"<stream:stream to='x' xmlns:stream='urn:s' version='1.0' "
               "xmlns='jabber:client'>">>,
    ?assertEqual([{xmlstreamstart, <<"stream:stream">>,
                   [{<<"xmlns:stream">>, <<"urn:s">>},
                    {<<"xmlns">>, <<"jabber:client">>},
                    {<<"to">>, <<"x">>}, {<<"version">>, <<"1.0">>}]}],
                 stream(#{}, [Header])).

%% Enough declarations and attributes to grow every buffer several times.
many_attributes_and_declarations_test() ->
    Ns = lists:seq(1, 300),
    I = fun integer_to_binary/1,
    Attrs = lists:append(
              [[<<" a", (I(N))/binary, "='v", (I(N))/binary, "'">>,
                <<" xmlns:p", (I(N))/binary, "='urn:", (I(N))/binary, "'">>,
                <<" p", (I(N))/binary, ":x='", (binary:copy(<<"y">>, N))/binary,
                  "'">>]
               || N <- Ns]),
    Stanza = iolist_to_binary([<<"<m">>, Attrs, <<"><c/></m>">>]),
    Expected = {xmlelement, <<"m">>,
                [{<<"xmlns:p", (I(N))/binary>>, <<"urn:", (I(N))/binary>>}
                 || N <- Ns] ++
                    lists:append(
                      [[{<<"a", (I(N))/binary>>, <<"v", (I(N))/binary>>},
                        {<<"p", (I(N))/binary, ":x">>, binary:copy(<<"y">>, N)}]
                       || N <- Ns]),
                [el(<<"c">>)]},
    ?assertEqual(stanza_events([Expected]), after_header([Stanza])),
    ?assertEqual(stanza_events([Expected]),
                 after_header(chunks_of(Stanza, 100))),
    ?assertEqual(stanza_events([in_format(legacy, Expected)]),
                 after_header(#{format => legacy}, [Stanza])).

default_ns_undeclaration_dropped_test() ->
    ?assertEqual(
       stanza_events([{xmlelement, <<"m">>, [{<<"a">>, <<"1">>}],
                       [{xmlelement, <<"b">>, [], []}]}]),
       after_header([<<"<m xmlns='' a='1'><b xmlns=''/></m>">>])).

default_ns_undeclaration_dropped_legacy_test() ->
    ?assertEqual(stanza_events([{xmlelement, "m", [{"a", "1"}], []}]),
                 after_header(#{format => legacy}, [<<"<m a='1' xmlns=''/>">>])).

xml_prefix_is_predeclared_test() ->
    ?assertEqual(
       stanza_events([{xmlelement, <<"body">>, [{<<"xml:lang">>, <<"en">>}],
                       []}]),
       after_header([<<"<body xml:lang='en'/>">>])).

unbound_element_prefix_test() ->
    Offset = byte_size(?HEADER) + 3,
    ?assertMatch([{xmlstreamerror,
                   {not_well_formed, #{code := 27, message := <<_/binary>>,
                                       line := 1, column := Offset,
                                       offset := Offset}}}],
                 after_header([<<"<a><x:b/></a>">>])).

unbound_attribute_prefix_test() ->
    ?assertMatch([?NWF(27)], after_header([<<"<a x:b='1'/>">>])).

unbound_prefix_in_parse_element_test() ->
    ?assertMatch({error, {not_well_formed, #{code := 27}}},
                 stanza_stream:parse_element(<<"<x:a/>">>)),
    ?assertMatch({error, {27, [_ | _]}},
                 stanza_stream:parse_element(<<"<x:a/>">>, #{format => legacy})).

prefix_out_of_scope_after_its_element_test() ->
    ?assertMatch([{xmlstreamelement, _}, ?NWF(27)],
                 after_header([<<"<p:a xmlns:p='urn:p'/><p:b/>">>])).

error_line_counts_newlines_test() ->
    P = new_parser(#{}),
    Events = feed(P, [<<"<stream:stream xmlns:stream='urn:s'>\n">>,
                      <<"<a>\n\n<b></c>">>]),
    ?assertMatch([_, {xmlstreamerror,
                      {not_well_formed, #{code := 7, line := 4}}}], Events).

%%====================================================================
%% max_stanza_size
%%====================================================================

%% 74 bytes, with multi-byte characters, an entity, a CDATA section.
-define(SIZED, <<"<message to='a@b'><body>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                 "&amp;<![CDATA[x]]></body><x/></message>">>).

sized_stanza() ->
    {xmlelement, <<"message">>, [{<<"to">>, <<"a@b">>}],
     [{xmlelement, <<"body">>, [],
       [{xmlcdata, <<"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80&x">>}]},
      {xmlelement, <<"x">>, [], []}]}.

size_limit_exact_passes_every_split_test() ->
    N = byte_size(?SIZED),
    Expected = stanza_events([sized_stanza()]),
    [?assertEqual({Split, Expected},
                  {Split, after_header(#{max_stanza_size => N}, Split)})
     || Split <- two_way_splits(?SIZED)].

size_limit_one_over_fails_every_split_test() ->
    N = byte_size(?SIZED) - 1,
    [?assertEqual({Split, [{xmlstreamerror, stanza_too_big}]},
                  {Split, after_header(#{max_stanza_size => N}, Split)})
     || Split <- two_way_splits(?SIZED)].

size_limit_exact_passes_byte_by_byte_test() ->
    N = byte_size(?SIZED),
    ?assertEqual(stanza_events([sized_stanza()]),
                 after_header(#{max_stanza_size => N}, bytes(?SIZED))).

size_limit_one_over_fails_byte_by_byte_test() ->
    N = byte_size(?SIZED) - 1,
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{max_stanza_size => N}, bytes(?SIZED))).

%% Every three-way split of a stanza between keepalives and neighbours.
size_limit_three_way_splits_test_() ->
    {timeout, 120, fun size_limit_three_way_splits/0}.

size_limit_three_way_splits() ->
    Small = <<"<a/>">>,
    Stream = <<" \r\n", Small/binary, "\n \t", ?SIZED/binary, "  ",
               Small/binary, "\r\n">>,
    Size = byte_size(Stream),
    N = byte_size(?SIZED),
    Pass = stanza_events([el(<<"a">>), sized_stanza(), el(<<"a">>)]),
    Fail = stanza_events([el(<<"a">>)]) ++ [{xmlstreamerror, stanza_too_big}],
    lists:foreach(
      fun({I, J}) ->
              Split = [binary:part(Stream, 0, I),
                       binary:part(Stream, I, J - I),
                       binary:part(Stream, J, Size - J)],
              ?assertEqual({Split, Pass},
                           {Split, after_header(#{max_stanza_size => N},
                                                Split)}),
              ?assertEqual({Split, Fail},
                           {Split, after_header(#{max_stanza_size => N - 1},
                                                Split)})
      end,
      [{I, J} || I <- lists:seq(0, Size), J <- lists:seq(I, Size)]).

size_limit_self_closing_exact_test() ->
    ?assertEqual(stanza_events([el(<<"a">>)]),
                 after_header(#{max_stanza_size => 4}, bytes(<<"<a/>">>))),
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{max_stanza_size => 3}, bytes(<<"<a/>">>))).

size_limit_counts_end_tag_to_its_end_test() ->
    Stanza = <<"<a x = '1' ></a \n >">>,
    N = byte_size(Stanza),
    ?assertEqual(stanza_events([{xmlelement, <<"a">>, [{<<"x">>, <<"1">>}], []}]),
                 after_header(#{max_stanza_size => N}, bytes(Stanza))),
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{max_stanza_size => N - 1}, bytes(Stanza))).

size_limit_counts_whitespace_inside_stanza_test() ->
    Stanza = <<"<a>     </a>">>,
    ?assertEqual(stanza_events([el(<<"a">>, [{xmlcdata, <<"     ">>}])]),
                 after_header(#{max_stanza_size => 12}, [Stanza])),
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{max_stanza_size => 11}, [Stanza])).

many_small_stanzas_in_one_chunk_test() ->
    Chunk = binary:copy(<<"<a/>">>, 20000),
    Events = after_header(#{max_stanza_size => 4}, [Chunk]),
    ?assertEqual(20000, length(Events)),
    ?assertEqual(stanza_events([el(<<"a">>)]), lists:usort(Events)).

many_stanzas_exactly_at_limit_in_one_chunk_test() ->
    Stanza = <<"<message><body>hello</body></message>">>,
    Chunk = iolist_to_binary(lists:duplicate(5000, [Stanza, <<"\n">>])),
    Events = after_header(#{max_stanza_size => byte_size(Stanza)}, [Chunk]),
    Expected = {xmlstreamelement,
                el(<<"message">>, [el(<<"body">>, [{xmlcdata, <<"hello">>}])])},
    ?assertEqual(lists:duplicate(5000, Expected), Events).

whitespace_between_stanzas_not_counted_test() ->
    Spaces = repeat(<<" \n\t\r\n">>, 200000),
    Events = after_header(#{max_stanza_size => 4},
                          [<<"<a/>">>, Spaces, Spaces, <<"<b/>">>,
                           <<Spaces/binary, "<c/>", Spaces/binary>>,
                           <<"<d/>">>]),
    ?assertEqual(stanza_events([el(N) || N <- [<<"a">>, <<"b">>, <<"c">>,
                                                 <<"d">>]]),
                 Events).

whitespace_keepalives_byte_by_byte_not_counted_test() ->
    Data = <<"<a/>  \r\n  \t\n  \r\n <b/>\r\n">>,
    ?assertEqual(stanza_events([el(<<"a">>), el(<<"b">>)]),
                 after_header(#{max_stanza_size => 4}, bytes(Data))).

size_limit_applies_to_every_stanza_test() ->
    Events = after_header(#{max_stanza_size => 7},
                          [<<"<a></a><bb></bb><c/>">>]),
    ?assertEqual([{xmlstreamelement, el(<<"a">>)},
                  {xmlstreamerror, stanza_too_big}], Events).

size_limit_does_not_count_stream_header_test() ->
    Events = stream(#{max_stanza_size => 4}, [<<?HEADER/binary, "<a/>">>]),
    ?assertMatch([{xmlstreamstart, _, _}, {xmlstreamelement, _}], Events).

size_limit_legacy_reason_test() ->
    ?assertEqual([{xmlstreamerror, "XML stanza is too big"}],
                 after_header(#{format => legacy, max_stanza_size => 3},
                              [<<"<a/>">>])).

size_limit_xmlel_reason_test() ->
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{format => xmlel, max_stanza_size => 3},
                              [<<"<a/>">>])).

size_limit_counts_dropped_comments_test() ->
    Stanza = <<"<a><!--x--></a>">>,
    ?assertEqual(stanza_events([el(<<"a">>)]),
                 after_header(#{restricted => drop, max_stanza_size => 15},
                              bytes(Stanza))),
    ?assertEqual([{xmlstreamerror, stanza_too_big}],
                 after_header(#{restricted => drop, max_stanza_size => 14},
                              bytes(Stanza))).

%% 100 MB that never ends, generated chunk by chunk, under a 64 KB limit:
%% the error must come within the first chunks, not at the end.
endless_stanza_test_() ->
    Cases = [{"text", <<"<message><body>">>, <<"a">>},
             {"multi-byte text", <<"<message><body>">>, <<"\xe2\x82\xac">>},
             {"attribute value", <<"<message to='">>, <<"a">>},
             {"element name", <<"<m">>, <<"a">>},
             {"attribute list", <<"<m">>, <<" a='1'">>},
             {"cdata section", <<"<message><![CDATA[">>, <<"x">>},
             {"children", <<"<message>">>, <<"<b/>">>},
             {"after whitespace", <<"\n \n<message>">>, <<"<b>x</b>">>}],
    [{Name, {timeout, 60, fun() -> endless_stanza(#{}, Start, Unit) end}}
     || {Name, Start, Unit} <- Cases] ++
        [{"dropped comment",
          {timeout, 60, fun() ->
                                endless_stanza(#{restricted => drop},
                                               <<"<a/><!--">>, <<"c">>)
                        end}},
         {"legacy format",
          {timeout, 60, fun endless_stanza_legacy/0}}].

-define(CHUNK, 65536).
-define(CHUNKS_IN_100MB, 1600).

endless_stanza(Opts, Start, Unit) ->
    P = opened(Opts#{max_stanza_size => ?CHUNK}),
    Before = [E || {xmlstreamelement, _} = E <- parse_ok(P, Start)],
    Chunk = repeat(Unit, ?CHUNK),
    {Fed, Events} = feed_until_error(P, Chunk, 1),
    ?assert(Fed =< 3),
    ?assertEqual({xmlstreamerror, stanza_too_big}, lists:last(Events)),
    ?assertEqual([], [E || {xmlstreamelement, _} = E <- Events] -- Before),
    ?assertEqual({ok, [{xmlstreamerror, stanza_too_big}]},
                 stanza_stream:parse(P, Chunk)).

endless_stanza_legacy() ->
    P = opened(#{format => legacy, max_stanza_size => ?CHUNK}),
    [] = parse_ok(P, <<"<message><body>">>),
    {Fed, Events} = feed_until_error(P, repeat(<<"a">>, ?CHUNK), 1),
    ?assert(Fed =< 3),
    ?assertEqual([{xmlstreamerror, "XML stanza is too big"}], Events).

feed_until_error(_P, _Chunk, N) when N > ?CHUNKS_IN_100MB ->
    erlang:error(no_error_after_100_mb);
feed_until_error(P, Chunk, N) ->
    Events = parse_ok(P, Chunk),
    case [E || {xmlstreamerror, _} = E <- Events] of
        [] -> feed_until_error(P, Chunk, N + 1);
        _ -> {N, Events}
    end.

huge_stanza_in_one_chunk_fails_test() ->
    Stanza = <<"<message><body>", (repeat(<<"a">>, 1 bsl 20))/binary,
               "</body></message>">>,
    ?assertEqual([{xmlstreamelement, el(<<"a">>)},
                  {xmlstreamerror, stanza_too_big}],
                 after_header(#{max_stanza_size => ?CHUNK},
                              [<<"<a/>", Stanza/binary, "<b/>">>])).

%%====================================================================
%% max_depth
%%====================================================================

default_max_depth_exact_passes_test() ->
    [{xmlstreamelement, El}] = after_header([nested(1024)]),
    ?assertEqual(1024, chain_depth(El, 1)).

default_max_depth_one_over_fails_test() ->
    ?assertEqual([{xmlstreamerror, too_deep}], after_header([nested(1025)])).

max_depth_one_test() ->
    ?assertEqual(stanza_events([el(<<"a">>, [{xmlcdata, <<"x">>}])]),
                 after_header(#{max_depth => 1}, [<<"<a>x</a>">>])),
    ?assertEqual([{xmlstreamerror, too_deep}],
                 after_header(#{max_depth => 1}, [<<"<a><b/></a>">>])).

max_depth_exact_byte_by_byte_test() ->
    [{xmlstreamelement, El}] =
        after_header(#{max_depth => 5}, bytes(nested(5))),
    ?assertEqual(5, chain_depth(El, 1)),
    ?assertEqual([{xmlstreamerror, too_deep}],
                 after_header(#{max_depth => 5}, bytes(nested(6)))).

%% Depth is the maximum over the stanza, not the count of elements.
max_depth_counts_nesting_not_siblings_test() ->
    Stanza = <<"<a><b><c/></b><b><c/></b><b/></a>">>,
    ?assertMatch([{xmlstreamelement, _}],
                 after_header(#{max_depth => 3}, [Stanza])),
    ?assertEqual([{xmlstreamerror, too_deep}],
                 after_header(#{max_depth => 2}, [Stanza])).

max_depth_per_stanza_test() ->
    ?assertEqual(stanza_events([el(<<"a">>, [el(<<"b">>)]),
                                el(<<"c">>, [el(<<"d">>)])]),
                 after_header(#{max_depth => 2},
                              [<<"<a><b/></a><c><d/></c>">>])).

max_depth_legacy_reason_test() ->
    ?assertMatch([{xmlstreamerror, {35, [_ | _]}}],
                 after_header(#{format => legacy, max_depth => 1},
                              [<<"<a><b/></a>">>])).

max_depth_parse_element_test() ->
    ?assertMatch({ok, _}, stanza_stream:parse_element(nested(3),
                                                      #{max_depth => 3})),
    ?assertEqual({error, too_deep},
                 stanza_stream:parse_element(nested(4), #{max_depth => 3})).

deep_nesting_fails_without_crash_test_() ->
    {timeout, 60,
     fun() ->
             Deep = nested(100000),
             ?assertEqual([{xmlstreamerror, too_deep}], after_header([Deep])),
             ?assertEqual([{xmlstreamerror, too_deep}],
                          after_header(chunks_of(Deep, ?CHUNK))),
             ?assertEqual({error, too_deep},
                          stanza_stream:parse_element(Deep))
     end}.

deep_nesting_sticky_error_test() ->
    P = opened(#{}),
    ?assertEqual([{xmlstreamerror, too_deep}],
                 parse_ok(P, binary:copy(<<"<a>">>, 100000))),
    ?assertEqual([{xmlstreamerror, too_deep}],
                 parse_ok(P, binary:copy(<<"</a>">>, 100000))).

deep_nesting_under_high_limit_parses_test_() ->
    {timeout, 120, fun deep_nesting_under_high_limit_parses/0}.

deep_nesting_under_high_limit_parses() ->
    %% In a peer VM, so that "the VM survives" is checked, not assumed; only
    %% depths come back, never a 100000-deep term to print.
    ?assertEqual({ok, [100000, 100000, 100000, 100000]},
                 in_peer(?MODULE, deep_depths, [])),
    %% This VM and the library are fine too.
    ?assertEqual(stanza_events([el(<<"a">>)]), after_header([<<"<a/>">>])).

deep_depths() ->
    Deep = nested(100000),
    Opts = #{max_depth => 200000},
    Push = opened(Opts#{callback => self(), format => xmlel}),
    {ok, []} = stanza_stream:parse(Push, Deep),
    [depth_of(after_header(Opts, [Deep])),
     depth_of(after_header(Opts, chunks_of(Deep, 4096))),
     depth_of(stanza_stream:parse_element(Deep, Opts#{format => legacy})),
     depth_of(tl(gen_events()))].

depth_of([{xmlstreamelement, El}]) -> chain_depth(El, 1);
depth_of({ok, El}) -> chain_depth(El, 1);
depth_of(Other) when is_list(Other) -> {events, length(Other)};
depth_of(_) -> unexpected.

%%====================================================================
%% Restricted XML (RFC 6120 section 11)
%%====================================================================

restricted_rejected_test_() ->
    Cases =
        [{"comment in stanza", <<"<a><!-- hi --></a>">>, [], comment},
         {"comment in child", <<"<a><b>x<!---->y</b></a>">>, [], comment},
         {"comment between stanzas", <<"<a/><!-- hi --><b/>">>,
          [el(<<"a">>)], comment},
         {"pi in stanza", <<"<a><?php echo 1; ?></a>">>, [],
          processing_instruction},
         {"pi between stanzas", <<"<a/><?foo bar?><b/>">>, [el(<<"a">>)],
          processing_instruction},
         {"xml-like pi in stanza", <<"<a><?xml-stylesheet href='x'?></a>">>,
          [], processing_instruction}],
    [{Name ++ " " ++ How,
      ?_assertEqual(stanza_events(Before) ++
                        [{xmlstreamerror, {restricted_xml, Kind}}],
                    after_header(Chunks(Data)))}
     || {Name, Data, Before, Kind} <- Cases,
        {How, Chunks} <- [{"one chunk", fun(D) -> [D] end},
                          {"byte by byte", fun bytes/1}]].

comment_before_stream_header_rejected_test() ->
    ?assertEqual([{xmlstreamerror, {restricted_xml, comment}}],
                 stream(#{}, [<<"<?xml version='1.0'?><!-- c -->", ?HEADER/binary>>])).

pi_before_stream_header_rejected_test() ->
    ?assertEqual([{xmlstreamerror, {restricted_xml, processing_instruction}}],
                 stream(#{}, [<<"<?xml-stylesheet href='a'?>",
                                "<stream:stream xmlns:stream='urn:s'>">>])).

xml_declaration_is_allowed_test_() ->
    Decls = [<<"<?xml version='1.0'?>">>,
             <<"<?xml version=\"1.0\" encoding=\"UTF-8\"?>">>,
             <<"<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n">>],
    [?_assertEqual([{xmlstreamstart, <<"s">>, []},
                    {xmlstreamelement, el(<<"a">>)}],
                   stream(#{restricted => reject},
                          bytes(<<D/binary, "<s><a/>">>)))
     || D <- Decls].

restricted_legacy_reason_test() ->
    ?assertMatch([{xmlstreamerror, {35, [_ | _]}}],
                 after_header(#{format => legacy}, [<<"<a><!--x--></a>">>])),
    ?assertMatch([{xmlstreamerror, {35, [_ | _]}}],
                 after_header(#{format => legacy}, [<<"<a><?p x?></a>">>])).

restricted_drop_inside_stanza_test() ->
    Data = <<"<a>x<!-- c -->y<?pi data?>z<b><!----></b><?p?></a>">>,
    Expected = stanza_events([el(<<"a">>, [{xmlcdata, <<"xyz">>},
                                            el(<<"b">>)])]),
    ?assertEqual(Expected, after_header(#{restricted => drop}, [Data])),
    ?assertEqual(Expected, after_header(#{restricted => drop}, bytes(Data))).

restricted_drop_between_stanzas_test() ->
    Data = <<"<a/><!-- c --> <?pi x?>\n<b/><!--x-->">>,
    Expected = stanza_events([el(<<"a">>), el(<<"b">>)]),
    ?assertEqual(Expected, after_header(#{restricted => drop}, [Data])),
    ?assertEqual(Expected, after_header(#{restricted => drop}, bytes(Data))).

restricted_drop_before_stream_header_test() ->
    ?assertEqual([{xmlstreamstart, <<"s">>, []}],
                 stream(#{restricted => drop},
                        [<<"<?xml version='1.0'?><!--c--><?p?><s>">>])).

restricted_drop_parse_element_test() ->
    ?assertEqual({ok, el(<<"a">>, [{xmlcdata, <<"xy">>}])},
                 stanza_stream:parse_element(<<"<!--c--><a>x<!--c-->y</a><?p?>">>,
                                             #{restricted => drop})).

restricted_reject_parse_element_test() ->
    ?assertEqual({error, {restricted_xml, comment}},
                 stanza_stream:parse_element(<<"<a><!--c--></a>">>)),
    ?assertEqual({error, {restricted_xml, processing_instruction}},
                 stanza_stream:parse_element(<<"<a><?p?></a>">>)).

-define(BILLION_LAUGHS,
        <<"<?xml version='1.0'?>"
          "<!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
          "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
          "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
          "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
          "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
          "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
          "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
          "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
          "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>"
          "]><stream:stream xmlns:stream='urn:s'><lolz>&lol9;</lolz>">>).

dtd_inputs() ->
    [{"plain doctype",
      <<"<!DOCTYPE stream:stream><stream:stream xmlns:stream='urn:s'><a/>">>},
     {"doctype after declaration",
      <<"<?xml version='1.0'?>\n<!DOCTYPE s>\n<s><a/>">>},
     {"billion laughs", ?BILLION_LAUGHS},
     {"external entity",
      <<"<?xml version='1.0'?><!DOCTYPE s [<!ENTITY xxe SYSTEM "
        "\"file:///etc/passwd\">]><s><a>&xxe;</a>">>},
     {"external subset",
      <<"<!DOCTYPE s SYSTEM \"file:///etc/passwd\"><s><a/>">>},
     {"parameter entity",
      <<"<!DOCTYPE s [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
        "<s><a/>">>},
     {"internal entity",
      <<"<!DOCTYPE s [<!ENTITY e 'expanded'>]><s><a>&e;</a>">>}].

dtd_always_rejected_test_() ->
    [{Name ++ " " ++ atom_to_list(R) ++ " " ++ How,
      ?_assertEqual([{xmlstreamerror, {restricted_xml, dtd}}],
                    stream(#{restricted => R}, Chunks(Data)))}
     || {Name, Data} <- dtd_inputs(),
        R <- [reject, drop],
        {How, Chunks} <- [{"one chunk", fun(D) -> [D] end},
                          {"byte by byte", fun bytes/1}]].

dtd_rejected_by_parse_element_test_() ->
    [{Name, ?_assertEqual({error, {restricted_xml, dtd}},
                          stanza_stream:parse_element(
                            <<"<!DOCTYPE a [<!ENTITY e SYSTEM "
                              "'file:///etc/passwd'>]><a>&e;</a>">>,
                            Opts))}
     || {Name, Opts} <- [{"reject", #{}}, {"drop", #{restricted => drop}}]].

dtd_legacy_reason_test() ->
    ?assertMatch([{xmlstreamerror, {35, [_ | _]}}],
                 stream(#{format => legacy}, [?BILLION_LAUGHS])).

dtd_error_is_sticky_test() ->
    P = new_parser(#{}),
    ?assertEqual([{xmlstreamerror, {restricted_xml, dtd}}],
                 parse_ok(P, ?BILLION_LAUGHS)),
    ?assertEqual([{xmlstreamerror, {restricted_xml, dtd}}],
                 parse_ok(P, <<"<a>&lol9;</a>">>)).

entity_reference_rejected_test_() ->
    Cases = [{"in text", <<"<a>&nbsp;</a>">>},
             {"in child text", <<"<a><b>x&foo;y</b></a>">>},
             {"in attribute", <<"<a to='&foo;'/>">>},
             {"between stanzas", <<"&foo;">>}],
    [{Name ++ " " ++ How,
      ?_assertEqual([{xmlstreamerror, {restricted_xml, entity_reference}}],
                    after_header(Chunks(Data)))}
     || {Name, Data} <- Cases,
        {How, Chunks} <- [{"one chunk", fun(D) -> [D] end},
                          {"byte by byte", fun bytes/1}]].

entity_reference_rejected_under_drop_test() ->
    ?assertEqual([{xmlstreamerror, {restricted_xml, entity_reference}}],
                 after_header(#{restricted => drop}, [<<"<a>&x;</a>">>])).

entity_reference_legacy_reason_test() ->
    ?assertMatch([{xmlstreamerror, {Code, [_ | _]}}] when is_integer(Code),
                 after_header(#{format => legacy}, [<<"<a>&x;</a>">>])).

entity_reference_parse_element_test() ->
    ?assertEqual({error, {restricted_xml, entity_reference}},
                 stanza_stream:parse_element(<<"<a>&copy;</a>">>)).

predefined_entities_allowed_test() ->
    Data = <<"<a b='&quot;&apos;&amp;&lt;&gt;'>&quot;&apos;&amp;&lt;&gt;</a>">>,
    Expected = stanza_events([{xmlelement, <<"a">>,
                               [{<<"b">>, <<"\"'&<>">>}],
                               [{xmlcdata, <<"\"'&<>">>}]}]),
    ?assertEqual(Expected, after_header([Data])),
    ?assertEqual(Expected, after_header(bytes(Data))).

numeric_character_references_allowed_test() ->
    Data = <<"<a b='&#65;&#x20AC;'>&#65;&#x42;&#233;&#x20ac;&#x1F600;"
             "&#10;&#13;</a>">>,
    Expected = stanza_events(
                 [{xmlelement, <<"a">>, [{<<"b">>, <<"A\xe2\x82\xac">>}],
                   [{xmlcdata, <<"AB\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\r">>}]}]),
    ?assertEqual(Expected, after_header([Data])),
    ?assertEqual(Expected, after_header(bytes(Data))).

%%====================================================================
%% Text
%%====================================================================

whitespace_keepalives_dropped_test() ->
    P = opened(#{}),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<" ">>)),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"\n">>)),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"\r\n\t  ">>)),
    ?assertEqual({ok, stanza_events([el(<<"a">>)])},
                 stanza_stream:parse(P, <<"  <a/>  ">>)),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"\n">>)),
    ?assertEqual({ok, [{xmlstreamend, <<"stream:stream">>}]},
                 stanza_stream:parse(P, <<" ", ?END/binary, " ">>)).

whitespace_before_stream_header_test() ->
    ?assertMatch([{xmlstreamstart, <<"s">>, []}],
                 stream(#{}, [<<"\n  \n<s>">>])).

-define(MERGE, <<"<a>x&amp;y<![CDATA[<z>&amp;]]>&#33;w\xc3\xa9</a>">>).
-define(MERGED, [{xmlelement, <<"a">>, [], [{xmlcdata, <<"x&y<z>&amp;!w\xc3\xa9">>}]}]).

text_merged_one_chunk_test() ->
    ?assertEqual(stanza_events(?MERGED), after_header([?MERGE])).

text_merged_byte_by_byte_test() ->
    ?assertEqual(stanza_events(?MERGED), after_header(bytes(?MERGE))).

text_merged_every_split_test() ->
    [?assertEqual({S, stanza_events(?MERGED)}, {S, after_header(S)})
     || S <- two_way_splits(?MERGE)].

text_merged_every_format_test_() ->
    [?_assertEqual(stanza_events([in_format(F, E) || E <- ?MERGED]),
                   after_header(#{format => F}, bytes(?MERGE)))
     || F <- ?FORMATS].

mixed_content_test() ->
    Data = <<"<a>x<b/>y<c>z<![CDATA[1]]></c>w</a>">>,
    Expected = stanza_events(
                 [el(<<"a">>, [{xmlcdata, <<"x">>}, el(<<"b">>),
                               {xmlcdata, <<"y">>},
                               el(<<"c">>, [{xmlcdata, <<"z1">>}]),
                               {xmlcdata, <<"w">>}])]),
    ?assertEqual(Expected, after_header([Data])),
    ?assertEqual(Expected, after_header(bytes(Data))).

long_text_across_chunks_merged_test() ->
    Text = repeat(<<"abc\xe2\x82\xac&amp;">>, 100000),
    Data = <<"<a>", Text/binary, "</a>">>,
    Expected = binary:replace(Text, <<"&amp;">>, <<"&">>, [global]),
    ?assertEqual(stanza_events([el(<<"a">>, [{xmlcdata, Expected}])]),
                 after_header(chunks_of(Data, 1000))).

whitespace_inside_stanza_kept_test() ->
    ?assertEqual(stanza_events([el(<<"a">>, [{xmlcdata, <<" \n ">>}, el(<<"b">>),
                                            {xmlcdata, <<"\t">>}])]),
                 after_header([<<"<a> \n <b/>\t</a>">>])).

%%====================================================================
%% Errors
%%====================================================================

error_is_last_event_of_chunk_test() ->
    ?assertMatch([{xmlstreamelement, {xmlelement, <<"a">>, _, _}},
                  {xmlstreamelement, {xmlelement, <<"b">>, _, _}},
                  ?NWF(7)],
                 after_header([<<"<a/><b/><c></d><e/><f/>">>])).

events_before_error_in_push_mode_test() ->
    P = opened(#{callback => self()}),
    [{xmlstreamstart, _, _}] = gen_events(),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"<a/><b/><c></d><e/>">>)),
    ?assertMatch([{xmlstreamelement, {xmlelement, <<"a">>, _, _}},
                  {xmlstreamelement, {xmlelement, <<"b">>, _, _}},
                  ?NWF(7)],
                 gen_events()).

error_inputs() ->
    [{"mismatched tag", #{}, <<"<a></b>">>},
     {"too big", #{max_stanza_size => 4}, <<"<ab/>">>},
     {"too deep", #{max_depth => 1}, <<"<a><b/></a>">>},
     {"comment", #{}, <<"<!---->">>},
     {"entity", #{}, <<"<a>&e;</a>">>},
     {"legacy", #{format => legacy}, <<"<a></b>">>},
     {"legacy too big", #{format => legacy, max_stanza_size => 4},
      <<"<ab/>">>}].

error_is_sticky_test_() ->
    [{Name, fun() -> error_is_sticky(Opts, Data) end}
     || {Name, Opts, Data} <- error_inputs()].

error_is_sticky(Opts, Data) ->
    P = opened(Opts),
    [{xmlstreamerror, _} = Error] = parse_ok(P, Data),
    ?assertEqual({ok, [Error]}, stanza_stream:parse(P, <<"<ok/>">>)),
    ?assertEqual({ok, [Error]}, stanza_stream:parse(P, <<>>)),
    ?assertEqual({ok, [Error]}, stanza_stream:parse(P, ?END)),
    ?assertEqual({ok, [Error]}, stanza_stream:parse(P, <<"<ok/>">>)).

%% The same error, map included, however the input is chunked.
error_independent_of_chunking_test_() ->
    Cases = [<<"<a><b></c></a>">>,
             <<"<a>\n<x:b/></a>">>,
             <<"<a x='1' x='2'/>">>,
             <<"<a>\xc3\x28</a>">>,
             <<"<a/>\n\n<b/>junk">>],
    [?_assertEqual([lists:last(after_header([D]))],
                   lists:usort([lists:last(after_header(S))
                                || S <- [bytes(D) | two_way_splits(D)]]))
     || D <- Cases].

junk_after_stream_end_test() ->
    ?assertMatch([{xmlstreamelement, _}, {xmlstreamend, <<"stream:stream">>},
                  ?NWF(9)],
                 after_header([<<"<a/>", ?END/binary, "junk">>])).

junk_after_stream_end_next_chunk_test() ->
    P = opened(#{}),
    ?assertEqual([{xmlstreamend, <<"stream:stream">>}], parse_ok(P, ?END)),
    ?assertEqual([], parse_ok(P, <<" \n ">>)),
    ?assertMatch([?NWF(9)], parse_ok(P, <<"x">>)).

second_stream_header_after_end_test() ->
    ?assertMatch([{xmlstreamend, _}, ?NWF(9)],
                 after_header([<<?END/binary, ?HEADER/binary>>])).

mismatched_tags_test_() ->
    Cases = [<<"<a></b>">>, <<"<a><b></a></b>">>, <<"<p:a xmlns:p='u'></a>">>,
             <<"</stream:foo>">>, <<"</stream>">>],
    [?_assertMatch([?NWF(7)], after_header([D])) || D <- Cases].

duplicate_attributes_test_() ->
    Cases = [<<"<a x='1' x='2'/>">>,
             <<"<a x='1' y='' x='1'/>">>,
             <<"<a xmlns:p='urn:same' xmlns:q='urn:same' p:x='1' q:x='2'/>">>,
             <<"<a xmlns:p='urn:same'><b xmlns:q='urn:same' p:x='1' q:x='2'/></a>">>,
             <<"<a xmlns:p='u' xmlns:p='v'/>">>],
    [?_assertMatch([?NWF(8)], after_header([D])) || D <- Cases].

duplicate_attributes_in_stream_header_test() ->
    ?assertMatch([?NWF(8)],
                 stream(#{}, [<<"<s xmlns:p='u' xmlns:q='u' p:a='1' q:a='1'>">>])).

invalid_utf8_test_() ->
    Places = [{"text", fun(B) -> <<"<a>x", B/binary, "y</a>">> end},
              {"text at end", fun(B) -> <<"<a>x", B/binary, "</a>">> end},
              {"attribute", fun(B) -> <<"<a b='", B/binary, "'/>">> end},
              {"element name", fun(B) -> <<"<a", B/binary, "/>">> end},
              {"attribute name", fun(B) -> <<"<a b", B/binary, "='1'/>">> end},
              {"between stanzas", fun(B) -> <<"<a/>", B/binary, "<b/>">> end}],
    [{Name ++ " in " ++ Place,
      fun() -> invalid_input(Wrap(Bytes)) end}
     || {Name, Bytes} <- stanza_test_util:invalid_utf8(), {Place, Wrap} <- Places].

invalid_input(Data) ->
    [?assertMatch({_, [?ANY_NWF]},
                  {Chunks, [E || E <- after_header(Chunks),
                                 element(1, E) =/= xmlstreamelement]})
     || Chunks <- [[Data], bytes(Data)]].

invalid_utf8_in_stream_header_test() ->
    ?assertMatch([?ANY_NWF], stream(#{}, [<<"<s a='\xff'>">>])).

invalid_utf8_in_parse_element_test_() ->
    [?_assertMatch({error, {not_well_formed, _}},
                   stanza_stream:parse_element(<<"<a>", B/binary, "</a>">>))
     || {_, B} <- stanza_test_util:invalid_utf8()].

truncated_utf8_at_end_of_parse_element_test() ->
    ?assertMatch({error, {not_well_formed, _}},
                 stanza_stream:parse_element(<<"<a/>\xc3">>)).

%% The input is UTF-8 whatever the XML declaration says, also after reset.
encoding_declaration_cannot_smuggle_latin1_test() ->
    Data = <<"<?xml version='1.0' encoding='ISO-8859-1'?><s><a>caf\xe9</a>">>,
    P = new_parser(#{}),
    ?assertMatch([{xmlstreamstart, <<"s">>, []}, ?ANY_NWF], parse_ok(P, Data)),
    ok = stanza_stream:reset(P),
    ?assertMatch([{xmlstreamstart, <<"s">>, []}, ?ANY_NWF], feed(P, bytes(Data))).

nul_bytes_test_() ->
    Cases = [{"text", <<"<a>x\0y</a>">>},
             {"attribute", <<"<a b='\0'/>">>},
             {"element name", <<"<a\0/>">>},
             {"end tag", <<"<a></a\0>">>},
             {"between stanzas", <<"<a/>\0">>}],
    [{Name, fun() -> invalid_input(D) end} || {Name, D} <- Cases].

nul_byte_in_stream_header_test() ->
    ?assertMatch([?ANY_NWF], stream(#{}, [<<"<s\0>">>])).

nul_character_reference_test() ->
    ?assertMatch([?ANY_NWF], after_header([<<"<a>&#0;</a>">>])).

%%====================================================================
%% Push mode
%%====================================================================

push_mode_events_in_order_test() ->
    P = new_parser(#{callback => self()}),
    Replies = [stanza_stream:parse(P, C) || C <- [?HEADER, ?STANZA, <<"<a/><b/>">>,
                                                  ?END]],
    ?assertEqual(lists:duplicate(4, {ok, []}), Replies),
    ?assertEqual(stream(#{}, [?HEADER, ?STANZA, <<"<a/><b/>">>, ?END]),
                 gen_events()).

push_mode_byte_by_byte_test() ->
    Data = <<?HEADER/binary, ?STANZA/binary, ?MERGE/binary, ?END/binary>>,
    P = new_parser(#{callback => self()}),
    ?assertEqual([], feed(P, bytes(Data))),
    ?assertEqual(stream(#{}, [Data]), gen_events()).

push_mode_every_format_test_() ->
    [?_test(begin
                P = new_parser(#{callback => self(), format => F}),
                ?assertEqual([], feed(P, [?HEADER, ?STANZA, ?END])),
                ?assertEqual(stream(#{format => F}, [?HEADER, ?STANZA, ?END]),
                             gen_events())
            end)
     || F <- ?FORMATS].

push_mode_to_other_process_test() ->
    Self = self(),
    Collector = spawn_link(fun() -> collect(Self, 4, []) end),
    P = new_parser(#{callback => Collector}),
    ?assertEqual([], feed(P, [?HEADER, <<"<a/>">>, <<"<b>x</b>">>, ?END])),
    Events = receive {collected, Collector, Evs} -> Evs
             after 10000 -> erlang:error(timeout) end,
    ?assertEqual([{xmlstreamstart, <<"stream:stream">>, ?HEADER_ATTRS},
                  {xmlstreamelement, el(<<"a">>)},
                  {xmlstreamelement, el(<<"b">>, [{xmlcdata, <<"x">>}])},
                  {xmlstreamend, <<"stream:stream">>}], Events),
    ?assertEqual([], gen_events()).

collect(Parent, 0, Acc) ->
    Parent ! {collected, self(), lists:reverse(Acc)};
collect(Parent, N, Acc) ->
    receive {'$gen_event', E} -> collect(Parent, N - 1, [E | Acc]) end.

push_mode_error_repeated_test() ->
    P = opened(#{callback => self()}),
    _ = gen_events(),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"<a/></b>">>)),
    ?assertMatch([{xmlstreamelement, _}, ?NWF(_)], gen_events()),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"<c/>">>)),
    ?assertMatch([?NWF(_)], gen_events()).

push_mode_legacy_too_big_test() ->
    P = opened(#{callback => self(), format => legacy, max_stanza_size => 8}),
    _ = gen_events(),
    ?assertEqual([], feed(P, [<<"<a>1</a><b>12</b>">>])),
    ?assertEqual([{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, <<"1">>}]}},
                  {xmlstreamerror, "XML stanza is too big"}], gen_events()).

push_mode_big_stanza_in_small_chunks_test() ->
    Text = repeat(<<"0123456789">>, 1 bsl 20),
    Data = <<"<a>", Text/binary, "<b/></a>">>,
    P = opened(#{callback => self()}),
    _ = gen_events(),
    ?assertEqual([], feed(P, chunks_of(Data, 1024))),
    ?assertEqual(stanza_events([el(<<"a">>, [{xmlcdata, Text}, el(<<"b">>)])]),
                 gen_events()).

push_mode_dead_callback_test() ->
    {Pid, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    P = new_parser(#{callback => Pid}),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<?HEADER/binary, "<a/>">>)),
    ?assertEqual({ok, []}, stanza_stream:parse(P, <<"<b/>">>)).

%% Push mode while the receiver collects garbage, stanzas whole and split
%% across calls. Memory corruption would crash the VM, so this runs in a
%% peer VM: the test then fails instead of the whole run.
push_mode_survives_garbage_collection_test_() ->
    [{atom_to_list(F),
      {timeout, 120,
       ?_assertEqual({ok, {0, 4000}},
                     in_peer(?MODULE, push_stress, [F, 2000]))}}
     || F <- ?FORMATS].

%% Returns {WrongEvents, Events}.
push_stress(Format, N) ->
    P = new_parser(#{callback => self(), format => Format}),
    {ok, []} = stanza_stream:parse(P, ?HEADER),
    [{xmlstreamstart, _, _}] = gen_events(),
    Results = [push_stress_round(P, Format, I) || I <- lists:seq(1, N)],
    {length([R || R <- lists:append(Results), R =/= ok]),
     length(lists:append(Results))}.

push_stress_round(P, Format, I) ->
    Id = integer_to_binary(I),
    Whole = <<"<iq id='", Id/binary, "'>whole ", Id/binary, "</iq>">>,
    {ok, []} = stanza_stream:parse(P, <<Whole/binary, "<message id='",
                                        Id/binary, "'><body>">>),
    erlang:garbage_collect(),
    {ok, []} = stanza_stream:parse(P, <<"split ", Id/binary,
                                        "</body></message>">>),
    Got = gen_events(),
    erlang:garbage_collect(),
    Expected = [{xmlstreamelement, in_format(Format, E)}
                || E <- [{xmlelement, <<"iq">>, [{<<"id">>, Id}],
                          [{xmlcdata, <<"whole ", Id/binary>>}]},
                         {xmlelement, <<"message">>, [{<<"id">>, Id}],
                          [el(<<"body">>,
                              [{xmlcdata, <<"split ", Id/binary>>}])]}]],
    case length(Got) =:= length(Expected) of
        true -> [case G of E -> ok; _ -> wrong end
                 || {G, E} <- lists:zip(Got, Expected)];
        false -> [wrong, wrong]
    end.

%%====================================================================
%% Reset
%%====================================================================

-define(NEW_STREAM, <<"<?xml version='1.0'?><stream:stream "
                      "xmlns:stream='http://etherx.jabber.org/streams' "
                      "xmlns='jabber:server'>">>).

new_stream_start() ->
    {xmlstreamstart, <<"stream:stream">>,
     [{<<"xmlns:stream">>, ?STREAM_NS}, {<<"xmlns">>, <<"jabber:server">>}]}.

reset_returns_ok_test() ->
    ?assertEqual(ok, stanza_stream:reset(new_parser(#{}))).

reset_between_stanzas_test() ->
    P = opened(#{}),
    [_] = parse_ok(P, <<"<a/>">>),
    ?assertEqual(ok, stanza_stream:reset(P)),
    ?assertEqual([new_stream_start(), {xmlstreamelement, el(<<"b">>)}],
                 parse_ok(P, <<?NEW_STREAM/binary, "<b/>">>)).

reset_mid_stanza_test_() ->
    Partials = [<<"<message><body>hel">>, <<"<message to='a">>,
                <<"<message><body>hi</body><x">>, <<"<message>&am">>,
                <<"<m><![CDATA[x">>, <<"<m>\xe2\x82">>, <<"<m><!-- c">>],
    [?_test(reset_mid_stanza(Partial)) || Partial <- Partials].

reset_mid_stanza(Partial) ->
    P = opened(#{}),
    ?assertEqual([], parse_ok(P, Partial)),
    ok = stanza_stream:reset(P),
    ?assertEqual([new_stream_start()], parse_ok(P, ?NEW_STREAM)),
    ?assertEqual(stanza_events([el(<<"iq">>)]), parse_ok(P, <<"<iq/>">>)).

reset_mid_stanza_byte_by_byte_test() ->
    P = opened(#{}),
    [] = feed(P, bytes(<<"<message><body>hello">>)),
    ok = stanza_stream:reset(P),
    ?assertEqual([new_stream_start(),
                  {xmlstreamelement, el(<<"body">>, [{xmlcdata, <<"x">>}])}],
                 feed(P, bytes(<<?NEW_STREAM/binary, "<body>x</body>">>))).

reset_mid_stream_header_test() ->
    P = new_parser(#{}),
    [] = parse_ok(P, <<"<?xml version='1.0'?><stream:stream xmlns:st">>),
    ok = stanza_stream:reset(P),
    ?assertEqual([new_stream_start()], parse_ok(P, ?NEW_STREAM)).

%% The rest of the stanza cut by the reset is text before a mismatched end
%% tag in the new stream: an error, never the old stanza.
reset_mid_stanza_push_mode_test() ->
    P = opened(#{callback => self()}),
    _ = gen_events(),
    {ok, []} = stanza_stream:parse(P, <<"<message><body>hel">>),
    ok = stanza_stream:reset(P),
    {ok, []} = stanza_stream:parse(P, <<?NEW_STREAM/binary, "lo</body>">>),
    {ok, []} = stanza_stream:parse(P, <<"<iq/>">>),
    ?assertMatch([{xmlstreamstart, _, _}, ?NWF(7), ?NWF(7)], gen_events()),
    ?assertEqual([], gen_events()).

reset_push_mode_no_stale_events_test() ->
    P = opened(#{callback => self()}),
    {ok, []} = stanza_stream:parse(P, <<"<message><body>hel">>),
    ok = stanza_stream:reset(P),
    _ = gen_events(),
    {ok, []} = stanza_stream:parse(P, <<?NEW_STREAM/binary, "<iq/>">>),
    ?assertEqual([new_stream_start(), {xmlstreamelement, el(<<"iq">>)}],
                 gen_events()).

%% The rest of the old stanza is not glued to what came before the reset.
reset_discards_half_stanza_test() ->
    P = opened(#{}),
    [] = parse_ok(P, <<"<message><body>hel">>),
    ok = stanza_stream:reset(P),
    Events = parse_ok(P, <<"lo</body></message>">>),
    ?assertEqual([], [E || {xmlstreamelement, _} = E <- Events]).

reset_clears_failed_parser_test_() ->
    [{Name, fun() -> reset_clears_failed(Opts, Data) end}
     || {Name, Opts, Data} <- error_inputs()].

reset_clears_failed(Opts, Data) ->
    P = opened(Opts),
    [{xmlstreamerror, _}] = parse_ok(P, Data),
    ok = stanza_stream:reset(P),
    ?assertMatch([{xmlstreamstart, _, _}], parse_ok(P, ?NEW_STREAM)),
    ?assertMatch([{xmlstreamelement, _}], parse_ok(P, <<"<i/>">>)).

reset_restarts_error_offsets_test() ->
    P = opened(#{}),
    [] = parse_ok(P, <<"<a>some text">>),
    ok = stanza_stream:reset(P),
    ?assertMatch([{xmlstreamstart, <<"s">>, []},
                  {xmlstreamerror,
                   {not_well_formed, #{code := 7, offset := 5, line := 1,
                                       column := 5}}}],
                 parse_ok(P, <<"<s></t>">>)).

reset_restarts_size_accounting_test() ->
    P = opened(#{max_stanza_size => 10}),
    [] = parse_ok(P, <<"<a>xxxxx">>),
    ok = stanza_stream:reset(P),
    ?assertEqual([{xmlstreamstart, <<"s">>, []},
                  {xmlstreamelement, el(<<"a">>, [{xmlcdata, <<"xxx">>}])}],
                 parse_ok(P, <<"<s><a>xxx</a>">>)).

reset_after_stream_end_test() ->
    P = opened(#{}),
    [_] = parse_ok(P, ?END),
    ok = stanza_stream:reset(P),
    ?assertEqual([new_stream_start()], parse_ok(P, ?NEW_STREAM)).

repeated_resets_test() ->
    P = new_parser(#{}),
    lists:foreach(
      fun(_) ->
              ok = stanza_stream:reset(P),
              ?assertEqual([new_stream_start(), {xmlstreamelement, el(<<"a">>)}],
                           parse_ok(P, <<?NEW_STREAM/binary, "<a/><b>">>))
      end, lists:seq(1, 50)).

%%====================================================================
%% Ownership, closing, bad arguments
%%====================================================================

other_process_gets_not_owner_test() ->
    P = opened(#{}),
    ?assertEqual({error, not_owner},
                 in_other_process(fun() -> stanza_stream:parse(P, <<"<a/>">>) end)),
    ?assertEqual({error, not_owner},
                 in_other_process(fun() -> stanza_stream:reset(P) end)),
    ?assertEqual({error, not_owner},
                 in_other_process(fun() -> stanza_stream:close(P) end)),
    ?assertEqual({error, not_owner},
                 in_other_process(
                   fun() -> stanza_stream:controlling_process(P, self()) end)).

owner_unaffected_by_other_process_test() ->
    P = opened(#{}),
    [] = parse_ok(P, <<"<message><body>hel">>),
    Intruder = fun() ->
                       [stanza_stream:parse(P, <<"</junk>">>),
                        stanza_stream:reset(P),
                        stanza_stream:parse(P, <<"lo</body></message>">>),
                        stanza_stream:close(P)]
               end,
    ?assertEqual(lists:duplicate(4, {error, not_owner}),
                 in_other_process(Intruder)),
    ?assertEqual(stanza_events([el(<<"message">>,
                                   [el(<<"body">>, [{xmlcdata, <<"hello">>}])])]),
                 parse_ok(P, <<"lo</body></message>">>)).

concurrent_intruder_test_() ->
    {timeout, 60, fun concurrent_intruder/0}.

concurrent_intruder() ->
    P = opened(#{}),
    Self = self(),
    Intruder = spawn_link(fun() -> intrude(P, Self, 0) end),
    Stanzas = [<<"<m n='", (integer_to_binary(I))/binary, "'>text</m>">>
               || I <- lists:seq(1, 2000)],
    Events = feed(P, lists:append([bytes(S) || S <- lists:sublist(Stanzas, 20)] ++
                                      [[S] || S <- Stanzas])),
    Intruder ! stop,
    Refused = receive {intruder_done, N} -> N after 10000 -> 0 end,
    ?assert(Refused > 0),
    Expected = [{xmlstreamelement,
                 {xmlelement, <<"m">>, [{<<"n">>, integer_to_binary(I)}],
                  [{xmlcdata, <<"text">>}]}}
                || I <- lists:seq(1, 20) ++ lists:seq(1, 2000)],
    ?assertEqual(Expected, Events).

intrude(P, Parent, N) ->
    receive
        stop -> Parent ! {intruder_done, N}
    after 0 ->
            {error, not_owner} = stanza_stream:parse(P, <<"</junk>">>),
            {error, not_owner} = stanza_stream:reset(P),
            intrude(P, Parent, N + 1)
    end.

controlling_process_hands_over_test() ->
    P = opened(#{}),
    [] = parse_ok(P, <<"<message><body>hel">>),
    Self = self(),
    Result = in_other_process(
               fun() ->
                       receive {P, go} -> ok end,
                       R = stanza_stream:parse(P, <<"lo</body></message>">>),
                       ok = stanza_stream:controlling_process(P, Self),
                       R
               end,
               fun(Pid) -> ok = stanza_stream:controlling_process(P, Pid),
                           ?assertEqual({error, not_owner},
                                        stanza_stream:parse(P, <<"<x/>">>)),
                           Pid ! {P, go}
               end),
    ?assertEqual({ok, stanza_events(
                        [el(<<"message">>,
                            [el(<<"body">>, [{xmlcdata, <<"hello">>}])])])},
                 Result),
    ?assertEqual(stanza_events([el(<<"a">>)]), parse_ok(P, <<"<a/>">>)).

%% Like in_other_process/1, but Setup(Pid) runs in the caller first.
in_other_process(Fun, Setup) ->
    Self = self(),
    Ref = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Self ! {Ref, Fun()} end),
    Setup(Pid),
    receive
        {Ref, Result} -> erlang:demonitor(MRef, [flush]), Result;
        {'DOWN', MRef, process, Pid, Reason} -> erlang:error({died, Reason})
    after 60000 -> erlang:error(timeout)
    end.

controlling_process_by_non_owner_test() ->
    P = new_parser(#{}),
    ?assertEqual({error, not_owner},
                 in_other_process(fun() ->
                                          stanza_stream:controlling_process(
                                            P, self())
                                  end)),
    ?assertMatch({ok, _}, stanza_stream:parse(P, ?HEADER)).

new_owner_can_close_test() ->
    P = new_parser(#{}),
    ?assertEqual(ok, in_other_process(
                       fun() -> receive go -> stanza_stream:close(P) end end,
                       fun(Pid) ->
                               ok = stanza_stream:controlling_process(P, Pid),
                               Pid ! go
                       end)),
    ?assertEqual({error, closed}, stanza_stream:parse(P, <<"<a/>">>)).

parse_after_close_test() ->
    P = opened(#{}),
    ok = stanza_stream:close(P),
    ?assertEqual({error, closed}, stanza_stream:parse(P, <<"<a/>">>)),
    ?assertEqual({error, closed}, stanza_stream:parse(P, [<<"<a/>">>])).

close_twice_test() ->
    P = opened(#{}),
    ?assertEqual(ok, stanza_stream:close(P)),
    ?assertEqual(ok, stanza_stream:close(P)).

reset_after_close_test() ->
    P = new_parser(#{}),
    ok = stanza_stream:close(P),
    ?assertEqual({error, closed}, stanza_stream:reset(P)).

controlling_process_after_close_test() ->
    P = new_parser(#{}),
    ok = stanza_stream:close(P),
    ?assertEqual({error, closed}, stanza_stream:controlling_process(P, self())).

close_mid_stanza_test() ->
    P = opened(#{}),
    [] = parse_ok(P, <<"<message><body>", (repeat(<<"x">>, 100000))/binary>>),
    ?assertEqual(ok, stanza_stream:close(P)),
    ?assertEqual({error, closed}, stanza_stream:parse(P, <<"</body>">>)).

close_push_mode_mid_stanza_test() ->
    P = opened(#{callback => self()}),
    {ok, []} = stanza_stream:parse(P, <<"<message><body>x">>),
    ?assertEqual(ok, stanza_stream:close(P)),
    ?assertEqual({error, closed}, stanza_stream:parse(P, <<"</body></message>">>)),
    ?assertEqual([{xmlstreamstart, <<"stream:stream">>, ?HEADER_ATTRS}],
                 gen_events()).

parse_non_iodata_test_() ->
    Bad = [foo, [foo], 42, [<<"a">>, 256], [-1], {<<"a">>}, self(),
           [<<"<a/>">> | foo], 1.5],
    [?_test(begin
                P = opened(#{}),
                ?assertEqual({error, badarg}, stanza_stream:parse(P, B)),
                %% The parser is untouched and still works.
                ?assertEqual(stanza_events([el(<<"a">>)]),
                             parse_ok(P, <<"<a/>">>))
            end)
     || B <- Bad].

non_parser_term_test_() ->
    Bad = [foo, make_ref(), 42, self(), <<"parser">>, {parser}],
    [?_assertError(badarg, stanza_stream:parse(B, <<"<a/>">>)) || B <- Bad] ++
        [?_assertError(badarg, stanza_stream:parse(B, [<<"<a/>">>])) || B <- Bad] ++
        [?_assertError(badarg, stanza_stream:reset(B)) || B <- Bad] ++
        [?_assertError(badarg, stanza_stream:close(B)) || B <- Bad] ++
        [?_assertError(badarg, stanza_stream:controlling_process(B, self()))
         || B <- Bad].

bad_options_test_() ->
    Bad = [{format, string}, {format, <<"binary">>}, {format, undefined},
           {max_stanza_size, 0}, {max_stanza_size, -1},
           {max_stanza_size, 1.5}, {max_stanza_size, "10"},
           {max_depth, 0}, {max_depth, -5}, {max_depth, infinity},
           {max_depth, 2.0},
           {restricted, allow}, {restricted, true},
           {callback, foo}, {callback, "pid"}, {callback, make_ref()},
           {unknown_option, 1}, {"format", binary}],
    [{lists:flatten(io_lib:format("~p", [KV])),
      ?_assertError({bad_option, K, V}, stanza_stream:new(#{K => V}))}
     || {K, V} = KV <- Bad] ++
        [{lists:flatten(io_lib:format("parse_element ~p", [KV])),
          ?_assertError({bad_option, K, V},
                        stanza_stream:parse_element(<<"<a/>">>, #{K => V}))}
         || {K, V} = KV <- Bad, K =/= callback].

bad_option_among_good_test() ->
    ?assertError({bad_option, max_depth, 0},
                 stanza_stream:new(#{format => legacy, max_depth => 0})).

%%====================================================================
%% Freeing
%%====================================================================

dropped_parsers_are_freed_test_() ->
    {timeout, 60, fun dropped_parsers_are_freed/0}.

dropped_parsers_are_freed() ->
    Baseline = settle(),
    Chunk = <<"<message><body>",
              (repeat(<<"0123456789abcdef">>, 16384))/binary>>,
    {Pid, Ref} =
        spawn_monitor(
          fun() ->
                  Ps = [begin
                       Opts = case I rem 2 of
                                  0 -> #{};
                                  1 -> #{callback => self()}
                              end,
                       P = opened(Opts),
                       {ok, _} = stanza_stream:parse(P, Chunk),
                       P
                   end || I <- lists:seq(1, 1000)],
                  exit(length(Ps) =< stanza_stream:live_parsers())
          end),
    receive {'DOWN', Ref, process, Pid, Created} -> ?assert(Created) end,
    ?assert(poll(fun() -> stanza_stream:live_parsers() =< Baseline end)).

dropped_parsers_memory_is_freed_test_() ->
    {timeout, 60, fun dropped_parsers_memory_is_freed/0}.

%% 1000 half-parsed 16 KB stanzas: a leak would keep at least 16 MB.
dropped_parsers_memory_is_freed() ->
    _ = settle(),
    Before = erlang:memory(total),
    Chunk = <<"<m><b>x</b><body>",
              (repeat(<<"0123456789abcdef">>, 16384))/binary>>,
    {Pid, Ref} =
        spawn_monitor(
          fun() ->
                  Ps = [begin
                            P = opened(#{}),
                            {ok, []} = stanza_stream:parse(P, Chunk),
                            P
                        end || _ <- lists:seq(1, 1000)],
                  exit({grown, erlang:memory(total) - Before, length(Ps)})
          end),
    Grown = receive {'DOWN', Ref, process, Pid, {grown, G, 1000}} -> G end,
    ?assert(Grown > 16000000),
    ?assert(poll(fun() -> erlang:memory(total) < Before + 4000000 end)).

parse_element_does_not_leak_test() ->
    Baseline = settle(),
    in_other_process(
      fun() ->
              [{ok, _} = stanza_stream:parse_element(<<"<a>x</a>">>)
               || _ <- lists:seq(1, 1000)],
              [{error, _} = stanza_stream:parse_element(<<"<a>">>)
               || _ <- lists:seq(1, 1000)],
              ok
      end),
    ?assert(poll(fun() -> stanza_stream:live_parsers() =< Baseline end)).

closed_parser_still_counted_until_gc_test() ->
    Baseline = settle(),
    Counted = in_other_process(
                fun() ->
                        P = new_parser(#{}),
                        ok = stanza_stream:close(P),
                        N = stanza_stream:live_parsers(),
                        _ = stanza_stream:parse(P, <<>>),
                        N
                end),
    ?assert(Counted >= Baseline + 1),
    ?assert(poll(fun() -> stanza_stream:live_parsers() =< Baseline end)).

%%====================================================================
%% Big inputs
%%====================================================================

%% About 10 MB: 100000 children with attributes and text, and 5.5 MB of text
%% with escapes and multi-byte characters.
big_stanza() ->
    Items = [[<<"<item n='">>, integer_to_binary(I), <<"' k='v&amp;w'>">>,
              <<"value ">>, integer_to_binary(I), <<"</item>">>]
             || I <- lists:seq(1, 100000)],
    Text = repeat(<<"big text &lt;\xe2\x82\xac\xc3\xa9 ">>, 5500000),
    Data = iolist_to_binary([<<"<message to='a@b'><body>">>, Text,
                             <<"</body>">>, Items, <<"</message>">>]),
    Expected =
        {xmlelement, <<"message">>, [{<<"to">>, <<"a@b">>}],
         [{xmlelement, <<"body">>, [],
           [{xmlcdata, binary:replace(Text, <<"&lt;">>, <<"<">>, [global])}]}
          | [{xmlelement, <<"item">>,
              [{<<"n">>, integer_to_binary(I)}, {<<"k">>, <<"v&w">>}],
              [{xmlcdata, <<"value ", (integer_to_binary(I))/binary>>}]}
             || I <- lists:seq(1, 100000)]]},
    {Data, Expected}.

big_stanza_in_small_chunks_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             ?assert(byte_size(Data) >= 10000000),
             ?assertEqual([{xmlstreamelement, Expected},
                           {xmlstreamelement, el(<<"a">>)}],
                          after_header(chunks_of(<<Data/binary, "<a/>">>,
                                                 1024)))
     end}.

big_stanza_in_one_chunk_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             ?assertEqual([{xmlstreamelement, el(<<"a">>)},
                           {xmlstreamelement, Expected},
                           {xmlstreamelement, el(<<"b">>)}],
                          after_header([<<"<a/>", Data/binary, "<b/>">>]))
     end}.

big_stanza_legacy_one_chunk_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             ?assertEqual([{xmlstreamelement, in_format(legacy, Expected)}],
                          after_header(#{format => legacy}, [Data]))
     end}.

big_stanza_parse_element_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             ?assertEqual({ok, in_format(xmlel, Expected)},
                          stanza_stream:parse_element(Data,
                                                      #{format => xmlel}))
     end}.

big_stanza_exact_size_limit_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             N = byte_size(Data),
             ?assertEqual([{xmlstreamelement, Expected}],
                          after_header(#{max_stanza_size => N},
                                       chunks_of(Data, 65536))),
             ?assertEqual([{xmlstreamerror, stanza_too_big}],
                          after_header(#{max_stanza_size => N - 1},
                                       chunks_of(Data, 65536)))
     end}.

%% Push mode, 10 MB in one chunk (the call yields many times) and in
%% 1 KB chunks; run in a peer VM, see push_mode_survives_garbage_collection.
big_stanza_push_mode_test_() ->
    [{Name, {timeout, 120,
             ?_assertEqual({ok, true}, in_peer(?MODULE, big_push, [Chunk]))}}
     || {Name, Chunk} <- [{"one chunk", whole}, {"1 KB chunks", 1024}]].

big_push(Chunking) ->
    {Data, Expected} = big_stanza(),
    Chunks = case Chunking of
                 whole -> [<<"<a/>", Data/binary, "<b/>">>];
                 N -> chunks_of(<<"<a/>", Data/binary, "<b/>">>, N)
             end,
    P = opened(#{callback => self()}),
    [{xmlstreamstart, _, _}] = gen_events(),
    [] = feed(P, Chunks),
    gen_events() =:= stanza_events([el(<<"a">>), Expected, el(<<"b">>)]).

%% The call yields many times before reaching the error at the end.
error_after_many_stanzas_in_one_big_chunk_test() ->
    Data = iolist_to_binary([lists:duplicate(200000, <<"<m>text</m>">>),
                             <<"<x></y><z/>">>]),
    Events = after_header([Data]),
    ?assertEqual(200001, length(Events)),
    ?assertMatch(?NWF(7), lists:last(Events)),
    ?assertEqual([{xmlstreamelement, el(<<"m">>, [{xmlcdata, <<"text">>}])}],
                 lists:usort(lists:droplast(Events))).

big_stanza_exact_size_limit_one_chunk_test_() ->
    {timeout, 120,
     fun() ->
             {Data, Expected} = big_stanza(),
             N = byte_size(Data),
             Chunk = <<"<a/>", Data/binary, "<b/>">>,
             ?assertEqual(stanza_events([el(<<"a">>), Expected, el(<<"b">>)]),
                          after_header(#{max_stanza_size => N}, [Chunk])),
             ?assertEqual([{xmlstreamelement, el(<<"a">>)},
                           {xmlstreamerror, stanza_too_big}],
                          after_header(#{max_stanza_size => N - 1}, [Chunk]))
     end}.

many_stanzas_in_one_big_chunk_test() ->
    Data = iolist_to_binary([[<<"<m n='">>, integer_to_binary(I), <<"'/>\n">>]
                             || I <- lists:seq(1, 200000)]),
    Events = after_header([Data]),
    ?assertEqual([{xmlstreamelement,
                   {xmlelement, <<"m">>, [{<<"n">>, integer_to_binary(I)}], []}}
                  || I <- lists:seq(1, 200000)], Events).

%%====================================================================
%% parse_element
%%====================================================================

parse_element_surrounding_whitespace_test() ->
    ?assertEqual({ok, el(<<"a">>)},
                 stanza_stream:parse_element(<<" \r\n\t<a/>\r\n \t">>)).

parse_element_iodata_test() ->
    ?assertEqual({ok, el(<<"a">>, [{xmlcdata, <<"xy">>}])},
                 stanza_stream:parse_element(["<a>", [<<"x">>, $y], "</a>"])).

parse_element_errors_test_() ->
    Cases = [{"empty", <<>>}, {"whitespace only", <<"  \n ">>},
             {"trailing junk", <<"<a/>junk">>}, {"two elements", <<"<a/><b/>">>},
             {"two elements with space", <<"<a/>\n<b/>">>},
             {"unclosed", <<"<a><b></b>">>}, {"mismatched", <<"<a></b>">>},
             {"leading text", <<"x<a/>">>}, {"only text", <<"hello">>},
             {"truncated tag", <<"<a">>}],
    [{Name ++ " " ++ atom_to_list(F),
      ?_test(parse_element_fails(Data, F))}
     || {Name, Data} <- Cases, F <- ?FORMATS].

parse_element_fails(Data, legacy) ->
    ?assertMatch({error, {Code, [_ | _]}} when is_integer(Code),
                 stanza_stream:parse_element(Data, #{format => legacy}));
parse_element_fails(Data, F) ->
    ?assertMatch({error, {not_well_formed, #{code := _, message := _}}},
                 stanza_stream:parse_element(Data, #{format => F})).

parse_element_error_codes_test() ->
    ?assertEqual({error, {3, "no element found"}},
                 stanza_stream:parse_element(<<>>, #{format => legacy})),
    ?assertEqual({error, {9, "junk after document element"}},
                 stanza_stream:parse_element(<<"<a/><b/>">>, #{format => legacy})),
    ?assertMatch({error, {not_well_formed, #{code := 9, offset := 4}}},
                 stanza_stream:parse_element(<<"<a/>x">>)).

parse_element_non_iodata_test_() ->
    [?_assertEqual({error, badarg}, stanza_stream:parse_element(B))
     || B <- [foo, [foo], 42, [<<"a">>, 300]]].

parse_element_with_callback_is_a_bad_option_test() ->
    Self = self(),
    ?assertError({bad_option, callback, Self},
                 stanza_stream:parse_element(<<"<a/>">>, #{callback => Self})).

%% Options are a map; a proplist (or anything else) says so.
options_not_a_map_test_() ->
    [?_assertError({bad_options, [{format, legacy}]}, stanza_stream:new([{format, legacy}])),
     ?_assertError({bad_options, []}, stanza_stream:new([])),
     ?_assertError({bad_options, legacy}, stanza_stream:new(legacy)),
     ?_assertError({bad_options, [{format, legacy}]},
                   stanza_stream:parse_element(<<"<a/>">>, [{format, legacy}]))].

parse_element_size_limit_test() ->
    Data = <<"  ", ?SIZED/binary, "\n">>,
    N = byte_size(?SIZED),
    ?assertEqual({ok, sized_stanza()},
                 stanza_stream:parse_element(Data, #{max_stanza_size => N})),
    ?assertEqual({error, stanza_too_big},
                 stanza_stream:parse_element(Data, #{max_stanza_size => N - 1})),
    ?assertEqual({error, "XML stanza is too big"},
                 stanza_stream:parse_element(Data, #{max_stanza_size => N - 1,
                                                     format => legacy})).

parse_element_prefixes_and_namespaces_test() ->
    ?assertEqual({ok, {xmlelement, <<"p:a">>,
                       [{<<"xmlns:p">>, <<"urn:p">>}, {<<"xmlns">>, <<"urn:d">>},
                        {<<"p:x">>, <<"1">>}],
                       [{xmlelement, <<"b">>, [], []}]}},
                 stanza_stream:parse_element(
                   <<"<p:a p:x='1' xmlns:p='urn:p' xmlns='urn:d'>"
                     "<b xmlns=''/></p:a>">>)).

parse_element_with_xml_declaration_test() ->
    ?assertEqual({ok, el(<<"a">>)},
                 stanza_stream:parse_element(<<"<?xml version='1.0'?><a/>">>)).

parse_element_is_not_a_stream_test() ->
    %% The root is the stanza itself, not a stream header.
    ?assertEqual({ok, {xmlelement, <<"stream:stream">>,
                       [{<<"xmlns:stream">>, <<"urn:s">>}], [el(<<"a">>)]}},
                 stanza_stream:parse_element(
                   <<"<stream:stream xmlns:stream='urn:s'><a/>"
                     "</stream:stream>">>)).

%% A stream header that never ends is refused like an endless stanza, but
%% only beyond max(max_stanza_size, 64 KB), so a small limit never refuses
%% an ordinary header.
endless_stream_header_is_refused_test() ->
    {ok, P} = stanza_stream:new(#{max_stanza_size => 1000}),
    ?assertEqual({ok, []},
                 stanza_stream:parse(P, <<"<stream:stream xmlns:stream='s' to='">>)),
    Chunk = binary:copy(<<"a">>, 32768),
    ?assertEqual({ok, []}, stanza_stream:parse(P, Chunk)),
    ?assertEqual({ok, [{xmlstreamerror, stanza_too_big}]},
                 stanza_stream:parse(P, [Chunk, Chunk])).

small_limit_accepts_an_ordinary_header_fed_byte_by_byte_test() ->
    {ok, P} = stanza_stream:new(#{max_stanza_size => 8}),
    Header = <<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' to='example.com'>">>,
    Events = lists:append([begin {ok, E} = stanza_stream:parse(P, <<B>>), E end
                           || <<B>> <= Header]),
    ?assertMatch([{xmlstreamstart, <<"stream:stream">>, _}], Events),
    ?assertEqual({ok, [{xmlstreamelement, {xmlelement, <<"a">>, [], []}}]},
                 stanza_stream:parse(P, <<"<a/>">>)).

%% parse_element takes one NIF call up to 64 KB and a yielding parser
%% beyond: both paths must give the stream parser's answer, errors too.
parse_element_paths_agree_test_() ->
    Small = element_of_size(60000),
    Large = element_of_size(200000),
    [?_assertEqual(stream_element(El, Format),
                   stanza_stream:parse_element(El, #{format => Format}))
     || El <- [Small, Large], Format <- [binary, legacy, xmlel]] ++
    [?_assertEqual({error, too_deep},
                   stanza_stream:parse_element(El, #{max_depth => 1}))
     || El <- [Small, Large]] ++
    [?_assertEqual({error, stanza_too_big},
                   stanza_stream:parse_element(
                     El, #{max_stanza_size => byte_size(El) - 1}))
     || El <- [Small, Large]].

element_of_size(Size) ->
    Item = <<"<item jid='a@b' name='\xc3\xa9'>x &amp; y</item>">>,
    Count = Size div byte_size(Item),
    iolist_to_binary([<<"<query xmlns='jabber:iq:roster'>">>,
                      lists:duplicate(Count, Item), <<"</query>">>]).

stream_element(El, Format) ->
    {ok, P} = stanza_stream:new(#{format => Format}),
    {ok, [_]} = stanza_stream:parse(P, <<"<s>">>),
    {ok, [{xmlstreamelement, Element}]} = stanza_stream:parse(P, El),
    {ok, Element}.

%% A 4 MB attribute value in 1 KB chunks, '>' and references inside: the
%% stanza comes out whole with its last chunk (the core keeps bytes from
%% expat only while the token cannot be complete; its linear cost is
%% checked in test/c/core_test.c).
huge_attribute_in_small_chunks_test_() ->
    {timeout, 60,
     fun() ->
             {ok, P} = stanza_stream:new(#{}),
             {ok, [_]} = stanza_stream:parse(P, <<"<s><m a='">>),
             Piece = <<(binary:copy(<<"x">>, 1014))/binary, "&gt;>\"&amp;">>,
             [{ok, []} = stanza_stream:parse(P, Piece) || _ <- lists:seq(1, 4096)],
             {ok, [{xmlstreamelement, {xmlelement, <<"m">>, [{<<"a">>, Value}], []}}]} =
                 stanza_stream:parse(P, <<"'/>">>),
             ?assertEqual(4096 * 1018, byte_size(Value)),
             ?assertEqual(<<(binary:copy(<<"x">>, 1014))/binary, ">>\"&">>,
                          binary:part(Value, 0, 1018))
     end}.

%% Names from the wire never become atoms, in any format or error.
no_atoms_from_wire_data_test() ->
    Names = [<<"n", (integer_to_binary(I))/binary, "_never_an_atom">>
             || I <- lists:seq(1, 500)],
    Stanzas = [[<<"<">>, N, <<" ">>, N, <<"='v'><">>, N, <<"/></">>, N, <<">">>]
               || N <- Names],
    Before = erlang:system_info(atom_count),
    [begin
         {ok, P} = stanza_stream:new(#{format => F}),
         {ok, _} = stanza_stream:parse(P, [<<"<s>">>, Stanzas, <<"<bad:x/>">>]),
         {error, _} = stanza_stream:parse_element(<<"<", (hd(Names))/binary, ">">>,
                                                  #{format => F})
     end || F <- [binary, legacy, xmlel]],
    ?assertEqual(Before, erlang:system_info(atom_count)).

%%====================================================================
%% parse_element's merge_text option
%%====================================================================

merge_text_default_merges_test() ->
    ?assertEqual({ok, {xmlelement, <<"a">>, [], [{xmlcdata, <<"x&y\nz">>}]}},
                 stanza_stream:parse_element(<<"<a>x&amp;y\nz</a>">>)).

merge_text_false_keeps_expat_pieces_test_() ->
    Pieces = [{xmlcdata, P} || P <- [<<"x">>, <<"&">>, <<"y">>, <<"\n">>, <<"z">>]],
    [?_assertEqual({ok, {xmlelement, <<"a">>, [], Pieces}},
                   stanza_stream:parse_element(<<"<a>x&amp;y\nz</a>">>,
                                               #{merge_text => false})),
     ?_assertEqual({ok, {xmlel, <<"a">>, [], Pieces}},
                   stanza_stream:parse_element(<<"<a>x&amp;y\r\nz</a>">>,
                                               #{merge_text => false, format => xmlel})),
     ?_assertEqual({ok, {xmlelement, <<"a">>, [], [{xmlcdata, <<"xy">>}]}},
                   stanza_stream:parse_element(<<"<a>x<!---->y</a>">>,
                                               #{merge_text => true, restricted => drop}))].

%% Past 64 KB the element is fed in slices: the pieces still add up.
merge_text_false_large_element_test() ->
    Text = binary:copy(<<"0123456789&amp;">>, 10000),
    {ok, {xmlelement, <<"a">>, [], Children}} =
        stanza_stream:parse_element(<<"<a>", Text/binary, "</a>">>, #{merge_text => false}),
    ?assert(length(Children) >= 20000),
    ?assertEqual(binary:copy(<<"0123456789&">>, 10000),
                 iolist_to_binary([T || {xmlcdata, T} <- Children])).

merge_text_bad_value_test_() ->
    [?_assertError({bad_option, merge_text, yes},
                   stanza_stream:parse_element(<<"<a/>">>, #{merge_text => yes})),
     ?_assertError({bad_option, merge_text, false}, stanza_stream:new(#{merge_text => false}))].
