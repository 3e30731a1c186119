%% @private
%% @doc fast_xml's namespace normalisation, applied to stanza's terms.
%%
%% stanza reports names as written (`<<"p:local">>') and namespace
%% declarations as attributes, first, in document order. fxml_stream
%% instead rewrites each element of a stanza against its parent:
%% <ul>
%% <li>an element in the namespace its parent was taken to be in carries
%%   no `xmlns' (so a top-level stanza in the stream's default namespace
%%   carries none, while its children in other namespaces keep theirs);</li>
%% <li>an element in another namespace carries `xmlns' with its namespace
%%   (first among its attributes, unless it declared a default namespace
%%   itself, whose value is then replaced), and loses its prefix;</li>
%% <li>an element whose prefix the stream root declared, bound to the same
%%   namespace and not redeclared by an ancestor, keeps its prefix (e.g.
%%   `stream:features', `db:result'), drops its own identical declaration,
%%   and counts as being in its parent's namespace for its children.</li>
%% </ul>
%% Since the declarations are all in the term, the namespace of every
%% element can be resolved here exactly as expat resolved it; only an
%% `xmlns=""' (an undeclaration) is invisible in stanza's default terms,
%% which is why fxml_stream asks stanza_stream to keep it
%% (`xmlns_undeclaration => keep'). fast_xml never shows undeclarations,
%% so they are dropped from the output here.
-module(stanza_fxml_ns).

-export([root/1, root_attrs/1, stanza/2, stanza_map/2]).

-export_type([context/0]).

-ifdef(TEST).
-export([built_context/1, declarations/1]).
-endif.

-define(XML_NS, <<"http://www.w3.org/XML/1998/namespace">>).
-define(STREAM_NS, <<"http://etherx.jabber.org/streams">>).
%% The context of the stream headers servers see all day (a default
%% namespace and the stream prefix, nothing else), as a constant: with Ns
%% a literal the compiler makes the whole term a literal, so every session
%% keeps a pointer to one shared copy in its state rather than its own
%% copy of these binaries and this map (43 words). The same term root/1
%% builds otherwise.
-define(COMMON_CONTEXT(Ns),
        #context{root_ns = Ns, top = [{<<"stream">>, ?STREAM_NS}],
                 scope = #{default => Ns, <<"xml">> => ?XML_NS,
                           <<"stream">> => ?STREAM_NS}}).

%% What the stream root says for its stanzas: the namespace the root is
%% taken to be in, the prefixes it declared, and the bindings in scope.
-record(context, {root_ns :: binary(),
                  top :: [{binary(), binary()}],
                  scope :: scope()}).

-opaque context() :: #context{}.
-type scope() :: #{binary() | default => binary()}.
-type attrs() :: [{binary(), binary()}].
-type element() :: {xmlel, binary(), attrs(), [element() | {xmlcdata, binary()}]}.

%% @doc The context that the stream root's attributes set up.
-spec root(attrs()) -> context().
root(Attrs) ->
    common_context(declarations(Attrs)).

common_context({<<"jabber:client">>, [{<<"stream">>, ?STREAM_NS}]}) ->
    ?COMMON_CONTEXT(<<"jabber:client">>);
common_context({<<"jabber:server">>, [{<<"stream">>, ?STREAM_NS}]}) ->
    ?COMMON_CONTEXT(<<"jabber:server">>);
common_context({<<"jabber:component:accept">>, [{<<"stream">>, ?STREAM_NS}]}) ->
    ?COMMON_CONTEXT(<<"jabber:component:accept">>);
common_context(Declarations) ->
    built_context(Declarations).

