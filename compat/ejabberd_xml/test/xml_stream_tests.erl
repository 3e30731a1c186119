%% EUnit tests of xml_stream, the ejabberd 2.x compatibility module: code
%% written for 2.x must get exactly 2.x's terms.
-module(xml_stream_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HEADER, "<?xml version='1.0'?>"
                "<stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' "
                "to='example.com' version='1.0'>").
-define(HEADER_EVENT,
        {xmlstreamstart, "stream:stream",
         [{"xmlns", "jabber:client"},
          {"xmlns:stream", "http://etherx.jabber.org/streams"},
          {"to", "example.com"}, {"version", "1.0"}]}).
-define(TOO_BIG, {xmlstreamerror, "XML stanza is too big"}).

%%====================================================================
%% Helpers
%%====================================================================

gen_events() ->
    stanza_test_util:gen_events().

parse_all(State, Chunks) ->
    lists:foldl(fun(C, S) -> xml_stream:parse(S, C) end, State, Chunks).

%% The events of a stream fed as chunks (after the header event).
stanza_events(State0, Chunks) ->
    State = xml_stream:parse(State0, ?HEADER),
    [?HEADER_EVENT] = gen_events(),
    _ = parse_all(State, Chunks),
    Events = gen_events(),
    true = xml_stream:close(State),
    Events.

stanza_events(Chunks) ->
    stanza_events(xml_stream:new(self()), Chunks).

bytes(Bin) ->
    [<<B>> || <<B>> <= Bin].

%% A UTF-8 string as 2.x passed them around: a list of bytes.
u(Chars) ->
    binary_to_list(unicode:characters_to_binary(Chars)).

%%====================================================================
%% new, parse, close
%%====================================================================

whole_stream_test() ->
    S0 = xml_stream:new(self()),
    S1 = xml_stream:parse(S0, ?HEADER),
    S2 = xml_stream:parse(S1, "<message to='juliet@example.com' type='chat'>"
                              "<body>hi</body></message>"),
    S3 = xml_stream:parse(S2, "</stream:stream>"),
    ?assertEqual(true, xml_stream:close(S3)),
    ?assertEqual(
       [?HEADER_EVENT,
        {xmlstreamelement,
         {xmlelement, "message",
          [{"to", "juliet@example.com"}, {"type", "chat"}],
          [{xmlelement, "body", [], [{xmlcdata, <<"hi">>}]}]}},
        {xmlstreamend, "stream:stream"}],
       gen_events()).

utf8_names_and_values_are_byte_strings_test() ->
    Stanza = u("<message to='r\x{e9}mi@example.com'><\x{fc}ber "
               "xmlns='urn:\x{65e5}'>caf\x{e9} \x{1F600}</\x{fc}ber>"
               "</message>"),
    ?assertEqual(
       [{xmlstreamelement,
         {xmlelement, "message", [{"to", u("r\x{e9}mi@example.com")}],
          [{xmlelement, u("\x{fc}ber"), [{"xmlns", u("urn:\x{65e5}")}],
            [{xmlcdata, unicode:characters_to_binary("caf\x{e9} \x{1F600}")}]}]}}],
       stanza_events([Stanza])).

prefixes_and_namespace_attributes_test() ->
    Stanza = "<iq type='result' id='1'><query xmlns='jabber:iq:roster' "
             "xmlns:x='urn:x' x:ver='2'/></iq>",
    ?assertEqual(
       [{xmlstreamelement,
         {xmlelement, "iq", [{"type", "result"}, {"id", "1"}],
          [{xmlelement, "query",
            [{"xmlns", "jabber:iq:roster"}, {"xmlns:x", "urn:x"},
             {"x:ver", "2"}],
            []}]}}],
       stanza_events([Stanza])).

default_namespace_undeclaration_dropped_test() ->
    ?assertEqual([{xmlstreamelement, {xmlelement, "a", [{"b", "1"}], []}}],
                 stanza_events(["<a xmlns='' b='1'/>"])).

