%% @doc Opens an authenticated XMPP client session (RFC 6120) on a
%% passive transport: stream header, STARTTLS, SASL, resource binding,
%% session. Runs inside the client process, step by step, each read
%% bounded by the login timeout.
%%
%% SASL: the best SCRAM the server offers (SHA-256 before SHA-1; -PLUS
%% with channel binding when TLS gives binding data the server can use);
%% PLAIN only inside TLS; legacy jabber:iq:auth (XEP-0078) only when asked
%% for with `legacy_auth => true'.
-module(stanza_client_login).

-export([login/1]).

-export_type([options/0, session/0]).

-include("stanza_xmlel.hrl").

-define(NS_STREAM, <<"http://etherx.jabber.org/streams">>).
-define(NS_TLS, <<"urn:ietf:params:xml:ns:xmpp-tls">>).
-define(NS_SASL, <<"urn:ietf:params:xml:ns:xmpp-sasl">>).
-define(NS_BIND, <<"urn:ietf:params:xml:ns:xmpp-bind">>).
-define(NS_SESSION, <<"urn:ietf:params:xml:ns:xmpp-session">>).
-define(NS_STANZAS, <<"urn:ietf:params:xml:ns:xmpp-stanzas">>).
-define(NS_STREAMS, <<"urn:ietf:params:xml:ns:xmpp-streams">>).

%% The client's options (stanza_client_config); those not used here are
%% allowed and ignored.
-type options() :: #{host := inet:hostname() | inet:ip_address(),
                     port := inet:port_number(), domain := binary(),
                     user := binary(), password := binary(), resource := binary(),
                     starttls := required | optional | never, tls := map(),
                     timeout := timeout(), max_stanza_size := pos_integer() | infinity,
                     legacy_auth := boolean(), channel_binding := boolean(),
                     atom() => term()}.
-type session() :: #{transport := stanza_client_transport:transport(),
                     parser := stanza_stream:parser(), jid := binary(),
                     mechanism := binary()}.

%% Login state: the transport, the parser and events parsed ahead.
-record(ctx, {transport, parser, ahead = [] :: [stanza_stream:event()],
              deadline :: integer(), opts :: options()}).

%% @doc Connects and logs in, or says why not.
-spec login(options()) -> {ok, session()} | {error, term()}.
login(#{host := Host, port := Port, timeout := Timeout} = Opts) ->
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    case stanza_client_transport:connect(Host, Port, Timeout) of
        {ok, Transport} ->
            {ok, Parser} = stanza_stream:new(#{format => xmlel,
                                               max_stanza_size => maps:get(max_stanza_size, Opts)}),
            Ctx = #ctx{transport = Transport, parser = Parser, deadline = Deadline, opts = Opts},
            try negotiate(Ctx)
            catch throw:{login_failed, Ctx1, Reason} -> abort(Ctx1, {error, Reason})
            end;
        {error, _} = Error ->
            Error
    end.

abort(#ctx{transport = T, parser = P}, Error) ->
    stanza_client_transport:close(T),
    _ = stanza_stream:close(P),
    Error.

negotiate(Ctx0) ->
    {Ctx1, Features1} = open_stream(Ctx0),
    {Ctx2, Features2} = maybe_starttls(Ctx1, Features1),
    case authenticate(Ctx2, Features2) of
        {Ctx3, <<"jabber:iq:auth">> = Mechanism} ->
            %% XEP-0078 binds the resource itself, on the same stream.
            #ctx{opts = #{user := U, domain := D, resource := R}} = Ctx3,
            session_of(Ctx3, <<U/binary, "@", D/binary, "/", R/binary>>, Mechanism);
        {Ctx3, Mechanism} ->
            {Ctx4, Features4} = open_stream(restart(Ctx3)),
            {Ctx5, Jid} = bind(Ctx4, Features4),
            session_of(maybe_session(Ctx5, Features4), Jid, Mechanism)
    end.

session_of(#ctx{transport = T, parser = P}, Jid, Mechanism) ->
    {ok, #{transport => T, parser => P, jid => Jid, mechanism => Mechanism}}.

%%--------------------------------------------------------------------
%% Stream header and features

open_stream(#ctx{opts = #{domain := Domain}} = Ctx) ->
    send(Ctx, [<<"<?xml version='1.0'?><stream:stream to='">>,
               stanza_xml:crypt(Domain),
               <<"' version='1.0' xml:lang='en' xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams'>">>]),
    case next(Ctx) of
        {Ctx1, {xmlstreamstart, _, _}} -> features(Ctx1);
        {Ctx1, Other} -> fail(Ctx1, unexpected(Other))
    end.

features(Ctx) ->
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"stream:features">>} = F} -> {Ctx1, F};
        {Ctx1, Other} -> fail(Ctx1, {unexpected, Other})
    end.

restart(#ctx{parser = P} = Ctx) ->
    ok = stanza_stream:reset(P),
    Ctx#ctx{ahead = []}.

%%--------------------------------------------------------------------
%% STARTTLS

maybe_starttls(#ctx{opts = #{starttls := Policy}} = Ctx, Features) ->
    Offered = child(Features, <<"starttls">>, ?NS_TLS) =/= false,
    case {Policy, Offered} of
        {never, _} -> {Ctx, Features};
        {optional, false} -> {Ctx, Features};
        {required, false} -> fail(Ctx, starttls_unavailable);
        {_, true} -> starttls(Ctx)
    end.

starttls(#ctx{transport = T, opts = #{tls := TlsOpts, domain := Domain}} = Ctx) ->
    send(Ctx, <<"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>">>),
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"proceed">>}} ->
            Opts = maps:merge(#{server_name => Domain}, TlsOpts),
            case stanza_client_transport:starttls(T, Opts) of
                {ok, Tls} -> open_stream(restart(Ctx1#ctx{transport = Tls}));
                {error, Reason} -> fail(Ctx1, Reason)
            end;
        {Ctx1, Other} ->
            fail(Ctx1, {starttls_refused, Other})
    end.

%%--------------------------------------------------------------------
%% SASL

authenticate(#ctx{transport = T, opts = Opts} = Ctx, Features) ->
    Offered = [stanza_xml:get_tag_cdata(M)
               || #xmlel{name = <<"mechanism">>} = M <- mechanisms(Features)],
    Binding = case maps:get(channel_binding, Opts) of
                  true -> stanza_client_transport:channel_binding(T);
                  false -> none
              end,
    Usable = [M || {_, _, Kind} = M <- stanza_scram:mechanisms(Offered, Binding =/= none),
                   Kind =:= plain orelse bindable(Binding)],
    IsTls = stanza_client_transport:is_tls(T),
    PlainOk = IsTls andalso lists:member(<<"PLAIN">>, Offered),
    case {Usable, PlainOk, maps:get(legacy_auth, Opts)} of
        {[{Name, Hash, Kind} | _], _, _} ->
            {scram(Ctx, Name, Hash, cb_for(Kind, Binding, Offered)), Name};
        {[], true, _} -> {plain(Ctx), <<"PLAIN">>};
        {[], false, true} -> {legacy_auth(Ctx), <<"jabber:iq:auth">>};
        {[], false, false} -> fail(Ctx, {no_mechanism, Offered})
    end.

mechanisms(Features) ->
    case child(Features, <<"mechanisms">>, ?NS_SASL) of
        #xmlel{children = Children} -> Children;
        false -> []
    end.

%% ejabberd 23.01 binds SCRAM-*-PLUS to tls-unique even on TLS 1.3, where
%% RFC 9266 says tls-exporter: with no XEP-0440 list of binding types to
%% go by, bind only where both sides agree (tls-unique on TLS 1.2).
bindable({tls_unique, _}) -> true;
bindable(_) -> false.

%% gs2 flag: `p' with binding; `n' when the server offers -PLUS that we
%% cannot use (a `y' there would make it suspect a downgrade); `y' when
%% we could bind but the server offers no -PLUS.
cb_for(plus, Binding, _) -> Binding;
cb_for(plain, none, _) -> none;
cb_for(plain, _, Offered) ->
    case [M || M <- Offered, binary:longest_common_suffix([M, <<"-PLUS">>]) =:= 5] of
        [] -> not_offered;
        _ -> none
    end.

scram(#ctx{opts = #{user := User, password := Password}} = Ctx, Name, Hash, Binding) ->
    {First, S1} = stanza_scram:client_first(#{username => User, password => Password,
                                              hash => Hash, channel_binding => Binding}),
    send(Ctx, sasl(<<"auth">>, [{<<"mechanism">>, Name}], First)),
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"challenge">>} = C} ->
            case stanza_scram:client_final(S1, decode64(Ctx1, C)) of
                {ok, Final, S2} ->
                    send(Ctx1, sasl(<<"response">>, [], Final)),
                    scram_success(Ctx1, S2);
                {error, Reason} -> fail(Ctx1, {scram, Reason})
            end;
        {Ctx1, Other} -> sasl_failure(Ctx1, Other)
    end.

