%% @doc Between xmerl's records and stanza's elements, so that a module can
%% move off xmerl one function at a time.
%%
%% ```
%% 1> {Doc, _} = xmerl_scan:string("<message to='a@b'><body>hi</body></message>").
%% 2> El = stanza_xmerl:from_xmerl(Doc).
%% {xmlelement,<<"message">>,[{<<"to">>,<<"a@b">>}],
%%             [{xmlelement,<<"body">>,[],[{xmlcdata,<<"hi">>}]}]}
%% 3> stanza_xmerl:from_xmerl(Doc, xmlel).
%% {xmlel,<<"message">>,[{<<"to">>,<<"a@b">>}],
%%        [{xmlel,<<"body">>,[],[{xmlcdata,<<"hi">>}]}]}
%% 4> X = stanza_xmerl:to_xmerl(El), element(2, X).
%% message
%% '''
%% from_xmerl/1,2 gives what stanza_stream:parse_element/2 gives for the
%% same XML in that format: names with their prefix, namespace declarations
%% as attributes placed first, adjacent text merged, comments and
%% processing instructions dropped.
%%
%% to_xmerl/1 gives `#xmlElement{}' records whose names are atoms when
%% that atom already exists (which it does for every name your code
%% matches on) and strings otherwise: it never creates atoms, so it is safe
%% on data from the network. xmerl's own functions accept string element
%% names, but xmerl:export_simple/2 needs atom attribute names: to write
%% XML, use stanza_xml:element_to_binary/1 on the stanza element instead.
%% to_xmerl/2 with `#{atoms => create}' makes every name an atom, as
%% xmerl_scan does; use it only on trusted input.
-module(stanza_xmerl).

-include_lib("xmerl/include/xmerl.hrl").

-export([from_xmerl/1, from_xmerl/2, to_xmerl/1, to_xmerl/2]).

-type xmerl_element() :: #xmlElement{}.
-type options() :: #{atoms => existing | create}.
-export_type([xmerl_element/0, options/0]).

%% @equiv from_xmerl(El, binary)
-spec from_xmerl(xmerl_element()) -> stanza_xml:element().
from_xmerl(El) ->
    from_xmerl(El, binary).

%% @doc The element in one of stanza_stream's formats.
-spec from_xmerl(xmerl_element(), stanza_stream:format()) ->
          stanza_xml:element().
from_xmerl(#xmlElement{} = El, Format)
  when Format =:= binary; Format =:= legacy; Format =:= xmlel ->
    from_el(El, Format).

%% @equiv to_xmerl(El, #{})
-spec to_xmerl(stanza_xml:element()) -> xmerl_element().
to_xmerl(El) ->
    to_xmerl(El, #{}).

%% @doc The element as xmerl records (see the module doc for names).
-spec to_xmerl(stanza_xml:element(), options()) -> xmerl_element().
to_xmerl(El, Opts) ->
    Atoms = maps:get(atoms, Opts, existing),
    true = Atoms =:= existing orelse Atoms =:= create,
    xmerl_element(El, [], 1, Atoms).

%%--------------------------------------------------------------------
%% From xmerl

from_el(#xmlElement{name = Name, attributes = Attrs, content = Content},
        Format) ->
    {Decls, Others} = lists:partition(fun is_ns_decl/1, Attrs),
    Kept = [A || A <- Decls, not is_default_undeclaration(A)] ++ Others,
    {tag(Format), name(Name, Format),
     [{name(N, Format), text(V, Format)}
      || #xmlAttribute{name = N, value = V} <- Kept],
     children(Content, Format)}.

tag(xmlel) -> xmlel;
tag(_) -> xmlelement.

is_ns_decl(#xmlAttribute{name = Name}) ->
    case atom_to_list(Name) of
        "xmlns" -> true;
        "xmlns:" ++ _ -> true;
        _ -> false
    end.

is_default_undeclaration(#xmlAttribute{name = xmlns, value = V}) ->
    V =:= [] orelse V =:= <<>>;
is_default_undeclaration(_) ->
    false.

%% Text runs merged; comments, PIs and declarations dropped.
children(Content, Format) ->
    merge(lists:filtermap(fun(C) -> child(C, Format) end, Content)).

child(#xmlElement{} = El, Format) -> {true, from_el(El, Format)};
child(#xmlText{value = V}, _Format) -> {true, {xmlcdata, chars(V)}};
child(_, _Format) -> false.

merge([{xmlcdata, A}, {xmlcdata, B} | Rest]) ->
    merge([{xmlcdata, <<A/binary, B/binary>>} | Rest]);
merge([C | Rest]) ->
    [C | merge(Rest)];
merge([]) ->
    [].

name(Name, Format) when is_atom(Name) ->
    text(atom_to_list(Name), Format);
name(Name, Format) ->
    text(Name, Format).

%% xmerl holds text as characters (code points); stanza as UTF-8.
text(V, legacy) -> binary_to_list(chars(V));
text(V, _) -> chars(V).

chars(V) when is_atom(V) -> atom_to_binary(V, utf8);
chars(V) when is_integer(V) -> integer_to_binary(V);
chars(V) ->
    case unicode:characters_to_binary(V) of
        B when is_binary(B) -> B;
        _ -> erlang:error(badarg, [V])
    end.

%%--------------------------------------------------------------------
%% To xmerl

xmerl_element({T, Name, Attrs, Children}, Parents, Pos, Atoms)
  when T =:= xmlelement; T =:= xmlel ->
    XName = xmerl_name(Name, Atoms),
    Inner = [{XName, Pos} | Parents],
    #xmlElement{name = XName,
                pos = Pos,
                parents = Parents,
                attributes = attributes(Attrs, Inner, Atoms),
                content = content(Children, Inner, 1, Atoms)}.

attributes(Attrs, Parents, Atoms) ->
    [#xmlAttribute{name = xmerl_name(K, Atoms), pos = P, parents = Parents,
                   value = characters(V)}
     || {P, {K, V}} <- lists:zip(lists:seq(1, length(Attrs)), Attrs)].

content([{xmlcdata, Text} | Rest], Parents, Pos, Atoms) ->
    [#xmlText{value = characters(Text), pos = Pos, parents = Parents}
     | content(Rest, Parents, Pos + 1, Atoms)];
content([El | Rest], Parents, Pos, Atoms) ->
    [xmerl_element(El, Parents, Pos, Atoms)
     | content(Rest, Parents, Pos + 1, Atoms)];
content([], _Parents, _Pos, _Atoms) ->
    [].

xmerl_name(Name, create) ->
    binary_to_atom(stanza_xml:to_bin(Name), utf8);
xmerl_name(Name, existing) ->
    Bin = stanza_xml:to_bin(Name),
    try binary_to_existing_atom(Bin, utf8)
    catch error:badarg -> unicode:characters_to_list(Bin)
    end.

characters(V) ->
    case unicode:characters_to_list(stanza_xml:to_bin(V)) of
        L when is_list(L) -> L;
        _ -> erlang:error(badarg, [V])
    end.