parse_accepts_binaries_and_iolists_test() ->
    ?assertEqual(
       [{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, <<"xyz">>}]}},
        {xmlstreamelement, {xmlelement, "b", [], []}}],
       stanza_events([<<"<a>x">>, ["y", [<<"z</a>">>]], [$<, "b/>"]])).

whitespace_keepalives_dropped_test() ->
    ?assertEqual([{xmlstreamelement, {xmlelement, "a", [], []}}],
                 stanza_events([" ", "\n", "<a/>", "\r\n \t"])).

text_merged_test() ->
    ?assertEqual(
       [{xmlstreamelement,
         {xmlelement, "a", [], [{xmlcdata, <<"x&y<z>!">>}]}}],
       stanza_events(bytes(<<"<a>x&amp;y<![CDATA[<z>]]>&#33;</a>">>))).

stanza_across_chunks_test() ->
    Stanza = <<"<message><body>caf\xc3\xa9</body><x xmlns='urn:x'/></message>">>,
    Expected = [{xmlstreamelement,
                 {xmlelement, "message", [],
                  [{xmlelement, "body", [], [{xmlcdata, <<"caf\xc3\xa9">>}]},
                   {xmlelement, "x", [{"xmlns", "urn:x"}], []}]}}],
    ?assertEqual(Expected, stanza_events(bytes(Stanza))).

events_go_to_the_callback_pid_test() ->
    Self = self(),
    Collector = spawn_link(fun() -> collect(Self, 3, []) end),
    S0 = xml_stream:new(Collector),
    _ = parse_all(S0, [?HEADER, "<a/>", "</stream:stream>"]),
    Events = receive {collected, Collector, Evs} -> Evs
             after 10000 -> erlang:error(timeout) end,
    ?assertEqual([?HEADER_EVENT,
                  {xmlstreamelement, {xmlelement, "a", [], []}},
                  {xmlstreamend, "stream:stream"}], Events),
    ?assertEqual([], gen_events()).

collect(Parent, 0, Acc) ->
    Parent ! {collected, self(), lists:reverse(Acc)};
collect(Parent, N, Acc) ->
    receive {'$gen_event', E} -> collect(Parent, N - 1, [E | Acc]) end.

close_returns_true_twice_test() ->
    S = xml_stream:new(self()),
    ?assertEqual(true, xml_stream:close(S)),
    ?assertEqual(true, xml_stream:close(S)).

parse_after_close_raises_badarg_test() ->
    S = xml_stream:new(self()),
    true = xml_stream:close(S),
    ?assertError(badarg, xml_stream:parse(S, "<a/>")).

bad_data_raises_badarg_test() ->
    S = xml_stream:new(self()),
    ?assertError(badarg, xml_stream:parse(S, [foo])).

%%====================================================================
%% Errors
%%====================================================================

not_well_formed_is_code_and_string_test() ->
    ?assertEqual([{xmlstreamerror, {7, "mismatched tag"}}],
                 stanza_events(["<a></b>"])).

events_before_error_delivered_test() ->
    ?assertMatch([{xmlstreamelement, {xmlelement, "a", [], []}},
                  {xmlstreamerror, {7, [_ | _]}}],
                 stanza_events(["<a/><b></c><d/>"])).

error_repeated_on_later_parse_test() ->
    S0 = xml_stream:new(self()),
    S1 = parse_all(S0, [?HEADER, "<a></b>"]),
    [?HEADER_EVENT, {xmlstreamerror, Error}] = gen_events(),
    _ = xml_stream:parse(S1, "<ok/>"),
    ?assertEqual([{xmlstreamerror, Error}], gen_events()).

invalid_utf8_is_an_error_test() ->
    ?assertMatch([{xmlstreamerror, {Code, [_ | _]}}] when is_integer(Code),
                 stanza_events([<<"<a>\xc0\xaf</a>">>])).

dtd_is_an_error_test() ->
    S = xml_stream:new(self()),
    _ = xml_stream:parse(S, "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY e "
                            "SYSTEM 'file:///etc/passwd'>]><s><a>&e;</a>"),
    ?assertMatch([{xmlstreamerror, {Code, [_ | _]}}] when is_integer(Code),
                 gen_events()).

