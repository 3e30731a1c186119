%% A private ejabberd 23.01 (the Debian package) for tests, examples and
%% load runs: its own temp directory, its own node name, listeners on
%% 127.0.0.1 only, on ports chosen free at run time. It never touches an
%% ejabberd it did not start: everything it runs goes through
%% `ejabberdctl --config-dir D ...' with D its own directory, and the
%% last-resort kill in stop/1 matches only its own unique node name.
%%
%% It lives in bench/ because `make bench' (the client section) uses it as
%% well as the Common Test suites, `make load' and the echo example: the
%% bench and test profiles both compile bench/ (rebar.config); the stanza
%% application never ships it.
%%
%% API
%%   start(Opts) -> {ok, Handle} | {error, Reason}
%%       Writes D = BaseDir/stanza_ejabberd.<unique>/ with ejabberd.yml,
%%       ejabberdctl.cfg (unique ERLANG_NODE, distribution and epmd on
%%       127.0.0.1), inetrc (copied from /etc/ejabberd/inetrc) and a
%%       self-signed certificate made now by openssl (CN localhost, SANs
%%       localhost and *.localhost); starts ejabberd, waits for `status'
%%       to say it runs, registers the users. Opts (all optional):
%%         hosts           [Host]            default ["localhost"]
%%         anonymous_hosts [Host]            extra vhosts with SASL ANONYMOUS
%%         c2s             boolean()         default true (starttls: true)
%%         components      [{Domain, Secret}] one ejabberd_service listener
%%         http            boolean()         default false (/bosh and /ws)
%%         users           [{User, Host, Password}]
%%         loglevel        atom()            default info
%%         erl_options     string()          appended to ERL_OPTIONS, e.g.
%%                                           "-pa /some/ebin" to put beams
%%                                           first on ejabberd's code path
%%         drop_ins        [LibDir]          OTP application directories
%%                                           (ebin/, priv/) copied into
%%                                           D/drop-ins/ and put first on
%%                                           ejabberd's code path (-pa):
%%                                           how ejabberd runs on stanza's
%%                                           fast_xml, fast_tls, stringprep
%%         extra_yml         iodata()  top-level yml appended as is (must
%%                                     not repeat a key written here:
%%                                     hosts, loglevel, certfiles, acl,
%%                                     access_rules, api_permissions,
%%                                     shaper_rules, listen, modules,
%%                                     host_config, registration_timeout)
%%         extra_listen_yml  iodata()  listener items ("  - port: ...")
%%         extra_modules_yml iodata()  module entries ("  mod_x: {}")
%%         base_dir        string()          default "/tmp"
%%         keep_dir        boolean()         default false: stop/1 removes D
%%         start_timeout   ms                default 90000
%%   stop(Handle) -> ok
%%       `ejabberdctl stop', waits for the VM to leave, kills it (by its
%%       unique node name) if it does not, then removes D (unless
%%       keep_dir). Safe to call twice and after a failed test.
%%   stop_server(Handle) -> ok / start_server(Handle) -> ok | {error, R}
%%       Stops / starts the same server again (same dir, ports, users):
%%       for reconnection tests.
%%   port(Handle, c2s | service | http) -> inet:port_number()
%%   host(Handle) -> binary()            the first vhost
%%   register(Handle, User, Host, Password) -> ok | {error, Output}
%%   ctl(Handle, [Arg]) -> {ExitStatus, Output}
%%   rpc(Handle, M, F, A) -> term()     erpc:call on ejabberd's node (10 s):
%%       this node joins the distribution on 127.0.0.1 under a unique
%%       short name the first time (stop/1 leaves it again); the cookie
%%       is the random one written into this server's ejabberdctl.cfg
%%   drop_in_dir(Handle) -> string()    D/drop-ins
%%   run(Program, Args, TimeoutMs) -> {ExitStatus, Output}
%%       any program (a test's XMPP client, say) under timeout(1), stdout
%%       and stderr together
%%   error_log(Handle) -> binary()      logs/error.log (crash reports)
%%   log(Handle) -> binary()            logs/ejabberd.log
%%   dir(Handle) / node(Handle) / cert(Handle)
%%
%% Use in a Common Test suite:
%%   init_per_suite(C) ->
%%       {ok, E} = stanza_ejabberd:start(#{components => [{"echo.localhost", "secret"}]}),
%%       [{ejabberd, E} | C].
%%   end_per_suite(C) -> stanza_ejabberd:stop(?config(ejabberd, C)).
%% end_per_suite runs even when test cases fail; if init_per_suite itself
%% fails after starting the server, start/1 has stopped it already.
-module(stanza_ejabberd).

-export([start/1, stop/1, stop_server/1, start_server/1,
         port/2, host/1, register/4, ctl/2, error_log/1, log/1,
         dir/1, node/1, cert/1, available/0, rpc/4, drop_in_dir/1, run/3]).

-define(EJABBERDCTL, "/usr/sbin/ejabberdctl").
-define(RUN_AS, "ejabberd").

-type handle() :: #{dir := string(), node := string(), ports := map(),
                    hosts := [binary()], opts := map(), cookie := string()}.
-export_type([handle/0]).

%% ---------------------------------------------------------------------------
%% API

%% Whether this machine can run a private ejabberd here: the package is
%% installed and we are root or the ejabberd user (ejabberdctl refuses
%% anybody else). Suites skip with the reason otherwise.
-spec available() -> true | {false, string()}.
available() ->
    case {filelib:is_regular(?EJABBERDCTL), whoami()} of
        {false, _} -> {false, "ejabberd is not installed (scripts/ensure-packages test)"};
        {true, User} when User =:= "root"; User =:= ?RUN_AS -> true;
        {true, User} -> {false, "ejabberdctl runs only as root or ejabberd, not " ++ User}
    end.

-spec start(map()) -> {ok, handle()} | {error, term()}.
start(Opts) ->
    case available() of
        true -> start_checked(Opts);
        {false, Why} -> {error, {unavailable, Why}}
    end.

-spec stop(handle()) -> ok.
stop(Handle = #{dir := Dir, opts := Opts}) ->
    ok = stop_server(Handle),
    ok = leave_distribution(),
    case maps:get(keep_dir, Opts, false) of
        true -> ok;
        false -> remove_tree(Dir)
    end.

-spec stop_server(handle()) -> ok.
stop_server(Handle = #{node := Node}) ->
    case own_pids(Node) of
        [] -> ok;
        _ ->
            _ = ctl(Handle, ["stop"], 30000),
            case wait_until(fun() -> own_pids(Node) =:= [] end, 20000) of
                ok -> ok;
                timeout -> kill_own(Node)
            end
    end.

-spec start_server(handle()) -> ok | {error, term()}.
start_server(Handle = #{opts := Opts}) ->
    case ctl(Handle, ["start"]) of
        {0, _} ->
            wait_started(Handle, maps:get(start_timeout, Opts, 90000));
        {Status, Out} ->
            {error, {start_failed, Status, Out}}
    end.

-spec port(handle(), c2s | service | http) -> inet:port_number().
port(#{ports := Ports}, Which) -> maps:get(Which, Ports).

-spec host(handle()) -> binary().
host(#{hosts := [Host | _]}) -> Host.

-spec dir(handle()) -> string().
dir(#{dir := Dir}) -> Dir.

-spec node(handle()) -> string().
node(#{node := Node}) -> Node.

-spec cert(handle()) -> string().
cert(#{dir := Dir}) -> filename:join(Dir, "cert.pem").

-spec register(handle(), iodata(), iodata(), iodata()) -> ok | {error, term()}.
register(Handle, User, Host, Password) ->
    case ctl(Handle, ["register", str(User), str(Host), str(Password)]) of
        {0, _} -> ok;
        {_, Out} -> {error, Out}
    end.

%% Runs ejabberdctl on this server only; killed after 60 s.
-spec ctl(handle(), [string()]) -> {integer(), binary()}.
ctl(Handle, Args) -> ctl(Handle, Args, 60000).

-spec rpc(handle(), module(), atom(), [term()]) -> term().
rpc(#{node := Node, cookie := Cookie}, M, F, A) ->
    ok = join_distribution(),
    Remote = list_to_atom(Node),
    true = erlang:set_cookie(Remote, list_to_atom(Cookie)),
    erpc:call(Remote, M, F, A, 10000).

-spec drop_in_dir(handle()) -> string().
drop_in_dir(#{dir := Dir}) -> filename:join(Dir, "drop-ins").

-spec error_log(handle()) -> binary().
error_log(#{dir := Dir}) -> read_or_empty(filename:join([Dir, "logs", "error.log"])).

-spec log(handle()) -> binary().
log(#{dir := Dir}) -> read_or_empty(filename:join([Dir, "logs", "ejabberd.log"])).

%% ---------------------------------------------------------------------------
%% Starting

start_checked(Opts) ->
    Unique = unique(),
    Dir = filename:join(maps:get(base_dir, Opts, "/tmp"), "stanza_ejabberd." ++ Unique),
    Hosts = [bin(H) || H <- maps:get(hosts, Opts, ["localhost"])],
    Handle = #{dir => Dir, node => "stz_ejd_" ++ Unique ++ "@localhost",
               ports => pick_ports(Opts), hosts => Hosts, opts => Opts,
               cookie => cookie()},
    Prepared = try prepare_dir(Handle)
               catch Class:Why -> {error, {prepare_dir, Class, Why}}
               end,
    case Prepared of
        ok -> start_and_register(Handle);
        {error, _} = Error -> remove_tree(Dir), Error
    end.

start_and_register(Handle = #{opts := Opts}) ->
    Result = case start_server(Handle) of
                 ok -> register_all(Handle, maps:get(users, Opts, []));
                 Error -> Error
             end,
    case Result of
        ok -> {ok, Handle};
        {error, Reason} ->
            Log = error_log(Handle),
            stop(Handle),
            {error, {Reason, {error_log, Log}}}
    end.

register_all(_Handle, []) -> ok;
register_all(Handle, [{User, Host, Password} | Rest]) ->
    case register(Handle, User, Host, Password) of
        ok -> register_all(Handle, Rest);
        {error, Out} -> {error, {register_failed, User, Host, Out}}
    end.

%% Listeners come up last in ejabberd's start: wait for them (cheap TCP
%% probes), then ask `status' (a fresh VM each time) for the final word.
wait_started(Handle = #{ports := Ports}, Timeout) ->
    Deadline = now_ms() + Timeout,
    Listening = fun() -> lists:all(fun is_listening/1, maps:values(Ports)) end,
    case wait_until(Listening, Timeout) of
        timeout -> {error, {listeners_not_up, Ports}};
        ok -> wait_status(Handle, Deadline)
    end.

wait_status(Handle, Deadline) ->
    case ctl(Handle, ["status"]) of
        {0, _} -> ok;
        {_, Out} ->
            case now_ms() > Deadline of
                true -> {error, {status, Out}};
                false -> timer:sleep(500), wait_status(Handle, Deadline)
            end
    end.

is_listening(Port) ->
    case gen_tcp:connect({127, 0, 0, 1}, Port, [], 500) of
        {ok, S} -> gen_tcp:close(S), true;
        {error, _} -> false
    end.

pick_ports(Opts) ->
    Wanted = [{c2s, maps:get(c2s, Opts, true)},
              {service, maps:get(components, Opts, []) =/= []},
              {http, maps:get(http, Opts, false)}],
    maps:from_list([{Name, free_port()} || {Name, true} <- Wanted]).

%% Bind port 0 on loopback, read the port the kernel gave, release it.
free_port() ->
    {ok, S} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}, {reuseaddr, true}]),
    {ok, Port} = inet:port(S),
    ok = gen_tcp:close(S),
    Port.

