%% The #xmlel{} record (ejabberd >= 13, fast_xml), for a project that does
%% not have fast_xml's fxml.hrl: the same record with the same fields and
%% defaults, so that code written against it moves to fxml.hrl unchanged.
%% Never include it together with fxml.hrl (or xmpp.hrl, which includes
%% fxml.hrl): fxml.hrl has no include guard and the record would be
%% defined twice. include/stanza.hrl goes with either.
-ifndef(STANZA_XMLEL_HRL).
-define(STANZA_XMLEL_HRL, true).

-record(xmlel, {name = <<>> :: binary(),
                attrs = [] :: [{binary(), binary()}],
                children = [] :: [#xmlel{} | {xmlcdata, binary()}]}).

-endif.
