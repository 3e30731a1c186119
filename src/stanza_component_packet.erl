%% @private
%% @doc The XEP-0114 wire details of stanza_component, as pure functions:
%% the stream header, the handshake digest, a parsed stanza as the
%% owner's #received_packet{}, a stream error as a matchable reason.
-module(stanza_component_packet).

-export([stream_header/1, handshake/2, received_packet/1, stream_error/1,
         attr/2]).

-include("stanza_component.hrl").

-define(NS_ACCEPT, "jabber:component:accept").
-define(NS_STREAMS, "http://etherx.jabber.org/streams").
-define(NS_STREAM_ERRORS, <<"urn:ietf:params:xml:ns:xmpp-streams">>).

%% @doc The component's stream header to Domain.
-spec stream_header(binary()) -> iodata().
stream_header(Domain) ->
    ["<?xml version='1.0'?><stream:stream xmlns='", ?NS_ACCEPT,
     "' xmlns:stream='", ?NS_STREAMS, "' to='", stanza_xml:crypt(Domain), "'>"].

%% @doc `<handshake>hex(sha1(StreamId ++ Secret))</handshake>' (XEP-0114).
-spec handshake(binary(), binary()) -> iodata().
handshake(StreamId, Secret) ->
    ["<handshake>", hex(crypto:hash(sha, [StreamId, Secret])), "</handshake>"].

hex(Bin) ->
    << <<(hex_digit(N))>> || <<N:4>> <= Bin >>.

hex_digit(N) when N < 10 -> $0 + N;
hex_digit(N) -> $a + N - 10.

%% @doc A stanza as the owner receives it (include/stanza_component.hrl).
-spec received_packet(stanza_xml:element()) -> #received_packet{}.
received_packet(El = {_, Name, Attrs, Children}) ->
    Type = packet_type(to_bin(Name)),
    #received_packet{packet_type = Type,
                     type_attr = case attr(<<"type">>, Attrs) of
                                     undefined -> undefined;
                                     T -> binary_to_list(T)
                                 end,
                     from = attr(<<"from">>, Attrs),
                     id = attr(<<"id">>, Attrs),
                     queryns = case Type of
                                   iq -> payload_ns(Children);
                                   _ -> undefined
                               end,
                     raw_packet = El}.

packet_type(<<"message">>) -> message;
packet_type(<<"iq">>) -> iq;
packet_type(<<"presence">>) -> presence;
packet_type(Other) -> Other.

payload_ns([{T, _, Attrs, _} | _]) when T =:= xmlel; T =:= xmlelement ->
    attr(<<"xmlns">>, Attrs);
payload_ns([_ | Rest]) ->
    payload_ns(Rest);
payload_ns([]) ->
    undefined.

%% @doc A stream error as a reason:
%% <stream:error><not-authorized xmlns='...streams'/></stream:error>
-spec stream_error(stanza_xml:element()) -> {stream_error, atom() | binary()}.
stream_error({_, _, _, Children}) ->
    Conditions = [to_bin(Name) || {T, Name, Attrs, _} <- Children,
                                  T =:= xmlel orelse T =:= xmlelement,
                                  attr(<<"xmlns">>, Attrs) =:= ?NS_STREAM_ERRORS,
                                  to_bin(Name) =/= <<"text">>],
    case Conditions of
        [Condition | _] -> {stream_error, condition(Condition)};
        [] -> {stream_error, undefined_condition}
    end.

%% RFC 6120 4.9.3's conditions as atoms; nothing else becomes an atom.
condition(Bin) ->
    Known = [bad_format, bad_namespace_prefix, conflict, connection_timeout,
             host_gone, host_unknown, improper_addressing,
             internal_server_error, invalid_from, invalid_namespace,
             invalid_xml, not_authorized, not_well_formed, policy_violation,
             remote_connection_failed, reset, resource_constraint,
             restricted_xml, see_other_host, system_shutdown,
             undefined_condition, unsupported_encoding, unsupported_feature,
             unsupported_stanza_type, unsupported_version],
    Underscored = binary:replace(Bin, <<"-">>, <<"_">>, [global]),
    case [A || A <- Known, atom_to_binary(A, utf8) =:= Underscored] of
        [Atom] -> Atom;
        [] -> Bin
    end.

%% @doc The value of an attribute as a binary, or `undefined'.
%% Parsed attributes have binary names but in the legacy (string) format.
-spec attr(binary(), list()) -> binary() | undefined.
attr(Name, Attrs) ->
    case lists:keyfind(Name, 1, Attrs) of
        {_, V} -> to_bin(V);
        false when Attrs =/= [], is_list(element(1, hd(Attrs))) -> legacy_attr(Name, Attrs);
        false -> undefined
    end.

legacy_attr(Name, Attrs) ->
    case stanza_xml:get_attr(Name, Attrs) of
        {value, V} -> to_bin(V);
        false -> undefined
    end.

to_bin(X) -> stanza_xml:to_bin(X).
