%% The stanza_component_codec behaviour on fast_xml (Debian's
%% erlang-p1-xml: fxml_stream and fxml), so that `make load' and the CT
%% suite can run the very same component with only the XML library
%% swapped. fxml_stream delivers its events as {'$gen_event', Event}
%% messages to the parsing process during parse/2; parse/2 collects them
%% from the mailbox at once, so the component sees the same event list a
%% stanza parser returns. Error reasons are mapped to stanza's terms.
-module(stanza_component_fxml).

-behaviour(stanza_component_codec).

-export([new_parser/1, parse/2, close_parser/1, encode/1]).

new_parser(#{max_stanza_size := Max}) ->
    fxml_stream:new(self(), Max).

parse(State, Data) ->
    State1 = fxml_stream:parse(State, Data),
    {collect([]), State1}.

close_parser(State) ->
    fxml_stream:close(State),
    ok.

encode(El) ->
    fxml:element_to_binary(El).

collect(Acc) ->
    receive
        {'$gen_event', {xmlstreamerror, <<"XML stanza is too big">>}} ->
            lists:reverse([{xmlstreamerror, stanza_too_big} | Acc]);
        {'$gen_event', {xmlstreamerror, Why}} ->
            lists:reverse([{xmlstreamerror, {not_well_formed, Why}} | Acc]);
        {'$gen_event', Event} ->
            collect([Event | Acc])
    after 0 ->
        lists:reverse(Acc)
    end.
