%% The #xmlel{} record of fast_xml's fxml.hrl, field for field, so that
%% code compiled against fast_xml compiles against this application and
%% builds the same terms: {xmlel, Name, Attrs, Children}.
-ifndef(FXML_HRL).
-define(FXML_HRL, true).

-record(xmlel, {name = <<"">> :: binary(),
                attrs = [] :: [attr()],
                children = [] :: [xmlel() | cdata()]}).

-type cdata() :: {xmlcdata, CData :: binary()}.
-type attr() :: {Name :: binary(), Value :: binary()}.
-type xmlel() :: #xmlel{}.

-endif.
