%% `make example-echo': a private ejabberd 23.01 on loopback
%% (test/stanza_ejabberd.erl), the echo component connected to it, one
%% demonstration run of a real client (slixmpp), then the component keeps
%% serving until Ctrl-C (or for EXAMPLE_SECONDS). The ejabberd handle is
%% written to StateFile so that examples/echo_component/run can stop
%% ejabberd even if this VM is killed.
-module(echo_example).

-export([main/1]).

-define(DOMAIN, "echo.localhost").
-define(SECRET, "secret").

-spec main([string()]) -> no_return().
main([StateFile, Seconds, ClientScript]) ->
    {ok, E} = stanza_ejabberd:start(#{components => [{?DOMAIN, ?SECRET}],
                                      users => [{"alice", "localhost", "alice"}],
                                      loglevel => warning}),
    ok = file:write_file(StateFile, io_lib:format("~p.~n", [E])),
    {ok, C} = echo_component:start_link(#{host => "127.0.0.1",
                                          port => stanza_ejabberd:port(E, service),
                                          domain => ?DOMAIN, secret => ?SECRET}),
    C2s = integer_to_list(stanza_ejabberd:port(E, c2s)),
    Client = ["/usr/bin/python3", ClientScript, "alice@localhost/demo", "alice",
              "127.0.0.1", C2s, stanza_ejabberd:cert(E), ?DOMAIN],
    io:format("~nejabberd 23.01 runs on 127.0.0.1: c2s port ~s (STARTTLS, certificate ~s),~n"
              "component port ~b; user alice@localhost, password alice.~n"
              "The echo component is ~s. A real client talks to it now:~n  ~s~n",
              [C2s, stanza_ejabberd:cert(E), stanza_ejabberd:port(E, service), ?DOMAIN,
               string:join(Client ++ ["echo", "iq", "disco"], " ")]),
    io:format("~s", [os:cmd(string:join(Client ++ ["echo", "iq", "disco"], " ") ++ " 2>&1")]),
    io:format("component counters: ~p~n", [echo_component:stats(C)]),
    wait(list_to_integer(Seconds)),
    ok = echo_component:stop(C),
    ok = stanza_ejabberd:stop(E),
    ok = file:write_file(StateFile, <<>>),
    io:format("echo component and ejabberd stopped~n"),
    halt(0).

wait(0) ->
    io:format("~nServing until Ctrl-C.~n"),
    receive never -> ok end;
wait(Seconds) ->
    io:format("~nServing for ~b s.~n", [Seconds]),
    timer:sleep(Seconds * 1000).
