%% The hostile-input catalogue: what a peer may send, and exactly what the
%% parser must answer. Run by stanza_hostile_tests through both front-ends
%% (NIF and port driver) in every format.
%%
%% Each entry is a map:
%%   name     what it is
%%   class    the class of attack or mistake it belongs to
%%   input    the chunks, in order: binaries, or the atom `reset' (a stream
%%            restart, as after STARTTLS); or {lazy, Count, ChunkFun}, chunk
%%            I being ChunkFun(I) for I in 1..Count, generated as the parser
%%            asks so that 100 MB is never built
%%   opts     the parser's options (default #{})
%%   expect   the events of the whole input, in the binary format, errors
%%            written as error_spec() below; `reset' marks where the
%%            restart happened. After an error each chunk must give that
%%            error alone: those repeats are not listed.
%%   summary  true: elements are compared as summary/1 of them (for huge
%%            legal stanzas, which are not written out)
%%   heavy    true: run in a fresh peer VM (a crash fails one test, and
%%            memory is measured in a VM that runs nothing else), pull
%%            mode only
%%   max_chunks  the error must come within this many chunks of a lazy
%%            input: the parser stops reading at the limit
-module(stanza_hostile_catalogue).

-export([entries/0, header/0, summary/1]).

-export_type([entry/0, error_spec/0]).

-type error_spec() :: stanza_too_big | too_deep
                    | {restricted_xml, comment | processing_instruction
                                       | dtd | entity_reference}
                    %% expat's code, and the stream offset it points at
                    | {not_well_formed, integer(), integer()}.
-type chunk() :: binary() | reset.
-type entry() :: #{name := string(), class := atom(),
                   input := [chunk()] | {lazy, pos_integer(),
                                         fun((pos_integer()) -> binary())},
                   opts => map(), expect := [term()], summary => boolean(),
                   heavy => boolean(), max_chunks => pos_integer()}.

-define(H, <<"<stream:stream xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams'>">>).
-define(H_ATTRS, [{<<"xmlns">>, <<"jabber:client">>},
                  {<<"xmlns:stream">>, <<"http://etherx.jabber.org/streams">>}]).
-define(START, {xmlstreamstart, <<"stream:stream">>, ?H_ATTRS}).
-define(END, {xmlstreamend, <<"stream:stream">>}).
%% The stream offset of byte N after the header.
-define(AT(N), (85 + N)).
-define(NWF(Code, N), {xmlstreamerror, {not_well_formed, Code, ?AT(N)}}).
-define(ERR(Reason), {xmlstreamerror, Reason}).
-define(KB64, 65536).
-define(MB100_IN_64KB, 1600).

%% expat's error codes, as the catalogue expects them.
-define(INVALID_TOKEN, 4).
-define(TAG_MISMATCH, 7).
-define(DUPLICATE_ATTRIBUTE, 8).
-define(JUNK_AFTER_DOC_ELEMENT, 9).
-define(BAD_CHAR_REF, 14).
-define(MISPLACED_XML_PI, 17).
-define(UNBOUND_PREFIX, 27).
-define(UNDECLARING_PREFIX, 28).
-define(RESERVED_PREFIX_XML, 38).
-define(RESERVED_PREFIX_XMLNS, 39).
-define(RESERVED_NAMESPACE_URI, 40).

-spec header() -> binary().
header() ->
    ?H.

-spec entries() -> [entry()].
entries() ->
    lists:append([entities(), limits(), utf8(), control_characters(),
                  split_characters(), encodings(), names_and_namespaces(),
                  structure(), restricted(), restarts()]).

%%--------------------------------------------------------------------
%% DTDs and entities: nothing is ever declared, let alone expanded.

