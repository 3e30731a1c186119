%% @doc Pending requests by key, in C: the "temporary exchange" of natter,
%% keyed the way XMPP needs, `{PeerJid, Id}'.
%%
%% ```
%% 1> T = stanza_tracker:new(#{capacity => 10000}).
%% 2> Id = stanza_ids:new_id().
%% 3> ok = stanza_tracker:track(T, {<<"juliet@example.com/balcony">>, Id}, self(), 5000).
%% 4> stanza_tracker:take(T, {<<"juliet@example.com/balcony">>, Id}).
%% {ok,<0.90.0>}
%% 5> stanza_tracker:take(T, {<<"juliet@example.com/balcony">>, Id}).
%% error
%% 6> ok = stanza_tracker:track(T, {<<"romeo@example.net">>, <<"x">>}, self(), 100).
%% 7> receive {stanza_timeout, TrackerId, Key} -> {TrackerId =:= stanza_tracker:id(T), Key} end.
%% {true,{<<"romeo@example.net">>,<<"x">>}}
%% '''
%%
%% A natter-style client: the process that sends a request waits in
%% call/5 (or track/5 then await/3); the process that reads the
%% connection hands each reply to reply/3, which finds the waiting
%% process by `{From, Id}' and gives back the value stored with the
%% request:
%% ```
%% %% the caller
%% Key = {To, Id},
%% stanza_tracker:call(T, Key, 5000, #{sent => erlang:monotonic_time()},
%%                     fun() -> send(Conn, Iq) end).
%% %% -> {ok, ReplyStanza} | {error, timeout}
%% %% the connection's reader, for each reply
%% case stanza_tracker:reply(T, {From, Id}, Stanza) of
%%     {ok, _Owner, #{sent := Sent}} -> ok;     % delivered
%%     error -> unexpected_or_late                % nobody waits for it
%% end.
%% '''
%%
%% Guarantees:
%% <ul>
%% <li>Each tracked key ends exactly once: taken by one `take/2',
%% `take_value/2' or `reply/3' (of any number of racing processes, one
%% gets it, the others `error'), or timed out (the owner gets
%% `{stanza_timeout, TrackerId, Key}' once, TrackerId being id/1 of the
%% tracker), or dropped because its owner died (the tracker monitors
%% owners) or because the tracker was closed (close/1; no message).</li>
%% <li>Keys are any terms, compared exactly (`=:=': `1' and `1.0' are
%% different keys): tuples of binaries, integers and atoms in a compact
%% form, other terms in the external term format, compared byte for byte.
%% Maps with more than 32 keys have no canonical external form: do not
%% use them in keys. Keys are limited to 1 MB, and so are values (in the
%% external term format).</li>
%% <li>At most `capacity' entries; `track/4,5' past it returns
%% `{error, full}'. A key already tracked gives `{error, exists}'.</li>
%% <li>A tracker nobody references is freed by the garbage collector,
%% entries, values, monitors and timer thread included; close/1 drops
%% them at once.</li>
%% <li>The tracker is 16 shards by key hash, each with its own lock, so
%% that concurrent callers rarely wait for each other; the capacity is
%% exact for the whole tracker.</li>
%% <li>Owners are monitored once per shard they have requests in (at
%% most 16 monitors per owner), not once per request: an owner whose
%% requests in a shard are all done stays monitored there (so its next
%% request costs no monitor), up to `ceil(capacity / 16)' such idle owners
%% per shard (about `capacity' in all); past that, the owner idle longest
%% in that shard is demonitored.</li>
%% </ul>
%%
%% Timeouts are kept by one thread per tracker, started by the first
%% `track/4,5', sleeping until the earliest deadline of all shards; the
%% timeouts that are due together are sent earliest first. Create one
%% tracker for many processes (it is safe to share), not one per
%% request.
-module(stanza_tracker).

-export([new/0, new/1, id/1, track/4, track/5, take/2, take_value/2,
         reply/3, await/3, call/5, close/1, stats/1]).

-export_type([tracker/0, options/0, stats/0]).

-opaque tracker() :: reference().
-type options() :: #{capacity => pos_integer()}.
-type stats() :: stanza_ids_nif:stats().

-define(DEFAULT_CAPACITY, 65536).
-define(MAX_CAPACITY, 268435456).
%% 2^40 ms, about 35 years: the C side's bound.
-define(MAX_TIMEOUT_MS, 1099511627776).
%% How long await/3 waits past the request's own timeout for the
%% tracker's message before it gives up by itself (a closed tracker
%% sends none).
-define(AWAIT_SLACK_MS, 1000).

%% @equiv new(#{})
-spec new() -> tracker().
new() ->
    new(#{}).

%% @doc A new tracker for at most `capacity' pending requests (default
%% 65536, at most 2^28). An unknown option or a bad value raises
%% `{bad_option, Key, Value}'; options that are not a map raise
%% `{bad_options, Opts}'.
-spec new(options()) -> tracker().
new(Opts) when is_map(Opts) ->
    _ = maps:fold(fun check_option/3, ok, Opts),
    stanza_ids_nif:tracker_new(maps:get(capacity, Opts, ?DEFAULT_CAPACITY),
                               make_ref());
new(Opts) ->
    erlang:error({bad_options, Opts}, [Opts]).

check_option(capacity, N, ok) when is_integer(N), N > 0, N =< ?MAX_CAPACITY -> ok;
check_option(Key, Value, ok) -> erlang:error({bad_option, Key, Value}).

