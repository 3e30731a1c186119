#!/usr/bin/env python3
"""Writes c_src/stringprep_tables.h: the Unicode 3.2 data stanza's
stringprep (c_src/stringprep.c) needs, derived from Python 3's standard
library alone:

  - unicodedata.ucd_3_2_0: canonical combining classes, NFKD (full
    compatibility decomposition, already recursive and ordered) and,
    through its NFC, which canonical pairs compose (so the composition
    exclusions come from the same source);
  - stringprep (the module): RFC 3454's tables A.1, B.1, B.2, B.3 (B.3 is
    not used by the XMPP profiles), C.1.1-C.9, D.1, D.2.

Usage: stringprep_tables.py OUT.h     (make -C c_src tables)
       stringprep_tables.py --check OUT.h   exits 1 if OUT.h differs

The output is committed so that building stanza needs no Python; `make
test` regenerates it and compares bytes.
"""
import stringprep
import sys
import unicodedata

UCD = unicodedata.ucd_3_2_0
MAX_CP = 0x110000
BLOCK = 128          # code points per second-stage block

# Per code point flags (keep in step with stringprep.c).
F = dict(A1=1 << 0, B1=1 << 1, C11=1 << 2, C12=1 << 3, C21=1 << 4,
         C22=1 << 5, C39=1 << 6, NODE=1 << 7, RANDAL=1 << 8, L=1 << 9,
         HAS_DEC=1 << 10, HAS_B2DEC=1 << 11, QUICK=1 << 12, QUICK_B2=1 << 13,
         SECOND=1 << 14)

# RFC 3920 / RFC 6122 Nodeprep prohibits these ASCII characters as well.
NODEPREP_EXTRA = '"&\'/:<>@'

HANGUL_S = (0xAC00, 0xD7A3)
HANGUL_V = (0x1161, 0x1175)
HANGUL_T = (0x11A8, 0x11C2)


def chars():
    for cp in range(MAX_CP):
        if 0xD800 <= cp <= 0xDFFF:
            continue        # refused by the UTF-8 decoder
        yield cp, chr(cp)


def compositions():
    """(first, second) -> composite, for every canonical pair that NFC
    (Unicode 3.2) recomposes: exclusions, singletons and non-starter
    decompositions drop out because NFC does not produce them."""
    pairs = {}
    for cp, ch in chars():
        if HANGUL_S[0] <= cp <= HANGUL_S[1]:
            continue        # algorithmic, in the C code
        d = UCD.decomposition(ch)
        if not d or d.startswith('<'):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) != 2:
            continue
        if UCD.normalize('NFC', chr(parts[0]) + chr(parts[1])) == ch:
            pairs[(parts[0], parts[1])] = cp
    return pairs


def b2_map(ch):
    """Table B.2 of RFC 3454. The stringprep module computes it with the
    running Python's str.lower(), which knows case pairs added after
    Unicode 3.2 (U+04C0 -> U+04CF, Georgian U+10A0 -> U+2D00...): a
    mapping that lands on a code point unassigned in 3.2 is such a later
    pair, and B.2 has no entry for it. The exhaustive comparison with
    libidn in test/c/stringprep_diff.c checks the result."""
    if stringprep.in_table_a1(ch):
        return ch       # U+1E9E -> U+00DF and the like: not in 3.2
    mapped = stringprep.map_table_b2(ch)
    if any(stringprep.in_table_a1(c) for c in mapped):
        return ch
    return mapped


def quick_yes(ch, ccc, second):
    cp = ord(ch)
    jamo_second = (HANGUL_V[0] <= cp <= HANGUL_V[1] or
                   HANGUL_T[0] <= cp <= HANGUL_T[1])
    return (ccc == 0 and not second and not jamo_second and
            UCD.normalize('NFKC', ch) == ch)