entities() ->
    Laughs = <<"<?xml version='1.0'?><!DOCTYPE lolz ["
               "<!ENTITY lol 'lol'>"
               "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
               "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
               "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
               "]><lolz>&lol3;</lolz>">>,
    %% One 64 KB entity referenced 4096 times: 256 MB if expanded.
    Quadratic = iolist_to_binary(
                  [<<"<!DOCTYPE q [<!ENTITY a '">>, binary:copy(<<"a">>, ?KB64),
                   <<"'>]><q>">>, binary:copy(<<"&a;">>, 4096), <<"</q>">>]),
    [#{name => "billion laughs", class => entities,
       input => [Laughs], expect => [?ERR({restricted_xml, dtd})]},
     #{name => "quadratic blowup", class => entities,
       input => [Quadratic], expect => [?ERR({restricted_xml, dtd})]},
     #{name => "external entity (SYSTEM)", class => entities,
       input => [<<"<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>">>,
                 ?H, <<"<a>&x;</a>">>],
       expect => [?ERR({restricted_xml, dtd})]},
     #{name => "external entity (PUBLIC)", class => entities,
       input => [<<"<!DOCTYPE s [<!ENTITY x PUBLIC '-//x' "
                   "'http://example.com/x'>]><s>&x;</s>">>],
       expect => [?ERR({restricted_xml, dtd})]},
     #{name => "external parameter entity", class => entities,
       input => [<<"<!DOCTYPE s [<!ENTITY % p SYSTEM 'http://example.com/p'>"
                   " %p;]><s/>">>],
       expect => [?ERR({restricted_xml, dtd})]},
     #{name => "external DTD subset", class => entities,
       input => [<<"<!DOCTYPE s SYSTEM 'http://example.com/s.dtd'>">>, ?H],
       expect => [?ERR({restricted_xml, dtd})]},
     #{name => "DOCTYPE after the stream header", class => entities,
       input => [?H, <<"<!DOCTYPE s><a/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 2)]},
     #{name => "DOCTYPE inside a stanza", class => entities,
       input => [?H, <<"<a><!DOCTYPE s></a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 5)]},
     #{name => "undefined entity in text", class => entities,
       input => [?H, <<"<a>&xxe;</a>">>],
       expect => [?START, ?ERR({restricted_xml, entity_reference})]},
     #{name => "undefined entity in an attribute", class => entities,
       input => [?H, <<"<a b='&xxe;'/>">>],
       expect => [?START, ?ERR({restricted_xml, entity_reference})]},
     #{name => "the five predefined entities", class => entities,
       input => [?H, <<"<a b='&quot;&apos;'>&lt;&gt;&amp;</a>">>],
       expect => [?START, stanza({<<"a">>, [{<<"b">>, <<"\"'">>}],
                                  [<<"<>&">>]})]},
     #{name => "character reference to NUL", class => entities,
       input => [?H, <<"<a>&#0;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference to a surrogate", class => entities,
       input => [?H, <<"<a>&#xD800;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference above U+10FFFF", class => entities,
       input => [?H, <<"<a>&#x110000;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference with 11 digits", class => entities,
       input => [?H, <<"<a>&#99999999999;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference to U+FFFE", class => entities,
       input => [?H, <<"<a>&#xFFFE;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference to a control character", class => entities,
       input => [?H, <<"<a>&#1;</a>">>],
       expect => [?START, ?NWF(?BAD_CHAR_REF, 3)]},
     #{name => "character reference without digits", class => entities,
       input => [?H, <<"<a>&#x;</a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 6)]},
     #{name => "legal character references", class => entities,
       input => [?H, <<"<a b='&#60;&#x3e;'>&#9;&#xA;&#xD;&#x1F600;</a>">>],
       expect => [?START, stanza({<<"a">>, [{<<"b">>, <<"<>">>}],
                                  [<<"\t\n\r\xf0\x9f\x98\x80">>]})]}].

%%--------------------------------------------------------------------
%% Size and depth: refused as soon as certain, whatever the chunking.

limits() ->
    [#{name => "100 MB of text under a 64 KB limit", class => limits,
       input => endless(<<"<message><body>">>, <<"a">>),
       opts => #{max_stanza_size => ?KB64}, max_chunks => 3,
       expect => [?START, ?ERR(stanza_too_big)]},
     #{name => "100 MB attribute value under a 64 KB limit", class => limits,
       input => endless(<<"<message to='">>, <<"a">>),
       opts => #{max_stanza_size => ?KB64}, max_chunks => 3,
       expect => [?START, ?ERR(stanza_too_big)]},
     #{name => "100 MB element name under a 64 KB limit", class => limits,
       input => endless(<<"<m">>, <<"x">>),
       opts => #{max_stanza_size => ?KB64}, max_chunks => 3,
       expect => [?START, ?ERR(stanza_too_big)]},
     #{name => "1M attributes under a 64 KB limit", class => limits,
       input => attributes_then(<<>>, 1000000),
       opts => #{max_stanza_size => ?KB64}, max_chunks => 3,
       expect => [?START, ?ERR(stanza_too_big)]},
     #{name => "endless stream header under a 64 KB limit", class => limits,
       input => {lazy, ?MB100_IN_64KB,
                 fun(1) -> <<"<stream:stream">>;
                    (I) -> unique_attributes(I, ?KB64)
                 end},
       opts => #{max_stanza_size => 1024}, max_chunks => 3,
       expect => [?ERR(stanza_too_big)]},
     #{name => "1M attributes, no limit", class => limits, heavy => true,
       summary => true,
       input => attributes_then(<<"/>">>, 1000000),
       expect => [?START, {xmlstreamelement,
                           #{name => <<"m">>, elements => 1, depth => 1,
                             attrs => 1000000, text => 0}}]},
     #{name => "100k-deep nesting, default max_depth", class => limits,
       input => [?H, binary:copy(<<"<a>">>, 100000)],
       expect => [?START, ?ERR(too_deep)]},
     #{name => "100k-deep nesting in 64 KB chunks", class => limits,
       input => {lazy, 6,
                 fun(1) -> ?H; (_) -> binary:copy(<<"<a>">>, 21846) end},
       max_chunks => 2,
       expect => [?START, ?ERR(too_deep)]},
     #{name => "100k-deep nesting under max_depth 100000", class => limits,
       heavy => true, summary => true,
       opts => #{max_depth => 100000},
       input => [?H, binary:copy(<<"<a>">>, 100000),
                 binary:copy(<<"</a>">>, 100000)],
       expect => [?START, {xmlstreamelement,
                           #{name => <<"a">>, elements => 100000,
                             depth => 100000, attrs => 0, text => 0}}]},
     #{name => "depth 1024, the default limit", class => limits,
       summary => true, input => [?H, nested(1024)],
       expect => [?START, {xmlstreamelement,
                           #{name => <<"a">>, elements => 1024, depth => 1024,
                             attrs => 0, text => 0}}]},
     #{name => "depth 1025, one over the default", class => limits,
       input => [?H, nested(1025)],
       expect => [?START, ?ERR(too_deep)]},
     #{name => "depth 10 under max_depth 10, then 11", class => limits,
       summary => true, opts => #{max_depth => 10},
       input => [?H, nested(10), nested(11)],
       expect => [?START, {xmlstreamelement,
                           #{name => <<"a">>, elements => 10, depth => 10,
                             attrs => 0, text => 0}},
                  ?ERR(too_deep)]},
     #{name => "1M children, no limit", class => limits, heavy => true,
       summary => true,
       input => children_then(<<"</iq>">>, 1000000),
       expect => [?START, {xmlstreamelement,
                           #{name => <<"iq">>, elements => 1000001,
                             depth => 2, attrs => 0, text => 0}}]},
     #{name => "1M children over a 1 MB limit", class => limits,
       input => children_then(<<"</iq>">>, 1000000),
       opts => #{max_stanza_size => 1 bsl 20}, max_chunks => 18,
       expect => [?START, ?ERR(stanza_too_big)]},
     #{name => "stanza exactly at the limit, then one byte over",
       class => limits, opts => #{max_stanza_size => 10},
       input => [?H, <<"<a>123</a>">>, <<"<a>1234</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"123">>]}),
                  ?ERR(stanza_too_big)]},
     #{name => "10 MB of text in one stanza, no limit", class => limits,
       heavy => true, summary => true,
       input => {lazy, 162,
                 fun(1) -> <<?H/binary, "<m>">>;
                    (162) -> <<"</m>">>;
                    (_) -> binary:copy(<<"t\xc3\xa9&amp;">>, ?KB64 div 8)
                 end},
       expect => [?START, {xmlstreamelement,
                           #{name => <<"m">>, elements => 1, depth => 1,
                             attrs => 0, text => 160 * (?KB64 div 8) * 4}}]},
     #{name => "10 MB attribute value, no limit", class => limits,
       heavy => true, summary => true,
       input => {lazy, 162,
                 fun(1) -> <<?H/binary, "<m v='">>;
                    (162) -> <<"'/>">>;
                    (_) -> binary:copy(<<"v">>, ?KB64)
                 end},
       expect => [?START, {xmlstreamelement,
                           #{name => <<"m">>, elements => 1, depth => 1,
                             attrs => 1, text => 0}}]},
     #{name => "10 MB of text between stanzas under a 64 KB limit",
       class => limits, heavy => true,
       opts => #{max_stanza_size => ?KB64},
       input => {lazy, 162,
                 fun(1) -> <<?H/binary, "<a/>">>;
                    (162) -> <<"<b/>">>;
                    (_) -> binary:copy(<<"junk ">>, ?KB64 div 5)
                 end},
       expect => [?START, stanza({<<"a">>, [], []}),
                  stanza({<<"b">>, [], []})]},
     #{name => "1 MB element name, no limit", class => limits,
       summary => true,
       input => [?H, <<"<">>, binary:copy(<<"n">>, 1 bsl 20), <<"/>">>],
       expect => [?START, {xmlstreamelement,
                           #{name => {bytes, 1 bsl 20}, elements => 1,
                             depth => 1, attrs => 0, text => 0}}]},
     #{name => "1 MB attribute name, no limit", class => limits,
       summary => true,
       input => [?H, <<"<a ">>, binary:copy(<<"n">>, 1 bsl 20), <<"='v'/>">>],
       expect => [?START, {xmlstreamelement,
                           #{name => <<"a">>, elements => 1, depth => 1,
                             attrs => 1, text => 0}}]}].