built_context({Default, Prefixed}) ->
    RootNs = case Default of
                 none -> <<>>;
                 Uri -> Uri
             end,
    Scope0 = #{default => RootNs, <<"xml">> => ?XML_NS},
    Scope = lists:foldl(fun({P, U}, S) -> S#{P => U} end, Scope0, Prefixed),
    #context{root_ns = RootNs, top = Prefixed, scope = Scope}.

%% @doc The root's attributes as fast_xml shows them: unchanged, but for
%% an undeclaration, which it never shows.
-spec root_attrs(attrs()) -> attrs().
root_attrs(Attrs) ->
    lists:delete({<<"xmlns">>, <<>>}, Attrs).

%% @doc A top-level stanza, normalised as fxml_stream does.
-spec stanza(element(), context()) -> element().
stanza(El, #context{root_ns = RootNs, top = Top, scope = Scope}) ->
    {_Changed, Out} = norm(El, RootNs, false, Scope, Top),
    Out.

%% @doc The same stanza as fxml_stream's `use_maps' option gives it: an
%% Elixir FastXML.El struct, text as bare binaries, attributes as a map.
%% There fast_xml keeps an element's own namespace declarations out of
%% the map (it updates keys that are not there), so an element carries
%% `xmlns' only where fast_xml added one it had not declared.
-spec stanza_map(element(), context()) -> map().
stanza_map(El, #context{root_ns = RootNs, top = Top, scope = Scope}) ->
    map_element(El, RootNs, false, Scope, Top).

%%--------------------------------------------------------------------

%% The list form. Most elements come out as they went in (no prefix, and
%% no declaration or only one fast_xml keeps as it is), so {Changed,
%% Term} lets them, and any subtree without a change, be returned as they
%% are, with no copy.
%% ParentNs: the namespace the parent was taken to be in; Redefined: an
%% ancestor (or the parent) redeclared a prefix of the root.
norm({xmlel, Name, Attrs, Children} = El, ParentNs, Redefined, Scope, Top) ->
    Default = maps:get(default, Scope),
    case Attrs of
        [{<<"xmlns", _/binary>>, _} | _] ->
            norm_slow(El, ParentNs, Redefined, Scope, Top);
        _ when Default =:= ParentNs ->
            %% no declaration: unprefixed, in its parent's namespace, it
            %% stays as it is
            case binary:match(Name, <<":">>) of
                nomatch ->
                    case norm_children(Children, Default, Redefined, Scope, Top) of
                        unchanged -> {false, El};
                        New -> {true, {xmlel, Name, Attrs, New}}
                    end;
                _ ->
                    norm_slow(El, ParentNs, Redefined, Scope, Top)
            end;
        _ ->
            norm_slow(El, ParentNs, Redefined, Scope, Top)
    end.

norm_slow({xmlel, Name, Attrs, Children} = El, ParentNs, Redefined, Scope0, Top) ->
    {Decls, Rest} = split_declarations(Attrs),
    Scope = bind(Decls, Scope0),
    {Prefix, Local} = split_name(Name),
    Ns = maps:get(case Prefix of none -> default; P -> P end, Scope, <<>>),
    {Op, OwnNs} = operation(Prefix, Ns, ParentNs, Redefined, Top),
    {AttrsChanged, OutDecls, ChildRedefined} =
        case Decls of
            [] -> {false, [], Redefined};
            _ -> declarations_changed(Decls, Op, Prefix, Ns, Redefined, Top)
        end,
    Added = added_xmlns(Op, Ns, OutDecls),
    NameChanged = Prefix =/= none andalso Op =/= remove_prefix,
    case {norm_children(Children, OwnNs, ChildRedefined, Scope, Top),
          NameChanged orelse AttrsChanged orelse Added =/= []} of
        {unchanged, false} ->
            {false, El};
        {ChildrenOut, _} ->
            OutName = case NameChanged of true -> Local; false -> Name end,
            OutAttrs = case AttrsChanged orelse Added =/= [] of
                           true -> Added ++ OutDecls ++ Rest;
                           false -> Attrs
                       end,
            {true, {xmlel, OutName, OutAttrs,
                    case ChildrenOut of
                        unchanged -> Children;
                        _ -> ChildrenOut
                    end}}
    end.

%% unchanged, or the new list.
norm_children([], _Ns, _Redefined, _Scope, _Top) ->
    unchanged;
norm_children([{xmlel, _, _, _} = C | Rest], Ns, Redefined, Scope, Top) ->
    {Changed, Out} = norm(C, Ns, Redefined, Scope, Top),
    case {Changed, norm_children(Rest, Ns, Redefined, Scope, Top)} of
        {false, unchanged} -> unchanged;
        {_, unchanged} -> [Out | Rest];
        {_, RestOut} -> [Out | RestOut]
    end;
norm_children([C | Rest], Ns, Redefined, Scope, Top) ->
    case norm_children(Rest, Ns, Redefined, Scope, Top) of
        unchanged -> unchanged;
        RestOut -> [C | RestOut]
    end.

operation(Prefix, Ns, ParentNs, Redefined, Top) ->
    case Prefix =/= none andalso not Redefined andalso
         lists:member({Prefix, Ns}, Top) of
        true -> {remove_prefix, ParentNs};
        false when Ns =:= ParentNs -> {remove_xmlns, Ns};
        false -> {replace_xmlns, Ns}
    end.

%% fast_xml adds xmlns first when it must and the element declared no
%% default namespace of its own (or only undeclared it).
added_xmlns(replace_xmlns, Ns, OutDecls) ->
    case lists:keymember(<<"xmlns">>, 1, OutDecls) of
        true -> [];
        false -> [{<<"xmlns">>, Ns}]
    end;
added_xmlns(_Op, _Ns, _OutDecls) ->
    [].

declarations_changed(Decls, Op, Prefix, Ns, Redefined, Top) ->
    {Out, ChildRedefined} =
        declarations_out(Decls, Op, Prefix, Ns, Redefined, Top),
    {Out =/= [{decl_name(K), U} || {K, U} <- Decls], Out, ChildRedefined}.

decl_name(default) -> <<"xmlns">>;
decl_name(P) -> <<"xmlns:", P/binary>>.

%% The maps form (use_maps), built whole: the same decisions as norm_slow/5.
map_element({xmlel, Name, Attrs, Children}, ParentNs, Redefined, Scope0, Top) ->
    {Decls, Rest} = split_declarations(Attrs),
    Scope = bind(Decls, Scope0),
    {Prefix, Local} = split_name(Name),
    Ns = maps:get(case Prefix of none -> default; P -> P end, Scope, <<>>),
    {Op, OwnNs} = operation(Prefix, Ns, ParentNs, Redefined, Top),
    {OutDecls, ChildRedefined} =
        declarations_out(Decls, Op, Prefix, Ns, Redefined, Top),
    OutName = case Prefix =/= none andalso Op =/= remove_prefix of
                  true -> Local;
                  false -> Name
              end,
    #{'__struct__' => 'Elixir.FastXML.El', name => OutName,
      attrs => maps:from_list(Rest ++ added_xmlns(Op, Ns, OutDecls)),
      children => [map_child(C, OwnNs, ChildRedefined, Scope, Top)
                   || C <- Children]}.

map_child({xmlel, _, _, _} = El, Ns, Redefined, Scope, Top) ->
    map_element(El, Ns, Redefined, Scope, Top);
map_child({xmlcdata, Text}, _Ns, _Redefined, _Scope, _Top) ->
    Text.

%% What fast_xml keeps of an element's declarations (in document order),
%% and whether its children see a redeclared root prefix.
declarations_out(Decls, Op, Prefix, Ns, Redefined, Top) ->
    lists:foldr(
      fun({default, <<>>}, Acc) ->
              Acc; % an undeclaration: fast_xml never shows it
         ({default, _Uri}, {Out, R}) when Op =:= remove_xmlns ->
              {Out, R};
         ({default, _Uri}, {Out, R}) when Op =:= replace_xmlns ->
              {[{<<"xmlns">>, Ns} | Out], R};
         ({default, Uri}, {Out, R}) ->
              {[{<<"xmlns">>, Uri} | Out], R};
         ({P, _Uri}, Acc) when Op =:= remove_prefix, P =:= Prefix ->
              Acc;
         ({P, Uri}, {Out, R}) ->
              Redeclares = not Redefined andalso lists:keymember(P, 1, Top),
              {[{<<"xmlns:", P/binary>>, Uri} | Out], R orelse Redeclares}
      end, {[], Redefined}, Decls).

%% stanza puts the declarations first: {default | Prefix, Uri} for them,
%% and the other attributes as they are.
split_declarations([{<<"xmlns">>, Uri} | Rest]) ->
    {Decls, Attrs} = split_declarations(Rest),
    {[{default, Uri} | Decls], Attrs};
split_declarations([{<<"xmlns:", P/binary>>, Uri} | Rest]) ->
    {Decls, Attrs} = split_declarations(Rest),
    {[{P, Uri} | Decls], Attrs};
split_declarations(Attrs) ->
    {[], Attrs}.

declarations(Attrs) ->
    {Decls, _} = split_declarations(Attrs),
    Default = case lists:keyfind(default, 1, Decls) of
                  {default, Uri} when Uri =/= <<>> -> Uri;
                  _ -> none
              end,
    {Default, [D || {P, _} = D <- Decls, P =/= default]}.

bind([], Scope) ->
    Scope;
bind([{Key, Uri} | Rest], Scope) ->
    bind(Rest, Scope#{Key => Uri}).

split_name(Name) ->
    case binary:match(Name, <<":">>) of
        nomatch ->
            {none, Name};
        {At, 1} ->
            <<Prefix:At/binary, ":", Local/binary>> = Name,
            {Prefix, Local}
    end.
