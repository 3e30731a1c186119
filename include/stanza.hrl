%% Records and types for the element terms stanza produces and accepts.
%%
%% Three shapes, chosen with the `format' option of stanza_stream:
%%   binary (default)  {xmlelement, <<"name">>, [{<<"k">>, <<"v">>}], Children}
%%   legacy            {xmlelement, "name", [{"k", "v"}], Children}  (ejabberd 2.x)
%%   xmlel             #xmlel{} as in ejabberd >= 13 and fast_xml
%% Text is always {xmlcdata, binary()}.
-ifndef(STANZA_HRL).
-define(STANZA_HRL, true).

-type xmlcdata() :: {xmlcdata, binary()}.

-record(xmlel, {name = <<>> :: binary(),
                attrs = [] :: [{binary(), binary()}],
                children = [] :: [#xmlel{} | xmlcdata()]}).

-record(xmlelement, {name :: binary() | string(),
                     attrs = [] :: [{binary() | string(), binary() | string()}],
                     children = [] :: [#xmlelement{} | xmlcdata()]}).

-endif.
