%% @doc A seeded random inspector for fault-injection tests: each stanza
%% is dropped, delayed or duplicated with the probabilities given, and
%% otherwise routed. The same seed and the same stanzas give the same
%% decisions.
%%
%% ```
%% {inspector, {stanza_random_inspector,
%%              #{seed => 42, drop => 0.1, delay => 0.1, duplicate => 0.1,
%%                max_delay_ms => 200, directions => [in, out]}}}
%% '''
%% Counts of what it did are kept in its state and reported by
%% `stanza_client:stats/1' under `inspector'.
-module(stanza_random_inspector).
-behaviour(stanza_inspector).

-export([init/1, inspect/3]).

-export_type([options/0]).

-type options() :: #{seed => integer(), drop => float(), delay => float(),
                     duplicate => float(), max_delay_ms => pos_integer(),
                     directions => [stanza_inspector:direction()]}.

%% @doc Validates the options and seeds the generator.
-spec init(options()) -> {ok, map()}.
init(Opts) when is_map(Opts) ->
    Drop = probability(drop, Opts),
    Delay = probability(delay, Opts),
    Duplicate = probability(duplicate, Opts),
    Drop + Delay + Duplicate =< 1.0 orelse erlang:error({bad_option, probabilities, Opts}),
    MaxDelay = maps:get(max_delay_ms, Opts, 100),
    (is_integer(MaxDelay) andalso MaxDelay > 0)
        orelse erlang:error({bad_option, max_delay_ms, MaxDelay}),
    Seed = maps:get(seed, Opts, erlang:unique_integer()),
    {ok, #{rand => rand:seed_s(exsss, Seed), drop => Drop, delay => Delay,
           duplicate => Duplicate, max_delay_ms => MaxDelay,
           directions => maps:get(directions, Opts, [in, out]),
           counts => #{route => 0, drop => 0, delay => 0, duplicate => 0}}}.

%% @doc One decision.
-spec inspect(stanza_inspector:direction(), stanza_xml:element(), map()) ->
          {stanza_inspector:action(), map()}.
inspect(Direction, _Stanza, #{directions := Directions} = S) ->
    case lists:member(Direction, Directions) of
        true -> decide(S);
        false -> count(route, route, S)
    end.

decide(#{rand := R0, drop := Drop, delay := Delay, duplicate := Dup,
         max_delay_ms := MaxDelay} = S) ->
    {X, R1} = rand:uniform_s(R0),
    S1 = S#{rand := R1},
    if X =< Drop -> count(drop, drop, S1);
       X =< Drop + Delay ->
            {Ms, R2} = rand:uniform_s(MaxDelay, R1),
            count(delay, {delay, Ms}, S1#{rand := R2});
       X =< Drop + Delay + Dup -> count(duplicate, {duplicate, 1}, S1);
       true -> count(route, route, S1)
    end.

count(Kind, Action, #{counts := Counts} = S) ->
    {Action, S#{counts := maps:update_with(Kind, fun(N) -> N + 1 end, Counts)}}.

probability(Name, Opts) ->
    case maps:get(Name, Opts, 0.0) of
        P when is_number(P), P >= 0, P =< 1 -> float(P);
        P -> erlang:error({bad_option, Name, P})
    end.
