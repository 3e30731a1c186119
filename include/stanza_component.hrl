%% What an XEP-0114 component's owner receives for each stanza
%% (stanza_component), field for field in exmpp's order, so that code
%% matching exmpp's #received_packet{} keeps matching.
%%
%%   packet_type  message | iq | presence (atoms); any other top-level
%%                element gives its name as a binary
%%   type_attr    the `type' attribute as a string ("chat", "get"...), as
%%                exmpp gave it, or undefined
%%   from         the `from' attribute as a binary JID, or undefined
%%                (exmpp gave a parsed JID here)
%%   id           the `id' attribute as a binary, or undefined
%%   queryns      IQ only: the payload's namespace as a binary, or
%%                undefined (exmpp made an atom of it; stanza makes no atom
%%                from wire data)
%%   raw_packet   the whole stanza, in the format chosen at start
%%                (#xmlel{} by default; see include/stanza.hrl)
-ifndef(STANZA_COMPONENT_HRL).
-define(STANZA_COMPONENT_HRL, true).

-record(received_packet,
        {packet_type :: message | iq | presence | binary(),
         type_attr :: string() | undefined,
         from :: binary() | undefined,
         id :: binary() | undefined,
         queryns :: binary() | undefined,
         raw_packet :: tuple()}).

-endif.
