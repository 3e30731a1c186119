%% @doc exmpp_iq's helpers for answering IQs, on stanza's elements.
%%
%% Replace `exmpp_iq:' with `stanza_exmpp_iq:':
%% ```
%% 1> Iq = {xmlel, <<"iq">>, [{<<"type">>, <<"get">>}, {<<"id">>, <<"7">>},
%%          {<<"from">>, <<"a@b/c">>}, {<<"to">>, <<"echo.b">>}],
%%          [{xmlel, <<"query">>, [{<<"xmlns">>, <<"urn:x">>}], []}]}.
%% 2> stanza_exmpp_iq:get_payload(Iq).
%% {xmlel,<<"query">>,[{<<"xmlns">>,<<"urn:x">>}],[]}
%% 3> stanza_exmpp_iq:result(Iq).
%% {xmlel,<<"iq">>,
%%        [{<<"type">>,<<"result">>},{<<"id">>,<<"7">>},
%%         {<<"to">>,<<"a@b/c">>},{<<"from">>,<<"echo.b">>}],
%%        []}
%% 4> stanza_xml:element_to_binary(stanza_exmpp_iq:error(Iq, 'feature-not-implemented')).
%% <<"<iq type='error' id='7' to='a@b/c' from='echo.b'><query xmlns='urn:x'/>"
%%   "<error type='cancel'><feature-not-implemented "
%%   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>">>
%% '''
%% A reply goes back where the request came from: its `to' is the
%% request's `from' and its `from' the request's `to' (each only when
%% the request had it); it keeps the request's `id'. It has the request's
%% form (`#xmlel{}' or `{xmlelement, ...}').
-module(stanza_exmpp_iq).

-compile({no_auto_import, [error/2]}).

-export([get_payload/1, result/1, result/2, error/2, is_request/1]).

-define(NS_STANZAS, <<"urn:ietf:params:xml:ns:xmpp-stanzas">>).

%% @doc The IQ's payload: its first child element, or `undefined'.
-spec get_payload(stanza_xml:element()) -> stanza_xml:element() | undefined.
get_payload({T, _Name, _Attrs, Children}) when T =:= xmlel; T =:= xmlelement ->
    first_element(Children).

%% @doc Whether the IQ is a request (`get' or `set') that wants an answer.
-spec is_request(stanza_xml:element()) -> boolean().
is_request(Iq) ->
    lists:member(stanza_xml:to_bin(stanza_exmpp:get_attribute(Iq, type, <<>>)),
                 [<<"get">>, <<"set">>]).

%% @doc An empty `result' for the request.
-spec result(stanza_xml:element()) -> stanza_xml:element().
result(Iq) ->
    reply(Iq, <<"result">>, []).

%% @doc A `result' for the request carrying Payload.
-spec result(stanza_xml:element(), stanza_xml:element()) -> stanza_xml:element().
result(Iq, Payload) ->
    reply(Iq, <<"result">>, [Payload]).

%% @doc An `error' reply: the request's payload, then `<error type=...>'
%% with the condition (an RFC 6120 8.3.3 condition as an atom or binary,
%% e.g. 'service-unavailable', its error type chosen as the RFC does), or
%% an `<error/>' element you built yourself.
-spec error(stanza_xml:element(), atom() | binary() | stanza_xml:element()) ->
          stanza_xml:element().
error(Iq, Condition) when is_atom(Condition); is_binary(Condition) ->
    Name = stanza_xml:to_bin(atom_or_bin(Condition)),
    Error = {xmlel, <<"error">>, [{<<"type">>, error_type(Name)}],
             [{xmlel, Name, [{<<"xmlns">>, ?NS_STANZAS}], []}]},
    error(Iq, Error);
error(Iq, Error) ->
    Payload = case get_payload(Iq) of
                  undefined -> [];
                  P -> [P]
              end,
    reply(Iq, <<"error">>, Payload ++ [Error]).

%%--------------------------------------------------------------------

reply(Iq = {T, Name, _Attrs, _}, Type, Children) ->
    Empty = {T, Name, [], Children},
    Steps = [{type, Type},
             {id, stanza_exmpp:get_attribute(Iq, id, undefined)},
             {to, stanza_exmpp:get_attribute(Iq, from, undefined)},
             {from, stanza_exmpp:get_attribute(Iq, to, undefined)}],
    lists:foldl(fun({_, undefined}, El) -> El;
                   ({K, V}, El) -> stanza_exmpp:set_attribute(El, K, V)
                end, Empty, Steps).

first_element([{T, _, _, _} = El | _]) when T =:= xmlel; T =:= xmlelement -> El;
first_element([_ | Rest]) -> first_element(Rest);
first_element([]) -> undefined.

atom_or_bin(A) when is_atom(A) -> atom_to_binary(A, utf8);
atom_or_bin(B) -> B.

%% RFC 6120 8.3.3: the type each condition usually carries.
error_type(C) when C =:= <<"bad-request">>; C =:= <<"jid-malformed">>;
                   C =:= <<"not-acceptable">>; C =:= <<"policy-violation">>;
                   C =:= <<"redirect">>; C =:= <<"gone">> -> <<"modify">>;
error_type(C) when C =:= <<"forbidden">>; C =:= <<"not-authorized">>;
                   C =:= <<"registration-required">>;
                   C =:= <<"subscription-required">> -> <<"auth">>;
error_type(C) when C =:= <<"internal-server-error">>;
                   C =:= <<"recipient-unavailable">>;
                   C =:= <<"remote-server-timeout">>;
                   C =:= <<"resource-constraint">>;
                   C =:= <<"unexpected-request">> -> <<"wait">>;
error_type(_) -> <<"cancel">>.
