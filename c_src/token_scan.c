/*
 * token_scan: see token_scan.h.
 */
#include "token_scan.h"

enum {
    SCAN_START,   /* nothing but blanks seen yet */
    SCAN_LT,      /* "<" */
    SCAN_TAG,     /* inside a start or end tag, outside quotes */
    SCAN_SQUOTE,  /* inside '...' of a start tag */
    SCAN_DQUOTE,  /* inside "..." of a start tag */
    SCAN_BANG,    /* "<!" */
    SCAN_BANG_DASH, /* "<!-" */
    SCAN_COMMENT, /* "<!--", waiting for "-->" */
    SCAN_DECL,    /* "<!X": a declaration, ends at '>' */
    SCAN_PI,      /* "<?", waiting for "?>" */
    SCAN_PI_Q,    /* "<? ... ?" */
    SCAN_REF,     /* "&", waiting for ';' */
    SCAN_MAYBE    /* complete, text, or beyond what this scanner follows */
};

void token_scan_reset(token_scan *scan)
{
    scan->state = SCAN_START;
    scan->dashes = 0;
    scan->end_tag = 0;
}

static int step(token_scan *scan, unsigned char ch)
{
    switch (scan->state) {
    case SCAN_START:
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            return SCAN_START;
        if (ch == '<')
            return SCAN_LT;
        return ch == '&' ? SCAN_REF : SCAN_MAYBE;
    case SCAN_LT:
        if (ch == '!')
            return SCAN_BANG;
        if (ch == '?')
            return SCAN_PI;
        scan->end_tag = ch == '/';
        return ch == '>' ? SCAN_MAYBE : SCAN_TAG;
    case SCAN_TAG:
        if (ch == '\'')
            return SCAN_SQUOTE;
        if (ch == '"')
            return SCAN_DQUOTE;
        return ch == '>' ? SCAN_MAYBE : SCAN_TAG;
    case SCAN_SQUOTE:
        return ch == '\'' ? SCAN_TAG : SCAN_SQUOTE;
    case SCAN_DQUOTE:
        return ch == '"' ? SCAN_TAG : SCAN_DQUOTE;
    case SCAN_BANG:
        if (ch == '-')
            return SCAN_BANG_DASH;
        /* "<![CDATA[" is short and its content is reported as it comes */
        return ch == '[' ? SCAN_MAYBE : SCAN_DECL;
    case SCAN_BANG_DASH:
        return ch == '-' ? SCAN_COMMENT : SCAN_DECL;
    case SCAN_COMMENT:
        if (ch == '>' && scan->dashes >= 2)
            return SCAN_MAYBE;
        scan->dashes = ch == '-' ? scan->dashes + 1 : 0;
        return SCAN_COMMENT;
    case SCAN_DECL:
        return ch == '>' ? SCAN_MAYBE : SCAN_DECL;
    case SCAN_PI:
        return ch == '?' ? SCAN_PI_Q : SCAN_PI;
    case SCAN_PI_Q:
        if (ch == '>')
            return SCAN_MAYBE;
        return ch == '?' ? SCAN_PI_Q : SCAN_PI;
    case SCAN_REF:
        return ch == ';' ? SCAN_MAYBE : SCAN_REF;
    default:
        return SCAN_MAYBE;
    }
}

void token_scan_feed(token_scan *scan, const char *data, size_t len)
{
    for (size_t i = 0; i < len && scan->state != SCAN_MAYBE; i++) {
        int next = step(scan, (unsigned char)data[i]);
        if (next == SCAN_COMMENT && scan->state != SCAN_COMMENT)
            scan->dashes = 0;
        scan->state = next;
    }
}

int token_scan_may_be_complete(const token_scan *scan)
{
    return scan->state == SCAN_MAYBE;
}
