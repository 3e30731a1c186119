%% include/stanza.hrl next to fast_xml's fxml.hrl (which modern ejabberd
%% modules get through xmpp.hrl), in both include orders, and
%% include/stanza_xmlel.hrl on its own. Each case is a module compiled
%% here, loaded and run on elements stanza made.
-module(stanza_hrl_tests).

-include_lib("eunit/include/eunit.hrl").

-define(BODY,
        "-export([check/0]).\n"
        "check() ->\n"
        "    {ok, #xmlel{name = <<\"iq\">>, attrs = [{<<\"type\">>, T}]} = El} =\n"
        "        stanza_stream:parse_element(<<\"<iq type='get'/>\">>, #{format => xmlel}),\n"
        "    {ok, #xmlelement{name = \"iq\"}} =\n"
        "        stanza_stream:parse_element(<<\"<iq/>\">>, #{format => legacy}),\n"
        "    <<\"<iq type='get'/>\">> = stanza_xml:element_to_binary(El),\n"
        "    {T, text(T)}.\n"
        "-spec text(binary()) -> stanza_cdata().\n"
        "text(T) -> {xmlcdata, T}.\n").

both_orders_compile_and_run_test_() ->
    Fxml = fxml_hrl(),
    [?_assertEqual({<<"get">>, {xmlcdata, <<"get">>}},
                   compile_and_run(Name, Includes))
     || {Name, Includes} <-
            [{stanza_hrl_then_fxml, ["stanza.hrl", Fxml]},
             {stanza_hrl_fxml_then_stanza, [Fxml, "stanza.hrl"]},
             {stanza_hrl_twice_with_fxml, ["stanza.hrl", Fxml, "stanza.hrl"]},
             {stanza_hrl_without_fxml, ["stanza.hrl", "stanza_xmlel.hrl"]},
             {stanza_hrl_xmlel_first, ["stanza_xmlel.hrl", "stanza.hrl", "stanza_xmlel.hrl"]}]].

%% The control: two definitions of #xmlel{} do not compile, so the cases
%% above compile because the headers are right, not by accident.
xmlel_twice_does_not_compile_test() ->
    ?assertMatch({error, _, _},
                 compile_module(stanza_hrl_clash, ["stanza_xmlel.hrl", fxml_hrl()])).

compile_and_run(Name, Includes) ->
    Result = compile_module(Name, Includes),
    ?assertMatch({ok, Name, _, _}, Result),
    {ok, Name, Beam, _} = Result,
    {module, Name} = code:load_binary(Name, "stanza_hrl_tests", Beam),
    try Name:check()
    after
        code:purge(Name), code:delete(Name)
    end.

compile_module(Name, Includes) ->
    Dir = string:trim(os:cmd("mktemp -d /tmp/stanza-hrl.XXXXXX")),
    File = filename:join(Dir, atom_to_list(Name) ++ ".erl"),
    Source = ["-module(", atom_to_list(Name), ").\n",
              [["-include(\"", I, "\").\n"] || I <- Includes], ?BODY],
    ok = file:write_file(File, Source),
    try compile:file(File, [binary, return, warnings_as_errors,
                            {i, include_dir()}])
    after
        ok = file:delete(File), ok = file:del_dir(Dir)
    end.

include_dir() ->
    filename:join(code:lib_dir(stanza), "include").

%% fast_xml's header, wherever it is installed (Debian: erlang-p1-xml).
fxml_hrl() ->
    Found = [File || App <- [fast_xml, p1_xml],
                     {ok, Dir} <- [lib_dir(App)],
                     File <- [filename:join([Dir, "include", "fxml.hrl"])],
                     filelib:is_regular(File)],
    ?assertNotEqual([], Found),
    hd(Found).

lib_dir(App) ->
    case code:lib_dir(App) of
        {error, _} -> error;
        Dir -> {ok, Dir}
    end.
