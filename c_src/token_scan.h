/*
 * token_scan: can the markup token expat is holding be complete yet?
 *
 * xml_core keeps bytes away from expat while expat holds a big unfinished
 * token (see DEFER_MIN in xml_core.c), because expat reads such a token
 * again from its start each time it is fed. To deliver stanzas promptly it
 * must still feed expat the moment the token may be complete: this scanner
 * follows the token's bytes (start and end tags with their quoted values,
 * comments, processing instructions, references) and says when that is.
 * It errs on the side of "may be complete": a wrong yes costs one early
 * re-read, a wrong no would hold a stanza back.
 */
#ifndef STANZA_TOKEN_SCAN_H
#define STANZA_TOKEN_SCAN_H

#include <stddef.h>

typedef struct token_scan {
    int state;
    int dashes;  /* consecutive '-' seen in a comment */
    int end_tag; /* the token is an end tag ("</") */
} token_scan;

/* Starts over at the first byte of a token (blanks before it are fine). */
void token_scan_reset(token_scan *scan);

/* Follows the next bytes of the token. */
void token_scan_feed(token_scan *scan, const char *data, size_t len);

/* Non-zero when the bytes so far may finish the token. */
int token_scan_may_be_complete(const token_scan *scan);

#endif
