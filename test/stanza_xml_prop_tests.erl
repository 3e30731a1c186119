%% PropEr properties of the serializer, run from EUnit, and its canonical
%% form on the benchmark corpus.
%%
%% PropEr's macros come from stanza_proper.hrl (Debian has no proper.hrl).
-module(stanza_xml_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("stanza_proper.hrl").

%% Run in a peer VM.
-export([check_any_term/1]).


-define(FORMATS, [binary, legacy, xmlel]).

%%====================================================================
%% EUnit entry points
%%====================================================================

round_trip_test_() ->
    {timeout, 120, ?_assert(check(prop_round_trip(), 500))}.

every_input_form_same_bytes_test_() ->
    {timeout, 120, ?_assert(check(prop_forms_same_bytes(), 300))}.

%% Any term at all: a binary or {badxml, Term, Reason}, never a crash of
%% the VM (in a peer VM, so a crash fails this test only).
any_term_test_() ->
    {timeout, 120,
     ?_assertEqual({ok, true}, stanza_test_util:in_peer(?MODULE, check_any_term, [1000]))}.

check_any_term(NumTests) ->
    check(prop_any_term(), NumTests).

check(Prop, NumTests) ->
    _ = rand:seed(exsplus, {4, 10, 2026}),
    proper:quickcheck(Prop, [{numtests, NumTests}, {to_file, user}]).

%%====================================================================
%% Properties
%%====================================================================

%% parse(serialize(E)) == E, in every format.
prop_round_trip() ->
    ?FORALL(El, element(),
            begin
                Bin = stanza_xml:element_to_binary(El),
                Expected = [{ok, in_format(F, El)} || F <- ?FORMATS],
                Parsed = [stanza_stream:parse_element(Bin, #{format => F})
                          || F <- ?FORMATS],
                ?WHENFAIL(io:format(user, "~p~n~p~n~p~n", [Bin, Expected, Parsed]),
                          Parsed =:= Expected)
            end).

%% The same element in any of the three forms, or with its text and
%% values as iodata, gives the same bytes.
prop_forms_same_bytes() ->
    ?FORALL(El, element(),
            begin
                Bin = stanza_xml:element_to_binary(El),
                Forms = [stanza_xml:to_xmlelement(El), in_format(binary, El),
                         as_iolists(El)],
                lists:all(fun(E) -> stanza_xml:element_to_binary(E) =:= Bin end, Forms)
            end).

prop_any_term() ->
    ?FORALL(T, proper_types:oneof([proper_types:any(), near_element()]),
            try stanza_xml:element_to_binary(T) of
                B -> is_binary(B)
            catch
                error:{badxml, T, {_, Path, _}} -> is_list(Path)
            end).

%%====================================================================
%% The corpus: serialize is canonical
%%====================================================================

%% serialize(parse(S)) parses back to the same element, and serializing
%% that again gives the same bytes, in every format.
corpus_canonical_test_() ->
    {timeout, 120,
     fun() ->
             #{stanzas := Stanzas} = stanza_corpus:generate(400000),
             ?assert(length(Stanzas) > 500),
             [canonical(S, F) || S <- Stanzas, F <- ?FORMATS]
     end}.

canonical(Stanza, Format) ->
    Opts = #{format => Format},
    {ok, E1} = stanza_stream:parse_element(Stanza, Opts),
    B1 = stanza_xml:element_to_binary(E1),
    ?assertEqual({ok, E1}, stanza_stream:parse_element(B1, Opts)),
    ?assertEqual(B1, stanza_xml:element_to_binary(E1)).

%% The three formats of one stanza serialize to the same bytes.
corpus_formats_agree_test_() ->
    {timeout, 120,
     fun() ->
             #{stanzas := Stanzas} = stanza_corpus:generate(100000),
             [?assertMatch([B, B, B],
                           [stanza_xml:element_to_binary(
                              element(2, stanza_stream:parse_element(S, #{format => F})))
                            || F <- ?FORMATS])
              || S <- Stanzas]
     end}.

%%====================================================================
%% Generators
%%====================================================================

%% An element as stanza_stream's xmlel format would give it: binaries,
%% text merged and never empty, namespace declaration first, no
%% duplicate attribute names.
element() ->
    element(3).

element(Depth) ->
    ?BIND({Name, Attrs, Children}, {name(), attrs(), children(Depth)},
         {xmlel, Name, Attrs, Children}).

children(0) ->
    proper_types:oneof([[], [{xmlcdata, text()}]]);
children(Depth) ->
    ?BIND(Items, proper_types:resize(4, proper_types:list(
                                          proper_types:frequency(
                                            [{2, {text, text()}},
                                             {3, ?LAZY(element(Depth - 1))}]))),
         merge_text(Items)).

merge_text([{text, A}, {text, B} | Rest]) -> merge_text([{text, <<A/binary, B/binary>>} | Rest]);
merge_text([{text, A} | Rest]) -> [{xmlcdata, A} | merge_text(Rest)];
merge_text([El | Rest]) -> [El | merge_text(Rest)];
merge_text([]) -> [].

name() ->
    proper_types:elements([<<"a">>, <<"body">>, <<"x-y.z_9">>, <<"_n">>,
                           <<"\xc3\xa9t\xc3\xa9">>, <<"\xe4\xb8\xad\xe6\x96\x87">>,
                           <<"A">>, <<"item">>]).

attrs() ->
    ?BIND({NS, Pairs}, {proper_types:oneof([[], [{<<"xmlns">>, uri()}]]),
                       proper_types:list({name(), value()})},
         NS ++ dedup(Pairs)).

dedup(Pairs) ->
    lists:reverse(lists:foldl(fun({K, _} = P, Acc) ->
                                      case lists:keymember(K, 1, Acc) of
                                          true -> Acc;
                                          false -> [P | Acc]
                                      end
                              end, [], Pairs)).

uri() ->
    ?BIND(T, text(), <<"urn:", T/binary>>).

value() ->
    proper_types:oneof([<<>>, text()]).

text() ->
    ?BIND(Chars, proper_types:non_empty(proper_types:list(char())),
         unicode:characters_to_binary(Chars)).

%% Every kind of character XML allows, the ones that need escaping and
%% the ones that are easy to get wrong most often.
char() ->
    proper_types:frequency(
      [{6, proper_types:range($a, $z)},
       {4, proper_types:elements("&<>\"' \t\n\r]")},
       {2, proper_types:range(16#20, 16#7E)},
       {2, proper_types:range(16#80, 16#7FF)},
       {2, proper_types:range(16#800, 16#D7FF)},
       {1, proper_types:range(16#E000, 16#FFFD)},
       {1, proper_types:range(16#10000, 16#10FFFF)}]).

%% Terms that look like elements but may be wrong anywhere.
near_element() ->
    ?BIND({Tag, Name, Attrs, Children},
         {proper_types:elements([xmlel, xmlelement, xmlcdata, other]),
          proper_types:oneof([name(), proper_types:binary(), proper_types:any()]),
          proper_types:oneof([attrs(), proper_types:list({proper_types:binary(), proper_types:binary()}),
                              proper_types:any()]),
          proper_types:oneof([[], [{xmlcdata, proper_types:binary()}],
                              [{xmlcdata, text()}, {xmlel, name(), [], proper_types:any()}],
                              proper_types:any()])},
         {Tag, Name, Attrs, Children}).

%%====================================================================
%% Forms
%%====================================================================

in_format(xmlel, El) -> stanza_xml:to_xmlel(El);
in_format(legacy, El) -> stanza_xml:to_xmlelement(El);
in_format(binary, El) -> retag(stanza_xml:to_xmlel(El)).

retag({xmlel, N, A, C}) -> {xmlelement, N, A, [retag(X) || X <- C]};
retag(Cdata) -> Cdata.

%% Text and values split into iolists, names as lists of one binary.
as_iolists({xmlel, N, A, C}) ->
    {xmlel, [N], [{[K], split(V)} || {K, V} <- A], [as_iolists(X) || X <- C]};
as_iolists({xmlcdata, T}) ->
    {xmlcdata, split(T)}.

split(B) when byte_size(B) < 2 -> [B];
split(B) ->
    H = byte_size(B) div 2,
    <<X:H/binary, Y/binary>> = B,
    [X, [Y]].