entity_reference_is_an_error_test() ->
    ?assertMatch([{xmlstreamerror, {Code, [_ | _]}}] when is_integer(Code),
                 stanza_events(["<a>&nbsp;</a>"])).

%%====================================================================
%% Comments and processing instructions are dropped, as in 2.x
%%====================================================================

comments_and_pis_dropped_in_stream_test() ->
    Data = <<"<!-- c --><a>x<!-- c -->y<?pi d?></a><?pi?>\n<b/><!---->">>,
    Expected = [{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, <<"xy">>}]}},
                {xmlstreamelement, {xmlelement, "b", [], []}}],
    ?assertEqual(Expected, stanza_events([Data])),
    ?assertEqual(Expected, stanza_events(bytes(Data))).

comment_before_stream_header_dropped_test() ->
    S = xml_stream:new(self()),
    _ = xml_stream:parse(S, "<?xml version='1.0'?><!-- hi --><s>"),
    ?assertEqual([{xmlstreamstart, "s", []}], gen_events()).

%%====================================================================
%% Size limit
%%====================================================================

-define(STANZA, <<"<message to='a@b'><body>caf\xc3\xa9</body></message>">>).

size_limit_exact_passes_test() ->
    N = byte_size(?STANZA),
    ?assertEqual(
       [{xmlstreamelement,
         {xmlelement, "message", [{"to", "a@b"}],
          [{xmlelement, "body", [], [{xmlcdata, <<"caf\xc3\xa9">>}]}]}}],
       stanza_events(xml_stream:new(self(), N), bytes(?STANZA))).

size_limit_one_over_fails_test() ->
    N = byte_size(?STANZA) - 1,
    Events = stanza_events(xml_stream:new(self(), N), [?STANZA]),
    ?assertEqual([?TOO_BIG], Events).

size_limit_one_over_fails_byte_by_byte_test() ->
    N = byte_size(?STANZA) - 1,
    [First | Rest] = stanza_events(xml_stream:new(self(), N), bytes(?STANZA)),
    ?assertEqual(?TOO_BIG, First),
    ?assertEqual([], [E || E <- Rest, E =/= ?TOO_BIG]).

size_limit_per_stanza_test() ->
    Events = stanza_events(xml_stream:new(self(), 9),
                           [<<"<a>12</a> <b>1</b>\n<c>123</c><d/>">>]),
    ?assertEqual([{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, <<"12">>}]}},
                  {xmlstreamelement, {xmlelement, "b", [], [{xmlcdata, <<"1">>}]}},
                  ?TOO_BIG], Events).

size_limit_infinity_test() ->
    Big = binary:copy(<<"x">>, 1000000),
    ?assertEqual([{xmlstreamelement, {xmlelement, "a", [], [{xmlcdata, Big}]}}],
                 stanza_events(xml_stream:new(self(), infinity),
                               [<<"<a>", Big/binary, "</a>">>])).

%%====================================================================
%% reset
%%====================================================================

reset_mid_stanza_starts_new_stream_test() ->
    S0 = xml_stream:new(self()),
    S1 = parse_all(S0, [?HEADER, "<message><body>hel"]),
    S2 = xml_stream:reset(S1),
    _ = parse_all(S2, [?HEADER, "<a/>"]),
    ?assertEqual([?HEADER_EVENT, ?HEADER_EVENT,
                  {xmlstreamelement, {xmlelement, "a", [], []}}],
                 gen_events()).

reset_clears_error_test() ->
    S0 = xml_stream:new(self()),
    S1 = parse_all(S0, [?HEADER, "<a></b>"]),
    S2 = xml_stream:reset(S1),
    _ = parse_all(S2, [?HEADER, "<a/>"]),
    ?assertMatch([?HEADER_EVENT, {xmlstreamerror, _}, ?HEADER_EVENT,
                  {xmlstreamelement, {xmlelement, "a", [], []}}],
                 gen_events()).

