/*
 * raw_expat: the speed of bare libexpat on a file, the ceiling for stanza.
 *
 *   raw_expat [--plain] FILE RUNS CHUNK
 *   raw_expat --version
 *
 * Reads FILE into memory, then parses it RUNS times, feeding CHUNK bytes per
 * XML_Parse call. By default expat is set up as stanza's core sets it up
 * (namespace mode with 0xFF as separator, namespace triplets, reparse
 * deferral off) with handlers that do nothing; --plain uses a parser without
 * namespace processing. Prints one line per run:
 *
 *   run=1 mode=ns bytes=8000123 chunk=4096 seconds=0.041234567
 *
 * Exit status: 0 on success, 1 on a parse or I/O error, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_SEP ((XML_Char)0xFF)

typedef struct options {
    int plain;
    const char *path;
    long runs;
    long chunk;
} options;

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **attrs)
{
    (void)ud;
    (void)name;
    (void)attrs;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)ud;
    (void)name;
}

static void XMLCALL on_text(void *ud, const XML_Char *data, int len)
{
    (void)ud;
    (void)data;
    (void)len;
}

static void XMLCALL on_ns_start(void *ud, const XML_Char *prefix,
                                const XML_Char *uri)
{
    (void)ud;
    (void)prefix;
    (void)uri;
}

static void XMLCALL on_ns_end(void *ud, const XML_Char *prefix)
{
    (void)ud;
    (void)prefix;
}

static int usage(void)
{
    fprintf(stderr, "usage: raw_expat [--plain] FILE RUNS CHUNK\n"
                    "       raw_expat --version\n");
    return 2;
}

/* A decimal integer in [min, max], or -1. */
static long parse_long(const char *s, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    return v;
}

static int parse_args(int argc, char **argv, options *o)
{
    int i = 1;
    o->plain = 0;
    if (i < argc && strcmp(argv[i], "--plain") == 0) {
        o->plain = 1;
        i++;
    }
    if (argc - i != 3)
        return -1;
    o->path = argv[i];
    o->runs = parse_long(argv[i + 1], 1, 1000000);
    o->chunk = parse_long(argv[i + 2], 1, INT_MAX);
    return (o->runs < 0 || o->chunk < 0) ? -1 : 0;
}

/* Reads the whole file into a malloc'd buffer; 0 on success. */
static int read_file(const char *path, char **buf_out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "raw_expat: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = (buf == NULL) || ferror(f);
    if (fclose(f) != 0)
        failed = 1;
    if (failed) {
        fprintf(stderr, "raw_expat: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    *buf_out = buf;
    *len_out = len;
    return 0;
}

static XML_Parser create_parser(int plain)
{
    XML_Parser p = plain ? XML_ParserCreate("UTF-8")
                         : XML_ParserCreateNS("UTF-8", NS_SEP);
    if (p == NULL)
        return NULL;
    if (!plain) {
        XML_SetReturnNSTriplet(p, 1);
        XML_SetNamespaceDeclHandler(p, on_ns_start, on_ns_end);
    }
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
#ifdef STZ_HAVE_REPARSE_DEFERRAL
    /* As stanza's core does: see c_src/xml_core.c. */
    if (XML_SetReparseDeferralEnabled(p, XML_FALSE) != XML_TRUE) {
        XML_ParserFree(p);
        return NULL;
    }
#endif
    return p;
}

static void report_error(XML_Parser p)
{
    fprintf(stderr, "raw_expat: line %lu column %lu: %s\n",
            (unsigned long)XML_GetCurrentLineNumber(p),
            (unsigned long)XML_GetCurrentColumnNumber(p),
            XML_ErrorString(XML_GetErrorCode(p)));
}

/* One full parse of buf in chunk-byte pieces; 0 on success. */
static int parse_once(const char *buf, size_t len, size_t chunk, int plain)
{
    XML_Parser p = create_parser(plain);
    if (p == NULL) {
        fprintf(stderr, "raw_expat: cannot create the parser\n");
        return -1;
    }
    size_t off = 0;
    int rc = 0;
    do {
        size_t n = (len - off < chunk) ? len - off : chunk;
        int final = (off + n == len);
        if (XML_Parse(p, buf + off, (int)n, final) == XML_STATUS_ERROR) {
            report_error(p);
            rc = -1;
            break;
        }
        off += n;
    } while (off < len);
    XML_ParserFree(p);
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("raw_expat: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const options *o)
{
    char *buf = NULL;
    size_t len = 0;
    if (read_file(o->path, &buf, &len) != 0)
        return 1;
    int rc = 0;
    for (long i = 1; i <= o->runs && rc == 0; i++) {
        double t0 = now_seconds();
        rc = parse_once(buf, len, (size_t)o->chunk, o->plain);
        double t1 = now_seconds();
        if (rc == 0
            && printf("run=%ld mode=%s bytes=%zu chunk=%ld seconds=%.9f\n", i,
                      o->plain ? "plain" : "ns", len, o->chunk, t1 - t0) < 0)
            rc = -1;
    }
    free(buf);
    if (fflush(stdout) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        XML_Expat_Version v = XML_ExpatVersionInfo();
        printf("version=%s major=%d minor=%d micro=%d\n", XML_ExpatVersion(),
               v.major, v.minor, v.micro);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return usage();
    return run(&o);
}
