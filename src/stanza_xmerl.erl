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
%% to_xmerl/1,2 gives `#xmlElement{}' records as xmerl_scan:string/1 makes
%% them (without namespace processing): element and attribute names are
%% atoms, `nsinfo' is `{Prefix, Local}' for a prefixed name, text is
%% characters. Every document it returns works with xmerl_xpath and with
%% xmerl:export_simple/2, and the result never depends on which atoms
%% already exist.
%%
%% Names become atoms, as they do with xmerl_scan. The atom table is not
%% garbage collected and a full one stops the node, so to_xmerl refuses to
%% create a new atom once the table is 90% full (`max_atom_table_use', a
%% fraction of erlang:system_info(atom_limit)) and raises
%% `{atom_table_nearly_full, Name}'; a name longer than an atom can be
%% (255 characters) raises `{name_too_long, Name}'. Convert data from the
%% network only where you would have run xmerl_scan on it; better, read
%% it with stanza_xml's helpers, which need no atoms (see
%% doc/migrating-from-xmerl.md).
-module(stanza_xmerl).

-include_lib("xmerl/include/xmerl.hrl").

-export([from_xmerl/1, from_xmerl/2, to_xmerl/1, to_xmerl/2]).

-define(DEFAULT_ATOM_TABLE_USE, 0.9).
%% The longest atom, in characters.
-define(MAX_ATOM_CHARS, 255).

-type xmerl_element() :: #xmlElement{}.
-type options() :: #{max_atom_table_use => float(), atoms => create}.
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

%% @doc The element as xmerl records (see the module doc). Options:
%% `max_atom_table_use' (default 0.9), the share of the atom table past
%% which no new atom is made. `atoms => create' is accepted and changes
%% nothing (names are always atoms now; `atoms => existing', which gave
%% results that depended on the atoms already made, is gone). A bad
%% option raises `{bad_option, Key, Value}'.
-spec to_xmerl(stanza_xml:element(), options()) -> xmerl_element().
to_xmerl(El, Opts) when is_map(Opts) ->
    Use = maps:fold(fun check_option/3, ?DEFAULT_ATOM_TABLE_USE, Opts),
    Budget = trunc(Use * erlang:system_info(atom_limit)),
    xmerl_element(El, [], 1, Budget);
to_xmerl(El, Opts) ->
    erlang:error({bad_options, Opts}, [El, Opts]).

check_option(max_atom_table_use, Use, _) when is_number(Use), Use >= 0, Use =< 1 ->
    Use;
check_option(atoms, create, Use) ->
    Use;
check_option(Key, Value, _) ->
    erlang:error({bad_option, Key, Value}).

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

xmerl_element({T, Name, Attrs, Children}, Parents, Pos, Budget)
  when T =:= xmlelement; T =:= xmlel ->
    XName = xmerl_name(Name, Budget),
    Inner = [{XName, Pos} | Parents],
    #xmlElement{name = XName,
                expanded_name = XName,
                nsinfo = nsinfo(XName),
                pos = Pos,
                parents = Parents,
                attributes = attributes(Attrs, Inner, Budget),
                content = content(Children, Inner, 1, Budget)}.

attributes(Attrs, Parents, Budget) ->
    [attribute(K, V, P, Parents, Budget)
     || {P, {K, V}} <- lists:zip(lists:seq(1, length(Attrs)), Attrs)].

attribute(Key, Value, Pos, Parents, Budget) ->
    XName = xmerl_name(Key, Budget),
    #xmlAttribute{name = XName, expanded_name = [], nsinfo = nsinfo(XName),
                  pos = Pos, parents = Parents, value = characters(Value)}.

content([{xmlcdata, Text} | Rest], Parents, Pos, Budget) ->
    [#xmlText{value = characters(Text), pos = Pos, parents = Parents}
     | content(Rest, Parents, Pos + 1, Budget)];
content([El | Rest], Parents, Pos, Budget) ->
    [xmerl_element(El, Parents, Pos, Budget)
     | content(Rest, Parents, Pos + 1, Budget)];
content([], _Parents, _Pos, _Budget) ->
    [].

%% xmerl_scan's nsinfo: {Prefix, Local} for a prefixed name, [] otherwise.
nsinfo(Name) ->
    case string:split(atom_to_list(Name), ":") of
        [Prefix, Local] when Prefix =/= [], Local =/= [] -> {Prefix, Local};
        _ -> []
    end.

%% Always an atom: an existing one, or a new one while the atom table has
%% room to spare.
xmerl_name(Name, Budget) ->
    Bin = stanza_xml:to_bin(Name),
    try binary_to_existing_atom(Bin, utf8)
    catch error:badarg -> new_atom(Bin, Name, Budget)
    end.

new_atom(Bin, Name, Budget) ->
    Chars = characters(Bin),
    if
        length(Chars) > ?MAX_ATOM_CHARS ->
            erlang:error({name_too_long, Name});
        true ->
            case erlang:system_info(atom_count) < Budget of
                true -> list_to_atom(Chars);
                false -> erlang:error({atom_table_nearly_full, Name})
            end
    end.

characters(V) ->
    case unicode:characters_to_list(stanza_xml:to_bin(V)) of
        L when is_list(L) -> L;
        _ -> erlang:error(badarg, [V])
    end.