scram_success(Ctx, S2) ->
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"success">>} = S} ->
            case stanza_scram:verify_server_final(S2, decode64(Ctx1, S)) of
                ok -> Ctx1;
                {error, Reason} -> fail(Ctx1, {scram, Reason})
            end;
        {Ctx1, Other} -> sasl_failure(Ctx1, Other)
    end.

plain(#ctx{opts = #{user := User, password := Password}} = Ctx) ->
    send(Ctx, sasl(<<"auth">>, [{<<"mechanism">>, <<"PLAIN">>}],
                   <<0, User/binary, 0, Password/binary>>)),
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"success">>}} -> Ctx1;
        {Ctx1, Other} -> sasl_failure(Ctx1, Other)
    end.

sasl(Name, Attrs, Payload) ->
    stanza_xml:element_to_binary(
      #xmlel{name = Name, attrs = [{<<"xmlns">>, ?NS_SASL} | Attrs],
             children = [{xmlcdata, base64:encode(Payload)}]}).

decode64(Ctx, El) ->
    try base64:decode(stanza_xml:get_tag_cdata(El))
    catch error:_ -> fail(Ctx, {sasl, bad_base64})
    end.

-spec sasl_failure(#ctx{}, term()) -> no_return().
sasl_failure(Ctx, #xmlel{name = <<"failure">>, children = Children}) ->
    Condition = case [N || #xmlel{name = N} <- Children, N =/= <<"text">>] of
                    [N | _] -> binary_to_atom(condition(N));
                    [] -> undefined
                end,
    fail(Ctx, {sasl_failure, Condition});
sasl_failure(Ctx, Other) ->
    fail(Ctx, {unexpected, Other}).

%% XEP-0078, for servers without SASL: only inside TLS, since the
%% password goes in clear.
legacy_auth(#ctx{transport = T, opts = #{user := U, password := P, resource := R}} = Ctx) ->
    stanza_client_transport:is_tls(T) orelse fail(Ctx, legacy_auth_needs_tls),
    Query = #xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, <<"jabber:iq:auth">>}],
                   children = [text_el(<<"username">>, U), text_el(<<"password">>, P),
                               text_el(<<"resource">>, R)]},
    send(Ctx, stanza_xml:element_to_binary(
                #xmlel{name = <<"iq">>, attrs = [{<<"type">>, <<"set">>}, {<<"id">>, <<"auth">>}],
                       children = [Query]})),
    {Ctx1, _} = expect_result(Ctx, legacy_auth),
    Ctx1.

%%--------------------------------------------------------------------
%% Resource binding and session

bind(#ctx{opts = #{resource := Resource}} = Ctx, Features) ->
    child(Features, <<"bind">>, ?NS_BIND) =/= false orelse fail(Ctx, bind_unavailable),
    Bind = #xmlel{name = <<"bind">>, attrs = [{<<"xmlns">>, ?NS_BIND}],
                  children = [text_el(<<"resource">>, R) || R <- [Resource], R =/= <<>>]},
    send(Ctx, stanza_xml:element_to_binary(
                #xmlel{name = <<"iq">>, attrs = [{<<"type">>, <<"set">>}, {<<"id">>, <<"bind">>}],
                       children = [Bind]})),
    {Ctx1, Result} = expect_result(Ctx, bind),
    case stanza_xml:get_path_s(Result, [{elem, <<"bind">>}, {elem, <<"jid">>}, cdata]) of
        <<>> -> fail(Ctx1, {bind, no_jid});
        Jid -> {Ctx1, stanza_xml:to_bin(Jid)}
    end.

%% RFC 3921's session, still asked for by some servers; skipped when the
%% server marks it optional (RFC 6121 dropped it).
maybe_session(Ctx, Features) ->
    case child(Features, <<"session">>, ?NS_SESSION) of
        #xmlel{children = Children} = _ ->
            case [o || #xmlel{name = <<"optional">>} <- Children] of
                [] -> session(Ctx);
                _ -> Ctx
            end;
        false -> Ctx
    end.

session(Ctx) ->
    send(Ctx, <<"<iq type='set' id='session'>"
                "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>">>),
    {Ctx1, _} = expect_result(Ctx, session),
    Ctx1.

expect_result(Ctx, Step) ->
    case next_element(Ctx) of
        {Ctx1, #xmlel{name = <<"iq">>} = Iq} ->
            case stanza_xml:get_tag_attr_s(<<"type">>, Iq) of
                <<"result">> -> {Ctx1, Iq};
                _ -> fail(Ctx1, {Step, stanza_error(Iq)})
            end;
        {Ctx1, Other} -> fail(Ctx1, {Step, {unexpected, Other}})
    end.

stanza_error(Iq) ->
    case stanza_xml:get_subtag(Iq, <<"error">>) of
        #xmlel{children = Children} ->
            case [N || #xmlel{name = N, attrs = A} <- Children,
                       stanza_xml:get_attr_s(<<"xmlns">>, A) =:= ?NS_STANZAS, N =/= <<"text">>] of
                [N | _] -> binary_to_atom(condition(N));
                [] -> undefined
            end;
        false -> undefined
    end.

%%--------------------------------------------------------------------
%% Reading

next_element(Ctx) ->
    case next(Ctx) of
        {Ctx1, {xmlstreamelement, El}} -> {Ctx1, El};
        {Ctx1, Other} -> fail(Ctx1, unexpected(Other))
    end.

next(#ctx{ahead = [Event | Rest]} = Ctx) ->
    {Ctx#ctx{ahead = Rest}, Event};
next(#ctx{transport = T, parser = P, deadline = Deadline} = Ctx) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    case stanza_client_transport:recv(T, Left) of
        {ok, Data} ->
            case stanza_stream:parse(P, Data) of
                {ok, Events} -> next(Ctx#ctx{ahead = Events});
                {error, Reason} -> fail(Ctx, {xml, Reason})
            end;
        {error, timeout} -> fail(Ctx, timeout);
        {error, closed} -> fail(Ctx, closed);
        {error, Reason} -> fail(Ctx, Reason)
    end.

unexpected({xmlstreamelement, #xmlel{name = <<"stream:error">>, children = Children}}) ->
    {stream_error, stream_condition(Children)};
unexpected({xmlstreamend, _}) -> closed;
unexpected({xmlstreamerror, Reason}) -> {xml, Reason};
unexpected(Other) -> {unexpected, Other}.

stream_condition(Children) ->
    case [N || #xmlel{name = N, attrs = A} <- Children,
               stanza_xml:get_attr_s(<<"xmlns">>, A) =:= ?NS_STREAMS, N =/= <<"text">>] of
        [N | _] -> binary_to_atom(condition(N));
        [] -> undefined
    end.

%% Conditions become atoms only from the fixed lists of RFC 6120 (no
%% atom is made from other wire data).
condition(N) ->
    Known = [<<"aborted">>, <<"account-disabled">>, <<"credentials-expired">>,
             <<"encryption-required">>, <<"incorrect-encoding">>, <<"invalid-authzid">>,
             <<"invalid-mechanism">>, <<"malformed-request">>, <<"mechanism-too-weak">>,
             <<"not-authorized">>, <<"temporary-auth-failure">>,
             <<"bad-format">>, <<"bad-namespace-prefix">>, <<"conflict">>,
             <<"connection-timeout">>, <<"host-gone">>, <<"host-unknown">>,
             <<"improper-addressing">>, <<"internal-server-error">>, <<"invalid-from">>,
             <<"invalid-namespace">>, <<"invalid-xml">>, <<"not-well-formed">>,
             <<"policy-violation">>, <<"remote-connection-failed">>, <<"reset">>,
             <<"resource-constraint">>, <<"restricted-xml">>, <<"see-other-host">>,
             <<"system-shutdown">>, <<"undefined-condition">>, <<"unsupported-encoding">>,
             <<"unsupported-feature">>, <<"unsupported-stanza-type">>,
             <<"unsupported-version">>, <<"bad-request">>, <<"feature-not-implemented">>,
             <<"forbidden">>, <<"gone">>, <<"item-not-found">>, <<"jid-malformed">>,
             <<"not-acceptable">>, <<"not-allowed">>, <<"payment-required">>,
             <<"recipient-unavailable">>, <<"redirect">>, <<"registration-required">>,
             <<"remote-server-not-found">>, <<"remote-server-timeout">>,
             <<"service-unavailable">>, <<"subscription-required">>,
             <<"unexpected-request">>],
    case lists:member(N, Known) of
        true -> binary:replace(N, <<"-">>, <<"_">>, [global]);
        false -> <<"undefined_condition">>
    end.

send(#ctx{transport = T} = Ctx, Data) ->
    case stanza_client_transport:send(T, Data) of
        ok -> ok;
        {error, Reason} -> fail(Ctx, Reason)
    end.

-spec fail(#ctx{}, term()) -> no_return().
fail(Ctx, Reason) ->
    throw({login_failed, Ctx, Reason}).

child(#xmlel{children = Children}, Name, NS) ->
    case [C || #xmlel{name = N, attrs = A} = C <- Children, N =:= Name,
               stanza_xml:get_attr_s(<<"xmlns">>, A) =:= NS] of
        [C | _] -> C;
        [] -> false
    end.

text_el(Name, Text) ->
    #xmlel{name = Name, children = [{xmlcdata, Text}]}.