%%--------------------------------------------------------------------
%% Every class of invalid UTF-8, in text; then in other places.

utf8() ->
    Classes = stanza_test_util:invalid_utf8()
        ++ [{"noncharacter U+FFFE", <<16#EF, 16#BF, 16#BE>>},
            {"noncharacter U+FFFF", <<16#EF, 16#BF, 16#BF>>}],
    [#{name => "invalid UTF-8 in text: " ++ Name, class => utf8,
       input => [?H, <<"<a>x", Bytes/binary, "</a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 4)]}
     || {Name, Bytes} <- Classes] ++
        [#{name => "invalid UTF-8 in an attribute value", class => utf8,
           input => [?H, <<"<a b='\xc0\xaf'/>">>],
           expect => [?START, ?NWF(?INVALID_TOKEN, 6)]},
         #{name => "invalid UTF-8 in an element name", class => utf8,
           input => [?H, <<"<a\xed\xa0\x80/>">>],
           expect => [?START, ?NWF(?INVALID_TOKEN, 2)]},
         #{name => "invalid UTF-8 in the stream header", class => utf8,
           input => [<<"<stream:stream to='\xff'>">>],
           expect => [?ERR({not_well_formed, ?INVALID_TOKEN, 19})]},
         #{name => "invalid UTF-8 between stanzas", class => utf8,
           input => [?H, <<"<a/>\xf5<b/>">>],
           expect => [?START, stanza({<<"a">>, [], []}),
                      ?NWF(?INVALID_TOKEN, 4)]},
         #{name => "UTF-16LE byte order mark", class => utf8,
           input => [<<16#FF, 16#FE, $<, 0, $a, 0, $/, 0, $>, 0>>],
           expect => [?ERR({not_well_formed, ?INVALID_TOKEN, 0})]},
         #{name => "UTF-16BE byte order mark, split", class => utf8,
           input => [<<16#FE>>, <<16#FF, 0, $<, 0, $a, 0, $/, 0, $>>>],
           expect => [?ERR({not_well_formed, ?INVALID_TOKEN, 0})]}].