reset_keeps_size_limit_test() ->
    S0 = xml_stream:new(self(), 4),
    S1 = xml_stream:reset(parse_all(S0, [?HEADER, "<a/>"])),
    _ = parse_all(S1, [?HEADER, "<a/><bb/>"]),
    ?assertEqual([?HEADER_EVENT, {xmlstreamelement, {xmlelement, "a", [], []}},
                  ?HEADER_EVENT, {xmlstreamelement, {xmlelement, "a", [], []}},
                  ?TOO_BIG],
                 gen_events()).

%%====================================================================
%% parse_element
%%====================================================================

parse_element_test() ->
    ?assertEqual({xmlelement, "iq", [{"type", "get"}], []},
                 xml_stream:parse_element("<iq type='get'/>")).

parse_element_nested_test() ->
    ?assertEqual(
       {xmlelement, "iq", [{"type", "set"}, {"id", "a1"}],
        [{xmlelement, "query", [{"xmlns", "jabber:iq:private"}],
          [{xmlelement, "storage", [{"xmlns", "storage:bookmarks"}],
            [{xmlcdata, <<"caf\xc3\xa9">>}]}]}]},
       xml_stream:parse_element(
         <<"<iq type='set' id='a1'><query xmlns='jabber:iq:private'>"
           "<storage xmlns='storage:bookmarks'>caf\xc3\xa9</storage>"
           "</query></iq>">>)).

parse_element_whitespace_around_test() ->
    ?assertEqual({xmlelement, "a", [], []},
                 xml_stream:parse_element("  \n<a/>\r\n ")).

%% 2.1.13's parse_element/1 read expat's events in order: with nothing
%% at all, or an unclosed element, expat's own error comes back...
parse_element_no_element_test_() ->
    [?_assertEqual({error, {3, "no element found"}}, xml_stream:parse_element(Data))
     || Data <- ["", "  ", <<"\n\t ">>, "<a>", "<a><b/>", "<a>text"]].

%% ...and parse_error only when the element's end came before the error:
%% something other than whitespace, a comment or a PI after it.
parse_element_parse_error_test_() ->
    [?_assertEqual({error, parse_error}, xml_stream:parse_element(Data))
     || Data <- ["<a/>junk", "<a/><b/>", "<a/>\n<b/>", "<a></a></a>",
                 <<"<a/>\xff">>, "<a/>&amp;", <<"<a/><!-- \xff -->">>,
                 <<"<a/><?p \xff?>">>, "<a/><!-- x", "<a/><"]].

parse_element_misc_after_element_test_() ->
    [?_assertEqual({xmlelement, "a", [], []}, xml_stream:parse_element(Data))
     || Data <- ["<a/><!-- c -->", "<a/><?pi x?>\n", "<a/> \r\n"]].

parse_element_code_and_string_test_() ->
    [?_assertEqual({error, {7, "mismatched tag"}}, xml_stream:parse_element("<a></b>")),
     ?_assertEqual({error, {7, "mismatched tag"}}, xml_stream:parse_element("<a><b></a>")),
     ?_assertEqual({error, {8, "duplicate attribute"}},
                   xml_stream:parse_element("<a x='1' x='2'/>")),
     ?_assertEqual({error, {27, "unbound prefix"}}, xml_stream:parse_element("<x:a/>")),
     ?_assertEqual({error, {4, "not well-formed (invalid token)"}},
                   xml_stream:parse_element(<<"<a>\xff</a>">>)),
     ?_assertEqual({error, {11, "undefined entity"}}, xml_stream:parse_element("<a>&foo;</a>"))].

%% A DOCTYPE: 2.x let expat read it (and expand its entities); stanza
%% refuses it, with code 35 and a string that says why.
parse_element_dtd_refused_test() ->
    ?assertMatch({error, {35, [_ | _]}},
                 xml_stream:parse_element("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>")).

parse_element_bad_data_test() ->
    ?assertError(badarg, xml_stream:parse_element([a])).

