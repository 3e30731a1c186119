%% The stanza_stream options the fast_xml compat needs: stream_cdata and
%% xmlns_undeclaration (and that the port driver refuses them).
-module(stanza_stream_compat_options_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HEADER, <<"<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'>">>).

parse(Opts, Chunks) ->
    {ok, P} = stanza_stream:new(Opts#{format => xmlel}),
    Events = lists:append([begin {ok, E} = stanza_stream:parse(P, C), E end
                           || C <- Chunks]),
    ok = stanza_stream:close(P),
    Events.

cdata(Events) ->
    iolist_to_binary([B || {xmlstreamcdata, B} <- Events]).

stream_cdata_off_by_default_test() ->
    Events = parse(#{}, [?HEADER, <<" \n <a/> ">>]),
    ?assertEqual([], [E || {xmlstreamcdata, _} = E <- Events]).

stream_cdata_reports_text_between_stanzas_test() ->
    Events = parse(#{stream_cdata => true},
                   [?HEADER, <<" \n\t<a>in</a>&amp;&#x263A;<b/>">>, <<" x">>]),
    ?assertEqual(<<" \n\t&", 16#e2, 16#98, 16#ba, " x">>, cdata(Events)),
    %% text inside a stanza stays inside it
    ?assertMatch([{xmlstreamstart, _, _}, {xmlstreamcdata, _} | _], Events),
    ?assert(lists:member({xmlstreamelement, {xmlel, <<"a">>, [],
                                             [{xmlcdata, <<"in">>}]}},
                         Events)).

stream_cdata_same_text_however_cut_test() ->
    Stream = <<?HEADER/binary, "  \r\n <a/>\n&lt;<b/> </stream:stream>">>,
    Whole = parse(#{stream_cdata => true}, [Stream]),
    [?assertEqual({N, cdata(Whole)},
                  {N, cdata(parse(#{stream_cdata => true}, cut(Stream, N)))})
     || N <- lists:seq(1, 12)].

cut(Bin, N) when byte_size(Bin) =< N -> [Bin];
cut(Bin, N) ->
    <<Head:N/binary, Rest/binary>> = Bin,
    [Head | cut(Rest, N)].

xmlns_undeclaration_test() ->
    Chunks = [?HEADER, <<"<a><b xmlns=''/></a>">>],
    El = fun(Events) -> hd([E || {xmlstreamelement, E} <- Events]) end,
    ?assertEqual({xmlel, <<"a">>, [], [{xmlel, <<"b">>, [], []}]},
                 El(parse(#{}, Chunks))),
    ?assertEqual({xmlel, <<"a">>, [], [{xmlel, <<"b">>,
                                        [{<<"xmlns">>, <<>>}], []}]},
                 El(parse(#{xmlns_undeclaration => keep}, Chunks))).

bad_values_test_() ->
    [?_assertError({bad_option, stream_cdata, yes},
                   stanza_stream:new(#{stream_cdata => yes})),
     ?_assertError({bad_option, xmlns_undeclaration, maybe},
                   stanza_stream:new(#{xmlns_undeclaration => maybe})),
     ?_assertError({bad_option, stream_cdata, true},
                   stanza_stream:parse_element(<<"<a/>">>,
                                               #{stream_cdata => true})),
     ?_assertError({bad_option, xmlns_undeclaration, keep},
                   stanza_stream:parse_element(<<"<a/>">>,
                                               #{xmlns_undeclaration => keep})),
     ?_assertError({bad_option, stream_cdata, true},
                   stanza_port:new(#{stream_cdata => true})),
     ?_assertError({bad_option, xmlns_undeclaration, keep},
                   stanza_port:new(#{xmlns_undeclaration => keep}))].
