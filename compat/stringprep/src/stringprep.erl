%% @doc The `stringprep' module of ProcessOne's fast_stringprep (1.0.29:
%% Debian's erlang-p1-stringprep) on stanza's C stringprep, for code such
%% as ejabberd's jid module. Opt-in: a project gets this module only if
%% it adds the `stringprep' application from compat/ (compat/README.md).
%%
%% Same functions, same answers (a binary, or `error'; `badarg' for a
%% term that is not iodata), except where fast_stringprep is wrong;
%% doc/jid.md lists the differences, measured:
%% <ul>
%% <li>invalid UTF-8 (overlong forms, surrogates, above U+10FFFF,
%% truncated sequences) is `error' (fast_stringprep accepts overlongs:
%% nameprep of `<<"User", 16#C0, 16#AF, "X">>' gave `<<"user/x">>');</li>
%% <li>combining marks are ordered and composed as Unicode 3.2's NFKC
%% says (fast_stringprep's output is sometimes not normalized at all);</li>
%% <li>input longer than 1023 bytes is `error' without being read (a JID
%% part is at most 1023 bytes; fast_stringprep has no bound).</li>
%% </ul>
%%
%% ```
%% 1> stringprep:nodeprep(<<"Juliet">>).
%% <<"juliet">>
%% 2> stringprep:nameprep(<<"User", 16#C0, 16#AF, "X">>).
%% error
%% '''
-module(stringprep).

-export([start/0, nodeprep/1, nameprep/1, resourceprep/1, tolower/1,
         tolower_nofilter/1]).

%% Modes of stanza_jid_nif:prep/2: a profile plus 8 (output as long as
%% it comes, as fast_stringprep gives it; callers such as ejabberd's
%% jid module check lengths themselves).
-define(WIDE, 8).
-define(NODEPREP, ?WIDE + 0).
-define(NAMEPREP, ?WIDE + 1).
-define(RESOURCEPREP, ?WIDE + 2).
-define(CASEFOLD_BIDI, ?WIDE + 4).
-define(MAX_IN, 1023).

%% @doc Starts the application (nothing to start: kept for callers).
-spec start() -> ok | {error, term()}.
start() ->
    case application:ensure_all_started(stringprep) of
        {ok, _} -> ok;
        Error -> Error
    end.

%% @doc Nodeprep (RFC 6122 appendix A).
-spec nodeprep(iodata()) -> binary() | error.
nodeprep(S) -> prep(?NODEPREP, S).

%% @doc Nameprep (RFC 3491), unassigned code points refused.
-spec nameprep(iodata()) -> binary() | error.
nameprep(S) -> prep(?NAMEPREP, S).

%% @doc Resourceprep (RFC 6122 appendix B).
-spec resourceprep(iodata()) -> binary() | error.
resourceprep(S) -> prep(?RESOURCEPREP, S).

%% @doc As in fast_stringprep 1.0.29: the same as nameprep/1.
-spec tolower(iodata()) -> binary() | error.
tolower(S) -> prep(?NAMEPREP, S).

%% @doc As in fast_stringprep 1.0.29: Nameprep's mapping and NFKC and the
%% bidi rule, no character refused.
-spec tolower_nofilter(iodata()) -> binary() | error.
tolower_nofilter(S) -> prep(?CASEFOLD_BIDI, S).

prep(Mode, S) when is_binary(S) ->
    case stanza_jid_nif:prep(Mode, S) of
        Out when is_binary(Out) -> Out;
        _ -> error
    end;
prep(Mode, S) ->
    %% iodata: walked only as far as the bound, so a huge list is refused
    %% after 1024 bytes (what lies beyond is not looked at)
    case small_iodata(S, ?MAX_IN) of
        too_long -> error;
        _Left -> prep(Mode, iolist_to_binary(S))
    end.

%% Room left after S, or too_long; badarg for what is not iodata.
small_iodata(_, Left) when Left < 0 -> too_long;
small_iodata(B, Left) when is_binary(B) -> Left - byte_size(B);
small_iodata([], Left) -> Left;
small_iodata([H | T], Left) when is_integer(H), H >= 0, H =< 255 ->
    small_iodata(T, Left - 1);
small_iodata([H | T], Left) ->
    case small_iodata(H, Left) of
        too_long -> too_long;
        Left1 -> small_iodata(T, Left1)
    end;
small_iodata(Other, _) ->
    erlang:error(badarg, [Other]).
