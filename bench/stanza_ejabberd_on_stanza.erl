%% `make ejabberd-on-stanza': Debian's ejabberd 23.01 on stanza's drop-ins,
%% in one command, and the proof that it really runs them.
%%
%% Starts a private ejabberd (stanza_ejabberd: 127.0.0.1, free ports, its
%% own node, cookie and directory) with stanza's opt-in applications
%% fast_xml, fast_tls and stringprep, and the stanza application under
%% them, first on its code path. Then, on ejabberd's own node (over
%% loopback distribution): code:which/1 for every module ejabberd calls in
%% those libraries; a stanza_client login (STARTTLS, SCRAM) and a roster
%% query, so the parser, serializer, TLS and stringprep have all done real
%% work; and which NIFs the node has loaded. It prints all of that, serves
%% until Enter is pressed (or stdin closes, or Seconds pass), and stops
%% ejabberd. The wrapper (scripts/ejabberd-on-stanza) stops it on Ctrl-C too.
%%
%% From a shell in the bench profile (`rebar3 as bench shell'):
%%   {ok, E} = stanza_ejabberd:start(#{drop_ins => stanza_ejabberd_on_stanza:drop_ins()}),
%%   stanza_ejabberd_on_stanza:libraries(E).
%%   stanza_ejabberd:stop(E).
-module(stanza_ejabberd_on_stanza).

-export([main/1, drop_ins/0, libraries/1, whose/1]).

-include("stanza_xmlel.hrl").

%% What ejabberd 23.01 calls by these names.
-define(MODULES, [fxml, fxml_stream, fast_tls, stringprep]).
-define(APPS, [stanza, fast_xml, fast_tls, stringprep]).
-define(NIFS, [stanza_stream_nif, stanza_xml_nif, stanza_tls_nif, stanza_jid_nif]).
-define(USERS, [{"alice", "localhost", "alice-pw"}, {"bob", "localhost", "bob-pw"}]).

%% main([StateFile, Seconds]): StateFile receives the handle (so the
%% wrapper can stop ejabberd whatever happens); Seconds 0 serves until
%% Enter or the end of stdin.
-spec main([string()]) -> no_return().
main([StateFile, Seconds]) ->
    case stanza_ejabberd:start(#{drop_ins => drop_ins(), users => ?USERS,
                                 extra_modules_yml => "  mod_muc: {}\n  mod_register: {}\n"}) of
        {ok, E} ->
            ok = file:write_file(StateFile, io_lib:format("~p.~n", [E])),
            Status = try run(E, list_to_integer(Seconds))
                     catch C:W:St -> io:format("failed: ~p:~p~n~p~n", [C, W, St]), 1
                     after stanza_ejabberd:stop(E), io:format("ejabberd stopped~n")
                     end,
            halt(Status);
        {error, Why} ->
            io:format("ejabberd did not start: ~p~n", [Why]),
            halt(1)
    end.

%% The lib dirs of stanza's four applications in this VM (Debian's own
%% copies live in p1_xml-*, p1_tls-*, p1_stringprep-*: never these names).
-spec drop_ins() -> [file:filename()].
drop_ins() ->
    [case code:lib_dir(App) of
         {error, bad_name} -> error({not_on_code_path, App});
         Dir -> Dir
     end || App <- ?APPS].

%% Where ejabberd's node loads each module from, and whose it is.
-spec libraries(stanza_ejabberd:handle()) -> [{module(), string(), stanza | debian | other}].
libraries(E) ->
    [begin
         Path = stanza_ejabberd:rpc(E, code, which, [M]),
         {M, Path, whose(Path)}
     end || M <- ?MODULES].

-spec whose(term()) -> stanza | debian | other.
whose(Path) when is_list(Path) ->
    case {string:find(Path, "/drop-ins/"), lists:prefix("/usr/lib/erlang/lib/p1_", Path)} of
        {nomatch, true} -> debian;
        {nomatch, false} -> other;
        _ -> stanza
    end;
whose(_) -> other.

%%--------------------------------------------------------------------

run(E, Seconds) ->
    Libraries = libraries(E),
    Smoke = smoke(E),
    Nifs = [N || N <- ?NIFS, stanza_ejabberd:rpc(E, code, is_loaded, [N]) =/= false],
    report(E, Libraries, Smoke, Nifs),
    Ok = lists:all(fun({_, _, Who}) -> Who =:= stanza end, Libraries)
        andalso element(1, Smoke) =:= ok,
    case Ok of
        true -> serve(Seconds), 0;
        false -> io:format("NOT running on stanza's drop-ins: see above~n"), 1
    end.

%% One real session: STARTTLS, SCRAM, bind, a roster query.
smoke(E) ->
    Config = [{host, "127.0.0.1"}, {domain, "localhost"}, {port, stanza_ejabberd:port(E, c2s)},
              {user, "alice"}, {password, "alice-pw"}, {resource, "check"}, {format, xmlel},
              {tls, #{cafile => stanza_ejabberd:cert(E)}}],
    process_flag(trap_exit, true),
    case stanza_client:start_link(Config) of
        {ok, Cn} ->
            #{mechanism := Mech} = stanza_client:stats(Cn),
            T0 = erlang:monotonic_time(microsecond),
            Query = #xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, <<"jabber:iq:roster">>}]},
            Reply = stanza_client:send_wait_iq(Cn, "get", "", "", Query, 10000),
            Us = erlang:monotonic_time(microsecond) - T0,
            stanza_client:close(Cn),
            case Reply of
                {ok, #xmlel{attrs = A}} ->
                    {ok, Mech, proplists:get_value(<<"type">>, A), Us};
                Other -> {error, Other}
            end;
        {error, _} = Error -> Error
    end.

report(E, Libraries, Smoke, Nifs) ->
    Dir = stanza_ejabberd:dir(E),
    io:format("~nejabberd 23.01 (Debian) with stanza's drop-ins first on its code path~n"),
    io:format("  node        ~s (private; cookie in ~s/ejabberdctl.cfg)~n",
              [stanza_ejabberd:node(E), Dir]),
    io:format("  c2s         127.0.0.1:~b (STARTTLS; certificate ~s)~n",
              [stanza_ejabberd:port(E, c2s), stanza_ejabberd:cert(E)]),
    io:format("  users       ~s~n",
              [lists:join(", ", [[U, "@", H, " / ", P] || {U, H, P} <- ?USERS])]),
    io:format("  drop-ins    ~s~n", [stanza_ejabberd:drop_in_dir(E)]),
    io:format("  code:which/1 on ejabberd's node:~n"),
    [io:format("    ~-12s ~-9s ~s~n", [M, Who, Path]) || {M, Path, Who} <- Libraries],
    case Smoke of
        {ok, Mech, Type, Us} ->
            io:format("  a session   stanza_client as alice@localhost: STARTTLS, ~s, bound;"
                      " roster get -> ~s in ~.1f ms~n", [Mech, Type, Us / 1000]);
        {error, Why} ->
            io:format("  a session   FAILED: ~p~n", [Why])
    end,
    io:format("  NIFs loaded ~s~n", [lists:join(", ", [atom_to_list(N) || N <- Nifs])]),
    io:format("  logs        ~s/logs/~n~n", [Dir]).

serve(0) ->
    io:format("Point an XMPP client at it; press Enter (or Ctrl-C) to stop.~n"),
    _ = io:get_line(""),
    ok;
serve(Seconds) ->
    io:format("Serving for ~b s.~n", [Seconds]),
    timer:sleep(Seconds * 1000).
