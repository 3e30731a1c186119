#!/usr/bin/env python3
"""Writes the differential test set for test/c/stringprep_diff.c: one
line per case, `HEX NFKC`, where HEX is the case's bytes in hex and NFKC
is Python's unicodedata.ucd_3_2_0 NFKC of the decoded string as
comma-separated hex code points (`-` when the bytes are not valid UTF-8
by Python's strict decoder, `=` for an empty result, `?` when the string
holds a code point unassigned in Unicode 3.2: Python's 3.2 normalizer
orders those by their current combining class, so it is no oracle there;
libidn still is).

Usage: stringprep_cases.py N SEED > cases.txt   (N cases per class)

Classes: ASCII names, Latin accents (precomposed and decomposed),
combining sequences, class-0 characters that compose across marks, CJK
and Hangul, bidi (Hebrew/Arabic with digits and
Latin), prohibited, unassigned, compatibility characters, B.1, random
BMP and astral code points, invalid UTF-8, NUL and controls.
"""
import random
import stringprep
import sys
import unicodedata

UCD = unicodedata.ucd_3_2_0


def pick_where(rng, pred, lo, hi, tries=10000):
    for _ in range(tries):
        c = chr(rng.randint(lo, hi))
        if pred(c):
            return c
    raise RuntimeError('no character found')


def assigned(c):
    return not (0xD800 <= ord(c) <= 0xDFFF) and not stringprep.in_table_a1(c)


