%% A small XMPP server for the client's tests, on 127.0.0.1 and a port
%% the system picks: stream headers, SCRAM-SHA-1/SHA-256 (through
%% stanza_scram_server), resource binding, and then every stanza the
%% client sends handed to a handler the test gives, which may answer,
%% answer twice, answer late, or answer as someone else. No TLS: the
%% client is started with `{starttls, never}' (the TLS path is tested
%% against a real ejabberd).
-module(stanza_fake_xmpp).

-export([start/1, stop/1, port/1, drop_connections/1, sessions/1, push/2, result/1]).

-include("stanza_xmlel.hrl").

%% Options: `users' (#{User => Password}), `domain', `handler'
%% (fun((El, Send) -> any()), Send being fun((iodata()) -> ok)),
%% `mechanisms' (what the features offer).
-spec start(map()) -> {ok, pid()}.
start(Opts) ->
    Parent = self(),
    Pid = spawn(fun() -> init(Parent, Opts) end),
    receive {Pid, ready} -> {ok, Pid} after 5000 -> error(fake_server_timeout) end.

-spec stop(pid()) -> ok.
stop(Server) ->
    case is_process_alive(Server) of
        true -> call(Server, stop);
        false -> ok
    end.

-spec port(pid()) -> inet:port_number().
port(Server) -> call(Server, port).

%% Closes every client connection (the listener stays), as a server
%% that crashed and came back would.
-spec drop_connections(pid()) -> ok.
drop_connections(Server) -> call(Server, drop).

%% How many sessions are bound now.
-spec sessions(pid()) -> non_neg_integer().
sessions(Server) -> call(Server, sessions).

%% Sends bytes to every bound session.
-spec push(pid(), iodata()) -> ok.
push(Server, Data) -> call(Server, {push, Data}).

call(Server, Req) ->
    Ref = erlang:monitor(process, Server),
    Server ! {Req, self(), Ref},
    receive
        {Ref, Reply} -> erlang:demonitor(Ref, [flush]), Reply;
        {'DOWN', Ref, _, _, Reason} -> error({fake_server_down, Reason})
    after 5000 -> error(fake_server_timeout)
    end.

init(Parent, Opts) ->
    process_flag(trap_exit, true),
    {ok, L} = gen_tcp:listen(0, [binary, {ip, {127, 0, 0, 1}}, {active, false},
                                 {reuseaddr, true}, {backlog, 1024}]),
    Self = self(),
    spawn_link(fun() -> accept(Self, L, Opts) end),
    Parent ! {self(), ready},
    loop(L, []).

loop(L, Sessions) ->
    receive
        {session, Pid} -> loop(L, [Pid | Sessions]);
        {'EXIT', Pid, _} -> loop(L, lists:delete(Pid, Sessions));
        {port, From, Ref} -> From ! {Ref, element(2, inet:port(L))}, loop(L, Sessions);
        {sessions, From, Ref} ->
            Bound = [P || P <- Sessions, is_process_alive(P)],
            From ! {Ref, length(Bound)}, loop(L, Sessions);
        {drop, From, Ref} ->
            [exit(P, kill) || P <- Sessions],
            From ! {Ref, ok}, loop(L, []);
        {{push, Data}, From, Ref} ->
            [P ! {push, Data} || P <- Sessions],
            From ! {Ref, ok}, loop(L, Sessions);
        {stop, From, Ref} ->
            [exit(P, kill) || P <- Sessions],
            gen_tcp:close(L),
            From ! {Ref, ok}
    end.

accept(Server, L, Opts) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> session(Server, S, Opts) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            link(Pid),
            Server ! {session, Pid},
            unlink(Pid),
            Pid ! go,
            accept(Server, L, Opts);
        {error, _} ->
            ok
    end.

