%% @private
%% @doc Loading the stanza_drv port driver and talking to it. Call
%% stanza_port, not this module.
%%
%% The driver is loaded on first use from stanza's priv directory and then
%% stays loaded for the life of the node (it locks itself in memory, as a
%% linked-in driver is), so opening a port costs no erl_ddll call.
-module(stanza_port_driver).

-export([open/0, load/1, configure/2, reset/1, stats/1, continue/1]).

-define(NAME, "stanza_drv").
-define(CMD_OPTIONS, 1).
-define(CMD_RESET, 2).
-define(CMD_STATS, 3).
-define(CMD_CONTINUE, 4).

-type stats() :: #{bytes := non_neg_integer(),
                   messages := non_neg_integer(),
                   busy_ns := non_neg_integer(),
                   deliver_ns := non_neg_integer(),
                   yields := non_neg_integer(),
                   fragments := non_neg_integer(),
                   driver_bytes := non_neg_integer(),
                   driver_ports := non_neg_integer()}.
-export_type([stats/0]).

%% @doc A new port of the driver, owned (and linked) by the caller.
%% Raises `{stanza_driver_not_loaded, Path, Why}' when the driver cannot
%% be loaded.
-spec open() -> port().
open() ->
    try open_port({spawn_driver, ?NAME}, [binary])
    catch
        error:badarg ->
            ok = load(stanza_priv:dir()),
            open_port({spawn_driver, ?NAME}, [binary])
    end.

%% @doc Loads the driver from Dir; ok if it is loaded already.
-spec load(file:filename()) -> ok.
load(Dir) ->
    case erl_ddll:load_driver(Dir, ?NAME) of
        ok ->
            ok;
        {error, Reason} ->
            Path = filename:join(Dir, ?NAME ++ ".so"),
            erlang:error({stanza_driver_not_loaded, Path,
                          erl_ddll:format_error(Reason)})
    end.

%% @doc Sets the options of a port that has parsed nothing yet.
-spec configure(port(), {stanza_options:settings(), 0 | 1}) -> ok.
configure(Port, {{Format, MaxSize, MaxDepth, Drop}, ElementMode}) ->
    Options = <<Format:8, Drop:8, ElementMode:8, MaxDepth:64, MaxSize:64>>,
    {ok, []} = control(Port, ?CMD_OPTIONS, Options),
    ok.

-spec reset(port()) -> ok | {error, closed | not_owner}.
reset(Port) ->
    case control(Port, ?CMD_RESET, <<>>) of
        {ok, []} -> ok;
        Error -> Error
    end.

-spec stats(port()) -> {ok, stats()} | {error, closed | not_owner}.
stats(Port) ->
    case control(Port, ?CMD_STATS, <<>>) of
        {ok, Reply} ->
            <<Bytes:64, Messages:64, BusyNs:64, DeliverNs:64, Yields:64,
              Fragments:64, DriverBytes:64, DriverPorts:64>> =
                list_to_binary(Reply),
            {ok, #{bytes => Bytes, messages => Messages, busy_ns => BusyNs,
                   deliver_ns => DeliverNs, yields => Yields,
                   fragments => Fragments,
                   driver_bytes => DriverBytes, driver_ports => DriverPorts}};
        Error ->
            Error
    end.

%% @doc Has the driver parse on after a `more' message.
-spec continue(port()) -> ok | {error, closed | not_owner}.
continue(Port) ->
    case control(Port, ?CMD_CONTINUE, <<>>) of
        {ok, []} -> ok;
        Error -> Error
    end.

%% The reply starts with a status byte (see stanza_drv.c).
control(Port, Command, Data) ->
    try erlang:port_control(Port, Command, Data) of
        [0 | Reply] -> {ok, Reply};
        [1] -> {error, not_owner};
        [2] -> erlang:error(badarg, [Port, Command, Data]);
        [3] -> erlang:error(out_of_memory)
    catch
        error:badarg -> {error, closed}
    end.
