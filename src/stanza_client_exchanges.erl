%% @doc The client's routing table: natter's "exchanges". Which process
%% gets an inbound stanza that is not the reply to one of our requests.
%%
%% An exchange is registered for a stanza type (`<<"iq">>',
%% `<<"message">>', `<<"presence">>') and a peer JID. A stanza goes to:
%% <ol>
%% <li>the exchange for its type and its sender's full JID, else</li>
%% <li>the exchange for its type and its sender's bare JID, else</li>
%% <li>the default exchange, else</li>
%% <li>nobody (it is counted as unrouted).</li>
%% </ol>
%% JIDs are compared in their prepared form (stanza_jid), so an exchange
%% for `Bar@LocalHost' gets stanzas from `bar@localhost/x'. A process that
%% dies leaves every exchange it had (the client monitors sinks).
-module(stanza_client_exchanges).

-export([new/0, register/4, unregister/3, register_default/2, unregister_default/1,
         route/3, remove_pid/2, sinks/1]).

-export_type([table/0]).

-opaque table() :: #{default := pid() | undefined,
                     routes := #{{binary(), binary()} => pid()}}.

%% @doc An empty table.
-spec new() -> table().
new() -> #{default => undefined, routes => #{}}.

%% @doc Routes stanzas of Type from PeerKey (a prepared JID) to Pid,
%% replacing any earlier exchange for the same pair.
-spec register(table(), binary(), binary(), pid()) -> table().
register(#{routes := R} = T, Type, PeerKey, Pid) when is_pid(Pid) ->
    T#{routes := R#{{Type, PeerKey} => Pid}}.

%% @doc Removes the exchange for Type and PeerKey, if any.
-spec unregister(table(), binary(), binary()) -> table().
unregister(#{routes := R} = T, Type, PeerKey) ->
    T#{routes := maps:remove({Type, PeerKey}, R)}.

%% @doc Stanzas no exchange takes go to Pid.
-spec register_default(table(), pid()) -> table().
register_default(T, Pid) when is_pid(Pid) -> T#{default := Pid}.

%% @doc No default exchange.
-spec unregister_default(table()) -> table().
unregister_default(T) -> T#{default := undefined}.

%% @doc The process for a stanza of Type from {FullKey, BareKey}, or
%% `none'.
-spec route(table(), binary(), {binary(), binary()}) -> pid() | none.
route(#{routes := R, default := Default}, Type, {Full, Bare}) ->
    case R of
        #{{Type, Full} := Pid} -> Pid;
        #{{Type, Bare} := Pid} -> Pid;
        #{} when is_pid(Default) -> Default;
        #{} -> none
    end.

%% @doc The table without any exchange of Pid (which has died).
-spec remove_pid(table(), pid()) -> table().
remove_pid(#{routes := R, default := Default} = T, Pid) ->
    T#{routes := maps:filter(fun(_, P) -> P =/= Pid end, R),
       default := case Default of Pid -> undefined; _ -> Default end}.

%% @doc Every process the table routes to.
-spec sinks(table()) -> [pid()].
sinks(#{routes := R, default := Default}) ->
    lists:usort([P || P <- [Default | maps:values(R)], is_pid(P)]).
