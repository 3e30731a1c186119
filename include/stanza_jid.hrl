%% The JID record of stanza_jid (an XMPP address, RFC 6122).
%%
%% Every field holds the prepared (canonical) form: the localpart after
%% Nodeprep, the domainpart after Nameprep and the IDNA checks, the
%% resourcepart after Resourceprep, all UTF-8. An absent localpart or
%% resourcepart is <<>> (an empty one is not a valid JID, so there is no
%% ambiguity). Two records are the same address exactly when they are
%% =:= equal, so a record (or stanza_jid:to_binary/1 of it) is a good key
%% for maps, ets and stanza_tracker / stanza_dedup.
%%
%% Build records with stanza_jid:parse/1 or stanza_jid:make/3, never by
%% hand: only those prepare the parts.
-ifndef(STANZA_JID_HRL).
-define(STANZA_JID_HRL, true).

-record(stanza_jid, {localpart = <<>> :: binary(),
                     domain = <<>> :: binary(),
                     resource = <<>> :: binary()}).

-endif.