%%--------------------------------------------------------------------
%% NUL and the other characters XML 1.0 excludes; those it allows.

control_characters() ->
    Excluded = [{"NUL", 0}, {"U+0001", 1}, {"backspace", 8},
                {"vertical tab", 11}, {"form feed", 12}, {"escape", 27},
                {"U+001F", 31}],
    [#{name => "raw " ++ Name ++ " in text", class => control_characters,
       input => [?H, <<"<a>x", C, "</a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 4)]}
     || {Name, C} <- Excluded] ++
        [#{name => "NUL in an attribute value", class => control_characters,
           input => [?H, <<"<a b='\0'/>">>],
           expect => [?START, ?NWF(?INVALID_TOKEN, 6)]},
         #{name => "NUL in an element name", class => control_characters,
           input => [?H, <<"<a\0/>">>],
           expect => [?START, ?NWF(?INVALID_TOKEN, 2)]},
         #{name => "NUL between stanzas", class => control_characters,
           input => [?H, <<"<a/>\0">>],
           expect => [?START, stanza({<<"a">>, [], []}),
                      ?NWF(?INVALID_TOKEN, 4)]},
         #{name => "NUL in the stream header", class => control_characters,
           input => [<<"<s\0>">>],
           expect => [?ERR({not_well_formed, ?INVALID_TOKEN, 2})]},
         #{name => "DEL and C1 controls are XML characters",
           class => control_characters,
           input => [?H, <<"<a>\x7f\xc2\x85\xc2\x9f</a>">>],
           expect => [?START,
                      stanza({<<"a">>, [], [<<"\x7f\xc2\x85\xc2\x9f">>]})]},
         #{name => "CR and CRLF become LF", class => control_characters,
           input => [?H, <<"<a>x\r\ny\rz</a>">>],
           expect => [?START, stanza({<<"a">>, [], [<<"x\ny\nz">>]})]}].

%%--------------------------------------------------------------------
%% Multi-byte characters split across chunks: legal, and whole.

