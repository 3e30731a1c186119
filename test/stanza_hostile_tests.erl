%% The hostile-input catalogue (stanza_hostile_catalogue) through every
%% front-end: the NIF (stanza_stream) and the port driver (stanza_port),
%% each in every format, pull mode; for all but the heaviest entries push
%% mode, the xml_stream compat module on both backends, and byte-by-byte
%% chunking too. Each outcome must be exactly the entry's expectation, and
%% the NIF and the port must give identical replies.
%%
%% After each entry: the process that owned the parsers ended normally,
%% this VM still parses, no parser is left (live_parsers/0), the port
%% driver's byte count is back to its exact baseline, and the VM's
%% driver_alloc blocks (where enif_alloc and driver_alloc both allocate)
%% and binaries are back to theirs. Entries marked heavy run in a fresh
%% peer VM, so that a crash fails one test and memory is measured in a VM
%% that does nothing else.
-module(stanza_hostile_tests).

-include_lib("eunit/include/eunit.hrl").

%% Run in peer VMs.
-export([check_named/1]).

-define(FORMATS, [binary, legacy, xmlel]).
-define(FRONT_ENDS, [stanza_stream, stanza_port]).
%% Up to this many bytes an entry is also fed one byte at a time.
-define(BYTEWISE_MAX, 4096).
%% Allowed noise over the baselines: other processes of this VM (eunit's
%% output) may hold a few driver_alloc blocks or binaries for a moment. A
%% leaked parser holds 11 KB after a stream header, a leaked stanza more.
-define(DRIVER_ALLOC_SLACK, 4096).
-define(BINARY_SLACK, 262144).
%% All the runs of an input that must be refused early (ASan included).
-define(REFUSAL_MS, 10000).

%%====================================================================
%% Tests
%%====================================================================

