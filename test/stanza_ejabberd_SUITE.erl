%% The private ejabberd helper itself (test/stanza_ejabberd.erl): it
%% starts, answers `status', registers a user who can then be seen by
%% ejabberd, serves c2s and the component port on loopback, and stops
%% leaving no VM and no directory behind.
-module(stanza_ejabberd_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([status_register_and_stop/1]).

all() -> [status_register_and_stop].

init_per_suite(Config) ->
    case stanza_ejabberd:available() of
        true -> Config;
        {false, Why} -> {skip, Why}
    end.

end_per_suite(_Config) -> ok.

status_register_and_stop(_Config) ->
    {ok, E} = stanza_ejabberd:start(#{components => [{"echo.localhost", "secret"}],
                                      users => [{"alice", "localhost", "pw1"}]}),
    try
        {0, Status} = stanza_ejabberd:ctl(E, ["status"]),
        ct:log("status: ~s", [Status]),
        {0, Users} = stanza_ejabberd:ctl(E, ["registered_users", "localhost"]),
        [<<"alice">>] = binary:split(Users, <<"\n">>, [global, trim_all]),
        ok = stanza_ejabberd:register(E, "bob", "localhost", "pw2"),
        {0, Users2} = stanza_ejabberd:ctl(E, ["registered_users", "localhost"]),
        [<<"alice">>, <<"bob">>] = lists:sort(binary:split(Users2, <<"\n">>, [global, trim_all])),
        %% both listeners answer on loopback with an XMPP stream header
        <<"<?xml", _/binary>> = stream_header(stanza_ejabberd:port(E, c2s), "jabber:client", "localhost"),
        <<"<?xml", _/binary>> = stream_header(stanza_ejabberd:port(E, service),
                                              "jabber:component:accept", "echo.localhost")
    after
        Dir = stanza_ejabberd:dir(E),
        ok = stanza_ejabberd:stop(E),
        false = filelib:is_dir(Dir),
        %% stopping twice is harmless
        ok = stanza_ejabberd:stop(E)
    end,
    %% the VM is gone: nothing listens on its ports any more
    {error, econnrefused} = gen_tcp:connect({127, 0, 0, 1}, stanza_ejabberd:port(E, c2s), []).

stream_header(Port, NS, To) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}]),
    ok = gen_tcp:send(S, ["<?xml version='1.0'?><stream:stream xmlns='", NS,
                          "' xmlns:stream='http://etherx.jabber.org/streams' to='",
                          To, "' version='1.0'>"]),
    {ok, Data} = gen_tcp:recv(S, 0, 10000),
    gen_tcp:close(S),
    Data.
