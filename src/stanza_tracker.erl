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
%% 7> receive M -> M after 1000 -> none end.
%% {stanza_timeout,{<<"romeo@example.net">>,<<"x">>}}
%% '''
%%
%% Guarantees:
%% <ul>
%% <li>Each tracked key ends exactly once: taken by one `take/2' (of any
%% number of racing processes, one gets `{ok, Owner}', the others
%% `error'), or timed out (the owner gets `{stanza_timeout, Key}' once),
%% or dropped because its owner died (the tracker monitors owners).</li>
%% <li>Keys are any terms, compared exactly (`=:=': `1' and `1.0' are
%% different keys): tuples of binaries, integers and atoms in a compact
%% form, other terms in the external term format, compared byte for byte.
%% Maps with more than 32 keys have no canonical external form: do not
%% use them in keys. Keys are limited to 1 MB.</li>
%% <li>At most `capacity' entries; `track/4' past it returns
%% `{error, full}'. A key already tracked gives `{error, exists}'.</li>
%% <li>A tracker nobody references is freed by the garbage collector,
%% entries, monitors and timer thread included.</li>
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
%% `track/4', sleeping until the earliest deadline of all shards; the
%% timeouts that are due together are sent earliest first. Create one
%% tracker for many processes (it is safe to share), not one per
%% request.
-module(stanza_tracker).

-export([new/0, new/1, track/4, take/2, stats/1]).

-export_type([tracker/0, options/0, stats/0]).

-opaque tracker() :: reference().
-type options() :: #{capacity => pos_integer()}.
-type stats() :: stanza_ids_nif:stats().

-define(DEFAULT_CAPACITY, 65536).
-define(MAX_CAPACITY, 268435456).
%% 2^40 ms, about 35 years: the C side's bound.
-define(MAX_TIMEOUT_MS, 1099511627776).

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
    stanza_ids_nif:tracker_new(maps:get(capacity, Opts, ?DEFAULT_CAPACITY));
new(Opts) ->
    erlang:error({bad_options, Opts}, [Opts]).

check_option(capacity, N, ok) when is_integer(N), N > 0, N =< ?MAX_CAPACITY -> ok;
check_option(Key, Value, ok) -> erlang:error({bad_option, Key, Value}).

%% @doc Tracks Key for Owner (a local pid) for TimeoutMs milliseconds
%% (or `infinity'): Owner gets `{stanza_timeout, Key}' when it passes and
%% the key has not been taken. `{error, noproc}' if Owner is not alive.
-spec track(tracker(), term(), pid(), non_neg_integer() | infinity) ->
          ok | {error, full | exists | noproc}.
track(Tracker, Key, Owner, infinity) ->
    stanza_ids_nif:tracker_track(Tracker, Key, Owner, -1);
track(Tracker, Key, Owner, TimeoutMs)
  when is_integer(TimeoutMs), TimeoutMs >= 0, TimeoutMs =< ?MAX_TIMEOUT_MS ->
    stanza_ids_nif:tracker_track(Tracker, Key, Owner, TimeoutMs);
track(Tracker, Key, Owner, TimeoutMs) ->
    erlang:error(badarg, [Tracker, Key, Owner, TimeoutMs]).

%% @doc Removes Key and returns its owner, or `error' if Key is not
%% tracked (never was, already taken, timed out, or its owner died).
-spec take(tracker(), term()) -> {ok, pid()} | error.
take(Tracker, Key) ->
    stanza_ids_nif:tracker_take(Tracker, Key).

%% @doc Entries held, capacity, and bytes allocated for the tracker and
%% its entries, as counted by the tracker itself.
-spec stats(tracker()) -> stats().
stats(Tracker) ->
    stanza_ids_nif:tracker_stats(Tracker).