%% Text comes in expat's pieces, as 2.x kept them: a run of characters,
%% each reference, each line break, each CDATA section line.
parse_element_text_pieces_test_() ->
    T = fun(Pieces) -> [{xmlcdata, P} || P <- Pieces] end,
    [?_assertEqual({xmlelement, "a", [], T([<<"x">>, <<"&">>, <<"y">>])},
                   xml_stream:parse_element("<a>x&amp;y</a>")),
     ?_assertEqual({xmlelement, "a", [], T([<<"l1">>, <<"\n">>, <<"l2">>, <<"\n">>, <<"l3">>])},
                   xml_stream:parse_element("<a>l1\nl2\r\nl3</a>")),
     ?_assertEqual({xmlelement, "a", [], T([<<"b">>, <<"c">>, <<"\n">>, <<"d">>, <<"A">>])},
                   xml_stream:parse_element("<a>b<![CDATA[c\nd]]>&#x41;</a>")),
     ?_assertEqual({xmlelement, "a", [], T([<<"x">>, <<"y">>])},
                   xml_stream:parse_element("<!--c--><a>x<!-- c -->y<?p?></a><!--c-->")),
     ?_assertEqual({xmlelement, "a", [], [{xmlelement, "b", [], T([<<"<">>, <<"1">>])},
                                          {xmlcdata, <<"z">>}]},
                   xml_stream:parse_element("<a><b>&lt;1</b>z</a>"))].

parse_element_utf8_test() ->
    ?assertEqual({xmlelement, u("\x{e9}"), [{u("\x{fc}"), u("\x{20ac}")}],
                  [{xmlcdata, unicode:characters_to_binary("\x{1F600}")}]},
                 xml_stream:parse_element(
                   u("<\x{e9} \x{fc}='\x{20ac}'>\x{1F600}</\x{e9}>"))).

%% 2.x went on parsing after "too big"; stanza's stream stays failed and
%% says so again on every later parse.
too_big_stays_failed_test() ->
    S0 = xml_stream:new(self(), 10),
    S1 = xml_stream:parse(S0, "<s><a>0123456789</a>"),
    _ = xml_stream:parse(S1, "<b/>"),
    ?assertEqual([{'$gen_event', {xmlstreamstart, "s", []}},
                  {'$gen_event', {xmlstreamerror, "XML stanza is too big"}},
                  {'$gen_event', {xmlstreamerror, "XML stanza is too big"}}],
                 flush_all()).

%% The stream's events in the mailbox (other tests' leftovers stay).
flush_all() ->
    receive {'$gen_event', _} = M -> [M | flush_all()] after 100 -> [] end.

%% 2.x had no depth limit; stanza's is 1024 inside a stanza.
too_deep_test_() ->
    Nested = fun(N) -> list_to_binary([lists:duplicate(N, "<a>"), lists:duplicate(N, "</a>")]) end,
    [?_assertMatch({xmlelement, "a", [], [_]}, xml_stream:parse_element(Nested(1024))),
     ?_assertEqual({error, {35, "XML stanza is too deep"}}, xml_stream:parse_element(Nested(1025))),
     ?_test(begin
                S = xml_stream:parse(xml_stream:new(self()), [<<"<s>">>, Nested(1025)]),
                true = xml_stream:close(S),
                ?assertEqual([{'$gen_event', {xmlstreamstart, "s", []}},
                              {'$gen_event', {xmlstreamerror, {35, "XML stanza is too deep"}}}],
                             flush_all())
            end)].

%% 2.x parsed UTF-16; XMPP is UTF-8 only, and stanza refuses it.
utf16_refused_test_() ->
    Utf16 = unicode:characters_to_binary("<a>hi</a>", utf8, {utf16, big}),
    [?_assertEqual({error, {4, "not well-formed (invalid token)"}},
                   xml_stream:parse_element(<<16#FE, 16#FF, Utf16/binary>>)),
     ?_assertMatch({error, {_, [_ | _]}}, xml_stream:parse_element(Utf16))].
