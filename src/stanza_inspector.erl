%% @doc The client's fault-injection hook (natter's "fuzzing engine"):
%% a module called on every stanza the client receives (`in') and sends
%% (`out'), which decides what happens to it.
%%
%% ```
%% -module(drop_pings).
%% -behaviour(stanza_inspector).
%% -export([init/1, inspect/3]).
%% init(_) -> {ok, nostate}.
%% inspect(in, {xmlel, <<"iq">>, _, [{xmlel, <<"ping">>, _, _}]}, S) -> {drop, S};
%% inspect(_, _, S) -> {route, S}.
%% '''
%% Pass it to the client as `{inspector, {drop_pings, Args}}'.
%%
%% Actions:
%% <ul>
%% <li>`route': handle the stanza as usual;</li>
%% <li>`drop': as if it was never sent or received;</li>
%% <li>`{delay, Ms}': handle it Ms milliseconds later (later stanzas may
%% overtake it);</li>
%% <li>`{duplicate, N}': handle it N + 1 times;</li>
%% <li>`{replace, Element}': handle Element instead.</li>
%% </ul>
%% The client calls the inspector in its own process: an inspector must
%% not block.
-module(stanza_inspector).

-export([apply_action/2]).

-export_type([direction/0, action/0]).

-type direction() :: in | out.
-type action() :: route | drop | {delay, non_neg_integer()}
                | {duplicate, pos_integer()} | {replace, stanza_xml:element()}.

-callback init(Args :: term()) -> {ok, State :: term()}.
-callback inspect(direction(), stanza_xml:element(), State :: term()) ->
    {action(), NewState :: term()}.

%% @doc What an action makes of a stanza: the stanzas to handle now, and
%% those to handle after a delay (`{Ms, Stanza}').
-spec apply_action(action(), Stanza) ->
          {Now :: [Stanza | stanza_xml:element()],
           Later :: [{non_neg_integer(), Stanza}]}.
apply_action(route, Stanza) -> {[Stanza], []};
apply_action(drop, _) -> {[], []};
apply_action({delay, Ms}, Stanza) when is_integer(Ms), Ms >= 0 -> {[], [{Ms, Stanza}]};
apply_action({duplicate, N}, Stanza) when is_integer(N), N > 0 ->
    {lists:duplicate(N + 1, Stanza), []};
apply_action({replace, Element}, _) -> {[Element], []};
apply_action(Other, _) -> erlang:error({bad_inspector_action, Other}).
