%% @private
%% @doc Where stanza's shared objects live, whether stanza runs as an
%% application, as a rebar3 dependency or from a bare `erl -pa ebin'.
-module(stanza_priv).

-export([dir/0, load_nif_result/3]).

-spec dir() -> file:filename().
dir() ->
    case code:priv_dir(stanza) of
        {error, bad_name} ->
            Ebin = filename:dirname(code:which(?MODULE)),
            filename:join(filename:dirname(Ebin), "priv");
        Dir ->
            Dir
    end.

%% @doc What a NIF module's on_load returns, given the result of its
%% erlang:load_nif/2 call (only the module itself can make that call): a
%% failure is logged with what the library needs to be built.
-spec load_nif_result(file:filename(), ok | {error, term()}, string()) ->
          ok | {error, term()}.
load_nif_result(_Path, ok, _Needs) ->
    ok;
load_nif_result(Path, {error, Reason} = Error, Needs) ->
    logger:error("stanza: cannot load ~ts.so: ~p~n"
                 "Build it with `make` in the stanza directory (needs ~ts).",
                 [Path, Reason, Needs]),
    Error.