split_characters() ->
    Emoji = <<"\xf0\x9f\x98\x80">>,
    [#{name => "2-byte character split in text", class => split_characters,
       input => [?H, <<"<a>caf\xc3">>, <<"\xa9</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"caf\xc3\xa9">>]})]},
     #{name => "3-byte character split in three", class => split_characters,
       input => [?H, <<"<a>\xe2">>, <<"\x82">>, <<"\xac</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"\xe2\x82\xac">>]})]},
     #{name => "4-byte character byte by byte", class => split_characters,
       input => [?H, <<"<a>">> | [<<B>> || <<B>> <= Emoji]] ++ [<<"</a>">>],
       expect => [?START, stanza({<<"a">>, [], [Emoji]})]},
     #{name => "character split in an attribute value",
       class => split_characters,
       input => [?H, <<"<a b='\xe2\x82">>, <<"\xac'/>">>],
       expect => [?START, stanza({<<"a">>, [{<<"b">>, <<"\xe2\x82\xac">>}],
                                  []})]},
     #{name => "character split in an element name",
       class => split_characters,
       input => [?H, <<"<caf\xc3">>, <<"\xa9/>">>],
       expect => [?START, stanza({<<"caf\xc3\xa9">>, [], []})]},
     #{name => "character split in the stream header",
       class => split_characters,
       input => [<<"<s to='\xd0">>, <<"\xb6'>">>],
       expect => [{xmlstreamstart, <<"s">>, [{<<"to">>, <<"\xd0\xb6">>}]}]},
     #{name => "non-BMP character in a name (not an XML 1.0 4th ed. name "
       "character)", class => split_characters,
       input => [?H, <<"<\xf0\x9f">>, <<"\x98\x80/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 1)]}].

%%--------------------------------------------------------------------
%% The input is UTF-8 whatever it declares.

encodings() ->
    [#{name => "UTF-8 byte order mark", class => encodings,
       input => [<<"\xef\xbb\xbf">>, ?H, <<"<a/>">>],
       expect => [?START, stanza({<<"a">>, [], []})]},
     #{name => "UTF-8 byte order mark between stanzas", class => encodings,
       input => [?H, <<"\xef\xbb\xbf<a/>">>],
       expect => [?START, stanza({<<"a">>, [], []})]},
     #{name => "encoding='UTF-16' declared, UTF-8 sent", class => encodings,
       input => [<<"<?xml version='1.0' encoding='UTF-16'?>">>, ?H,
                 <<"<a>\xc3\xa9</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"\xc3\xa9">>]})]},
     #{name => "encoding='ISO-8859-1' declared, UTF-8 sent",
       class => encodings,
       input => [<<"<?xml version='1.0' encoding='ISO-8859-1'?>">>, ?H,
                 <<"<a>\xc3\xa9</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"\xc3\xa9">>]})]},
     #{name => "encoding='ISO-8859-1' declared, Latin-1 sent",
       class => encodings,
       input => [<<"<?xml version='1.0' encoding='ISO-8859-1'?>">>, ?H,
                 <<"<a>caf\xe9</a>">>],
       expect => [?START, ?ERR({not_well_formed, ?INVALID_TOKEN, 43 + 85 + 6})]},
     #{name => "unknown encoding declared", class => encodings,
       input => [<<"<?xml version='1.0' encoding='EBCDIC-US'?>">>, ?H],
       expect => [?START]},
     #{name => "XML declaration after the stream header", class => encodings,
       input => [?H, <<"<?xml version='1.0'?><a/>">>],
       expect => [?START, ?NWF(?MISPLACED_XML_PI, 0)]},
     #{name => "whitespace-only stream", class => encodings,
       input => [<<"  \n\t ">>, <<" ">>, <<"\r\n">>],
       expect => []},
     #{name => "empty chunks everywhere", class => encodings,
       input => [<<>>, ?H, <<>>, <<"<a>">>, <<>>, <<"</a>">>, <<>>],
       expect => [?START, stanza({<<"a">>, [], []})]}].

%%--------------------------------------------------------------------
%% Names and namespaces.

