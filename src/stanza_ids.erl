%% @doc Packet ids for XMPP stanzas.
%%
%% ```
%% 1> stanza_ids:new_id().
%% <<"q3V0cmJxSi1XAAAAAAAAAA">>
%% 2> stanza_ids:random_id().
%% <<"mV8z1kqg2XGQ3hn0O2b4wA">>
%% '''
%%
%% Both return 22 characters of base64url (`A-Z a-z 0-9 - _'), safe in
%% XML attributes and URLs as they are.
%%
%% `new_id/0' is 72 random bits drawn from OpenSSL's CSPRNG when the
%% library loads, followed by a 56-bit atomic counter: unique within the
%% node with no lock, and across restarts and cluster nodes with no
%% coordination (two loads share a prefix with probability 2^-72 per
%% pair). The ids of one load are predictable from one another: use
%% `random_id/0' (128 bits from the CSPRNG) where guessing an id must not
%% help, e.g. for a request whose response could be spoofed.
-module(stanza_ids).

-export([new_id/0, random_id/0]).

%% @doc A new id, unique within the node and across nodes and restarts.
-spec new_id() -> binary().
new_id() ->
    stanza_ids_nif:new_id().

%% @doc 128 random bits from OpenSSL's CSPRNG, as an id.
-spec random_id() -> binary().
random_id() ->
    stanza_ids_nif:random_id().
