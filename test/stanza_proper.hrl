%% The few PropEr macros the property tests use, written on PropEr's API:
%% Debian's erlang-proper package has no proper.hrl (that file is in
%% erlang-proper-dev).
-define(FORALL(X, Type, Prop), proper:forall(Type, fun(X) -> Prop end)).
-define(BIND(X, Type, Gen), proper_types:bind(Type, fun(X) -> Gen end, false)).
-define(LAZY(Gen), proper_types:lazy(fun() -> Gen end)).
-define(WHENFAIL(Action, Prop),
        proper:whenfail(fun() -> Action end, fun() -> Prop end)).