%% @doc The reference that this tracker's timeout messages carry:
%% `{stanza_timeout, id(Tracker), Key}'.
-spec id(tracker()) -> reference().
id(Tracker) ->
    stanza_ids_nif:tracker_id(Tracker).

%% @equiv track(Tracker, Key, Owner, TimeoutMs, undefined)
-spec track(tracker(), term(), pid(), non_neg_integer() | infinity) ->
          ok | {error, full | exists | noproc | closed}.
track(Tracker, Key, Owner, TimeoutMs) ->
    track(Tracker, Key, Owner, TimeoutMs, undefined).

%% @doc Tracks Key for Owner (a local pid) for TimeoutMs milliseconds
%% (or `infinity'), with Value stored alongside (take_value/2 and reply/3
%% give it back): Owner gets `{stanza_timeout, id(Tracker), Key}' when the
%% time passes and the key has not been taken. `{error, noproc}' if Owner
%% is not alive, `{error, closed}' after close/1. Bad arguments (or a
%% value over 1 MB in the external term format) raise `badarg'.
-spec track(tracker(), term(), pid(), non_neg_integer() | infinity, term()) ->
          ok | {error, full | exists | noproc | closed}.
track(Tracker, Key, Owner, infinity, Value) ->
    stanza_ids_nif:tracker_track(Tracker, Key, Owner, -1, Value);
track(Tracker, Key, Owner, TimeoutMs, Value)
  when is_integer(TimeoutMs), TimeoutMs >= 0, TimeoutMs =< ?MAX_TIMEOUT_MS ->
    stanza_ids_nif:tracker_track(Tracker, Key, Owner, TimeoutMs, Value);
track(Tracker, Key, Owner, TimeoutMs, Value) ->
    erlang:error(badarg, [Tracker, Key, Owner, TimeoutMs, Value]).

%% @doc Removes Key and returns its owner, or `error' if Key is not
%% tracked (never was, already taken, timed out, its owner died, or the
%% tracker was closed).
-spec take(tracker(), term()) -> {ok, pid()} | error.
take(Tracker, Key) ->
    case stanza_ids_nif:tracker_take(Tracker, Key) of
        {ok, Owner, _Value} -> {ok, Owner};
        error -> error
    end.

%% @doc take/2 that also gives the value stored with the request
%% (`undefined' when track/4 made it).
-spec take_value(tracker(), term()) -> {ok, pid(), term()} | error.
take_value(Tracker, Key) ->
    stanza_ids_nif:tracker_take(Tracker, Key).

%% @doc Hands Reply to the process waiting for Key: takes Key and sends
%% `{stanza_reply, id(Tracker), Key, Reply}' to its owner (what await/3
%% waits for). Returns the owner and the stored value, or `error' when
%% nobody waits for Key (unknown, already answered, timed out).
-spec reply(tracker(), term(), term()) -> {ok, pid(), term()} | error.
reply(Tracker, Key, Reply) ->
    case stanza_ids_nif:tracker_take(Tracker, Key) of
        {ok, Owner, _Value} = Taken ->
            Owner ! {stanza_reply, id(Tracker), Key, Reply},
            Taken;
        error ->
            error
    end.

%% @doc Waits, in the owner, for the answer to Key tracked with
%% TimeoutMs: `{ok, Reply}' when reply/3 handed one over, `{error,
%% timeout}' when the tracker's timeout came. Should neither come a
%% second after TimeoutMs (the tracker was closed, or someone took the
%% key with take/2), the key is taken and `{error, timeout}' returned.
%% Messages for other keys or trackers stay in the mailbox.
-spec await(tracker(), term(), non_neg_integer() | infinity) ->
          {ok, term()} | {error, timeout}.
await(Tracker, Key, TimeoutMs) ->
    Id = id(Tracker),
    receive
        {stanza_reply, Id, Key, Reply} -> {ok, Reply};
        {stanza_timeout, Id, Key} -> {error, timeout}
    after wait_ms(TimeoutMs) ->
            _ = take(Tracker, Key),
            flush(Id, Key)
    end.

%% @doc A natter-style request: tracks Key for the calling process with
%% Value, runs Send (which sends the request), and waits with await/3.
%% `{error, Reason}' from track/5 is returned without sending.
-spec call(tracker(), term(), non_neg_integer() | infinity, term(),
           fun(() -> term())) ->
          {ok, term()} | {error, timeout | full | exists | noproc | closed}.
call(Tracker, Key, TimeoutMs, Value, Send) when is_function(Send, 0) ->
    case track(Tracker, Key, self(), TimeoutMs, Value) of
        ok ->
            _ = Send(),
            await(Tracker, Key, TimeoutMs);
        {error, _} = Error ->
            Error
    end.

%% @doc Drops every pending request now (no message is sent for them,
%% and their values go), stops monitoring owners and stops the timer
%% thread; later track/5 calls return `{error, closed}'. The memory goes
%% when the tracker is garbage collected. Closing twice is fine.
-spec close(tracker()) -> ok.
close(Tracker) ->
    stanza_ids_nif:tracker_close(Tracker).

%% @doc Entries held, capacity, and bytes allocated for the tracker and
%% its entries, as counted by the tracker itself.
-spec stats(tracker()) -> stats().
stats(Tracker) ->
    stanza_ids_nif:tracker_stats(Tracker).

%%--------------------------------------------------------------------

wait_ms(infinity) -> infinity;
wait_ms(TimeoutMs) -> TimeoutMs + ?AWAIT_SLACK_MS.

%% A reply or timeout that raced with the give-up: not left behind.
flush(Id, Key) ->
    receive
        {stanza_reply, Id, Key, Reply} -> {ok, Reply};
        {stanza_timeout, Id, Key} -> {error, timeout}
    after 0 ->
            {error, timeout}
    end.