def python_nfkc(s):
    if any(stringprep.in_table_a1(c) for c in s):
        return '?'
    return ','.join('%x' % ord(c) for c in UCD.normalize('NFKC', s)) or '='


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    marks = [chr(c) for c in range(0x300, 0x370)] + \
        [chr(c) for c in range(0x1DC0, 0x1E00) if UCD.combining(chr(c))] + \
        [chr(c) for c in range(0x20D0, 0x20F0) if UCD.combining(chr(c))] + \
        ['\u0591', '\u05B0', '\u05BC', '\u0610', '\u064B', '\u0651',
         '\u093C', '\u094D', '\u0B3C', '\u0B3E', '\u0B56', '\u0B57',
         '\u0BBE', '\u0CD5', '\u0E38', '\u0F71', '\u0F72', '\u0F80',
         '\u302A', '\u3099', '\u309A', '\u0345', '\u0344', '\u0F73']
    latin = 'aeiouyncszAEIOUYNCSZ'
    precomposed = [chr(c) for c in range(0xC0, 0x250) if assigned(chr(c))]
    cjk = [chr(c) for c in range(0x4E00, 0x9FA5)]
    hangul = [chr(c) for c in range(0xAC00, 0xD7A4)]
    jamo = [chr(c) for c in range(0x1100, 0x11FA) if assigned(chr(c))]
    hebrew = [chr(c) for c in range(0x5D0, 0x5EB)]
    arabic = [chr(c) for c in range(0x621, 0x64B) if assigned(chr(c))]
    compat = ['\uFDFA', '\uFB01', '\u2163', '\u3300', '\uFF21', '\uFF41',
              '\u00BD', '\u2122', '\u33C6', '\u1E9B', '\u03D3', '\u0390',
              '\u1F80', '\u00DF', '\u0130', '\u212B', '\u2126', '\uFF9E',
              '\u3131', '\uFFA0', '\u037A', '\u0385', '\u1FEE', '\u2474']
    b1 = ['\u00AD', '\u034F', '\u1806', '\u180B', '\u200B', '\u200D',
          '\u2060', '\uFE00', '\uFE0F', '\uFEFF']

    def any_bmp():
        return pick_where(rng, lambda c: not 0xD800 <= ord(c) <= 0xDFFF, 0, 0xFFFD)

    def any_cp():
        return pick_where(rng, lambda c: not 0xD800 <= ord(c) <= 0xDFFF, 0, 0x10FFFF)

    def prohibited():
        return pick_where(rng, lambda c: not 0xD800 <= ord(c) <= 0xDFFF and (
                          stringprep.in_table_c12(c) or
                          stringprep.in_table_c22(c) or stringprep.in_table_c3(c) or
                          stringprep.in_table_c4(c) or stringprep.in_table_c5(c) or
                          stringprep.in_table_c6(c) or stringprep.in_table_c7(c) or
                          stringprep.in_table_c8(c) or stringprep.in_table_c9(c) or
                          stringprep.in_table_c21(c)), 0, 0x10FFFF, 1000000)

    def unassigned():
        return pick_where(rng, lambda c: stringprep.in_table_a1(c), 0, 0x3FFFF)

    def word(alphabet, lo=1, hi=10):
        return ''.join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))

    ascii_name = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-'
    ascii_all = ''.join(chr(c) for c in range(0x20, 0x7F))
    classes = {
        'ascii': lambda: word(ascii_name, 1, 20),
        'ascii_any': lambda: word(ascii_all, 1, 20),
        'latin_precomposed': lambda: word(precomposed + list('abcxyz'), 1, 12),
        'latin_decomposed': lambda: ''.join(
            rng.choice(latin) + ''.join(rng.choice(marks[:40]) for _ in range(rng.randint(0, 2)))
            for _ in range(rng.randint(1, 6))),
        'combining': lambda: ''.join(
            rng.choice(latin + ''.join(precomposed[:60]) + '\u0B47\u0BC6\u0CC6\u1100\uAC00\u05D0') +
            ''.join(rng.choice(marks) for _ in range(rng.randint(0, 5)))
            for _ in range(rng.randint(1, 4))),
        'cjk': lambda: word(cjk, 1, 8),
        # a class-0 character that composes with an earlier starter,
        # across marks: where libidn and Unicode 3.2 part ways
        'blocked_starter': lambda: ''.join(
            rng.choice('\u0B47\u0BC6\u0BC7\u0CC6\u0D46\u0DD9\u1025\u1100\uAC00e') +
            word(marks, 0, 2) +
            rng.choice('\u0B3E\u0B56\u0B57\u0BBE\u0BD7\u0CD5\u0CC2\u0D3E\u0DCF\u102E\u1161\u11A8')
            for _ in range(rng.randint(1, 3))),
        'hangul': lambda: word(hangul + jamo, 1, 8),
        'bidi': lambda: (rng.choice(['', '1', 'a', '\u05D0']) +
                         word(hebrew + arabic + list('0123 .a') + marks[-24:-16], 1, 8) +
                         rng.choice(['', '1', 'a', '\u05D0', '\u0628'])),
        'prohibited': lambda: word('abc') + prohibited() + word('xyz', 0, 3),
        'unassigned': lambda: word('abc', 0, 3) + unassigned() + word('xyz', 0, 3),
        'compat': lambda: word(compat + list('Ab') + b1, 1, 6),
        'b1': lambda: word(b1 + list('aB\u00e9'), 1, 6),
        'bmp': lambda: ''.join(any_bmp() for _ in range(rng.randint(1, 6))),
        'astral': lambda: ''.join(any_cp() for _ in range(rng.randint(1, 4))),
        'controls': lambda: word('ab\x00\x01\x1f\x7f \u0080\u009f\u00a0', 1, 6),
        'mixed': lambda: word(ascii_name, 0, 4) + word(precomposed, 0, 3) +
        word(cjk, 0, 2) + word(marks, 0, 2) + word(compat, 0, 2),
    }
    out = sys.stdout
    for name in sorted(classes):
        for _ in range(n):
            s = classes[name]()
            b = s.encode('utf-8')
            out.write('%s %s\n' % (b.hex(), python_nfkc(s)))
    # Invalid UTF-8: overlongs, surrogates, above U+10FFFF, truncated,
    # stray continuation bytes, C0/C1/F5-FF lead bytes; mixed with text.
    bad = [b'\xc0\xaf', b'\xc0\x80', b'\xc1\xbf', b'\xe0\x80\xaf', b'\xe0\x9f\xbf',
           b'\xf0\x80\x80\xaf', b'\xf0\x8f\xbf\xbf', b'\xed\xa0\x80', b'\xed\xbf\xbf',
           b'\xf4\x90\x80\x80', b'\xf5\x80\x80\x80', b'\xff', b'\xfe', b'\x80',
           b'\xbf', b'\xc3', b'\xe2\x82', b'\xf0\x9f\x98', b'\xf8\x88\x80\x80\x80',
           b'\xfc\x84\x80\x80\x80\x80']
    for _ in range(n):
        b = (word(ascii_name, 0, 5).encode() + rng.choice(bad) +
             word(ascii_name + '\u00e9\u4e2d', 0, 5).encode())
        try:
            nfkc = python_nfkc(b.decode('utf-8'))
        except UnicodeDecodeError:
            nfkc = '-'
        out.write('%s %s\n' % (b.hex(), nfkc))


if __name__ == '__main__':
    main()