def main():
    check = sys.argv[1] == '--check'
    out = sys.argv[-1]
    pairs = compositions()
    seconds = {b for (_, b) in pairs}
    pool = []
    pool_index = {}

    def seq(s):
        key = tuple(ord(c) for c in s)
        if key not in pool_index:
            pool_index[key] = len(pool)
            pool.extend(key)
        return pool_index[key], len(key)

    records = []
    record_index = {}
    per_cp = [0] * MAX_CP
    max_expansion = 1   # code points out per UTF-8 byte in, worst case
    for cp, ch in chars():
        flags = 0
        if stringprep.in_table_a1(ch): flags |= F['A1']
        if stringprep.in_table_b1(ch): flags |= F['B1']
        if stringprep.in_table_c11(ch): flags |= F['C11']
        if stringprep.in_table_c12(ch): flags |= F['C12']
        if stringprep.in_table_c21(ch): flags |= F['C21']
        if stringprep.in_table_c22(ch): flags |= F['C22']
        if (stringprep.in_table_c3(ch) or stringprep.in_table_c4(ch) or
                stringprep.in_table_c5(ch) or stringprep.in_table_c6(ch) or
                stringprep.in_table_c7(ch) or stringprep.in_table_c8(ch) or
                stringprep.in_table_c9(ch)):
            flags |= F['C39']
        if ch in NODEPREP_EXTRA: flags |= F['NODE']
        if stringprep.in_table_d1(ch): flags |= F['RANDAL']
        if stringprep.in_table_d2(ch): flags |= F['L']
        ccc = UCD.combining(ch)
        hangul = HANGUL_S[0] <= cp <= HANGUL_S[1]
        dec = (0, 0)
        b2dec = (0, 0)
        if not hangul:
            nfkd = UCD.normalize('NFKD', ch)
            if nfkd != ch:
                flags |= F['HAS_DEC']
                dec = seq(nfkd)
            mapped = b2_map(ch)
            b2nfkd = UCD.normalize('NFKD', mapped)
            if b2nfkd != ch:
                flags |= F['HAS_B2DEC']
                b2dec = seq(b2nfkd)
            n = max(len(nfkd), len(b2nfkd))
        else:
            n = 3
        utf8len = len(ch.encode('utf-8'))
        max_expansion = max(max_expansion, -(-n // utf8len))
        jamo_second = (HANGUL_V[0] <= cp <= HANGUL_V[1] or
                       HANGUL_T[0] <= cp <= HANGUL_T[1])
        second = jamo_second or cp in seconds
        if second:
            flags |= F['SECOND']
        # NFKC's quick check says Yes and the class is 0: a string made
        # only of such characters is its own NFKC (UAX #15's quick check),
        # so normalization is skipped for it. QUICK_B2: the same for
        # B.2's single-character mapping of the character (`lower').
        lower = 0
        if not flags & F['B1']:
            if quick_yes(ch, ccc, second):
                flags |= F['QUICK']
            mapped = b2_map(ch)
            if len(mapped) == 1 and quick_yes(mapped, UCD.combining(mapped),
                                              ord(mapped) in seconds):
                flags |= F['QUICK_B2']
                lower = ord(mapped) if mapped != ch else 0
        rec = (flags, ccc, dec[0], dec[1], b2dec[0], b2dec[1], lower)
        if rec not in record_index:
            record_index[rec] = len(records)
            records.append(rec)
        per_cp[cp] = record_index[rec]
    # surrogates: unassigned-like record (never reached: decoder refuses)
    assert len(records) < 65536 and len(pool) < 65536, (len(records), len(pool))
    assert max(r[3] for r in records) < 256 and max(r[5] for r in records) < 256

    blocks = []
    block_index = {}
    stage1 = []
    for start in range(0, MAX_CP, BLOCK):
        b = tuple(per_cp[start:start + BLOCK])
        if b not in block_index:
            block_index[b] = len(blocks)
            blocks.append(b)
        stage1.append(block_index[b])
    assert len(blocks) < 65536

    lines = []
    w = lines.append
    w("/* GENERATED by c_src/gen/stringprep_tables.py from Python 3's")
    w(' * unicodedata.ucd_3_2_0 (Unicode %s: combining classes, NFKD, NFC'
      % UCD.unidata_version)
    w(' * compositions) and stringprep module (RFC 3454 tables A.1, B.1,')
    w(' * B.2, C.*, D.1, D.2). Do not edit: regenerate (make -C c_src tables).')
    w(' */')
    w('#ifndef STANZA_STRINGPREP_TABLES_H')
    w('#define STANZA_STRINGPREP_TABLES_H')
    w('#include <stdint.h>')
    w('')
    for k, v in F.items():
        w('#define SP_%s 0x%04x' % (k, v))
    w('#define SP_BLOCK_SHIFT %d' % (BLOCK.bit_length() - 1))
    w('#define SP_BLOCK_MASK %d' % (BLOCK - 1))
    w('/* Worst case code points produced per UTF-8 input byte (mapping')
    w(' * and NFKD together). */')
    w('#define SP_MAX_EXPANSION %d' % max_expansion)
    w('')
    w('typedef struct sp_record {')
    w('    uint16_t flags;')
    w('    uint8_t ccc;')
    w('    uint8_t dec_len;   /* NFKD(cp), when SP_HAS_DEC */')
    w('    uint16_t dec_off;')
    w('    uint8_t b2dec_len; /* NFKD(B.2(cp)), when SP_HAS_B2DEC */')
    w('    uint16_t b2dec_off;')
    w('    uint32_t lower;    /* B.2(cp) when SP_QUICK_B2 and not cp itself */')
    w('} sp_record;')
    w('')

    def array(decl, values, per_line=12, fmt='%d'):
        w(decl + ' = {')
        for i in range(0, len(values), per_line):
            w('    ' + ', '.join(fmt % v for v in values[i:i + per_line]) + ',')
        w('};')
        w('')

    w('static const sp_record sp_records[%d] = {' % len(records))
    for r in records:
        w('    {0x%04x, %d, %d, %d, %d, %d, 0x%x},' % (r[0], r[1], r[3], r[2], r[5], r[4], r[6]))
    w('};')
    w('')
    array('static const uint16_t sp_stage1[%d]' % len(stage1), stage1)
    flat = [v for b in blocks for v in b]
    array('static const uint16_t sp_stage2[%d]' % len(flat), flat, 16)
    array('static const uint32_t sp_pool[%d]' % len(pool), pool, 8, '0x%05x')
    comp = sorted(pairs.items())
    w('/* Canonical compositions, sorted by (first, second). */')
    w('#define SP_COMPOSITIONS %d' % len(comp))
    w('static const uint64_t sp_comp_keys[%d] = {' % len(comp))
    for i in range(0, len(comp), 4):
        w('    ' + ', '.join('0x%012xULL' % (a << 21 | b)
                             for (a, b), _ in comp[i:i + 4]) + ',')
    w('};')
    w('')
    array('static const uint32_t sp_comp_values[%d]' % len(comp),
          [c for _, c in comp], 8, '0x%05x')
    w('#endif')
    text = '\n'.join(lines) + '\n'
    if check:
        with open(out) as f:
            if f.read() != text:
                sys.stderr.write('%s differs from what %s generates\n' % (out, sys.argv[0]))
                sys.exit(1)
        return
    with open(out, 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
