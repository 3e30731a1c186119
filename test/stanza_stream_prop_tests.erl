%% PropEr properties of stanza_stream, run from EUnit.
%%
%% Random XMPP-like streams (element trees with prefixed names declared on
%% the way, namespace declarations mixed among attributes, Unicode text
%% with characters that need escaping) are serialized here, with random
%% but legal choices (quotes, whitespace in tags, entity and character
%% references, CDATA sections, empty-element tags). The events must be
%% the same for every chunking, byte by byte included, and the elements
%% must be the generated trees, in every format.
%%
%% PropEr's macros come from stanza_proper.hrl (Debian has no proper.hrl).
-module(stanza_stream_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").

%% Run in a peer VM by push_mode_equals_pull_mode_test_/0.
-export([check_push_property/1]).
%% The generators, shared with the NIF/driver parity properties.
-export([chunked_stream/1, split/2]).


-define(FORMATS, [binary, legacy, xmlel]).
-define(STREAM_NS, <<"http://etherx.jabber.org/streams">>).

%%====================================================================
%% EUnit entry points
%%====================================================================

chunked_equals_one_chunk_test_() ->
    {timeout, 120, ?_assert(check(prop_chunked_equals_one_chunk(), 300))}.

chunked_with_dropped_noise_test_() ->
    {timeout, 120, ?_assert(check(prop_chunked_with_dropped_noise(), 200))}.

byte_by_byte_equals_one_chunk_test_() ->
    {timeout, 120, ?_assert(check(prop_byte_by_byte_equals_one_chunk(), 150))}.

%% Push mode in a peer VM: if the NIF corrupts memory, that VM dies and
%% this test fails, instead of the whole run.
push_mode_equals_pull_mode_test_() ->
    {timeout, 120,
     ?_assertEqual({ok, true}, in_peer(?MODULE, check_push_property, [150]))}.

check_push_property(NumTests) ->
    check(prop_push_equals_pull(), NumTests).

parse_element_round_trip_test_() ->
    {timeout, 120, ?_assert(check(prop_parse_element_round_trip(), 300))}.

size_limit_exact_test_() ->
    {timeout, 120, ?_assert(check(prop_size_limit_exact(), 300))}.

%% PropEr seeds from the clock unless the process already has a rand
%% state: seeding here makes every run generate the same cases.
check(Prop, NumTests) ->
    _ = rand:seed(exsplus, {20, 7, 1968}),
    proper:quickcheck(Prop, [{numtests, NumTests}, {to_file, user}]).

in_peer(M, F, A) ->
    stanza_test_util:in_peer(M, F, A).

%%====================================================================
%% Properties
%%====================================================================

%% Random chunking gives the one-chunk events, which are the expected
%% ones, in every format.
prop_chunked_equals_one_chunk() ->
    ?FORALL({Stream, Bin, Cuts}, chunked_stream(quiet),
            all_formats(fun(F) ->
                                Opts = #{format => F},
                                One = pull(Opts, [Bin]),
                                Chunked = pull(Opts, split(Bin, Cuts)),
                                Expected = expected_events(F, Stream),
                                report(Bin, Cuts, F, Expected,
                                       [One, Chunked])
                        end)).

%% Comments and processing instructions between and inside stanzas
%% vanish under restricted => drop, whatever the chunking.
prop_chunked_with_dropped_noise() ->
    ?FORALL({Stream, Bin, Cuts}, chunked_stream(noisy),
            all_formats(fun(F) ->
                                Opts = #{format => F, restricted => drop},
                                Expected = expected_events(F, Stream),
                                report(Bin, Cuts, F, Expected,
                                       [pull(Opts, [Bin]),
                                        pull(Opts, split(Bin, Cuts))])
                        end)).

prop_byte_by_byte_equals_one_chunk() ->
    ?FORALL({Stream, Bin}, serialized_stream(quiet),
            all_formats(fun(F) ->
                                Opts = #{format => F},
                                Bytes = [<<B>> || <<B>> <= Bin],
                                report(Bin, bytes, F,
                                       expected_events(F, Stream),
                                       [pull(Opts, [Bin]), pull(Opts, Bytes)])
                        end)).

prop_push_equals_pull() ->
    ?FORALL({Stream, Bin, Cuts}, chunked_stream(quiet),
            all_formats(fun(F) ->
                                report(Bin, Cuts, F,
                                       expected_events(F, Stream),
                                       [push(#{format => F},
                                             split(Bin, Cuts))])
                        end)).

prop_parse_element_round_trip() ->
    ?FORALL({El, Seed, Before, After},
            {xml_element(3, []), seed(), keepalive(), keepalive()},
            begin
                {Io, _} = ser_element(El, quiet, rand:seed_s(exsss, Seed)),
                Bin = iolist_to_binary([Before, Io, After]),
                all_formats(
                  fun(F) ->
                          Expected = {ok, in_format(F, expect_element(El))},
                          Got = stanza_stream:parse_element(Bin,
                                                            #{format => F}),
                          ?WHENFAIL(io:format(user, "~nInput: ~p~nFormat: ~p~n"
                                              "Expected: ~p~nGot: ~p~n",
                                              [Bin, F, Expected, Got]),
                                    Got =:= Expected)
                  end)
            end).

%% With the limit at the biggest stanza's size everything passes; one byte
%% less and the stream fails at the first biggest stanza, the stanzas
%% before it delivered.
prop_size_limit_exact() ->
    ?FORALL({Stream, Bin, Sizes, Cuts}, sized_chunked_stream(),
            begin
                {stream, _, _, Stanzas, _} = Stream,
                Max = lists:max([1 | Sizes]),
                Chunks = split(Bin, Cuts),
                Pass = expected_events(binary, Stream),
                Fail = case Max > 1 andalso lists:member(Max, Sizes) of
                           true ->
                               N = length(lists:takewhile(
                                            fun(S) -> S < Max end, Sizes)),
                               [hd(Pass)] ++
                                   [{xmlstreamelement, expect_element(E)}
                                    || E <- lists:sublist(Stanzas, N)] ++
                                   [{xmlstreamerror, stanza_too_big}];
                           false ->
                               Pass
                       end,
                proper:conjunction(
                  [{exact, report(Bin, Cuts, {max_stanza_size, Max}, Pass,
                                  [pull(#{max_stanza_size => Max}, Chunks)])},
                   {one_less,
                    report(Bin, Cuts, {max_stanza_size, Max - 1}, Fail,
                           [pull(#{max_stanza_size => max(1, Max - 1)},
                                 Chunks)])}])
            end).

all_formats(Check) ->
    proper:conjunction([{F, Check(F)} || F <- ?FORMATS]).

report(Bin, Cuts, Format, Expected, Results) ->
    ?WHENFAIL(io:format(user, "~nStream: ~p~nCuts: ~p~nFormat: ~p~n"
                        "Expected: ~p~nGot: ~p~n",
                        [Bin, Cuts, Format, Expected, Results]),
              lists:all(fun(R) -> R =:= Expected end, Results)).

%%====================================================================
%% Running the parser
%%====================================================================

%% Events of all chunks; after an error, a chunk must repeat just that
%% error (checked, not accumulated).
pull(Opts, Chunks) ->
    {ok, P} = stanza_stream:new(Opts),
    Events = pull_loop(P, Chunks, none, []),
    ok = stanza_stream:close(P),
    Events.

pull_loop(_P, [], _Error, Acc) ->
    lists:append(lists:reverse(Acc));
pull_loop(P, [Chunk | Chunks], none, Acc) ->
    {ok, Events} = stanza_stream:parse(P, Chunk),
    case [E || {xmlstreamerror, _} = E <- Events] of
        [] ->
            pull_loop(P, Chunks, none, [Events | Acc]);
        [Error] ->
            case lists:last(Events) of
                Error -> pull_loop(P, Chunks, Error, [Events | Acc]);
                _ -> [{error_not_last, Events}]
            end;
        _ ->
            [{several_errors, Events}]
    end;
pull_loop(P, [Chunk | Chunks], Error, Acc) ->
    case stanza_stream:parse(P, Chunk) of
        {ok, [Error]} -> pull_loop(P, Chunks, Error, Acc);
        Other -> [{error_not_repeated, Other}]
    end.

push(Opts, Chunks) ->
    {ok, P} = stanza_stream:new(Opts#{callback => self()}),
    Replies = lists:usort([stanza_stream:parse(P, C) || C <- Chunks]),
    ok = stanza_stream:close(P),
    case Replies of
        [{ok, []}] -> mailbox();
        [] -> mailbox();
        _ -> [{unexpected_replies, Replies}]
    end.

mailbox() ->
    receive {'$gen_event', E} -> [E | mailbox()]
    after 0 -> []
    end.

split(Bin, Cuts) ->
    split(Bin, lists:usort(Cuts), 0).

split(Bin, [], At) ->
    [binary:part(Bin, At, byte_size(Bin) - At)];
split(Bin, [Cut | Cuts], At) ->
    [binary:part(Bin, At, Cut - At) | split(Bin, Cuts, Cut)].

%%====================================================================
%% Generators
%%====================================================================

%% {stream, XmlDecl, HeaderPrefixes, Stanzas, End} with End a boolean.
stream() ->
    ?BIND({Decl, Prefixes, End},
          {proper_types:boolean(), short_list(prefix()), proper_types:boolean()},
          begin
              Scope = lists:usort([<<"stream">> | Prefixes]),
              ?BIND(Stanzas, short_list(?LAZY(xml_element(3, Scope))),
                    {stream, Decl, dedupe(Prefixes), Stanzas, End})
          end).

serialized_stream(Noise) ->
    ?BIND({Stream, Seed}, {stream(), seed()},
          {Stream, serialize_stream(Stream, Noise, Seed)}).

%% A stream, its bytes and cut points, half of them inside multi-byte
%% characters when there are some.
chunked_stream(Noise) ->
    ?BIND({Stream, Bin}, serialized_stream(Noise),
          ?BIND(Cuts, short_list(cut(Bin)), {Stream, Bin, Cuts})).

%% Also the size of each stanza in the bytes.
sized_chunked_stream() ->
    ?BIND({Stream, Seed}, {stream(), seed()},
          begin
              {Io, Sizes} = stream_parts(Stream, quiet, Seed),
              Bin = iolist_to_binary(Io),
              ?BIND(Cuts, short_list(cut(Bin)), {Stream, Bin, Sizes, Cuts})
          end).

cut(Bin) ->
    Size = byte_size(Bin),
    case [I || {I, B} <- lists:zip(lists:seq(0, Size - 1), binary_to_list(Bin)),
               B >= 16#80, B < 16#C0] of
        [] -> proper_types:choose(0, Size);
        Inside -> proper_types:frequency([{1, proper_types:choose(0, Size)},
                                          {1, proper_types:elements(Inside)}])
    end.

seed() ->
    {proper_types:pos_integer(), proper_types:pos_integer(),
     proper_types:pos_integer()}.

short_list(Type) ->
    ?BIND(N, proper_types:choose(0, 4), proper_types:vector(N, Type)).

%% No two prefixes share a URI, so two attributes differing by prefix are
%% never duplicates.
prefix() ->
    proper_types:elements([<<"p">>, <<"q">>, <<"db">>, <<"x1">>,
                           <<"\xc3\xa9">>]).

uri(Prefix) -> <<"urn:", Prefix/binary>>.

local_name() ->
    proper_types:elements([<<"message">>, <<"body">>, <<"iq">>, <<"x">>,
                           <<"item">>, <<"a-b.c_d">>, <<"\xc3\xbc">>,
                           <<"\xe6\x97\xa5\xe6\x9c\xac">>]).

attr_name() ->
    proper_types:elements([<<"to">>, <<"from">>, <<"type">>, <<"id">>,
                           <<"a">>, <<"\xc3\xa9t\xc3\xa9">>]).

%% {el, Prefix | none, Local, NsDecls, Attrs, Children}; NsDecls are
%% {Prefix | default, Uri}, Attrs {Prefix | none, Local, Value}, Children
%% elements or {text, Bin}.
xml_element(Depth, Scope) ->
    ?BIND(Decls, ns_decls(),
          begin
              Scope1 = lists:usort(Scope ++ [P || {P, _} <- Decls,
                                                  P =/= default]),
              ?BIND({{Prefix, Local}, Attrs, Children},
                    {qname(Scope1), attrs(Scope1), children(Depth, Scope1)},
                    {el, Prefix, Local, Decls, Attrs, Children})
          end).

ns_decls() ->
    ?BIND({Keys, Default},
          {short_list(proper_types:frequency([{3, prefix()}, {1, default}])),
           proper_types:elements([<<"jabber:client">>, <<"urn:d">>, <<>>])},
          [case K of
               default -> {default, Default};
               P -> {P, uri(P)}
           end || K <- dedupe(Keys)]).

qname([]) ->
    {none, local_name()};
qname(Scope) ->
    proper_types:frequency([{2, {none, local_name()}},
                            {1, {proper_types:elements(Scope), local_name()}}]).

attrs(Scope) ->
    Name = case Scope of
               [] -> {none, attr_name()};
               _ -> proper_types:frequency(
                      [{3, {none, attr_name()}},
                       {1, {proper_types:elements(Scope), attr_name()}}])
           end,
    ?BIND(Attrs, short_list({Name, text()}),
          [{P, L, V} || {{P, L}, V} <- dedupe_keys(Attrs)]).

children(0, _Scope) ->
    short_list({text, text()});
children(Depth, Scope) ->
    short_list(proper_types:frequency(
                 [{3, {text, text()}},
                  {2, ?LAZY(xml_element(Depth - 1, Scope))}])).

text() ->
    ?BIND(N, proper_types:choose(0, 10),
          ?BIND(Chars, proper_types:vector(N, xml_char()),
                unicode:characters_to_binary(Chars))).

xml_char() ->
    proper_types:frequency(
      [{8, proper_types:choose($a, $z)},
       {4, proper_types:elements([$\s, $<, $>, $&, $', $", $\n, $\t, $\r,
                                  $], $;, $#, $=, $/, $?, $!, $-])},
       {3, proper_types:elements([16#E9, 16#FC, 16#20AC, 16#65E5, 16#1F600,
                                  16#7FF, 16#800, 16#FFFD, 16#10FFFF])},
       {1, proper_types:choose(16#80, 16#D7FF)},
       {1, proper_types:choose(16#E000, 16#FFFD)},
       {1, proper_types:choose(16#10000, 16#10FFFF)}]).

keepalive() ->
    proper_types:elements([<<>>, <<" ">>, <<"\n">>, <<"\r\n">>, <<"\t ">>,
                           <<"  \n  ">>]).

dedupe(List) ->
    lists:reverse(lists:foldl(fun(X, Acc) ->
                                      case lists:member(X, Acc) of
                                          true -> Acc;
                                          false -> [X | Acc]
                                      end
                              end, [], List)).

dedupe_keys(Pairs) ->
    lists:reverse(lists:foldl(fun({K, _} = KV, Acc) ->
                                      case lists:keymember(K, 1, Acc) of
                                          true -> Acc;
                                          false -> [KV | Acc]
                                      end
                              end, [], Pairs)).

%%====================================================================
%% Expected terms
%%====================================================================

expected_events(Format, {stream, _Decl, _Prefixes, Stanzas, End} = Stream) ->
    {el, _, _, Decls, Attrs, _} = header(Stream),
    Start = {xmlstreamstart, <<"stream:stream">>, expect_attrs(Decls, Attrs)},
    Events = [Start | [{xmlstreamelement, expect_element(E)} || E <- Stanzas]]
        ++ [{xmlstreamend, <<"stream:stream">>} || End],
    [event_in_format(Format, E) || E <- Events].

expect_element({el, Prefix, Local, Decls, Attrs, Children}) ->
    {xmlelement, qname(Prefix, Local), expect_attrs(Decls, Attrs),
     merge_text([expect_child(C) || C <- Children])}.

expect_child({text, Bin}) -> {xmlcdata, Bin};
expect_child(El) -> expect_element(El).

%% Namespace declarations first, xmlns='' dropped, both in document order.
expect_attrs(Decls, Attrs) ->
    [{decl_name(P), U} || {P, U} <- Decls, {P, U} =/= {default, <<>>}] ++
        [{qname(P, L), V} || {P, L, V} <- Attrs].

merge_text([{xmlcdata, <<>>} | Rest]) ->
    merge_text(Rest);
merge_text([{xmlcdata, A}, {xmlcdata, B} | Rest]) ->
    merge_text([{xmlcdata, <<A/binary, B/binary>>} | Rest]);
merge_text([X | Rest]) ->
    [X | merge_text(Rest)];
merge_text([]) ->
    [].

decl_name(default) -> <<"xmlns">>;
decl_name(P) -> <<"xmlns:", P/binary>>.

qname(none, Local) -> Local;
qname(Prefix, Local) -> <<Prefix/binary, ":", Local/binary>>.

event_in_format(binary, Event) ->
    Event;
event_in_format(F, {xmlstreamstart, Name, Attrs}) ->
    {xmlstreamstart, name_in_format(F, Name), attrs_in_format(F, Attrs)};
event_in_format(F, {xmlstreamelement, El}) ->
    {xmlstreamelement, in_format(F, El)};
event_in_format(F, {xmlstreamend, Name}) ->
    {xmlstreamend, name_in_format(F, Name)}.

in_format(binary, El) ->
    El;
in_format(F, {xmlelement, Name, Attrs, Children}) ->
    Tag = case F of legacy -> xmlelement; xmlel -> xmlel end,
    {Tag, name_in_format(F, Name), attrs_in_format(F, Attrs),
     [in_format(F, C) || C <- Children]};
in_format(_, {xmlcdata, _} = Text) ->
    Text.

name_in_format(legacy, Bin) -> binary_to_list(Bin);
name_in_format(_, Bin) -> Bin.

attrs_in_format(F, Attrs) ->
    [{name_in_format(F, K), name_in_format(F, V)} || {K, V} <- Attrs].

%%====================================================================
%% Serialization, with random legal choices drawn from a seeded state
%%====================================================================

header({stream, _Decl, Prefixes, _Stanzas, _End}) ->
    {el, <<"stream">>, <<"stream">>,
     [{default, <<"jabber:client">>}, {<<"stream">>, ?STREAM_NS}] ++
         [{P, uri(P)} || P <- Prefixes],
     [{none, <<"to">>, <<"example.com">>}, {none, <<"version">>, <<"1.0">>}],
     []}.

serialize_stream(Stream, Noise, Seed) ->
    iolist_to_binary(element(1, stream_parts(Stream, Noise, Seed))).

%% {IoData, StanzaSizes}: the stream and the byte size of each stanza.
stream_parts({stream, Decl, _, Stanzas, End} = Stream, Noise, Seed) ->
    S0 = rand:seed_s(exsss, Seed),
    {Start, S1} = start_tag(header(Stream), S0),
    {DeclIo, S2} = case Decl of
                       true -> pick([<<"<?xml version='1.0'?>">>,
                                     <<"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n">>],
                                    S1);
                       false -> {<<>>, S1}
                   end,
    {Lead, S3} = noise(Noise, S2),
    {Body, Sizes, S4} = stanzas(Stanzas, Noise, S3),
    {Tail, S5} = gap(Noise, S4),
    {EndIo, _} = case End of
                     true -> pick([<<"</stream:stream>">>,
                                   <<"</stream:stream >">>], S5);
                     false -> {<<>>, S5}
                 end,
    {[DeclIo, Lead, Start, Body, Tail, EndIo], Sizes}.

stanzas([], _Noise, S) ->
    {[], [], S};
stanzas([El | Els], Noise, S0) ->
    {Gap, S1} = gap(Noise, S0),
    {Io, S2} = ser_element(El, Noise, S1),
    {Rest, Sizes, S3} = stanzas(Els, Noise, S2),
    {[Gap, Io | Rest], [iolist_size(Io) | Sizes], S3}.

%% Between stanzas: keepalive whitespace, and noise when noisy.
gap(Noise, S0) ->
    {Ws, S1} = pick([<<>>, <<" ">>, <<"\n">>, <<"\r\n">>, <<"\t ">>,
                     <<"  \n  ">>], S0),
    {N, S2} = noise(Noise, S1),
    {[Ws, N], S2}.

noise(quiet, S) ->
    {<<>>, S};
noise(noisy, S) ->
    pick([<<>>, <<>>, <<"<!-- a comment -->">>, <<"<!---->">>,
          <<"<?pi some data?>">>, <<"<?target?>">>,
          <<"<!-- \xc3\xa9 < & -->">>], S).

ser_element({el, Prefix, Local, _, _, Children} = El, Noise, S0) ->
    Name = qname(Prefix, Local),
    {Start, S1} = start_tag(El, S0),
    case Children of
        [] ->
            {Empty, S2} = pick([self_closing, open_close], S1),
            case Empty of
                self_closing ->
                    {Close, S3} = pick([<<"/>">>, <<" />">>], S2),
                    {[binary:part(iolist_to_binary(Start), 0,
                                  iolist_size(Start) - 1), Close], S3};
                open_close ->
                    {End, S3} = end_tag(Name, S2),
                    {[Start, End], S3}
            end;
        _ ->
            {Body, S2} = ser_children(Children, Noise, S1),
            {End, S3} = end_tag(Name, S2),
            {[Start, Body, End], S3}
    end.

start_tag({el, Prefix, Local, Decls, Attrs, _}, S0) ->
    {Mixed, S1} = interleave([{decl, D} || D <- Decls],
                             [{attr, A} || A <- Attrs], S0),
    {AttrIo, S2} = map_s(fun ser_attr/2, Mixed, S1),
    {Close, S3} = pick([<<">">>, <<" >">>, <<"\n\t>">>], S2),
    {iolist_to_binary([<<"<">>, qname(Prefix, Local), AttrIo, Close]), S3}.

end_tag(Name, S0) ->
    {Ws, S1} = pick([<<>>, <<>>, <<" ">>, <<"\r\n">>], S0),
    {[<<"</">>, Name, Ws, <<">">>], S1}.

ser_attr({decl, {default, Uri}}, S) ->
    ser_attr_value(<<"xmlns">>, Uri, S);
ser_attr({decl, {Prefix, Uri}}, S) ->
    ser_attr_value(<<"xmlns:", Prefix/binary>>, Uri, S);
ser_attr({attr, {Prefix, Local, Value}}, S) ->
    ser_attr_value(qname(Prefix, Local), Value, S).

ser_attr_value(Name, Value, S0) ->
    {Ws, S1} = pick([<<" ">>, <<"  ">>, <<"\n">>, <<"\t">>, <<"\r\n ">>], S0),
    {Eq, S2} = pick([<<"=">>, <<" = ">>, <<"= ">>], S1),
    {Quote, S3} = pick([$', $"], S2),
    {Escaped, S4} = map_s(fun(C, S) -> escape_attr_char(C, Quote, S) end,
                          unicode:characters_to_list(Value), S3),
    {[Ws, Name, Eq, Quote, Escaped, Quote], S4}.

ser_children(Children, Noise, S) ->
    map_s(fun(C, S0) ->
                  {N, S1} = noise(Noise, S0),
                  {Io, S2} = ser_child(C, Noise, S1),
                  {[N, Io], S2}
          end, Children, S).

ser_child({text, Text}, _Noise, S) ->
    ser_text(Text, S);
ser_child(El, Noise, S) ->
    ser_element(El, Noise, S).

%% Escaped characters, a CDATA section, or the two halves of the text
%% written separately (the parser must merge them back).
ser_text(<<>>, S) ->
    {<<>>, S};
ser_text(Text, S0) ->
    Chars = unicode:characters_to_list(Text),
    {How, S1} = pick([escaped, escaped, cdata, halves], S0),
    case How of
        cdata ->
            case binary:match(Text, [<<"]]>">>, <<"\r">>]) of
                nomatch -> {[<<"<![CDATA[">>, Text, <<"]]>">>], S1};
                _ -> escape_text(Chars, S1)
            end;
        halves when length(Chars) > 1 ->
            {At, S2} = rand:uniform_s(length(Chars) - 1, S1),
            {A, B} = lists:split(At, Chars),
            {IoA, S3} = ser_text(unicode:characters_to_binary(A), S2),
            {IoB, S4} = ser_text(unicode:characters_to_binary(B), S3),
            {[IoA, IoB], S4};
        _ ->
            escape_text(Chars, S1)
    end.

escape_text(Chars, S) ->
    map_s(fun escape_text_char/2, Chars, S).

escape_text_char($<, S) -> pick([<<"&lt;">>, <<"&#60;">>, <<"&#x3c;">>], S);
escape_text_char($&, S) -> pick([<<"&amp;">>, <<"&#38;">>, <<"&#x26;">>], S);
escape_text_char($>, S) -> pick([<<"&gt;">>, <<"&#62;">>], S);
escape_text_char($\r, S) -> pick([<<"&#13;">>, <<"&#xD;">>], S);
escape_text_char($', S) -> pick([<<"'">>, <<"&apos;">>, <<"&#39;">>], S);
escape_text_char($", S) -> pick([<<"\"">>, <<"&quot;">>, <<"&#x22;">>], S);
escape_text_char(C, S) -> maybe_char_ref(C, S).

escape_attr_char($<, _Q, S) -> pick([<<"&lt;">>, <<"&#60;">>], S);
escape_attr_char($&, _Q, S) -> pick([<<"&amp;">>, <<"&#x26;">>], S);
escape_attr_char($>, _Q, S) -> pick([<<">">>, <<"&gt;">>], S);
escape_attr_char($\t, _Q, S) -> pick([<<"&#9;">>, <<"&#x9;">>], S);
escape_attr_char($\n, _Q, S) -> pick([<<"&#10;">>, <<"&#xA;">>], S);
escape_attr_char($\r, _Q, S) -> pick([<<"&#13;">>, <<"&#xd;">>], S);
escape_attr_char(Q, Q, S) -> pick(quote_refs(Q), S);
escape_attr_char($', _Q, S) -> pick([<<"'">> | quote_refs($')], S);
escape_attr_char($", _Q, S) -> pick([<<"\"">> | quote_refs($")], S);
escape_attr_char(C, _Q, S) -> maybe_char_ref(C, S).

quote_refs($') -> [<<"&apos;">>, <<"&#39;">>];
quote_refs($") -> [<<"&quot;">>, <<"&#34;">>].

%% Mostly the UTF-8 bytes, sometimes a decimal or hexadecimal reference.
maybe_char_ref(C, S0) ->
    {How, S1} = pick([raw, raw, raw, raw, raw, raw, dec, hex], S0),
    case How of
        raw -> {unicode:characters_to_binary([C]), S1};
        dec -> {[<<"&#">>, integer_to_binary(C), <<";">>], S1};
        hex -> {[<<"&#x">>, integer_to_binary(C, 16), <<";">>], S1}
    end.

%% Merges two lists keeping the order within each.
interleave([], Bs, S) ->
    {Bs, S};
interleave(As, [], S) ->
    {As, S};
interleave([A | As] = AAs, [B | Bs] = BBs, S0) ->
    {Which, S1} = pick([a, b], S0),
    case Which of
        a -> {Rest, S2} = interleave(As, BBs, S1), {[A | Rest], S2};
        b -> {Rest, S2} = interleave(AAs, Bs, S1), {[B | Rest], S2}
    end.

pick(List, S0) ->
    {I, S1} = rand:uniform_s(length(List), S0),
    {lists:nth(I, List), S1}.

map_s(Fun, List, S0) ->
    {Rev, S} = lists:foldl(fun(X, {Acc, S1}) ->
                                   {Y, S2} = Fun(X, S1),
                                   {[Y | Acc], S2}
                           end, {[], S0}, List),
    {lists:reverse(Rev), S}.