%% One client connection, from stream header to bound session.
session(Server, S, Opts) ->
    link(Server),
    {ok, P} = stanza_stream:new(#{format => xmlel}),
    Domain = maps:get(domain, Opts, <<"localhost">>),
    C0 = #{sock => S, parser => P, ahead => []},
    {C1, _} = header(C0, Domain),
    Mechs = maps:get(mechanisms, Opts, [<<"SCRAM-SHA-256">>, <<"SCRAM-SHA-1">>]),
    send(C1, [<<"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>">>,
              [[<<"<mechanism>">>, M, <<"</mechanism>">>] || M <- Mechs],
              <<"</mechanisms></stream:features>">>]),
    case sasl(C1, Opts) of
        {ok, C2, User} ->
            ok = stanza_stream:reset(P),
            {C3, _} = header(C2#{ahead := []}, Domain),
            send(C3, <<"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                       "</stream:features>">>),
            {C4, Jid} = bind(C3, User, Domain),
            ok = inet:setopts(S, [{active, once}]),
            serve(C4#{jid => Jid}, maps:get(handler, Opts, fun echo/2));
        {error, C2} ->
            send(C2, <<"</stream:stream>">>),
            gen_tcp:close(S)
    end.

header(C, Domain) ->
    {C1, {xmlstreamstart, _, _}} = next(C),
    send(C1, [<<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' id='">>,
              integer_to_binary(erlang:unique_integer([positive])), <<"' from='">>, Domain,
              <<"'>">>]),
    {C1, ok}.

sasl(C, Opts) ->
    {C1, #xmlel{name = <<"auth">>} = Auth} = next_element(C),
    Hash = case stanza_xml:get_tag_attr_s(<<"mechanism">>, Auth) of
               <<"SCRAM-SHA-256">> -> sha256;
               <<"SCRAM-SHA-1">> -> sha
           end,
    First = base64:decode(stanza_xml:get_tag_cdata(Auth)),
    {match, [User]} = re:run(First, "n=([^,]*),r=", [{capture, all_but_first, binary}]),
    Password = maps:get(User, maps:get(users, Opts), <<>>),
    {ServerFirst, St} = stanza_scram_server:first(First, <<"pepper">>, 4096),
    send(C1, sasl_el(<<"challenge">>, ServerFirst)),
    {C2, #xmlel{name = <<"response">>} = Resp} = next_element(C1),
    case stanza_scram_server:final(Hash, St, base64:decode(stanza_xml:get_tag_cdata(Resp)),
                                   Password) of
        {ok, ServerFinal} when Password =/= <<>> ->
            send(C2, sasl_el(<<"success">>, ServerFinal)),
            {ok, C2, User};
        _ ->
            send(C2, <<"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
                       "</failure>">>),
            {error, C2}
    end.

sasl_el(Name, Payload) ->
    [<<"<">>, Name, <<" xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>">>, base64:encode(Payload),
     <<"</">>, Name, <<">">>].

bind(C, User, Domain) ->
    {C1, #xmlel{name = <<"iq">>} = Iq} = next_element(C),
    Resource = case stanza_xml:get_path_s(Iq, [{elem, <<"bind">>}, {elem, <<"resource">>}, cdata]) of
                   <<>> -> <<"generated">>;
                   R -> R
               end,
    Jid = <<User/binary, "@", Domain/binary, "/", Resource/binary>>,
    send(C1, [<<"<iq type='result' id='">>, stanza_xml:get_tag_attr_s(<<"id">>, Iq),
              <<"'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>">>, Jid,
              <<"</jid></bind></iq>">>]),
    {C1, Jid}.

serve(#{sock := S, parser := P} = C, Handler) ->
    Send = fun(Data) -> send(C, Data) end,
    receive
        {tcp, S, Data} ->
            {ok, Events} = stanza_stream:parse(P, Data),
            [Handler(El, Send) || {xmlstreamelement, El} <- Events],
            case [closed || {xmlstreamend, _} <- Events] of
                [] -> ok = inet:setopts(S, [{active, once}]), serve(C, Handler);
                _ -> gen_tcp:close(S)
            end;
        {push, Data} ->
            Send(Data),
            serve(C, Handler);
        {tcp_closed, S} ->
            ok
    end.

%% The default handler: every IQ get or set is answered with a result
%% from its `to', carrying the request's children back.
echo(#xmlel{name = <<"iq">>} = Iq, Send) ->
    case stanza_xml:get_tag_attr_s(<<"type">>, Iq) of
        T when T =:= <<"get">>; T =:= <<"set">> -> Send(result(Iq));
        _ -> ok
    end;
echo(_, _) ->
    ok.

-spec result(#xmlel{}) -> binary().
result(#xmlel{attrs = Attrs, children = Children}) ->
    From = [{<<"from">>, V} || {<<"to">>, V} <- Attrs],
    Id = [{<<"id">>, V} || {<<"id">>, V} <- Attrs],
    stanza_xml:element_to_binary(#xmlel{name = <<"iq">>,
                                        attrs = [{<<"type">>, <<"result">>} | From ++ Id],
                                        children = Children}).

next_element(C) ->
    {C1, {xmlstreamelement, El}} = next(C),
    {C1, El}.

next(#{ahead := [E | Rest]} = C) -> {C#{ahead := Rest}, E};
next(#{sock := S, parser := P} = C) ->
    {ok, Data} = gen_tcp:recv(S, 0, 5000),
    {ok, Events} = stanza_stream:parse(P, Data),
    next(C#{ahead := Events}).

send(#{sock := S}, Data) ->
    _ = gen_tcp:send(S, Data),
    ok.