names_and_namespaces() ->
    [#{name => "unbound element prefix", class => namespaces,
       input => [?H, <<"<p:a/>">>],
       expect => [?START, ?NWF(?UNBOUND_PREFIX, 0)]},
     #{name => "unbound attribute prefix", class => namespaces,
       input => [?H, <<"<a p:b='1'/>">>],
       expect => [?START, ?NWF(?UNBOUND_PREFIX, 0)]},
     #{name => "prefix used outside its scope", class => namespaces,
       input => [?H, <<"<a xmlns:p='u'/><p:b/>">>],
       expect => [?START, stanza({<<"a">>, [{<<"xmlns:p">>, <<"u">>}], []}),
                  ?NWF(?UNBOUND_PREFIX, 16)]},
     #{name => "xml: prefix is predeclared", class => namespaces,
       input => [?H, <<"<a xml:lang='en'/>">>],
       expect => [?START, stanza({<<"a">>, [{<<"xml:lang">>, <<"en">>}], []})]},
     #{name => "xml prefix bound to another namespace", class => namespaces,
       input => [?H, <<"<a xmlns:xml='urn:other'/>">>],
       expect => [?START, ?NWF(?RESERVED_PREFIX_XML, 0)]},
     #{name => "xmlns prefix declared", class => namespaces,
       input => [?H, <<"<a xmlns:xmlns='urn:x'/>">>],
       expect => [?START, ?NWF(?RESERVED_PREFIX_XMLNS, 0)]},
     #{name => "prefix bound to the xmlns namespace", class => namespaces,
       input => [?H, <<"<a xmlns:p='http://www.w3.org/2000/xmlns/'/>">>],
       expect => [?START, ?NWF(?RESERVED_NAMESPACE_URI, 0)]},
     #{name => "prefix undeclared (XML 1.0 namespaces forbid it)",
       class => namespaces,
       input => [?H, <<"<a xmlns:p=''/>">>],
       expect => [?START, ?NWF(?UNDECLARING_PREFIX, 0)]},
     #{name => "prefix redeclared in a child", class => namespaces,
       input => [?H, <<"<a xmlns:p='u1'><p:b xmlns:p='u2'/></a>">>],
       expect => [?START,
                  stanza({<<"a">>, [{<<"xmlns:p">>, <<"u1">>}],
                          [{<<"p:b">>, [{<<"xmlns:p">>, <<"u2">>}], []}]})]},
     #{name => "default namespace undeclared in a child", class => namespaces,
       input => [?H, <<"<a xmlns='u1'><b xmlns=''/></a>">>],
       expect => [?START, stanza({<<"a">>, [{<<"xmlns">>, <<"u1">>}],
                                  [{<<"b">>, [], []}]})]},
     #{name => "duplicate attribute", class => namespaces,
       input => [?H, <<"<a x='1' x='2'/>">>],
       expect => [?START, ?NWF(?DUPLICATE_ATTRIBUTE, 9)]},
     #{name => "duplicate attribute through two prefixes", class => namespaces,
       input => [?H, <<"<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>">>],
       expect => [?START, ?NWF(?DUPLICATE_ATTRIBUTE, 0)]},
     #{name => "duplicate default namespace declaration", class => namespaces,
       input => [?H, <<"<a xmlns='u' xmlns='v'/>">>],
       expect => [?START, ?NWF(?DUPLICATE_ATTRIBUTE, 13)]},
     #{name => "two colons in a name", class => namespaces,
       input => [?H, <<"<a:b:c xmlns:a='u'/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 4)]},
     #{name => "name starting with a digit", class => namespaces,
       input => [?H, <<"<1a/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 1)]}].

%%--------------------------------------------------------------------
%% Structure: tags, attribute syntax, the stream's end.

structure() ->
    [#{name => "mismatched tags", class => structure,
       input => [?H, <<"<a><b></a></b>">>],
       expect => [?START, ?NWF(?TAG_MISMATCH, 8)]},
     #{name => "stream end inside a stanza", class => structure,
       input => [?H, <<"<a></stream:stream>">>],
       expect => [?START, ?NWF(?TAG_MISMATCH, 5)]},
     #{name => "wrong stream end tag", class => structure,
       input => [?H, <<"</stream:foo>">>],
       expect => [?START, ?NWF(?TAG_MISMATCH, 2)]},
     #{name => "junk after the stream end", class => structure,
       input => [?H, <<"<a/></stream:stream>junk">>],
       expect => [?START, stanza({<<"a">>, [], []}), ?END,
                  ?NWF(?JUNK_AFTER_DOC_ELEMENT, 20)]},
     #{name => "stanza after the stream end", class => structure,
       input => [?H, <<"</stream:stream>">>, <<" \n">>, <<"<a/>">>],
       expect => [?START, ?END, ?NWF(?JUNK_AFTER_DOC_ELEMENT, 18)]},
     #{name => "second stream header after the end", class => structure,
       input => [?H, <<"</stream:stream>">>, ?H],
       expect => [?START, ?END, ?NWF(?JUNK_AFTER_DOC_ELEMENT, 16)]},
     #{name => "attribute value with '<'", class => structure,
       input => [?H, <<"<a b='<'/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 6)]},
     #{name => "bare '&' in text", class => structure,
       input => [?H, <<"<a>a & b</a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 6)]},
     #{name => "']]>' in text", class => structure,
       input => [?H, <<"<a>]]></a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 5)]},
     #{name => "unquoted attribute value", class => structure,
       input => [?H, <<"<a b=c/>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 5)]},
     #{name => "CDATA section in a stanza, split", class => structure,
       input => [?H, <<"<a>x<![CDA">>, <<"TA[<y>&amp;]]">>, <<">z</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"x<y>&amp;z">>]})]},
     #{name => "CDATA section and text between stanzas", class => structure,
       input => [?H, <<"hello<![CDATA[x]]><a/>">>],
       expect => [?START, stanza({<<"a">>, [], []})]},
     #{name => "root element that is not a stream", class => structure,
       input => [<<"<foo><a/></foo>">>],
       expect => [{xmlstreamstart, <<"foo">>, []}, stanza({<<"a">>, [], []}),
                  {xmlstreamend, <<"foo">>}]},
     #{name => "stream prefix not declared in the header", class => structure,
       input => [<<"<stream:stream xmlns='jabber:client'>">>],
       expect => [?ERR({not_well_formed, ?UNBOUND_PREFIX, 0})]},
     #{name => "duplicate attribute in the stream header", class => structure,
       input => [<<"<stream:stream xmlns:stream='u' to='a' to='b'>">>],
       expect => [?ERR({not_well_formed, ?DUPLICATE_ATTRIBUTE, 39})]},
     #{name => "end tag before any root", class => structure,
       input => [<<"</s>">>],
       expect => [?ERR({not_well_formed, ?INVALID_TOKEN, 1})]}].

