%% @doc IQ stanzas for stanza_client: built from natter's arguments
%% (strings or binaries; a payload as an element term in any format
%% stanza handles, or as raw XML) and read back from parsed stanzas.
-module(stanza_client_iq).

-export([build/4, classify/1, is_reply/1, to_bin/1]).

-export_type([summary/0]).

-include("stanza_xmlel.hrl").

%% What the client needs to know of an inbound stanza to route it.
-type summary() :: #{name := binary(), type := binary(), from := binary(),
                     id := binary()}.

%% @doc The IQ as XML bytes. `Payload' is an element (`#xmlel{}',
%% `{xmlelement, ...}' with binaries or strings), a list of them, or
%% iodata holding XML (what natter sent), which is parsed so that nothing
%% malformed or unescaped reaches the wire. An empty `To' or `Id' leaves
%% the attribute out.
-spec build(iodata(), iodata(), iodata(), term()) ->
          {ok, binary()} | {error, {bad_payload, term()} | {badxml, term()}}.
build(Type, Id, To, Payload) ->
    case children(Payload) of
        {ok, Children} ->
            Attrs = [{<<"type">>, bin(Type)}]
                ++ [{<<"id">>, bin(Id)} || bin(Id) =/= <<>>]
                ++ [{<<"to">>, bin(To)} || bin(To) =/= <<>>],
            try {ok, stanza_xml:element_to_binary(#xmlel{name = <<"iq">>, attrs = Attrs,
                                                          children = Children})}
            catch error:{badxml, _, Reason} -> {error, {badxml, Reason}}
            end;
        Error ->
            Error
    end.

%% @doc The name and the routing attributes of a parsed stanza (empty
%% binaries for missing ones).
-spec classify(stanza_xml:element()) -> summary().
classify({_, Name, Attrs, _}) ->
    #{name => bin(Name), type => attr(<<"type">>, Attrs),
      from => attr(<<"from">>, Attrs), id => attr(<<"id">>, Attrs)}.

%% @doc Whether a stanza answers a request of ours: an IQ result or error.
-spec is_reply(summary()) -> boolean().
is_reply(#{name := <<"iq">>, type := Type}) -> Type =:= <<"result">> orelse Type =:= <<"error">>;
is_reply(#{}) -> false.

children([]) -> {ok, []};
children({T, _, _, _} = El) when T =:= xmlel; T =:= xmlelement -> {ok, [El]};
children({xmlcdata, _} = Text) -> {ok, [Text]};
children([{T, _, _, _} | _] = Els) when T =:= xmlel; T =:= xmlelement; T =:= xmlcdata ->
    {ok, Els};
children(Raw) ->
    %% Raw XML: wrapped so that several elements or text parse as one.
    try stanza_stream:parse_element([<<"<payload>">>, Raw, <<"</payload>">>]) of
        {ok, {_, _, _, Children}} -> {ok, Children};
        {error, Reason} -> {error, {bad_payload, Reason}}
    catch error:badarg -> {error, {bad_payload, not_iodata}}
    end.

attr(Name, Attrs) ->
    case [V || {K, V} <- Attrs, bin(K) =:= Name] of
        [V | _] -> bin(V);
        [] -> <<>>
    end.

bin(X) -> to_bin(X).

%% @doc An argument as natter passed it (string, binary, atom) as a
%% binary; `undefined' as nothing.
-spec to_bin(iodata() | atom()) -> binary().
to_bin(undefined) -> <<>>;
to_bin(A) when is_atom(A) -> atom_to_binary(A);
to_bin(X) -> stanza_xml:to_bin(X).
