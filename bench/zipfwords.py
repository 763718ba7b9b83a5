#!/usr/bin/env python3
"""zipfwords.py: the text that bench/wordcount counts.

    python3 bench/zipfwords.py [--vocab V] [--zipf S] [--seed X] BYTES > FILE

Lines of 6 to 14 words (10 on average) separated by single spaces, written
until the next line would pass BYTES.  The words come from a vocabulary of
V (default 100000) made-up words; the word of rank r is drawn with
probability proportional to 1 / r^S (Zipf's law, default S = 1.1, about
what English shows).  A word is two or three consonant-vowel syllables and
a closing consonant ("zazot", "gudazus"): 5.2 letters on average over the
text, near English prose.

Deterministic: the draws come from Python's Mersenne Twister with a fixed
seed, so a given Python writes the same bytes every time.  Fast (about
20 MB/s here, a gigabyte in under a minute) because no Python code runs
per word: each word is two
random bytes that pick one of 65536 buckets of the cumulative distribution
and one random byte that picks one of the bucket's 256 slots, both done by
map() in C.  The distribution is thus exact to 1/2^24: the rarest of 100000
words at S = 1.1 (probability 3.7e-7) gets 6 slots, within 8% of its due.
"""
import argparse
import array
import operator
import random
import sys

SLOTS_BITS = 24          # 2^16 buckets x 2^8 slots
CHUNK = 1 << 20          # words drawn per round


def vocabulary(n):
    cons = "bcdfghjklmnprstvwz"
    syl = [c + v for c in cons for v in "aeiou"]          # 90 syllables
    tails = "nrstlm"

    def spread(r):
        # Two syllables or more (91 .. 8190 are the 8100 two-syllable
        # numbers, then 729000 three-syllable ones), ranks scattered over
        # each length so that the common words do not all begin alike.
        if r <= 8100:
            return 91 + (r - 1) * 7919 % 8100
        if r <= 737100:
            return 8191 + (r - 8101) * 7919 % 729000
        return r + 8190

    words = []
    for r in range(1, n + 1):
        v, w = spread(r), ""
        while v > 0:            # bijective base 90
            v -= 1
            w = syl[v % 90] + w
            v //= 90
        words.append(w + tails[r % 6])
    return words


def slot_table(n, s):
    """tab[b][k]: the rank index (0-based) of slot b * 256 + k."""
    slots = 1 << SLOTS_BITS
    weights = [r ** -s for r in range(1, n + 1)]
    total = sum(weights)
    # end[i]: the first slot after word i's; every word gets one at least.
    end, acc, prev = [], 0.0, 0
    for i, w in enumerate(weights):
        acc += w
        e = max(prev + 1, round(acc / total * slots))
        e = min(e, slots - (n - 1 - i))
        end.append(e)
        prev = e
    end[-1] = slots
    tab, i, solo = [], 0, {}
    for b in range(1 << 16):
        lo, hi = b << 8, (b + 1) << 8
        while end[i] <= lo:
            i += 1
        if end[i] >= hi:        # the whole bucket is word i's
            if i not in solo:
                solo[i] = (i,) * 256
            tab.append(solo[i])
            continue
        row, j = [], i
        for k in range(lo, hi):
            while end[j] <= k:
                j += 1
            row.append(j)
        tab.append(tuple(row))
    return tab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bytes", type=int)
    ap.add_argument("--vocab", type=int, default=100000)
    ap.add_argument("--zipf", type=float, default=1.1)
    ap.add_argument("--seed", type=int, default=20261130)
    a = ap.parse_args()
    if not 1 <= a.vocab <= 1 << 20:
        ap.error("--vocab must be 1 .. 1048576")
    words = vocabulary(a.vocab)
    # Index i: word i and a space; index V + i: word i and a newline.
    tokens = [w.encode() + b" " for w in words] + [w.encode() + b"\n" for w in words]
    V = a.vocab
    tab = slot_table(V, a.zipf)
    rnd = random.Random(a.seed)
    out = sys.stdout.buffer
    left = a.bytes            # bytes still to write
    carry = b""               # the unfinished line of the last round
    # end: the index, among all the words drawn, of the next line's last.
    end = 5 + rnd.randbytes(1)[0] % 9
    drawn = 0
    getitem = operator.getitem
    while left > 0:
        hi = array.array("H", rnd.randbytes(2 * CHUNK))
        if sys.byteorder == "big":
            hi.byteswap()
        ids = list(map(getitem, map(tab.__getitem__, hi), rnd.randbytes(CHUNK)))
        # A line has 6 words at least, so this many lengths are enough.
        lens = rnd.randbytes(CHUNK // 6 + 1)
        k = 0
        while end < drawn + CHUNK:
            ids[end - drawn] += V
            end += 6 + lens[k] % 9
            k += 1
        drawn += CHUNK
        data = carry + b"".join(map(tokens.__getitem__, ids))
        cut = data.rfind(b"\n") + 1
        if cut >= left:
            cut = data.rfind(b"\n", 0, left) + 1
            left = 0
        else:
            left -= cut
        out.write(data[:cut])
        carry = data[cut:]


if __name__ == "__main__":
    main()