%%--------------------------------------------------------------------
%% Comments and processing instructions (RFC 6120 section 11).

restricted() ->
    [#{name => "comment in a stanza", class => restricted,
       input => [?H, <<"<a><!-- c --></a>">>],
       expect => [?START, ?ERR({restricted_xml, comment})]},
     #{name => "comment dropped (restricted => drop)", class => restricted,
       opts => #{restricted => drop},
       input => [?H, <<"<a>x<!-- c -->y</a>">>],
       expect => [?START, stanza({<<"a">>, [], [<<"xy">>]})]},
     #{name => "malformed comment ('--' inside)", class => restricted,
       opts => #{restricted => drop},
       input => [?H, <<"<a><!-- a -- b --></a>">>],
       expect => [?START, ?NWF(?INVALID_TOKEN, 12)]},
     #{name => "comment before the stream header", class => restricted,
       input => [<<"<!-- c -->">>, ?H],
       expect => [?ERR({restricted_xml, comment})]},
     #{name => "processing instruction in a stanza", class => restricted,
       input => [?H, <<"<a><?xml-stylesheet href='x'?></a>">>],
       expect => [?START, ?ERR({restricted_xml, processing_instruction})]},
     #{name => "processing instruction dropped", class => restricted,
       opts => #{restricted => drop},
       input => [?H, <<"<a><?pi x?></a>">>],
       expect => [?START, stanza({<<"a">>, [], []})]},
     #{name => "processing instruction before the stream header",
       class => restricted,
       input => [<<"<?foo bar?>">>, ?H],
       expect => [?ERR({restricted_xml, processing_instruction})]}].

%%--------------------------------------------------------------------
%% Restarts (reset/1, as after STARTTLS or SASL), also mid-stanza.

restarts() ->
    [#{name => "restart in the middle of a stanza", class => restarts,
       input => [?H, <<"<a><b>text">>, reset, ?H, <<"<c/>">>],
       expect => [?START, reset, ?START, stanza({<<"c">>, [], []})]},
     #{name => "restart in the middle of a tag", class => restarts,
       input => [?H, <<"<message to='a@b">>, reset, <<"<?xml version='1.0'?>">>,
                 ?H, <<"<c/>">>],
       expect => [?START, reset, ?START, stanza({<<"c">>, [], []})]},
     #{name => "restart in the middle of a split character", class => restarts,
       input => [?H, <<"<a>\xe2\x82">>, reset, ?H, <<"<c>\xac</c>">>],
       expect => [?START, reset, ?START, ?NWF(?INVALID_TOKEN, 3)]},
     #{name => "restart in the middle of the stream header", class => restarts,
       input => [<<"<stream:str">>, reset, ?H],
       expect => [reset, ?START]},
     #{name => "restart after an error", class => restarts,
       input => [?H, <<"<a></b>">>, <<"<c/>">>, reset, ?H, <<"<c/>">>],
       expect => [?START, ?NWF(?TAG_MISMATCH, 5), reset, ?START,
                  stanza({<<"c">>, [], []})]},
     #{name => "restart after the stream end, with a byte order mark",
       class => restarts,
       input => [?H, <<"</stream:stream>">>, reset, <<"\xef\xbb\xbf">>, ?H],
       expect => [?START, ?END, reset, ?START]},
     #{name => "restart resets the size limit", class => restarts,
       opts => #{max_stanza_size => 10},
       input => [?H, <<"<a>1234567">>, reset, ?H, <<"<a>123</a>">>],
       expect => [?START, reset, ?START, stanza({<<"a">>, [], [<<"123">>]})]}].

