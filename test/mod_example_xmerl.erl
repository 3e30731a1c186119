%% A small ejabberd 2.x-style module written against xmerl, the way such
%% modules were written: parse with xmerl_scan, query with simple XPath,
%% write with xmerl:export_simple. mod_example_stanza is the same module
%% moved to stanza; stanza_xmerl_tests checks they give the same answers.
%% The README's "Replacing xmerl in an ejabberd module" shows both.
-module(mod_example_xmerl).

-include_lib("xmerl/include/xmerl.hrl").

-export([iq_info/1, message_body/1, roster_jids/1, version_reply/3]).

%% {Type, Id, QueryNamespace} of an IQ; "" for what is missing.
iq_info(Packet) ->
    Doc = parse(Packet),
    %% XPath sees no xmlns attributes (they are namespace nodes): read
    %% the child's attribute list, as 2.x-era modules did.
    NS = case xmerl_xpath:string("/iq/*", Doc) of
             [#xmlElement{attributes = Attrs} | _] ->
                 hd([V || #xmlAttribute{name = xmlns, value = V} <- Attrs] ++ [""]);
             [] ->
                 ""
         end,
    {attr("/iq/@type", Doc), attr("/iq/@id", Doc), NS}.

%% The text of a message's body, "" when there is none.
message_body(Packet) ->
    Doc = parse(Packet),
    lists:append([V || #xmlText{value = V} <- xmerl_xpath:string("/message/body/text()", Doc)]).

%% The jid of every roster item.
roster_jids(Packet) ->
    Doc = parse(Packet),
    [V || #xmlAttribute{value = V} <- xmerl_xpath:string("/iq/query/item/@jid", Doc)].

%% The answer to a jabber:iq:version request.
version_reply(Packet, Name, Version) ->
    Doc = parse(Packet),
    Reply = {iq, [{type, "result"}, {id, attr("/iq/@id", Doc)},
                  {to, attr("/iq/@from", Doc)}],
             [{query, [{xmlns, "jabber:iq:version"}],
               [{name, [Name]}, {version, [Version]}]}]},
    lists:flatten(xmerl:export_simple([Reply], xmerl_xml, [{prolog, ""}])).

parse(Packet) ->
    {Doc, _Rest} = xmerl_scan:string(Packet),
    Doc.

attr(Path, Doc) ->
    case xmerl_xpath:string(Path, Doc) of
        [#xmlAttribute{value = V} | _] -> V;
        [] -> ""
    end.
