%% @doc A deterministic, realistic XMPP client stream for benchmarks.
%%
%% generate/1 builds what a client receives in a busy session: one-to-one
%% chat (French, Russian, Chinese and emoji text, all five predefined
%% entities, numeric character references, threads, chat states, receipts,
%% XHTML-IM), group chat with delays, presence with XEP-0115 caps and
%% vCard updates, MUC presence, roster results (20 to 200 items, with
%% groups) and roster pushes, PubSub/Atom events, message carbons, version,
%% disco and ping IQs, and stanzas that use prefixed namespaces.
%%
%% The output is well-formed XML without comments, processing instructions
%% or DOCTYPE, and every stanza is well-formed on its own, so it can also be
%% parsed one stanza at a time. The same size always gives the same bytes:
%% the generator uses `rand' with a fixed seed and its own state, never the
%% clock, and does not touch the caller's random state.
%%
%% ```
%% 1> #{stanzas := S} = stanza_corpus:generate(100000), length(S).
%% 2> Bin = stanza_corpus:stream(100000).
%% 3> C = stanza_corpus:from_file("capture.xml").
%% '''
-module(stanza_corpus).

-export([generate/1, generate/2, stream/1, to_stream/1, from_file/1,
         big_stanza/1, roster/1, repeated_body/1, header/0, trailer/0,
         composition/1]).

-export_type([corpus/0]).

-type corpus() :: #{header := binary(), stanzas := [binary()],
                    trailer := binary()}.
-type rs() :: rand:state().
-type gen() :: fun((rs()) -> {iodata(), rs()}).
-type attr() :: {iodata(), iodata()}.

-define(SEED, {1, 2, 3}).
-define(KEEPALIVE_SEED, {4, 5, 6}).
-define(STREAM_NS, <<"http://etherx.jabber.org/streams">>).
-define(CHATSTATES, <<"http://jabber.org/protocol/chatstates">>).
-define(CAPS, <<"http://jabber.org/protocol/caps">>).

%% @doc A stream header, stanzas totalling about `Bytes' bytes with the
%% header and trailer (the last stanza may overshoot), and the trailer.
-spec generate(pos_integer()) -> corpus().
generate(Bytes) when is_integer(Bytes), Bytes > 0 ->
    Header = header(),
    Trailer = trailer(),
    Budget = Bytes - byte_size(Header) - byte_size(Trailer),
    Stanzas = stanzas(Budget, rand:seed_s(exsss, ?SEED), []),
    #{header => Header, stanzas => Stanzas, trailer => Trailer}.

%% @doc generate/1 with a choice of text: `#{text => multilingual}' (the
%% default: French, Russian, Arabic, Chinese, Japanese and emoji beside
%% English, in names as well as in text) or `#{text => ascii}' (the same
%% stanzas with English text and ASCII names only: the ASCII-heavy corpus
%% of the serializer section).
-spec generate(pos_integer(), #{text => multilingual | ascii}) -> corpus().
generate(Bytes, #{text := ascii}) ->
    %% The vocabulary functions are many and deep in the generators; the
    %% choice travels in the process dictionary for the duration of this
    %% call only.
    Old = put(stanza_corpus_text, ascii),
    try generate(Bytes)
    after restore_text(Old)
    end;
generate(Bytes, _Opts) ->
    generate(Bytes).

restore_text(undefined) -> erase(stanza_corpus_text);
restore_text(Old) -> put(stanza_corpus_text, Old).

%% @doc One roster result of at least `Bytes' bytes (items of the same
%% mix as the corpus's rosters), for the benchmarks of huge stanzas. The
%% same size always gives the same bytes.
-spec big_stanza(pos_integer()) -> binary().
big_stanza(Bytes) when is_integer(Bytes), Bytes > 0 ->
    Open = <<"<iq to='juliet@example.com/balcony' type='result' id='roster-1'>"
             "<query xmlns='jabber:iq:roster' ver='ver14'>">>,
    Close = <<"</query></iq>">>,
    Budget = Bytes - byte_size(Open) - byte_size(Close),
    Items = roster_items(Budget, rand:seed_s(exsss, ?SEED), []),
    iolist_to_binary([Open, Items, Close]).

%% @doc What a stream is made of, for the report: characters by UTF-8
%% length (1 byte: ASCII; 2: Latin accents, Cyrillic, Arabic; 3: CJK and
%% most other scripts; 4: astral, mostly emoji), CDATA sections,
%% character references and whitespace keepalives between stanzas.
-spec composition(binary()) -> string().
composition(Stream) ->
    {A, B, C, D} = utf8_lengths(Stream, {0, 0, 0, 0}),
    Total = max(1, A + B + C + D),
    Pct = fun(N) -> 100 * N / Total end,
    Count = fun(P) -> length(binary:matches(Stream, P)) end,
    lists:flatten(
      io_lib:format("characters: ~.1f% ASCII, ~.2f% 2-byte UTF-8 (accents, "
                    "Cyrillic, Arabic), ~.2f% 3-byte (CJK...), ~.3f% 4-byte "
                    "(emoji); ~B CDATA sections, ~B character references, "
                    "~B whitespace keepalives",
                    [Pct(A), Pct(B), Pct(C), Pct(D), Count(<<"<![CDATA[">>),
                     Count(<<"&#">>), Count([<<">\n<">>, <<"> <">>])])).

utf8_lengths(<<>>, Acc) -> Acc;
utf8_lengths(<<X, R/binary>>, {A, B, C, D}) when X < 16#80 -> utf8_lengths(R, {A + 1, B, C, D});
utf8_lengths(<<X, R/binary>>, {A, B, C, D}) when X >= 16#F0 -> utf8_lengths(R, {A, B, C, D + 1});
utf8_lengths(<<X, R/binary>>, {A, B, C, D}) when X >= 16#E0 -> utf8_lengths(R, {A, B, C + 1, D});
utf8_lengths(<<X, R/binary>>, {A, B, C, D}) when X >= 16#C0 -> utf8_lengths(R, {A, B + 1, C, D});
utf8_lengths(<<_, R/binary>>, Acc) -> utf8_lengths(R, Acc).

%% @doc One roster result with exactly `Items' items (the corpus's mix of
%% names, groups and subscriptions). The same count gives the same bytes.
-spec roster(pos_integer()) -> binary().
roster(Items) when is_integer(Items), Items > 0 ->
    {List, _} = lists:mapfoldl(fun roster_item/2, rand:seed_s(exsss, ?SEED),
                               lists:seq(1, Items)),
    iolist_to_binary(
      el("iq", [{"to", my_jid()}, {"type", "result"}, {"id", "roster-big"}],
         [el("query", [{"xmlns", "jabber:iq:roster"}, {"ver", "ver14"}], List)])).

%% @doc One message whose `<body>' holds `Repeats' times
%% `0123456789abcdef<b x='1'>txt</b>' (32 bytes each): one stanza with
%% many small nodes, the shape of issue 15's 10 MB stanza (320,000
%% repetitions).
-spec repeated_body(pos_integer()) -> binary().
repeated_body(Repeats) when is_integer(Repeats), Repeats > 0 ->
    Piece = <<"0123456789abcdef<b x='1'>txt</b>">>,
    iolist_to_binary([<<"<message to='juliet@example.com' type='chat' id='big'><body>">>,
                      binary:copy(Piece, Repeats), <<"</body></message>">>]).

roster_items(Budget, _S, Acc) when Budget =< 0 ->
    lists:reverse(Acc);
roster_items(Budget, S0, Acc) ->
    {Item, S1} = roster_item(0, S0),
    Bin = iolist_to_binary(Item),
    roster_items(Budget - byte_size(Bin), S1, [Bin | Acc]).

%% @doc generate/1 as one stream: header, stanzas with an occasional
%% whitespace keepalive between them, trailer.
-spec stream(pos_integer()) -> binary().
stream(Bytes) ->
    to_stream(generate(Bytes)).

%% @doc A corpus as one stream, with deterministic whitespace keepalives
%% between some stanzas (about one in 25).
-spec to_stream(corpus()) -> binary().
to_stream(#{header := Header, stanzas := Stanzas, trailer := Trailer}) ->
    S0 = rand:seed_s(exsss, ?KEEPALIVE_SEED),
    {Body, _} = lists:mapfoldl(fun with_keepalive/2, S0, Stanzas),
    iolist_to_binary([Header, Body, Trailer]).

%% @doc A corpus from a file: either a captured stream (it starts with
%% `<?xml' or `<stream:stream', leading whitespace allowed) or stanzas one
%% after another, which get generate/1's header and trailer. The file is
%% parsed with stanza_stream and the stanzas are serialized back, so the
%% bytes may differ from the file's (quoting, entities, `<a/>' for
%% `<a></a>'); prefixes a stanza inherits from the stream header are
%% declared on the stanza, so each stanza parses on its own. The header
%% always gets an XML declaration. Raises `{bad_corpus, Path, Reason}'
%% when the file cannot be read or is not a well-formed stream.
-spec from_file(file:name_all()) -> corpus().
from_file(Path) ->
    case file:read_file(Path) of
        {ok, Data} -> from_binary(Path, Data);
        {error, Reason} -> erlang:error({bad_corpus, Path, Reason})
    end.

%%--------------------------------------------------------------------
%% Reading files

from_binary(Path, Data) ->
    Stream = case is_stream(Data) of
                 true -> Data;
                 false -> iolist_to_binary([header(), Data, trailer()])
             end,
    {ok, Parser} = stanza_stream:new(#{}),
    {ok, Events} = stanza_stream:parse(Parser, Stream),
    ok = stanza_stream:close(Parser),
    case lists:keyfind(xmlstreamerror, 1, Events) of
        {xmlstreamerror, Reason} -> erlang:error({bad_corpus, Path, Reason});
        false -> from_events(Path, Events)
    end.

is_stream(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t; C =:= $\r;
                                  C =:= $\n ->
    is_stream(Rest);
is_stream(<<"<?xml", _/binary>>) -> true;
is_stream(<<"<stream:stream", _/binary>>) -> true;
is_stream(_) -> false.

from_events(_Path, [{xmlstreamstart, Name, Attrs} | Rest]) ->
    Decls = [A || {<<"xmlns:", _/binary>>, _} = A <- Attrs],
    Stanzas = [iolist_to_binary(xml(declare(El, Decls)))
               || {xmlstreamelement, El} <- Rest],
    #{header => iolist_to_binary(["<?xml version='1.0'?>",
                                  $<, Name, attrs(Attrs), $>]),
      stanzas => Stanzas,
      trailer => iolist_to_binary(["</", Name, $>])};
from_events(Path, _) ->
    erlang:error({bad_corpus, Path, no_stream_header}).

%% Adds the header's declarations of the prefixes El uses but does not
%% declare itself.
declare({xmlelement, Name, Attrs, Children} = El, HeaderDecls) ->
    {Used, Declared} = prefixes(El, {[], []}),
    Missing = [D || {<<"xmlns:", P/binary>>, _} = D <- HeaderDecls,
                    lists:member(P, Used), not lists:member(P, Declared)],
    {xmlelement, Name, Missing ++ Attrs, Children}.

prefixes({xmlelement, Name, Attrs, Children}, Acc0) ->
    Acc1 = lists:foldl(fun attr_prefix/2, name_prefix(Name, Acc0), Attrs),
    lists:foldl(fun prefixes/2, Acc1, Children);
prefixes({xmlcdata, _}, Acc) ->
    Acc.

attr_prefix({<<"xmlns:", P/binary>>, _}, {Used, Declared}) ->
    {Used, [P | Declared]};
attr_prefix({Name, _}, Acc) ->
    name_prefix(Name, Acc).

name_prefix(Name, {Used, Declared} = Acc) ->
    case binary:split(Name, <<":">>) of
        [<<"xml">>, _] -> Acc;
        [<<"xmlns">>, _] -> Acc;
        [Prefix, _] -> {[Prefix | Used], Declared};
        [_] -> Acc
    end.

xml({xmlelement, Name, Attrs, []}) ->
    [$<, Name, attrs(Attrs), "/>"];
xml({xmlelement, Name, Attrs, Children}) ->
    [$<, Name, attrs(Attrs), $>, [xml(C) || C <- Children], "</", Name, $>];
xml({xmlcdata, Text}) ->
    esc(Text).

%%--------------------------------------------------------------------
%% The stream

%% @doc The stream header of the generated corpus.
-spec header() -> binary().
header() ->
    iolist_to_binary(
      ["<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
       "xmlns:stream='", ?STREAM_NS, "' from='example.org' "
       "id='a3f8c2d1-5e7b-4c19-9d0e-7f2b1c6e4a90' version='1.0' "
       "xml:lang='en'>"]).

%% @doc The stream trailer of the generated corpus.
-spec trailer() -> binary().
trailer() ->
    <<"</stream:stream>">>.

stanzas(Budget, _S, Acc) when Budget =< 0, Acc =/= [] ->
    lists:reverse(Acc);
stanzas(Budget, S0, Acc) ->
    {Stanza, S1} = stanza(S0),
    Bin = iolist_to_binary(Stanza),
    stanzas(Budget - byte_size(Bin), S1, [Bin | Acc]).

with_keepalive(Stanza, S0) ->
    case rand:uniform_s(50, S0) of
        {1, S1} -> {[Stanza, $\s], S1};
        {2, S1} -> {[Stanza, $\n], S1};
        {_, S1} -> {Stanza, S1}
    end.

%% The mix, as {Weight, Generator}; the weights add up to 1000.
-spec mix() -> [{pos_integer(), gen()}].
mix() ->
    [{300, fun chat/1}, {80, fun chat_state/1}, {70, fun groupchat/1},
     {170, fun presence/1}, {100, fun muc_presence/1},
     {70, fun pubsub_event/1}, {30, fun roster_push/1},
     {5, fun roster_result/1}, {40, fun version_iq/1},
     {40, fun disco_info/1}, {20, fun disco_items/1}, {15, fun ping/1},
     {30, fun prefixed/1}, {30, fun carbon/1}].

stanza(S0) ->
    {N, S1} = rand:uniform_s(1000, S0),
    Gen = choose(N, mix()),
    Gen(S1).

choose(N, [{W, Gen} | _]) when N =< W -> Gen;
choose(N, [{W, _} | Rest]) -> choose(N - W, Rest).

%%--------------------------------------------------------------------
%% Stanzas

chat(S0) ->
    {[A, B, C, D, E], S1} = floats(5, S0),
    {Body, S2} = body(S1),
    {Id, S3} = id(S2),
    {Thread, S4} = id(S3),
    {Html, S5} = optional(C < 0.15, fun xhtml/1, S4),
    Lang = [{"xml:lang", pick({"fr", "ru", "zh", "en"}, D)} || D < 0.3],
    {el("message", [{"from", full_jid(A)}, {"to", my_jid()},
                    {"type", "chat"}, {"id", Id} | Lang],
        [el("body", [], Body),
         [el("thread", [], Thread) || B < 0.4],
         Html,
         el("active", [{"xmlns", ?CHATSTATES}]),
         [el("request", [{"xmlns", "urn:xmpp:receipts"}]) || E < 0.5]]),
     S5}.

chat_state(S0) ->
    {[A, B], S1} = floats(2, S0),
    {Id, S2} = id(S1),
    State = pick({"composing", "paused", "active", "inactive", "gone"}, B),
    {el("message", [{"from", full_jid(A)}, {"to", my_jid()},
                    {"type", "chat"}, {"id", Id}],
        [el(State, [{"xmlns", ?CHATSTATES}])]),
     S2}.

groupchat(S0) ->
    {[A, B, C], S1} = floats(3, S0),
    {Body, S2} = body(S1),
    {Id, S3} = id(S2),
    {Stamp, S4} = timestamp(S3),
    Room = room(A),
    {el("message", [{"from", [Room, $/, nick(B)]}, {"to", my_jid()},
                    {"type", "groupchat"}, {"id", Id}],
        [el("body", [], Body),
         [el("delay", [{"xmlns", "urn:xmpp:delay"}, {"from", Room},
                       {"stamp", Stamp}]) || C < 0.3],
         el("stanza-id", [{"xmlns", "urn:xmpp:sid:0"}, {"by", Room},
                          {"id", Id}])]),
     S4}.

presence(S0) ->
    {[A, B, C, D, E], S1} = floats(5, S0),
    {Ver, S2} = b64(20, S1),
    {Photo, S3} = hex(20, S2),
    {Status, S4} = sentence(S3),
    {el("presence", [{"from", full_jid(A)}, {"to", my_jid()}],
        [[el("show", [], pick({"away", "chat", "dnd", "xa"}, B)) || B < 0.6],
         [el("status", [], Status) || C < 0.5],
         el("priority", [], integer_to_list(between(-1, 50, D))),
         caps(E, Ver),
         el("x", [{"xmlns", "vcard-temp:x:update"}],
            [el("photo", [], Photo)])]),
     S4}.

muc_presence(S0) ->
    {[A, B, C, D, E], S1} = floats(5, S0),
    {Ver, S2} = b64(20, S1),
    Item = [{"affiliation", pick({"none", "member", "admin", "owner"}, C)},
            {"role", pick({"participant", "moderator", "visitor"}, D)}
            | [{"jid", full_jid(A)} || E < 0.5]],
    {el("presence", [{"from", [room(A), $/, nick(B)]}, {"to", my_jid()}],
        [caps(B, Ver),
         el("x", [{"xmlns", "http://jabber.org/protocol/muc#user"}],
            [el("item", Item),
             [el("status", [{"code", "110"}]) || E > 0.9]])]),
     S2}.

pubsub_event(S0) ->
    {[A, B], S1} = floats(2, S0),
    {Id, S2} = id(S1),
    {Title, S3} = sentence(S2),
    {Content, S4} = body(S3),
    {Stamp, S5} = timestamp(S4),
    Node = pick({"urn:xmpp:microblog:0", "urn:xmpp:blog:news",
                 "http://jabber.org/protocol/tune"}, B),
    Html = ["<p>", Content, "</p><p><a href=\"https://example.org/?a=1&b=2\">"
            "lien</a> &amp; plus</p>"],
    Entry = el("entry", [{"xmlns", "http://www.w3.org/2005/Atom"}],
               [el("title", [{"type", "text"}], Title),
                el("content", [{"type", "html"}], esc(iolist_to_binary(Html))),
                el("published", [], Stamp), el("updated", [], Stamp),
                el("author", [], [el("name", [], esc(nick(A))),
                                  el("uri", [], ["xmpp:", bare_jid(A)])]),
                el("link", [{"rel", "alternate"}, {"type", "text/html"},
                            {"href", ["https://blog.example.org/", Id]}]),
                el("id", [], ["tag:example.org,2024:posts-", Id])]),
    {el("message", [{"from", "pubsub.example.org"}, {"to", my_jid()},
                    {"type", "headline"}, {"id", Id}],
        [el("event", [{"xmlns", "http://jabber.org/protocol/pubsub#event"}],
            [el("items", [{"node", Node}],
                [el("item", [{"id", Id}, {"publisher", bare_jid(A)}],
                    [Entry])])])]),
     S5}.

roster_push(S0) ->
    {[A], S1} = floats(1, S0),
    {Id, S2} = id(S1),
    {Item, S3} = roster_item(A, S2),
    {el("iq", [{"to", my_jid()}, {"type", "set"}, {"id", Id}],
        [el("query", [{"xmlns", "jabber:iq:roster"}], [Item])]),
     S3}.

roster_result(S0) ->
    {[A], S1} = floats(1, S0),
    {Id, S2} = id(S1),
    Count = between(20, 200, A),
    {Items, S3} = lists:mapfoldl(fun roster_item/2, S2,
                                 lists:seq(1, Count)),
    {el("iq", [{"to", my_jid()}, {"type", "result"}, {"id", Id}],
        [el("query", [{"xmlns", "jabber:iq:roster"}, {"ver", ["ver", Id]}],
            Items)]),
     S3}.

roster_item(_, S0) ->
    {[A, B, C, D], S1} = floats(4, S0),
    User = [user(A), integer_to_list(trunc(B * 1000))],
    Attrs = [{"jid", [User, $@, domain(B)]}, {"name", nick(A)},
             {"subscription", pick({"both", "both", "to", "from", "none"}, C)}
             | [{"ask", "subscribe"} || D > 0.9]],
    Groups = [el("group", [], esc(pick(groups(), D))) || D < 0.8]
        ++ [el("group", [], esc(pick(groups(), 1 - D))) || D < 0.2],
    {el("item", Attrs, Groups), S1}.

version_iq(S0) ->
    {[A, B], S1} = floats(2, S0),
    {Id, S2} = id(S1),
    Ns = [{"xmlns", "jabber:iq:version"}],
    Stanza = case B < 0.5 of
                 true ->
                     el("iq", [{"from", full_jid(A)}, {"to", my_jid()},
                               {"type", "get"}, {"id", Id}],
                        [el("query", Ns)]);
                 false ->
                     el("iq", [{"from", full_jid(A)}, {"to", my_jid()},
                               {"type", "result"}, {"id", Id}],
                        [el("query", Ns,
                            [el("name", [], client(B)),
                             el("version", [], "1.5.4 (ab12cd3)"),
                             el("os", [], pick(oses(), A))])])
             end,
    {Stanza, S2}.

disco_info(S0) ->
    {[A, B, C], S1} = floats(3, S0),
    {Id, S2} = id(S1),
    {Ver, S3} = b64(20, S2),
    Features = lists:sublist(tuple_to_list(features()),
                             between(6, tuple_size(features()), C)),
    {el("iq", [{"from", full_jid(A)}, {"to", my_jid()}, {"type", "result"},
               {"id", Id}],
        [el("query", [{"xmlns", "http://jabber.org/protocol/disco#info"},
                      {"node", [caps_node(B), $#, Ver]}],
            [el("identity", [{"category", "client"},
                             {"type", pick({"pc", "phone"}, B)},
                             {"name", client(B)}]),
             [el("feature", [{"var", F}]) || F <- Features]])]),
     S3}.

disco_items(S0) ->
    {[A], S1} = floats(1, S0),
    {Id, S2} = id(S1),
    Items = [el("item", [{"jid", J}, {"name", N}])
             || {J, N} <- [{"conference.example.org", "Salons de discussion"},
                           {"pubsub.example.org", "Publish-Subscribe"},
                           {"upload.example.org", "HTTP File Upload"},
                           {"proxy.example.org", "SOCKS5 Bytestreams"}]],
    {el("iq", [{"from", "example.org"}, {"to", my_jid()},
               {"type", "result"}, {"id", Id}],
        [el("query", [{"xmlns", "http://jabber.org/protocol/disco#items"}],
            lists:sublist(Items, between(1, 4, A)))]),
     S2}.

ping(S0) ->
    {Id, S1} = id(S0),
    {el("iq", [{"from", "example.org"}, {"to", my_jid()}, {"type", "get"},
               {"id", Id}],
        [el("ping", [{"xmlns", "urn:xmpp:ping"}])]),
     S1}.

%% Stanzas with prefixed names: an avatar metadata result in the pubsub
%% namespace under the `ps' prefix, and a whole message with `cl:'.
prefixed(S0) ->
    {[A, B], S1} = floats(2, S0),
    {Id, S2} = id(S1),
    {Sha, S3} = hex(20, S2),
    {Body, S4} = body(S3),
    Stanza = case B < 0.5 of
                 true ->
                     el("iq", [{"from", bare_jid(A)}, {"to", my_jid()},
                               {"type", "result"}, {"id", Id}],
                        [el("ps:pubsub", [{"xmlns:ps", "http://jabber.org/"
                                                        "protocol/pubsub"}],
                            [el("ps:items",
                                [{"node", "urn:xmpp:avatar:metadata"}],
                                [el("ps:item", [{"id", Sha}],
                                    [avatar_metadata(Sha)])])])]);
                 false ->
                     el("cl:message", [{"xmlns:cl", "jabber:client"},
                                       {"from", full_jid(A)},
                                       {"to", my_jid()}, {"type", "chat"},
                                       {"id", Id}],
                        [el("cl:body", [], Body),
                         el("cs:active", [{"xmlns:cs", ?CHATSTATES}])])
             end,
    {Stanza, S4}.

carbon(S0) ->
    {[A], S1} = floats(1, S0),
    {Body, S2} = body(S1),
    {Id, S3} = id(S2),
    Inner = el("message", [{"xmlns", "jabber:client"}, {"from", my_jid()},
                           {"to", full_jid(A)}, {"type", "chat"},
                           {"id", Id}],
               [el("body", [], Body),
                el("active", [{"xmlns", ?CHATSTATES}])]),
    {el("message", [{"from", "me@example.org"}, {"to", my_jid()},
                    {"type", "chat"}],
        [el("sent", [{"xmlns", "urn:xmpp:carbons:2"}],
            [el("forwarded", [{"xmlns", "urn:xmpp:forward:0"}], [Inner])])]),
     S3}.

%%--------------------------------------------------------------------
%% Pieces

caps(F, Ver) ->
    el("c", [{"xmlns", ?CAPS}, {"hash", "sha-1"}, {"node", caps_node(F)},
             {"ver", Ver}]).

avatar_metadata(Sha) ->
    el("metadata", [{"xmlns", "urn:xmpp:avatar:metadata"}],
       [el("info", [{"bytes", "12345"}, {"id", Sha}, {"height", "64"},
                    {"width", "64"}, {"type", "image/png"}])]).

xhtml(S0) ->
    {Text, S1} = sentence(S0),
    {el("html", [{"xmlns", "http://jabber.org/protocol/xhtml-im"}],
        [el("body", [{"xmlns", "http://www.w3.org/1999/xhtml"}],
            [el("p", [{"style", "font-weight:bold"}], Text)])]),
     S1}.

%% One to three sentences, sometimes with numeric character references.
body(S0) ->
    {[A, B], S1} = floats(2, S0),
    {Sentences, S2} = lists:mapfoldl(fun(_, S) -> sentence(S) end, S1,
                                     lists:seq(1, between(1, 3, A))),
    Refs = [pick(char_refs(), B) || B < 0.2],
    Code = [pick(cdata(), B) || B > 0.94],
    {[lists:join($\s, Sentences), Refs, Code], S2}.

%% Pasted code or logs, as clients send them: CDATA sections.
cdata() ->
    {<<" <![CDATA[if (a < b && b > c) { return \"<ok>\"; }]]>">>,
     <<" <![CDATA[<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>]]>">>,
     <<" <![CDATA[2024-05-01 12:00:01 [error] connection reset & retried]]>">>}.

sentence(S0) ->
    {[A], S1} = floats(1, S0),
    {esc(pick(texts(), A)), S1}.

optional(true, Gen, S) -> Gen(S);
optional(false, _Gen, S) -> {[], S}.

id(S0) ->
    {N, S1} = rand:uniform_s(1 bsl 40, S0),
    {integer_to_list(N, 36), S1}.

hex(Bytes, S0) ->
    {Bin, S1} = rand:bytes_s(Bytes, S0),
    {binary:encode_hex(Bin), S1}.

b64(Bytes, S0) ->
    {Bin, S1} = rand:bytes_s(Bytes, S0),
    {base64:encode(Bin), S1}.

timestamp(S0) ->
    {[A, B, C, D], S1} = floats(4, S0),
    {io_lib:format("2024-~2..0B-~2..0BT~2..0B:~2..0B:17.~3..0BZ",
                   [between(1, 12, A), between(1, 28, B), between(0, 23, C),
                    between(0, 59, D), trunc(A * 1000)]),
     S1}.

my_jid() -> "me@example.org/Gajim.x7Qa".

full_jid(F) -> [bare_jid(F), $/, pick(resources(), F * 7 - trunc(F * 7))].

bare_jid(F) -> [user(F), $@, domain(F * 3 - trunc(F * 3))].

room(F) -> [pick(rooms(), F), "@conference.example.org"].

user(F) -> pick(users(), F).

nick(F) -> pick(nicks(), F).

domain(F) -> pick({"example.org", "jabber.fr", "xmpp.ru", "jabber.cn",
                   "conversations.im"}, F).

caps_node(F) -> pick({"http://gajim.org", "http://conversations.im",
                      "https://psi-plus.com", "https://dino.im"}, F).

client(F) -> pick({"Gajim", "Conversations", "Psi+", "Dino"}, F).

%%--------------------------------------------------------------------
%% Vocabulary

users() ->
    vocabulary(users_all(), users_ascii()).

users_all() ->
    {<<"alice">>, <<"bob">>, <<"chloé"/utf8>>, <<"dmitri">>, <<"سلمى"/utf8>>,
     <<"дмитрий"/utf8>>, <<"wang.wei">>, <<"王伟"/utf8>>, <<"eve">>,
     <<"françois"/utf8>>, <<"juliet">>, <<"romeo">>, <<"noël"/utf8>>}.

nicks() ->
    vocabulary(nicks_all(), nicks_ascii()).

nicks_all() ->
    {<<"Alice">>, <<"Bob & Co">>, <<"Chloé"/utf8>>, <<"Дима"/utf8>>,
     <<"小王"/utf8>>, <<"Eve 🌙"/utf8>>, <<"François"/utf8>>,
     <<"Juliet">>}.

rooms() ->
    vocabulary(rooms_all(), rooms_ascii()).

rooms_all() ->
    {<<"xsf">>, <<"jdev">>, <<"café-parisien"/utf8>>,
     <<"разработка"/utf8>>, <<"开发者"/utf8>>, <<"ops">>}.

resources() ->
    vocabulary(resources_all(), resources_ascii()).

resources_all() ->
    {<<"Conversations.Xz3t">>, <<"Gajim">>, <<"Psi+">>, <<"mobile">>,
     <<"laptop-3f2a">>, <<"dino.a1b2c3">>, <<"телефон"/utf8>>}.

groups() ->
    vocabulary(groups_all(), groups_ascii()).

groups_all() ->
    {<<"Friends">>, <<"Work">>, <<"Famille"/utf8>>, <<"Друзья"/utf8>>,
     <<"同事"/utf8>>, <<"R&D <lab>">>, <<"Bots">>}.

oses() ->
    {<<"Linux">>, <<"Android 14">>, <<"Windows 11">>, <<"macOS 14.4">>}.

features() ->
    {<<"http://jabber.org/protocol/caps">>,
     <<"http://jabber.org/protocol/disco#info">>,
     <<"http://jabber.org/protocol/disco#items">>,
     <<"http://jabber.org/protocol/muc">>,
     <<"http://jabber.org/protocol/chatstates">>,
     <<"jabber:iq:version">>, <<"urn:xmpp:ping">>, <<"urn:xmpp:receipts">>,
     <<"urn:xmpp:carbons:2">>, <<"urn:xmpp:jingle:1">>,
     <<"urn:xmpp:avatar:metadata+notify">>,
     <<"urn:xmpp:microblog:0+notify">>, <<"urn:xmpp:mam:2">>,
     <<"urn:xmpp:sid:0">>, <<"urn:xmpp:time">>,
     <<"http://jabber.org/protocol/xhtml-im">>}.

%% Raw text: escaped on output, so every predefined entity shows up.
texts() ->
    vocabulary(texts_all(), texts_ascii()).

texts_all() ->
    {<<"Salut ! Ça va très bien, on se retrouve au café à 18 h ?"/utf8>>,
     <<"Привет! Как дела? Встречаемся завтра в кафе."/utf8>>,
     <<"你好！我们明天在咖啡馆见面吧。"/utf8>>,
     <<"😀👍🎉 ok, see you there! 🚀"/utf8>>,
     <<"if (a < b && c > d) { return \"it's fine\"; }">>,
     <<"Tom & Jerry said: \"<hello>\" isn't a tag">>,
     <<"The build passed, deploying to staging now.">>,
     <<"Can you review https://example.org/pr?id=42&tab=files please?">>,
     <<"Déjà vu: l'été dernier, à Noël, encore."/utf8>>,
     <<"Ладно, я позвоню тебе вечером 📞"/utf8>>,
     <<"这个问题已经解决了，谢谢！"/utf8>>,
     <<"مرحبا! هل أنت متاح للاجتماع غدا في الساعة العاشرة؟"/utf8>>,
     <<"شكرا جزيلا، سأرسل الملف الليلة 📎"/utf8>>,
     <<"了解しました。明日の会議は十時からです。"/utf8>>,
     <<"lol">>, <<"ok">>, <<"👍"/utf8>>}.

users_ascii() ->
    {<<"alice">>, <<"bob">>, <<"chloe">>, <<"dmitri">>, <<"wang.wei">>,
     <<"eve">>, <<"francois">>, <<"juliet">>, <<"romeo">>, <<"noel">>}.

nicks_ascii() ->
    {<<"Alice">>, <<"Bob & Co">>, <<"Chloe">>, <<"Dima">>, <<"Eve">>,
     <<"Francois">>, <<"Juliet">>}.

rooms_ascii() ->
    {<<"xsf">>, <<"jdev">>, <<"cafe-parisien">>, <<"dev">>, <<"ops">>}.

resources_ascii() ->
    {<<"Conversations.Xz3t">>, <<"Gajim">>, <<"Psi+">>, <<"mobile">>,
     <<"laptop-3f2a">>, <<"dino.a1b2c3">>}.

groups_ascii() ->
    {<<"Friends">>, <<"Work">>, <<"Family">>, <<"R&D <lab>">>, <<"Bots">>}.

texts_ascii() ->
    {<<"if (a < b && c > d) { return \"it's fine\"; }">>,
     <<"Tom & Jerry said: \"<hello>\" isn't a tag">>,
     <<"The build passed, deploying to staging now.">>,
     <<"Can you review https://example.org/pr?id=42&tab=files please?">>,
     <<"Meeting moved to 3 pm, same room. Bring the slides.">>,
     <<"Sure, I will call you tonight.">>,
     <<"lol">>, <<"ok">>, <<"thanks!">>}.

vocabulary(All, Ascii) ->
    case get(stanza_corpus_text) of
        ascii -> Ascii;
        _ -> All
    end.

%% Already escaped: numeric character references, decimal and hex.
char_refs() ->
    vocabulary(char_refs_all(), {<<" &#38; more">>, <<" &#x3C;tag&#x3E;">>, <<" &#34;quoted&#34;">>}).

char_refs_all() ->
    {<<" &#233;t&#233;">>, <<" &#x1F600;">>, <<" &#169; 2024">>,
     <<" &#x41F;&#x440;&#x438;&#x432;&#x435;&#x442;">>,
     <<" &#20320;&#22909;">>}.

%%--------------------------------------------------------------------
%% XML and random helpers

-spec el(iodata(), [attr()]) -> iodata().
el(Name, Attrs) ->
    [$<, Name, attrs(Attrs), "/>"].

%% Children are iodata already escaped; no children gives `<name></name>'.
-spec el(iodata(), [attr()], iodata()) -> iodata().
el(Name, Attrs, Children) ->
    [$<, Name, attrs(Attrs), $>, Children, "</", Name, $>].

attrs(Attrs) ->
    [[$\s, Name, "='", esc(iolist_to_binary(Value)), $']
     || {Name, Value} <- Attrs].

%% Escapes all five predefined entities (attribute values are quoted with
%% apostrophes, text gets the same treatment).
esc(Bin) ->
    case binary:match(Bin, [<<"&">>, <<"<">>, <<">">>, <<"\"">>, <<"'">>]) of
        nomatch -> Bin;
        _ -> << <<(esc_byte(C))/binary>> || <<C>> <= Bin >>
    end.

esc_byte($&) -> <<"&amp;">>;
esc_byte($<) -> <<"&lt;">>;
esc_byte($>) -> <<"&gt;">>;
esc_byte($") -> <<"&quot;">>;
esc_byte($') -> <<"&apos;">>;
esc_byte(C) -> <<C>>.

%% N floats in [0.0, 1.0).
floats(N, S) ->
    lists:mapfoldl(fun(_, St) -> rand:uniform_s(St) end, S, lists:seq(1, N)).

pick(Tuple, F) ->
    element(1 + trunc(F * tuple_size(Tuple)), Tuple).

between(Lo, Hi, F) ->
    Lo + trunc(F * (Hi - Lo + 1)).
