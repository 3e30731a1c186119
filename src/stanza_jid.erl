%% @doc XMPP addresses (JIDs, RFC 6122) and the stringprep profiles they
%% are prepared with (Nodeprep, Nameprep, Resourceprep; RFC 3454 with
%% Unicode 3.2), in C. Guide: doc/jid.md.
%%
%% ```
%% 1> rr(stanza_jid).
%% 2> {ok, J} = stanza_jid:parse(<<"Juliet@Example.COM/balcony">>).
%% {ok,#stanza_jid{localpart = <<"juliet">>,domain = <<"example.com">>,
%%                 resource = <<"balcony">>}}
%% 3> stanza_jid:to_binary(stanza_jid:bare(J)).
%% <<"juliet@example.com">>
%% 4> stanza_jid:equal(<<"JULIET@example.com/balcony">>, J).
%% true
%% 5> stanza_jid:parse(<<"juliet@example.com/">>).
%% {error,bad_resource}
%% 6> stanza_jid:nodeprep(<<"Ǆ"/utf8>>).
%% {ok,<<"ǆ"/utf8>>}
%% '''
%%
%% Every function takes binaries (UTF-8) and raises `badarg' for any
%% other term. Input is decoded strictly: overlong forms, surrogates and
%% code points above U+10FFFF give `invalid_utf8'. A part longer than
%% 1023 bytes, before or after preparation, gives `too_long' (refused
%% before any work is done), as does a JID longer than 3071 bytes.
-module(stanza_jid).

-include("stanza_jid.hrl").

-export([parse/1, make/3, to_binary/1, bare/1, equal/2,
         nodeprep/1, nameprep/1, resourceprep/1, tolower/1]).

-export_type([jid/0, reason/0, prep_reason/0]).

-type jid() :: #stanza_jid{}.
%% Why a string is refused by a profile (`enomem': the NIF could not
%% allocate its work area, for inputs over 64 bytes only).
-type prep_reason() :: invalid_utf8 | too_long | prohibited | unassigned
                     | bidi | enomem.
%% Why a JID is refused: a profile's reason for one of its parts, or an
%% empty localpart (before `@') or resourcepart (after `/'), or a
%% domainpart that is neither labels IDNA accepts nor an IP literal.
-type reason() :: prep_reason() | bad_localpart | bad_domain
                | bad_resource.

-define(NODEPREP, 0).
-define(NAMEPREP, 1).
-define(RESOURCEPREP, 2).
-define(CASEFOLD, 3).

%% @doc Parses and prepares a JID: `localpart@domain/resource', the
%% localpart and resource optional.
-spec parse(binary()) -> {ok, jid()} | {error, reason()}.
parse(Binary) when is_binary(Binary) ->
    case stanza_jid_nif:parse(Binary) of
        {Local, Domain, Resource} ->
            {ok, #stanza_jid{localpart = Local, domain = Domain,
                             resource = Resource}};
        Reason ->
            {error, Reason}
    end;
parse(Other) ->
    erlang:error(badarg, [Other]).

%% @doc A JID from its parts, each prepared; `<<>>' for no localpart or
%% no resource.
-spec make(binary(), binary(), binary()) -> {ok, jid()} | {error, reason()}.
make(Local, Domain, Resource)
  when is_binary(Local), is_binary(Domain), is_binary(Resource) ->
    maybe_parts([{0, Local}, {1, Domain}, {2, Resource}], []);
make(Local, Domain, Resource) ->
    erlang:error(badarg, [Local, Domain, Resource]).

maybe_parts([], [R, D, L]) ->
    {ok, #stanza_jid{localpart = L, domain = D, resource = R}};
maybe_parts([{Kind, <<>>} | T], Acc) when Kind =/= 1 ->
    maybe_parts(T, [<<>> | Acc]);
maybe_parts([{Kind, Part} | T], Acc) ->
    case stanza_jid_nif:part(Kind, Part) of
        Prepared when is_binary(Prepared) -> maybe_parts(T, [Prepared | Acc]);
        Reason -> {error, Reason}
    end.

%% @doc The JID as text (prepared form).
-spec to_binary(jid()) -> binary().
to_binary(#stanza_jid{localpart = L, domain = D, resource = R}) ->
    <<(prefix(L))/binary, D/binary, (suffix(R))/binary>>;
to_binary(Other) ->
    erlang:error(badarg, [Other]).

prefix(<<>>) -> <<>>;
prefix(L) -> <<L/binary, $@>>.

suffix(<<>>) -> <<>>;
suffix(R) -> <<$/, R/binary>>.

%% @doc The JID without its resource.
-spec bare(jid()) -> jid().
bare(#stanza_jid{} = J) ->
    J#stanza_jid{resource = <<>>};
bare(Other) ->
    erlang:error(badarg, [Other]).

%% @doc Whether two JIDs (records or binaries) are the same address. A
%% binary that is not a valid JID equals nothing.
-spec equal(jid() | binary(), jid() | binary()) -> boolean().
equal(A, B) ->
    case {as_jid(A), as_jid(B)} of
        {#stanza_jid{} = J, #stanza_jid{} = J} -> true;
        _ -> false
    end.

as_jid(#stanza_jid{} = J) ->
    J;
as_jid(B) when is_binary(B) ->
    case parse(B) of
        {ok, J} -> J;
        {error, _} -> invalid
    end;
as_jid(Other) ->
    erlang:error(badarg, [Other]).

%% @doc The Nodeprep profile (RFC 6122 appendix A): the localpart's.
%% Unlike parse/1 it accepts an empty string.
-spec nodeprep(binary()) -> {ok, binary()} | {error, prep_reason()}.
nodeprep(B) -> prep(?NODEPREP, B).

%% @doc The Nameprep profile (RFC 3491), unassigned code points refused.
%% Nameprep itself allows ASCII controls and punctuation; the domain
%% checks of parse/1 and make/3 refuse them.
-spec nameprep(binary()) -> {ok, binary()} | {error, prep_reason()}.
nameprep(B) -> prep(?NAMEPREP, B).

%% @doc The Resourceprep profile (RFC 6122 appendix B).
-spec resourceprep(binary()) -> {ok, binary()} | {error, prep_reason()}.
resourceprep(B) -> prep(?RESOURCEPREP, B).

%% @doc Case folding as the profiles do it (RFC 3454 tables B.1 and B.2,
%% then NFKC), nothing refused but invalid UTF-8 and length: a key that
%% ignores case and form, for text that need not be a JID part.
-spec tolower(binary()) -> {ok, binary()} | {error, invalid_utf8 | too_long | enomem}.
tolower(B) -> prep(?CASEFOLD, B).

prep(Mode, B) when is_binary(B) ->
    case stanza_jid_nif:prep(Mode, B) of
        Out when is_binary(Out) -> {ok, Out};
        Reason -> {error, Reason}
    end;
prep(_Mode, Other) ->
    erlang:error(badarg, [Other]).