%%--------------------------------------------------------------------
%% Helpers

%% {Name, Attrs, Children} -> a stanza event in the binary format;
%% children are binaries (text) or the same triples.
stanza(Element) ->
    {xmlstreamelement, to_element(Element)}.

to_element({Name, Attrs, Children}) ->
    {xmlelement, Name, Attrs, [child(C) || C <- Children]}.

child(Text) when is_binary(Text) -> {xmlcdata, Text};
child(Element) -> to_element(Element).

nested(N) ->
    iolist_to_binary([lists:duplicate(N, <<"<a>">>),
                      lists:duplicate(N, <<"</a>">>)]).

%% The header and Start, then 100 MB of Unit in 64 KB chunks.
endless(Start, Unit) ->
    Chunk = binary:copy(Unit, ?KB64 div byte_size(Unit)),
    {lazy, ?MB100_IN_64KB + 1,
     fun(1) -> <<?H/binary, Start/binary>>;
        (_) -> Chunk
     end}.

%% `<m' and N distinct attributes in 64 KB chunks (about 11 bytes each),
%% then End.
attributes_then(End, N) ->
    PerChunk = 5000,
    Chunks = (N + PerChunk - 1) div PerChunk,
    {lazy, Chunks + 2,
     fun(1) -> <<?H/binary, "<m">>;
        (I) when I =:= Chunks + 2 -> End;
        (I) -> attribute_run((I - 2) * PerChunk, min(PerChunk, N - (I - 2) * PerChunk))
     end}.

attribute_run(From, Count) ->
    iolist_to_binary([[<<" a">>, integer_to_binary(K), <<"=''">>]
                      || K <- lists:seq(From, From + Count - 1)]).

%% Distinct attributes filling about Size bytes, named after chunk I.
unique_attributes(I, Size) ->
    Prefix = <<" c", (integer_to_binary(I))/binary, "_">>,
    iolist_to_binary([[Prefix, integer_to_binary(K), <<"='1'">>]
                      || K <- lists:seq(1, Size div (byte_size(Prefix) + 8))]).

%% `<iq>' and N children `<b/>' in 64 KB chunks, then End.
children_then(End, N) ->
    PerChunk = ?KB64 div 4,
    Chunks = (N + PerChunk - 1) div PerChunk,
    {lazy, Chunks + 2,
     fun(1) -> <<?H/binary, "<iq>">>;
        (I) when I =:= Chunks + 2 -> End;
        (I) -> binary:copy(<<"<b/>">>, min(PerChunk, N - (I - 2) * PerChunk))
     end}.

%% What the catalogue compares of a huge legal element (binary format):
%% its name (or its size when over 64 bytes), element count, depth, the
%% number of attributes and the bytes of text.
-spec summary(tuple()) -> map().
summary({xmlelement, Name, _, _} = El) ->
    {Elements, Depth, Attrs, Text} = measure([{El, 1}], {0, 0, 0, 0}),
    #{name => short_name(Name), elements => Elements, depth => Depth,
      attrs => Attrs, text => Text}.

short_name(Name) when byte_size(Name) > 64 -> {bytes, byte_size(Name)};
short_name(Name) -> Name.

%% Iterative: a 100k-deep element must not need a 100k-deep stack.
measure([], Acc) ->
    Acc;
measure([{{xmlcdata, T}, _} | Rest], {E, D, A, Tx}) ->
    measure(Rest, {E, D, A, Tx + byte_size(T)});
measure([{{xmlelement, _, Attrs, Children}, Level} | Rest], {E, D, A, Tx}) ->
    Next = [{C, Level + 1} || C <- Children],
    measure(Next ++ Rest, {E + 1, max(D, Level), A + length(Attrs), Tx}).