%% ---------------------------------------------------------------------------
%% The configuration directory

prepare_dir(Handle = #{dir := Dir}) ->
    ok = filelib:ensure_dir(filename:join([Dir, "spool", "x"])),
    ok = filelib:ensure_dir(filename:join([Dir, "logs", "x"])),
    {ok, _} = file:copy("/etc/ejabberd/inetrc", filename:join(Dir, "inetrc")),
    ok = file:write_file(filename:join(Dir, "ejabberd.yml"), yml(Handle)),
    ok = file:write_file(filename:join(Dir, "ejabberdctl.cfg"), ctl_cfg(Handle)),
    ok = copy_drop_ins(Handle),
    case make_cert(Dir) of
        ok -> give_to_ejabberd(Dir);
        Error -> Error
    end.

make_cert(Dir) ->
    Key = filename:join(Dir, "key.pem"),
    Crt = filename:join(Dir, "crt.pem"),
    Args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,DNS:*.localhost",
            "-keyout", Key, "-out", Crt],
    case run("/usr/bin/openssl", Args, 30000) of
        {0, _} ->
            {ok, K} = file:read_file(Key),
            {ok, C} = file:read_file(Crt),
            file:write_file(filename:join(Dir, "cert.pem"), [C, K]);
        {Status, Out} ->
            {error, {openssl, Status, Out}}
    end.

