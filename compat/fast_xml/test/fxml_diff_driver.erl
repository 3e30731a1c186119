%% @doc Runs the same calls against whichever fxml and fxml_stream the node
%% has: loaded into a peer VM that has the real fast_xml (Debian's
%% erlang-p1-xml) and run locally against this application, so that
%% fxml_differential_tests can compare the two. It uses nothing but OTP
%% and those two modules.
-module(fxml_diff_driver).

-export([which/0, stream/3, parse_element/1, element_calls/2]).

%% @doc Where this node's fxml_stream and fxml come from.
-spec which() -> {file:filename() | atom(), file:filename() | atom()}.
which() ->
    {code:which(fxml_stream), code:which(fxml)}.

%% @doc The messages the callback process gets after each chunk, in a
%% fresh process (so nothing else is in its mailbox).
-spec stream([binary()], non_neg_integer() | infinity, list()) ->
          [[term()]] | {crashed, term()}.
stream(Chunks, MaxSize, Options) ->
    in_fresh_process(
      fun() ->
              S0 = fxml_stream:new(self(), MaxSize, Options),
              {PerChunk, S} =
                  lists:mapfoldl(fun(Chunk, S) ->
                                         S1 = fxml_stream:parse(S, Chunk),
                                         {mailbox(), S1}
                                 end, S0, Chunks),
              true = fxml_stream:close(S),
              PerChunk
      end).

-spec parse_element(binary()) -> term().
parse_element(Bin) ->
    outcome(fun() -> fxml_stream:parse_element(Bin) end).

%% @doc fxml's functions applied to El, with Names and Uris as arguments.
-spec element_calls(tuple(), [binary()]) -> [{atom(), term()}].
element_calls(El, Names) ->
    {xmlel, _, Attrs, Children} = El,
    Texts = [T || {xmlcdata, T} <- Children],
    Uris = [V || {_, V} <- Attrs] ++ [<<"jabber:client">>],
    Sub = case [C || {xmlel, _, _, _} = C <- Children] of
              [First | _] -> First;
              [] -> {xmlel, <<"new">>, [], []}
          end,
    [{element_to_binary, outcome(fun() -> fxml:element_to_binary(El) end)},
     {element_to_header, outcome(fun() -> fxml:element_to_header(El) end)},
     {children_to_binary,
      [outcome(fun() -> fxml:element_to_binary(C) end) || C <- Children]},
     {crypt, [outcome(fun() -> fxml:crypt(T) end) || T <- Texts]},
     {remove_cdata, fxml:remove_cdata(Children)},
     {get_cdata, fxml:get_cdata(Children)},
     {get_tag_cdata, fxml:get_tag_cdata(El)},
     {to_xmlel, fxml:to_xmlel(El)},
     {replace_subtag, fxml:replace_subtag(Sub, El)},
     {append_subtags, fxml:append_subtags(El, [Sub, {xmlcdata, <<"t">>}])}] ++
        lists:append(
          [[{{get_attr, N}, fxml:get_attr(N, Attrs)},
            {{get_attr_s, N}, fxml:get_attr_s(N, Attrs)},
            {{get_tag_attr, N}, fxml:get_tag_attr(N, El)},
            {{get_tag_attr_s, N}, fxml:get_tag_attr_s(N, El)},
            {{get_subtag, N}, fxml:get_subtag(El, N)},
            {{get_subtags, N}, fxml:get_subtags(El, N)},
            {{get_subtag_cdata, N}, fxml:get_subtag_cdata(El, N)},
            {{get_path_s, N},
             [fxml:get_path_s(El, P)
              || P <- [[{elem, N}], [{elem, N}, cdata], [{attr, N}],
                       [{elem, N}, {elem, N}, {attr, N}], [{elem, N}, {elem, N}],
                       []]]},
            {{replace_tag_attr, N}, fxml:replace_tag_attr(N, <<"v">>, El)}]
           || N <- Names]) ++
        lists:append(
          [[{{get_subtag_with_xmlns, N, U}, fxml:get_subtag_with_xmlns(El, N, U)},
            {{get_subtags_with_xmlns, N, U},
             fxml:get_subtags_with_xmlns(El, N, U)},
            {{remove_subtags, N, U},
             fxml:remove_subtags(El, N, {<<"xmlns">>, U})}]
           || N <- Names, U <- Uris]).

%%--------------------------------------------------------------------

outcome(Fun) ->
    try {ok, Fun()}
    catch Class:Reason -> {Class, Reason}
    end.

mailbox() ->
    receive Message -> [Message | mailbox()]
    after 0 -> []
    end.

in_fresh_process(Fun) ->
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), Fun()} end),
    receive
        {Pid, Result} ->
            erlang:demonitor(Ref, [flush]),
            Result;
        {'DOWN', Ref, process, Pid, Reason} ->
            {crashed, Reason}
    end.
