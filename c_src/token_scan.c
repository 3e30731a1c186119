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
    /* Before the root expat also holds what only a DTD may contain, until
     * it is whole (to refuse it then); "may be complete" on every byte
     * would make each feed re-read it, quadratic: */
    SCAN_NAME,    /* a bare name, "%name" or "#name": until a non-name byte */
    SCAN_LIT_S,   /* a '...' literal: until its closing quote */
    SCAN_LIT_D,   /* a "..." literal */
    SCAN_MAYBE    /* complete, text, or beyond what this scanner follows */
};

void token_scan_reset(token_scan *scan)
{
    scan->state = SCAN_START;
    scan->dashes = 0;
    scan->end_tag = 0;
}

/* Roughly XML's NameChar: ASCII letters, digits, "_:-." and any byte of
 * a multi-byte character. Wider than the rule is fine: a name ends, and
 * the token may be complete, at the first byte outside it. */
static int name_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == ':' || ch == '-' ||
           ch == '.' || ch >= 0x80;
}

static int step(token_scan *scan, unsigned char ch)
{
    switch (scan->state) {
    case SCAN_START:
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            return SCAN_START;
        if (ch == '<')
            return SCAN_LT;
        if (ch == '&')
            return SCAN_REF;
        if (ch == '\'' || ch == '"')
            return ch == '"' ? SCAN_LIT_D : SCAN_LIT_S;
        if (ch == '%' || ch == '#')
            return SCAN_NAME;
        /* digits, '-' and '.' cannot start a name: expat refuses them */
        return name_byte(ch) && !(ch >= '0' && ch <= '9') && ch != '-' &&
                       ch != '.'
                   ? SCAN_NAME
                   : SCAN_MAYBE;
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
    case SCAN_NAME:
        return name_byte(ch) ? SCAN_NAME : SCAN_MAYBE;
    case SCAN_LIT_S:
        return ch == '\'' ? SCAN_MAYBE : SCAN_LIT_S;
    case SCAN_LIT_D:
        return ch == '"' ? SCAN_MAYBE : SCAN_LIT_D;
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