%% As root, ejabberdctl runs the VM as the ejabberd user: it must own its
%% directory (mnesia writes the spool, logger the logs).
give_to_ejabberd(Dir) ->
    case whoami() of
        "root" ->
            case run("/bin/chown", ["-R", ?RUN_AS ++ ":" ++ ?RUN_AS, Dir], 30000) of
                {0, _} -> ok;
                {S, Out} -> {error, {chown, S, Out}}
            end;
        _ -> ok
    end.

ctl_cfg(Handle = #{node := Node, opts := Opts, cookie := Cookie}) ->
    ["# written by stanza_ejabberd for one test run\n",
     "ERLANG_NODE=", Node, "\n",
     "INET_DIST_INTERFACE=127.0.0.1\n",
     "ERL_EPMD_ADDRESS=127.0.0.1\n",
     "ERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0 -setcookie ", Cookie, " ",
     [["-pa ", Ebin, " "] || Ebin <- drop_in_ebins(Handle)],
     maps:get(erl_options, Opts, ""), "\"\n"].

%% Each drop-in application's ebin/ and priv/ (where its NIFs are) under
%% D/drop-ins/App/: the ejabberd user can read them there whoever owns the
%% build tree, and code:priv_dir/1 finds priv/ next to ebin/.
copy_drop_ins(Handle = #{opts := Opts}) ->
    lists:foreach(
      fun(LibDir) ->
              To = filename:join(drop_in_dir(Handle), app_name(LibDir)),
              ok = filelib:ensure_dir(filename:join(To, "x")),
              [{0, _} = run("/bin/cp", ["-rL", filename:join(LibDir, Sub), To], 30000)
               || Sub <- ["ebin", "priv"], filelib:is_dir(filename:join(LibDir, Sub))]
      end, maps:get(drop_ins, Opts, [])),
    ok.

drop_in_ebins(Handle = #{opts := Opts}) ->
    [filename:join([drop_in_dir(Handle), app_name(L), "ebin"])
     || L <- maps:get(drop_ins, Opts, [])].

%% "/x/_build/test/lib/fast_xml" and "/usr/lib/erlang/lib/p1_xml-1.1.49"
%% both name their application (the version, if any, dropped).
app_name(LibDir) ->
    hd(string:split(filename:basename(LibDir), "-")).

yml(#{dir := Dir, ports := Ports, hosts := Hosts, opts := Opts}) ->
    Anon = [bin(H) || H <- maps:get(anonymous_hosts, Opts, [])],
    [yml_hosts(Hosts ++ Anon),
     "loglevel: ", atom_to_list(maps:get(loglevel, Opts, info)), "\n",
     "log_rotate_count: 0\n",
     "certfiles:\n  - \"", filename:join(Dir, "cert.pem"), "\"\n",
     "registration_timeout: infinity\n",
     "acl:\n  local:\n    user_regexp: \"\"\n",
     "  loopback:\n    ip:\n      - 127.0.0.0/8\n",
     "access_rules:\n  local:\n    allow: local\n",
     "  c2s:\n    deny: blocked\n    allow: all\n",
     "api_permissions:\n  \"console commands\":\n    from:\n      - ejabberd_ctl\n",
     "    who: all\n    what: \"*\"\n",
     "shaper_rules:\n  max_user_sessions: 10\n",
     yml_host_config(Anon),
     "listen:\n",
     yml_listeners(Ports, Opts),
     maps:get(extra_listen_yml, Opts, ""),
     "modules:\n  mod_disco: {}\n  mod_roster: {}\n  mod_ping: {}\n",
     case maps:is_key(http, Ports) of true -> "  mod_bosh: {}\n"; false -> "" end,
     maps:get(extra_modules_yml, Opts, ""),
     maps:get(extra_yml, Opts, "")].

yml_hosts(Hosts) ->
    ["hosts:\n", [["  - \"", H, "\"\n"] || H <- Hosts]].

yml_host_config([]) -> [];
yml_host_config(Anon) ->
    ["host_config:\n",
     [["  \"", H, "\":\n    auth_method: anonymous\n",
       "    anonymous_protocol: sasl_anon\n"] || H <- Anon]].

yml_listeners(Ports, Opts) ->
    [listener(Name, Port, Opts) || {Name, Port} <- lists:sort(maps:to_list(Ports))].

listener(c2s, Port, _Opts) ->
    [listen_head(Port, "ejabberd_c2s"),
     "    starttls: true\n    max_stanza_size: 262144\n    access: c2s\n"];
listener(service, Port, Opts) ->
    [listen_head(Port, "ejabberd_service"),
     "    hosts:\n",
     [["      \"", str(D), "\":\n        password: \"", str(S), "\"\n"]
      || {D, S} <- maps:get(components, Opts)]];
listener(http, Port, _Opts) ->
    [listen_head(Port, "ejabberd_http"),
     "    request_handlers:\n      /bosh: mod_bosh\n      /ws: ejabberd_http_ws\n"].

listen_head(Port, Module) ->
    ["  - port: ", integer_to_list(Port), "\n",
     "    ip: \"127.0.0.1\"\n",
     "    module: ", Module, "\n",
     "    backlog: 1024\n"].

%% ---------------------------------------------------------------------------
%% Processes

ctl(#{dir := Dir}, Args, Timeout) ->
    Base = ["--config-dir", Dir, "--spool", filename:join(Dir, "spool"),
            "--logs", filename:join(Dir, "logs")],
    run(?EJABBERDCTL, Base ++ Args, Timeout).

%% Runs a program under timeout(1), so a stuck one never outlives us.
-spec run(string(), [string()], pos_integer()) -> {integer(), binary()}.
run(Program, Args, Timeout) ->
    Seconds = integer_to_list(max(1, Timeout div 1000)),
    Port = open_port({spawn_executable, "/usr/bin/timeout"},
                     [{args, ["-k", "5", Seconds, Program | Args]},
                      exit_status, stderr_to_stdout, binary]),
    collect(Port, []).

collect(Port, Acc) ->
    receive
        {Port, {data, Data}} -> collect(Port, [Acc, Data]);
        {Port, {exit_status, Status}} -> {Status, iolist_to_binary(Acc)}
    end.

%% OS processes whose command line names this server's unique node: the
%% VM we started (and any ejabberdctl of ours still running). Nothing else
%% can carry that name.
own_pids(Node) ->
    Name = list_to_binary(Node),
    Self = os:getpid(),
    {ok, Entries} = file:list_dir("/proc"),
    [Pid || Pid <- Entries, is_digits(Pid), Pid =/= Self,
            cmdline_has(Pid, Name)].

cmdline_has(Pid, Name) ->
    case file:read_file(filename:join(["/proc", Pid, "cmdline"])) of
        {ok, Cmd} -> binary:match(Cmd, Name) =/= nomatch;
        {error, _} -> false
    end.

kill_own(Node) ->
    _ = [run("/bin/kill", ["-9", Pid], 5000) || Pid <- own_pids(Node)],
    _ = wait_until(fun() -> own_pids(Node) =:= [] end, 5000),
    ok.

%% ---------------------------------------------------------------------------
%% Distribution, for rpc/4: on loopback only, with a short unique name

join_distribution() ->
    case node() of
        nonode@nohost ->
            ok = application:set_env(kernel, inet_dist_use_interface, {127, 0, 0, 1}),
            Name = list_to_atom("stz_ctl_" ++ unique() ++ "@localhost"),
            {ok, _} = net_kernel:start([Name, shortnames]),
            persistent_term:put({?MODULE, joined}, true),
            ok;
        _ -> ok
    end.

leave_distribution() ->
    case persistent_term:get({?MODULE, joined}, false) of
        true ->
            _ = persistent_term:erase({?MODULE, joined}),
            _ = net_kernel:stop(),
            ok;
        false -> ok
    end.

%% A fresh random cookie per server: nobody else's node can talk to it.
cookie() ->
    "stz" ++ integer_to_list(rand:uniform(1 bsl 60)) ++ integer_to_list(erlang:unique_integer([positive])).

%% ---------------------------------------------------------------------------
%% Small things

wait_until(Done, Timeout) ->
    wait_until(Done, now_ms() + Timeout, 200).

wait_until(Done, Deadline, Step) ->
    case Done() of
        true -> ok;
        false ->
            case now_ms() > Deadline of
                true -> timeout;
                false -> timer:sleep(Step), wait_until(Done, Deadline, Step)
            end
    end.

remove_tree(Dir) ->
    case filelib:is_dir(Dir) of
        true -> {0, _} = run("/bin/rm", ["-rf", Dir], 60000), ok;
        false -> ok
    end.

read_or_empty(File) ->
    case file:read_file(File) of
        {ok, Bin} -> Bin;
        {error, _} -> <<>>
    end.

unique() ->
    lists:flatten(io_lib:format("~s_~b_~b",
                                [os:getpid(), erlang:unique_integer([positive]),
                                 rand:uniform(1000000)])).

whoami() ->
    string:trim(os:cmd("id -un")).

now_ms() -> erlang:monotonic_time(millisecond).

is_digits(S) -> S =/= [] andalso lists:all(fun(C) -> C >= $0 andalso C =< $9 end, S).

str(B) when is_binary(B) -> binary_to_list(B);
str(S) when is_list(S) -> S.

bin(S) when is_list(S) -> list_to_binary(S);
bin(B) when is_binary(B) -> B.
