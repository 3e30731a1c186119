%% @private
%% @doc The NIF behind stanza_ids, stanza_dedup and stanza_tracker. Call
%% those modules, not this one: they check arguments first.
-module(stanza_ids_nif).

-export([new_id/0, random_id/0,
         dedup_new/2, dedup_seen/2, dedup_stats/1, dedup_close/1,
         tracker_new/2, tracker_track/5, tracker_take/2, tracker_stats/1,
         tracker_close/1, tracker_id/1,
         live/0]).

-on_load(load/0).

-type stats() :: #{size := non_neg_integer(), capacity := pos_integer(),
                   memory := non_neg_integer()}.
-export_type([stats/0]).

-spec load() -> ok | {error, term()}.
load() ->
    Path = filename:join(stanza_priv:dir(), "stanza_ids_nif"),
    stanza_priv:load_nif_result(Path, erlang:load_nif(Path, 0),
                                "libssl-dev and erlang-dev").

-spec new_id() -> binary().
new_id() ->
    erlang:nif_error(nif_not_loaded).

-spec random_id() -> binary().
random_id() ->
    erlang:nif_error(nif_not_loaded).

-spec dedup_new(pos_integer(), pos_integer()) -> reference().
dedup_new(_Capacity, _TtlMs) ->
    erlang:nif_error(nif_not_loaded).

-spec dedup_seen(reference(), iodata()) -> boolean() | closed.
dedup_seen(_Table, _Key) ->
    erlang:nif_error(nif_not_loaded).

-spec dedup_stats(reference()) -> stats() | closed.
dedup_stats(_Table) ->
    erlang:nif_error(nif_not_loaded).

-spec dedup_close(reference()) -> ok.
dedup_close(_Table) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_new(pos_integer(), reference()) -> reference().
tracker_new(_Capacity, _Id) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_track(reference(), term(), pid(), integer(), term()) ->
          ok | {error, full | exists | noproc | closed}.
tracker_track(_Tracker, _Key, _Owner, _TimeoutMs, _Value) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_take(reference(), term()) -> {ok, pid(), term()} | error.
tracker_take(_Tracker, _Key) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_close(reference()) -> ok.
tracker_close(_Tracker) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_id(reference()) -> reference().
tracker_id(_Tracker) ->
    erlang:nif_error(nif_not_loaded).

-spec tracker_stats(reference()) -> stats().
tracker_stats(_Tracker) ->
    erlang:nif_error(nif_not_loaded).

-spec live() -> {non_neg_integer(), non_neg_integer()}.
live() ->
    erlang:nif_error(nif_not_loaded).
