%% Debian's ejabberd 23.01 running on stanza's drop-ins (the opt-in
%% applications fast_xml, fast_tls and stringprep, with the stanza
%% application under them), proven with real traffic; then the very same
%% checks against the same ejabberd on its own libraries, so that a
%% failure shows whether the difference is ours.
%%
%% Each group starts its own private ejabberd (stanza_ejabberd: loopback,
%% free ports, its own node and directory) and stops it in end_per_group,
%% also when a check fails. The checks, in order:
%%   libraries_in_use   over distribution, code:which/1 on ejabberd's node
%%                      says whose fxml, fxml_stream, fast_tls, stringprep
%%                      it runs (stanza's copies, or Debian's)
%%   stanza_client_user bob logs in with stanza_client (STARTTLS, SCRAM),
%%                      sets and gets a roster item, joins a MUC room; he
%%                      then stays on as the peer the next check talks to
%%   slixmpp_user       alice logs in with slixmpp (STARTTLS, SCRAM), sets
%%                      and gets a roster item, chats with bob both ways,
%%                      goes through presence subscription with him, talks
%%                      with him in the room, and reaches the component
%%                      (stanza_component) for an echo and an IQ
%%   in_band_registration  carol registers herself (XEP-0077, slixmpp)
%%                      and logs in; stanza_client logs in as carol too
%%   bosh_session       alice over BOSH (XEP-0124/0206, ejabberd's HTTP
%%                      listener, whose bodies go through fxml_stream's
%%                      parse_element and fxml's serializer): a session,
%%                      SASL PLAIN, a stream restart, bind, a roster get
%%   stanza_too_big     a stanza over the c2s max_stanza_size (256 KB)
%%                      after STARTTLS: the stream ends in policy-violation
%%   stringprep_in_ejabberd  ejabberd's own jid module, called on its node:
%%                      nodeprep folds case with either library; an
%%                      overlong UTF-8 form is refused by stanza's
%%                      stringprep and let through as a '/' by Debian's
%%                      (the difference doc/jid.md lists)
%%   libraries_loaded   the modules checked first are loaded from where
%%                      code:which/1 said, and on stanza its NIFs are in
%%   no_crash_reports   ejabberd's error log has no error or worse
-module(ejabberd_on_stanza_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").
-include("stanza_xmlel.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_group/2, end_per_group/2]).
-export([libraries_in_use/1, stanza_client_user/1, slixmpp_user/1,
         in_band_registration/1, bosh_session/1, stanza_too_big/1, stringprep_in_ejabberd/1,
         libraries_loaded/1,
         no_crash_reports/1]).

-define(HOST, "localhost").
-define(ROOM, "lobby@conference.localhost").
-define(COMPONENT, "echo.localhost").
-define(SECRET, "drop-in-secret").
-define(MAX_STANZA, 262144). %% what stanza_ejabberd writes for c2s
-define(DROP_IN_MODULES, [fxml, fxml_stream, fast_tls, stringprep]).
-define(DROP_IN_APPS, [stanza, fast_xml, fast_tls, stringprep]).
-define(NS_ROSTER, <<"jabber:iq:roster">>).
-define(NS_MUC, <<"http://jabber.org/protocol/muc">>).

all() -> [{group, on_stanza}, {group, on_own_libraries}].

groups() ->
    Checks = [libraries_in_use, stanza_client_user, slixmpp_user, in_band_registration,
              bosh_session, stanza_too_big, stringprep_in_ejabberd, libraries_loaded, no_crash_reports],
    [{on_stanza, [sequence], Checks}, {on_own_libraries, [sequence], Checks}].

init_per_suite(Config) ->
    case stanza_ejabberd:available() of
        true -> Config;
        {false, Why} -> {skip, Why}
    end.

end_per_suite(_Config) -> ok.

init_per_group(Group, Config) ->
    process_flag(trap_exit, true),
    Opts = #{users => [{"alice", ?HOST, "alice-pw"}, {"bob", ?HOST, "bob-pw"}],
             components => [{?COMPONENT, ?SECRET}],
             http => true,
             extra_modules_yml => "  mod_muc: {}\n  mod_register: {}\n",
             drop_ins => drop_ins(Group)},
    {ok, E} = stanza_ejabberd:start(Opts),
    [{ejabberd, E} | Config].

end_per_group(_Group, Config) ->
    stanza_ejabberd:stop(?config(ejabberd, Config)).

%% The lib dirs the test node runs: _build/test/lib/<app> (Debian's own
%% copies live in p1_xml-*, p1_tls-*, p1_stringprep-*, so these names are
%% ours alone).
drop_ins(on_stanza) -> [code:lib_dir(App) || App <- ?DROP_IN_APPS];
drop_ins(on_own_libraries) -> [].

%%--------------------------------------------------------------------
%% Checks

libraries_in_use(Config) ->
    E = ?config(ejabberd, Config),
    Where = [{M, stanza_ejabberd:rpc(E, code, which, [M])} || M <- ?DROP_IN_MODULES],
    ct:log("ejabberd's node runs: ~p", [Where]),
    [?assert(is_expected_path(Group(Config), M, Path), {M, Path})
     || {M, Path} <- Where, Group <- [fun group_of/1]].

stanza_client_user(Config) ->
    Bob = #{client := Cn, pid := Pid} = start_peer(Config, "bob", "bob-pw"),
    try bob_checks(Bob)
    catch Class:Why:Stack -> stop_peer(Pid, Cn), erlang:raise(Class, Why, Stack)
    end,
    %% the peer stays up for the next check (slixmpp_user stops it)
    {save_config, [{peer, Bob}]}.

bob_checks(Bob = #{client := Cn}) ->
    ?assertMatch(#{mechanism := <<"SCRAM-", _/binary>>}, stanza_client:stats(Cn)),
    %% a roster item set by stanza_client is there when the roster is got
    Item = #xmlel{name = <<"item">>,
                  attrs = [{<<"jid">>, <<"alice@localhost">>}, {<<"name">>, <<"Alice">>}],
                  children = [#xmlel{name = <<"group">>, children = [{xmlcdata, <<"Team">>}]}]},
    {ok, #xmlel{attrs = SetAttrs}} =
        stanza_client:send_wait_iq(Cn, "set", "", "", roster_query([Item])),
    ?assertEqual(<<"result">>, proplists:get_value(<<"type">>, SetAttrs)),
    {ok, Reply} = stanza_client:send_wait_iq(Cn, "get", "", "", roster_query([])),
    [Got] = [I || #xmlel{name = <<"query">>} = Q <- Reply#xmlel.children,
                  #xmlel{name = <<"item">>} = I <- Q#xmlel.children,
                  attr(<<"jid">>, I) =:= <<"alice@localhost">>],
    ?assertEqual(<<"Alice">>, attr(<<"name">>, Got)),
    ?assertMatch([#xmlel{name = <<"group">>, children = [{xmlcdata, <<"Team">>}]}],
                 Got#xmlel.children),
    ok = join_room(Bob).

slixmpp_user(Config) ->
    {stanza_client_user, Saved} = ?config(saved_config, Config),
    #{client := Cn, pid := PeerPid} = proplists:get_value(peer, Saved),
    {ok, Component} = start_component(Config),
    try
        Out = run_slixmpp(Config, "alice@localhost/slixmpp", "alice-pw",
                          ["roster=bob@localhost", "chat=bob@localhost",
                           "subscribe=bob@localhost", "muc=" ?ROOM, "echo", "iq"]),
        %% the login itself: SCRAM (with or without channel binding) in TLS
        ?assertMatch({match, _}, re:run(Out, "info login: SCRAM-SHA-[0-9]+(-PLUS)? tls")),
        %% what bob saw: alice's chat, her subscription, her room message
        Seen = peer_seen(PeerPid),
        ct:log("the stanza_client peer answered: ~p", [Seen]),
        ?assert(lists:member(chat, Seen)),
        ?assert(lists:member(subscribe, Seen)),
        ?assert(lists:member(groupchat, Seen))
    after
        stanza_tutorial_component:stop(Component),
        stop_peer(PeerPid, Cn)
    end.

in_band_registration(Config) ->
    E = ?config(ejabberd, Config),
    {0, Before} = stanza_ejabberd:ctl(E, ["registered_users", ?HOST]),
    ?assertEqual(nomatch, binary:match(Before, <<"carol">>)),
    _ = run_slixmpp(Config, "carol@localhost/ibr", "carol-pw", ["register"]),
    {0, After} = stanza_ejabberd:ctl(E, ["registered_users", ?HOST]),
    ?assertEqual([<<"alice">>, <<"bob">>, <<"carol">>],
                 lists:sort(binary:split(After, <<"\n">>, [global, trim_all]))),
    {ok, Cn} = stanza_client:start_link(client_config(Config, "carol", "carol-pw")),
    ?assertEqual(<<"carol@localhost/carol">>, stanza_client:jid(Cn)),
    stanza_client:close(Cn).

bosh_session(Config) ->
    E = ?config(ejabberd, Config),
    Url = "http://127.0.0.1:" ++ integer_to_list(stanza_ejabberd:port(E, http)) ++ "/bosh",
    {ok, _} = application:ensure_all_started(inets),
    Created = bosh(Url, [<<"<body rid='100' to='localhost' xml:lang='en' wait='10' hold='1' "
                           "ver='1.6' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' "
                           "xmlns='http://jabber.org/protocol/httpbind'/>">>]),
    {match, [Sid]} = re:run(Created, "sid=['\"]([^'\"]+)", [{capture, all_but_first, binary}]),
    {Rid0, _Features} = poll(Url, Sid, 101, Created, <<"PLAIN">>, 10),
    Plain = base64:encode(<<0, "alice", 0, "alice-pw">>),
    {Rid1, _} = bosh_send(Url, Sid, Rid0, [<<"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                                     "mechanism='PLAIN'>">>, Plain, <<"</auth>">>],
                          <<"<success">>),
    {Rid2, _} = bosh_send(Url, Sid, Rid1, restart, <<"urn:ietf:params:xml:ns:xmpp-bind">>),
    {Rid3, Bound} = bosh_send(Url, Sid, Rid2,
                              [<<"<iq type='set' id='bind1' xmlns='jabber:client'>"
                                 "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                                 "<resource>bosh</resource></bind></iq>">>],
                              <<"</jid>">>),
    ?assertMatch({_, _}, binary:match(Bound, <<"alice@localhost/bosh</jid>">>)),
    {_, Roster} = bosh_send(Url, Sid, Rid3,
                            [<<"<iq type='get' id='r1' xmlns='jabber:client'>"
                               "<query xmlns='jabber:iq:roster'/></iq>">>],
                            <<"id='r1'">>),
    ?assertMatch({match, _}, re:run(Roster, "<iq[^>]*type=.result[^>]*id=.r1|"
                                            "<iq[^>]*id=.r1[^>]*type=.result")),
    ct:log("the roster over BOSH: ~s", [Roster]).

stanza_too_big(Config) ->
    E = ?config(ejabberd, Config),
    {ok, Sock} = gen_tcp:connect({127, 0, 0, 1}, stanza_ejabberd:port(E, c2s),
                                 [binary, {active, false}], 5000),
    ok = gen_tcp:send(Sock, stream_header()),
    _ = recv_until(tcp, Sock, <<"</stream:features>">>),
    ok = gen_tcp:send(Sock, <<"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>">>),
    _ = recv_until(tcp, Sock, <<"<proceed">>),
    {ok, Tls} = stanza_tls:connect(Sock, #{server_name => ?HOST,
                                           cafile => stanza_ejabberd:cert(E)}),
    ok = stanza_tls:send(Tls, stream_header()),
    _ = recv_until(tls, Tls, <<"</stream:features>">>),
    Body = binary:copy(<<"x">>, ?MAX_STANZA + 4096),
    %% the server may close while the stanza is still going out: a send
    %% error then is expected, and what it said before is still read
    Sent = stanza_tls:send(Tls, [<<"<message to='bob@localhost'><body>">>, Body,
                                 <<"</body></message>">>]),
    Answer = recv_to_close(Tls, <<>>),
    ct:log("send: ~p; the server's answer: ~s", [Sent, Answer]),
    ?assertMatch({_, _}, binary:match(Answer, <<"<policy-violation">>)),
    ?assertMatch({_, _}, binary:match(Answer, <<"</stream:stream>">>)),
    stanza_tls:close(Tls).

stringprep_in_ejabberd(Config) ->
    E = ?config(ejabberd, Config),
    ?assertEqual(<<"juliet">>, stanza_ejabberd:rpc(E, jid, nodeprep, [<<"JuLiet">>])),
    ?assertEqual(<<"example.com">>, stanza_ejabberd:rpc(E, jid, nameprep, [<<"Example.COM">>])),
    Overlong = <<"User", 16#C0, 16#AF, "X">>,
    Got = stanza_ejabberd:rpc(E, jid, nameprep, [Overlong]),
    ct:log("jid:nameprep(~w) on ejabberd's node: ~p", [Overlong, Got]),
    case group_of(Config) of
        on_stanza -> ?assertEqual(error, Got);
        on_own_libraries -> ?assertEqual(<<"user/x">>, Got)
    end.

libraries_loaded(Config) ->
    E = ?config(ejabberd, Config),
    Loaded = [{M, stanza_ejabberd:rpc(E, code, is_loaded, [M])} || M <- ?DROP_IN_MODULES],
    ct:log("loaded in ejabberd's node: ~p", [Loaded]),
    Group = group_of(Config),
    [?assertMatch({M, {file, _}}, {M, L}) || {M, L} <- Loaded],
    [?assert(is_expected_path(Group, M, P), {M, P}) || {M, {file, P}} <- Loaded],
    %% on stanza, the parser, TLS and stringprep NIFs are stanza's
    Nifs = [stanza_stream_nif, stanza_tls_nif, stanza_jid_nif],
    NifsLoaded = [stanza_ejabberd:rpc(E, code, is_loaded, [N]) =/= false || N <- Nifs],
    case Group of
        on_stanza -> ?assertEqual([true, true, true], NifsLoaded);
        on_own_libraries -> ?assertEqual([false, false, false], NifsLoaded)
    end.

no_crash_reports(Config) ->
    Log = stanza_ejabberd:error_log(?config(ejabberd, Config)),
    ct:log("error.log:~n~s", [Log]),
    Bad = [L || L <- binary:split(Log, <<"\n">>, [global, trim_all]),
                re:run(L, "\\[(error|critical|alert|emergency)\\]|CRASH REPORT") =/= nomatch],
    ?assertEqual([], Bad).

%%--------------------------------------------------------------------
%% Which libraries

group_of(Config) ->
    proplists:get_value(name, ?config(tc_group_properties, Config)).

is_expected_path(on_stanza, _M, Path) when is_list(Path) ->
    lists:prefix("/tmp/", Path) andalso string:find(Path, "/drop-ins/") =/= nomatch;
is_expected_path(on_own_libraries, M, Path) when is_list(Path) ->
    Debian = #{fxml => "p1_xml-", fxml_stream => "p1_xml-", fast_tls => "p1_tls-",
               stringprep => "p1_stringprep-"},
    lists:prefix("/usr/lib/erlang/lib/" ++ maps:get(M, Debian), Path);
is_expected_path(_, _, _) -> false.

%%--------------------------------------------------------------------
%% The stanza_client peer (bob): answers chats, approves a subscription
%% and asks back, answers in the room; tells the test what it did.

start_peer(Config, User, Password) ->
    Test = self(),
    Pid = spawn(fun() -> peer_init(Test) end),
    {ok, Cn} = stanza_client:start_link(client_config(Config, User, Password)),
    unlink(Cn),
    stanza_client:register_default_exchange(Cn, Pid),
    Pid ! {client, Cn},
    #{client => Cn, pid => Pid}.

stop_peer(Pid, Cn) ->
    stanza_client:close(Cn),
    exit(Pid, kill).

peer_init(Test) ->
    receive {client, Cn} -> peer_loop(#{test => Test, client => Cn, seen => []}) end.

peer_loop(S = #{client := Cn, seen := Seen, test := Test}) ->
    receive
        {packet, El} ->
            [Test ! {peer_presence, El} || El#xmlel.name =:= <<"presence">>],
            Did = peer_answer(Cn, El),
            peer_loop(S#{seen := [Did || Did =/= ignored] ++ Seen});
        {seen, From} ->
            From ! {seen, lists:reverse(Seen)},
            peer_loop(S)
    end.

peer_answer(Cn, El = #xmlel{name = <<"message">>}) ->
    Body = body(El),
    case {attr(<<"type">>, El), Body} of
        {_, <<"re: ", _/binary>>} -> ignored;
        {_, undefined} -> ignored;
        {<<"chat">>, _} ->
            send(Cn, message(bare(attr(<<"from">>, El)), <<"chat">>, <<"re: ", Body/binary>>)),
            chat;
        {<<"groupchat">>, _} ->
            send(Cn, message(bare(attr(<<"from">>, El)), <<"groupchat">>,
                             <<"re: ", Body/binary>>)),
            groupchat;
        _ -> ignored
    end;
peer_answer(Cn, El = #xmlel{name = <<"presence">>}) ->
    case attr(<<"type">>, El) of
        <<"subscribe">> ->
            From = bare(attr(<<"from">>, El)),
            send(Cn, presence(From, <<"subscribed">>)),
            send(Cn, presence(From, <<"subscribe">>)),
            subscribe;
        _ -> ignored
    end;
peer_answer(_Cn, _El) -> ignored.

peer_seen(Pid) ->
    Pid ! {seen, self()},
    receive {seen, Seen} -> Seen after 5000 -> error(peer_silent) end.

%% Join the room as "stanza" and make it an instant room (XEP-0045 10.1.2):
%% the join is done when the room sends our own presence back (the peer
%% process passes every presence on to the test process that started it).
join_room(#{client := Cn}) ->
    Me = <<?ROOM "/stanza">>,
    send(Cn, #xmlel{name = <<"presence">>, attrs = [{<<"to">>, Me}],
                    children = [#xmlel{name = <<"x">>, attrs = [{<<"xmlns">>, ?NS_MUC}]}]}),
    ok = wait_presence_from(Me, erlang:monotonic_time(millisecond) + 10000),
    Submit = #xmlel{name = <<"query">>,
                    attrs = [{<<"xmlns">>, <<"http://jabber.org/protocol/muc#owner">>}],
                    children = [#xmlel{name = <<"x">>,
                                       attrs = [{<<"xmlns">>, <<"jabber:x:data">>},
                                                {<<"type">>, <<"submit">>}]}]},
    {ok, Reply} = stanza_client:send_wait_iq(Cn, "set", "", ?ROOM, Submit),
    ?assertEqual(<<"result">>, attr(<<"type">>, Reply)),
    ok.

wait_presence_from(Me, Deadline) ->
    Left = Deadline - erlang:monotonic_time(millisecond),
    receive
        {peer_presence, P} ->
            case attr(<<"from">>, P) of
                Me -> ok;
                _ -> wait_presence_from(Me, Deadline)
            end
    after max(0, Left) -> {error, no_self_presence}
    end.

%%--------------------------------------------------------------------
%% Clients and the component

client_config(Config, User, Password) ->
    E = ?config(ejabberd, Config),
    [{host, "127.0.0.1"}, {domain, ?HOST}, {port, stanza_ejabberd:port(E, c2s)},
     {user, User}, {password, Password}, {resource, User}, {format, xmlel},
     {tls, #{cafile => stanza_ejabberd:cert(E)}}].

start_component(Config) ->
    E = ?config(ejabberd, Config),
    {ok, C} = stanza_tutorial_component:start_link(?COMPONENT, ?SECRET, "127.0.0.1",
                                                   stanza_ejabberd:port(E, service)),
    unlink(C),
    {ok, C}.

%% slixmpp (Debian's python3-slixmpp) with the checks of
%% stanza_component_SUITE_data/xmpp_client.py; its output when all passed.
run_slixmpp(Config, Jid, Password, Checks) ->
    E = ?config(ejabberd, Config),
    Tests = filename:dirname(string:trim(?config(data_dir, Config), trailing, "/")),
    Script = filename:join([Tests, "stanza_component_SUITE_data", "xmpp_client.py"]),
    Args = [Script, Jid, Password, "127.0.0.1",
            integer_to_list(stanza_ejabberd:port(E, c2s)), stanza_ejabberd:cert(E),
            ?COMPONENT | Checks],
    {Status, Out} = stanza_ejabberd:run("/usr/bin/python3", Args, 180000),
    ct:log("slixmpp ~s ~p: exit ~p~n~s", [Jid, Checks, Status, Out]),
    ?assertEqual(0, Status, Out),
    Out.

%%--------------------------------------------------------------------
%% Raw streams

stream_header() ->
    <<"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>">>.

recv_until(Kind, S, Pattern) -> recv_until(Kind, S, Pattern, <<>>).

recv_until(Kind, S, Pattern, Acc) ->
    case binary:match(Acc, Pattern) of
        nomatch ->
            {ok, Data} = recv(Kind, S),
            recv_until(Kind, S, Pattern, <<Acc/binary, Data/binary>>);
        _ -> Acc
    end.

recv(tls, T) -> stanza_tls:recv(T, 0, 10000);
recv(_, S) -> gen_tcp:recv(S, 0, 10000).

recv_to_close(Tls, Acc) ->
    case stanza_tls:recv(Tls, 0, 10000) of
        {ok, Data} -> recv_to_close(Tls, <<Acc/binary, Data/binary>>);
        {error, _} -> Acc
    end.

%%--------------------------------------------------------------------
%% BOSH: one POST at a time; what ejabberd answers may come in that
%% request's response or in a later empty poll's, so a send polls until
%% the marker shows (ten times at most).

bosh(Url, Body) ->
    Request = {Url, [], "text/xml; charset=utf-8", iolist_to_binary(Body)},
    {ok, {{_, 200, _}, _, Resp}} = httpc:request(post, Request, [{timeout, 15000}],
                                                 [{body_format, binary}]),
    Resp.

%% Rid is the next request id; returns {NextRid, what came back}.
bosh_send(Url, Sid, Rid, Payload, Marker) ->
    Body = case Payload of
               restart ->
                   [<<"<body rid='">>, integer_to_binary(Rid), <<"' sid='">>, Sid,
                    <<"' to='localhost' xml:lang='en' xmpp:restart='true' "
                      "xmlns:xmpp='urn:xmpp:xbosh' xmlns='http://jabber.org/protocol/httpbind'/>">>];
               _ ->
                   [<<"<body rid='">>, integer_to_binary(Rid), <<"' sid='">>, Sid,
                    <<"' xmlns='http://jabber.org/protocol/httpbind'>">>, Payload, <<"</body>">>]
           end,
    Resp = bosh(Url, Body),
    poll(Url, Sid, Rid + 1, Resp, Marker, 10).

poll(_Url, _Sid, Rid, Seen, Marker, Left) when Left =< 0 ->
    error({bosh_no, Marker, Rid, Seen});
poll(Url, Sid, Rid, Seen, Marker, Left) ->
    case binary:match(Seen, Marker) of
        {_, _} -> {Rid, Seen};
        nomatch ->
            More = bosh(Url, [<<"<body rid='">>, integer_to_binary(Rid), <<"' sid='">>, Sid,
                              <<"' xmlns='http://jabber.org/protocol/httpbind'/>">>]),
            poll(Url, Sid, Rid + 1, <<Seen/binary, More/binary>>, Marker, Left - 1)
    end.

%%--------------------------------------------------------------------
%% Elements

roster_query(Items) ->
    #xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, ?NS_ROSTER}], children = Items}.

message(To, Type, Body) ->
    #xmlel{name = <<"message">>, attrs = [{<<"to">>, To}, {<<"type">>, Type}],
           children = [#xmlel{name = <<"body">>, children = [{xmlcdata, Body}]}]}.

presence(To, Type) ->
    #xmlel{name = <<"presence">>, attrs = [{<<"to">>, To}, {<<"type">>, Type}]}.

send(Cn, El) -> ok = stanza_client:raw_send(Cn, stanza_xml:element_to_binary(El)).

body(#xmlel{children = Children}) ->
    case [C || #xmlel{name = <<"body">>} = C <- Children] of
        [#xmlel{children = Text} | _] -> iolist_to_binary([T || {xmlcdata, T} <- Text]);
        [] -> undefined
    end.

attr(Name, #xmlel{attrs = Attrs}) -> proplists:get_value(Name, Attrs).

bare(undefined) -> undefined;
bare(Jid) -> hd(binary:split(Jid, <<"/">>)).