%% The catalogue itself: big enough, names unique, every class the
%% hardening issue lists present.
catalogue_contents_test() ->
    Entries = stanza_hostile_catalogue:entries(),
    Names = [N || #{name := N} <- Entries],
    ?assert(length(Entries) >= 60),
    ?assertEqual(length(Names), length(lists:usort(Names))),
    Required = ["billion laughs", "quadratic blowup",
                "external entity (SYSTEM)", "DOCTYPE after the stream header",
                "1M attributes under a 64 KB limit", "1M attributes, no limit",
                "100k-deep nesting, default max_depth",
                "100 MB of text under a 64 KB limit",
                "invalid UTF-8 in text: overlong 2-byte (C0)",
                "invalid UTF-8 in text: high surrogate",
                "invalid UTF-8 in text: truncated 3-byte sequence",
                "invalid UTF-8 in text: byte FE",
                "invalid UTF-8 in text: byte FF",
                "raw NUL in text", "raw escape in text",
                "1 MB element name, no limit", "unbound element prefix",
                "duplicate attribute", "mismatched tags",
                "junk after the stream end",
                "3-byte character split in three",
                "restart in the middle of a stanza"],
    ?assertEqual([], Required -- Names),
    io:format(user, "~nhostile catalogue: ~b entries in ~b classes~n",
              [length(Entries),
               length(lists:usort([C || #{class := C} <- Entries]))]).

catalogue_test_() ->
    [{Name, {timeout, 120, fun() -> check_entry(E) end}}
     || #{name := Name} = E <- stanza_hostile_catalogue:entries()].

%%====================================================================
%% One entry
%%====================================================================

check_entry(#{heavy := true, name := Name}) ->
    Started = erlang:monotonic_time(millisecond),
    ?assertEqual({ok, []},
                 stanza_test_util:in_peer(?MODULE, check_named, [Name])),
    report_time(Name, Started),
    assert_alive();
check_entry(#{name := Name} = Entry) ->
    Started = erlang:monotonic_time(millisecond),
    ?assertEqual([], failures(Entry)),
    report_time(Name, Started),
    assert_alive().

%% In a peer VM: the failures of the named entry, memory included.
check_named(Name) ->
    [Entry] = [E || #{name := N} = E <- stanza_hostile_catalogue:entries(),
                    N =:= Name],
    %% The driver loads, and the NIF allocates its first terms, once.
    ok = warm_up(),
    failures(Entry).

%% Everything wrong with one entry: outcomes, parity, time, memory.
failures(Entry) ->
    ok = warm_up(),
    Baseline = memory_now(),
    Started = erlang:monotonic_time(millisecond),
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), run_all(Entry)} end),
    Failures = receive
                   {Pid, F} ->
                       receive {'DOWN', Ref, process, Pid, _} -> F end;
                   {'DOWN', Ref, process, Pid, Reason} ->
                       [{owner_died, Reason}]
               end,
    Ms = erlang:monotonic_time(millisecond) - Started,
    Failures ++ time_failures(Entry, Ms) ++ memory_failures(Baseline).

%% An input refused within its first chunks is refused in bounded time:
%% all the runs of such an entry (up to 16 parsers) take seconds at most,
%% however big the input would have been.
time_failures(#{max_chunks := _}, Ms) when Ms > ?REFUSAL_MS ->
    [{refusal_took_ms, {at_most, ?REFUSAL_MS}, Ms}];
time_failures(_Entry, _Ms) ->
    [].

report_time(Name, Started) ->
    Ms = erlang:monotonic_time(millisecond) - Started,
    case Ms > 1000 of
        true -> io:format(user, "~n  ~s: ~b ms", [Name, Ms]);
        false -> ok
    end.

%% This VM still parses, through both front-ends.
assert_alive() ->
    ?assertEqual({ok, {xmlelement, <<"ok">>, [], []}},
                 stanza_stream:parse_element(<<"<ok/>">>)),
    ?assertEqual({ok, {xmlelement, <<"ok">>, [], []}},
                 stanza_port:parse_element(<<"<ok/>">>)).

warm_up() ->
    {ok, _} = stanza_stream:parse_element(<<"<a b='c'>d</a>">>),
    {ok, _} = stanza_port:parse_element(<<"<a b='c'>d</a>">>),
    _ = driver_bytes(),
    ok.

%%====================================================================
%% Running an entry every way
%%====================================================================

%% The failures of every run of the entry, as {What, Expected, Got}.
run_all(#{} = Entry) ->
    Heavy = maps:get(heavy, Entry, false),
    lists:append(
      [pull_failures(Entry, Format) || Format <- ?FORMATS] ++
          [push_failures(Entry, Format) || not Heavy, Format <- ?FORMATS] ++
          [compat_failures(Entry, Backend)
           || not Heavy, compat_applies(Entry), Backend <- [nif, port]] ++
          [bytewise_failures(Entry, FrontEnd)
           || not Heavy, bytewise_applies(Entry), FrontEnd <- ?FRONT_ENDS]).

%% NIF and port, pull mode: identical replies, and the expected events.
pull_failures(Entry, Format) ->
    [Nif, Port] = [run(FrontEnd, pull, Entry, Format) || FrontEnd <- ?FRONT_ENDS],
    parity({pull, Format}, Nif, Port) ++
        outcome_failures({stanza_stream, pull, Format}, Entry, Format, Nif) ++
        outcome_failures({stanza_port, pull, Format}, Entry, Format, Port).

push_failures(Entry, Format) ->
    [Nif, Port] = [run(FrontEnd, push, Entry, Format) || FrontEnd <- ?FRONT_ENDS],
    parity({push, Format}, Nif, Port) ++
        outcome_failures({stanza_stream, push, Format}, Entry, Format, Nif) ++
        outcome_failures({stanza_port, push, Format}, Entry, Format, Port).

compat_failures(Entry, Backend) ->
    outcome_failures({xml_stream, Backend}, Entry, legacy,
                     run({xml_stream, Backend}, push, Entry, legacy)).

bytewise_failures(Entry, FrontEnd) ->
    Bytes = maps:update_with(input, fun bytewise/1, Entry),
    outcome_failures({FrontEnd, bytewise}, Entry, binary,
                     run(FrontEnd, pull, Bytes, binary)).

parity(_What, Same, Same) -> [];
parity(What, Nif, Port) -> [{{nif_port_parity, What}, brief(Nif), brief(Port)}].

%% The outcome against the entry's expectation, in that format.
outcome_failures(What, Entry, Format, #{events := Events} = Outcome) ->
    Expected = [expected(Format, E) || E <- maps:get(expect, Entry)],
    Summarize = maps:get(summary, Entry, false),
    Got = [canonical(Format, Summarize, E) || E <- Events],
    mismatch(What, Expected, Got) ++
        [{{What, rule}, [], brief(V)} || V <- maps:get(violations, Outcome)] ++
        chunk_failures(What, Entry, Outcome).

mismatch(_What, Same, Same) -> [];
mismatch(What, Expected, Got) -> [{What, Expected, brief(Got)}].

%% A lazy input must be refused within max_chunks of its chunks.
chunk_failures(What, #{max_chunks := Max}, #{error_at := At})
  when At =:= none; At > Max ->
    [{{What, chunks_read_before_error}, {at_most, Max}, At}];
chunk_failures(_What, _Entry, _Outcome) ->
    [].

%% xml_stream drops comments and processing instructions, and takes no
%% option but the size limit.
compat_applies(#{class := restricted}) ->
    false;
compat_applies(#{} = Entry) ->
    Opts = maps:get(opts, Entry, #{}),
    maps:keys(maps:without([max_stanza_size], Opts)) =:= [].

bytewise_applies(#{input := Chunks}) when is_list(Chunks) ->
    iolist_size([C || C <- Chunks, is_binary(C)]) =< ?BYTEWISE_MAX;
bytewise_applies(#{}) ->
    false.

bytewise(Chunks) ->
    lists:append([case C of
                      reset -> [reset];
                      Bin -> [<<B>> || <<B>> <= Bin]
                  end || C <- Chunks]).

%%====================================================================
%% One run: a parser fed the input chunk by chunk
%%====================================================================

%% #{events, violations, error_at}: the events of the whole input (an
%% error's repeats left out), the broken rules (an error not last in its
%% chunk, not repeated alone afterwards, a push-mode parse that returned
%% events), and the number of the chunk that gave the first error.
run(FrontEnd, Mode, Entry, Format) ->
    Opts = (maps:get(opts, Entry, #{}))#{format => Format},
    Handle = open(FrontEnd, Mode, Opts),
    try
        feed(Handle, source(maps:get(input, Entry)),
             #{events => [], violations => [], error => none, fed => 0,
               error_at => none})
    after
        ok = close(Handle)
    end.

open({xml_stream, Backend}, push, Opts) ->
    application:set_env(stanza, xml_stream_backend, Backend),
    try
        {xml_stream, xml_stream:new(self(), maps:get(max_stanza_size, Opts,
                                                     infinity))}
    after
        application:unset_env(stanza, xml_stream_backend)
    end;
open(FrontEnd, pull, Opts) ->
    {ok, P} = FrontEnd:new(Opts),
    {FrontEnd, pull, P};
open(FrontEnd, push, Opts) ->
    {ok, P} = FrontEnd:new(Opts#{callback => self()}),
    {FrontEnd, push, P}.

%% {Events, Violations} of one chunk.
parse({xml_stream, S}, Chunk) ->
    _ = xml_stream:parse(S, Chunk),
    {stanza_test_util:gen_events(), []};
parse({FrontEnd, pull, P}, Chunk) ->
    {ok, Events} = FrontEnd:parse(P, Chunk),
    {Events, []};
parse({FrontEnd, push, P}, Chunk) ->
    case FrontEnd:parse(P, Chunk) of
        {ok, []} -> {stanza_test_util:gen_events(), []};
        Other -> {stanza_test_util:gen_events(), [{push_reply, Other}]}
    end.

reset({xml_stream, S}) ->
    _ = xml_stream:reset(S),
    ok;
reset({FrontEnd, _, P}) ->
    FrontEnd:reset(P).

close({xml_stream, S}) ->
    true = xml_stream:close(S),
    ok;
close({FrontEnd, _, P}) ->
    FrontEnd:close(P).

%% Chunks on demand: a list, or chunk I of a lazy input made when needed.
source(Chunks) when is_list(Chunks) -> {list, Chunks};
source({lazy, Count, Fun}) -> {lazy, 1, Count, Fun}.

next({list, []}) -> done;
next({list, [C | Rest]}) -> {C, {list, Rest}};
next({lazy, I, Count, _Fun}) when I > Count -> done;
next({lazy, I, Count, Fun}) -> {Fun(I), {lazy, I + 1, Count, Fun}}.

feed(Handle, Source, State) ->
    case next(Source) of
        done ->
            finish(State);
        {reset, Rest} ->
            ok = reset(Handle),
            #{events := Events} = State,
            feed(Handle, Rest, State#{events := [reset | Events],
                                      error := none});
        {Chunk, Rest} ->
            State1 = take_chunk(parse(Handle, Chunk), State),
            case stop_reading(Rest, State1) of
                true -> finish(State1);
                false -> feed(Handle, Rest, State1)
            end
    end.

%% A lazy input is read until one chunk after its error (to see the error
%% repeated): the rest would only repeat it again.
stop_reading({lazy, _, _, _}, #{error_at := At, fed := Fed}) ->
    At =/= none andalso Fed > At;
stop_reading({list, _}, _State) ->
    false.

take_chunk({Events, Violations}, #{fed := Fed} = State) ->
    State1 = State#{fed := Fed + 1},
    note(Violations, chunk_events(Events, State1)).

chunk_events(Events, #{error := none, fed := Fed} = State) ->
    case [E || {xmlstreamerror, _} = E <- Events] of
        [] ->
            add_events(Events, State);
        [Error] ->
            Last = lists:last(Events),
            State1 = add_events(Events, State#{error := Error,
                                               error_at := first(State, Fed)}),
            note([{error_not_last, Events} || Last =/= Error], State1);
        Errors ->
            note([{several_errors, Errors}], add_events(Events, State))
    end;
chunk_events([Error], #{error := Error} = State) ->
    State;
chunk_events(Events, #{error := Error} = State) ->
    note([{error_not_repeated, Error, Events}], State).

first(#{error_at := none}, Fed) -> Fed;
first(#{error_at := At}, _Fed) -> At.

add_events(Events, #{events := Acc} = State) ->
    State#{events := lists:reverse(Events, Acc)}.

note([], State) -> State;
note(New, #{violations := V} = State) -> State#{violations := V ++ New}.

finish(#{events := Events} = State) ->
    maps:with([events, violations, error_at],
              State#{events := lists:reverse(Events)}).

%%====================================================================
%% Formats: expectations are written in the binary format
%%====================================================================

%% The expected event as the given format must show it. Legacy errors are
%% ejabberd 2.x's: the size string, or {Code, String}, here just the code.
expected(legacy, {xmlstreamerror, Reason}) ->
    {xmlstreamerror, {legacy, legacy_code(Reason)}};
expected(_Format, Event) ->
    Event.

legacy_code(stanza_too_big) -> too_big;
legacy_code(too_deep) -> 35;
legacy_code({restricted_xml, entity_reference}) -> 11;
legacy_code({restricted_xml, _}) -> 35;
legacy_code({not_well_formed, Code, _Offset}) -> Code.

%% A received event in the binary format, its shape in Format checked on
%% the way (a legacy name that is not a string does not convert).
canonical(_Format, _Summarize, reset) ->
    reset;
canonical(Format, _Summarize, {xmlstreamerror, Reason}) ->
    {xmlstreamerror, canonical_reason(Format, Reason)};
canonical(Format, _Summarize, {xmlstreamstart, Name, Attrs}) ->
    {xmlstreamstart, name(Format, Name), attrs(Format, Attrs)};
canonical(Format, _Summarize, {xmlstreamend, Name}) ->
    {xmlstreamend, name(Format, Name)};
canonical(Format, true, {xmlstreamelement, El}) ->
    {xmlstreamelement, stanza_hostile_catalogue:summary(to_element(Format, El))};
canonical(Format, false, {xmlstreamelement, El}) ->
    {xmlstreamelement, to_element(Format, El)}.

canonical_reason(legacy, "XML stanza is too big") ->
    {legacy, too_big};
canonical_reason(legacy, {Code, [_ | _]}) when is_integer(Code) ->
    {legacy, Code};
canonical_reason(Format, {not_well_formed, #{code := Code, offset := Offset,
                                             message := <<_, _/binary>>,
                                             line := Line, column := Column}})
  when Format =/= legacy, Line >= 1, Column >= 0 ->
    {not_well_formed, Code, Offset};
canonical_reason(Format, Reason) when Format =/= legacy, is_atom(Reason) ->
    Reason;
canonical_reason(Format, {restricted_xml, _} = Reason) when Format =/= legacy ->
    Reason.

to_element(binary, {xmlelement, Name, Attrs, Children})
  when is_binary(Name) ->
    {xmlelement, Name, attrs(binary, Attrs),
     [child(binary, C) || C <- Children]};
to_element(xmlel, {xmlel, Name, Attrs, Children}) when is_binary(Name) ->
    {xmlelement, Name, attrs(xmlel, Attrs), [child(xmlel, C) || C <- Children]};
to_element(legacy, {xmlelement, Name, Attrs, Children}) when is_list(Name) ->
    {xmlelement, name(legacy, Name), attrs(legacy, Attrs),
     [child(legacy, C) || C <- Children]}.

child(_Format, {xmlcdata, Text}) when is_binary(Text) -> {xmlcdata, Text};
child(Format, El) -> to_element(Format, El).

name(legacy, Name) when is_list(Name) -> list_to_binary(Name);
name(Format, Name) when Format =/= legacy, is_binary(Name) -> Name.

attrs(Format, Attrs) ->
    [{name(Format, K), name(Format, V)} || {K, V} <- Attrs].

%% Enough of a term to read in a failure report, never megabytes of it.
brief(Term) ->
    lists:flatten(io_lib:format("~P", [Term, 40])).

%%====================================================================
%% Memory
%%====================================================================

memory_now() ->
    settle(),
    #{parsers => stanza_stream:live_parsers(),
      driver_alloc => stanza_test_util:driver_alloc_bytes(),
      driver_bytes => driver_bytes(),
      binary => erlang:memory(binary)}.

%% Back to the baseline: exactly for the parsers and the port driver's own
%% count, within a few KB for the VM-wide figures, once the garbage of
%% every process is collected (polled: a port closes asynchronously).
memory_failures(Baseline) ->
    Back = fun() -> memory_back(Baseline, memory_now()) end,
    case stanza_test_util:poll(Back, 5000) of
        true -> [];
        false -> [{memory_not_back, Baseline, memory_now()}]
    end.

memory_back(#{parsers := P0, driver_alloc := A0, driver_bytes := D0,
              binary := B0},
            #{parsers := P, driver_alloc := A, driver_bytes := D, binary := B}) ->
    P =< P0 andalso D =:= D0 andalso A =< A0 + ?DRIVER_ALLOC_SLACK andalso
        B =< B0 + ?BINARY_SLACK.

settle() ->
    _ = [erlang:garbage_collect(Pid) || Pid <- processes()],
    ok.

%% The port driver's allocations, counted in C, over all ports but the
%% one opened to ask.
driver_bytes() ->
    {ok, P} = stanza_port:new(),
    {ok, #{driver_bytes := Bytes}} = stanza_port:info(P),
    ok = stanza_port:close(P),
    Bytes.
