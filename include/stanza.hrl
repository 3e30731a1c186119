%% Records and types for the element terms stanza produces and accepts.
%%
%% Three shapes, chosen with the `format' option of stanza_stream:
%%   binary (default)  {xmlelement, <<"name">>, [{<<"k">>, <<"v">>}], Children}
%%   legacy            {xmlelement, "name", [{"k", "v"}], Children}  (ejabberd 2.x)
%%   xmlel             {xmlel, <<"name">>, [{<<"k">>, <<"v">>}], Children}
%% Text is always {xmlcdata, binary()}.
%%
%% The #xmlel{} record is not defined here: it belongs to fast_xml's
%% fxml.hrl, which modern ejabberd modules get through xmpp.hrl and which
%% defines it with no include guard, so any other definition would clash
%% with it in one include order or the other. This file goes with
%% fxml.hrl in either order. For #xmlel{} without fast_xml, include
%% stanza_xmlel.hrl (the same record, never together with fxml.hrl).
-ifndef(STANZA_HRL).
-define(STANZA_HRL, true).

-type stanza_cdata() :: {xmlcdata, binary()}.

-record(xmlelement, {name :: binary() | string(),
                     attrs = [] :: [{binary() | string(), binary() | string()}],
                     children = [] :: [#xmlelement{} | stanza_cdata()]}).

-endif.
