%% @private
%% @doc Where stanza's shared objects live, whether stanza runs as an
%% application, as a rebar3 dependency or from a bare `erl -pa ebin'.
-module(stanza_priv).

-export([dir/0]).

-spec dir() -> file:filename().
dir() ->
    case code:priv_dir(stanza) of
        {error, bad_name} ->
            Ebin = filename:dirname(code:which(?MODULE)),
            filename:join(filename:dirname(Ebin), "priv");
        Dir ->
            Dir
    end.
