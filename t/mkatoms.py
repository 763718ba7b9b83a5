#!/usr/bin/env python3
"""mkatoms.py: write atom frames (spsc-atom(5)) for the tests.

Atom K (K counts from --first) has the id sha256("NAME:K")[:16] and the
events "NAME K 0" .. "NAME K E-1", so two runs with overlapping ranges
give identical frames: duplicates, as a rerun upstream would send them.

--times TMIN,TMAX and --wm WM (ns since the epoch) write version 2
headers, which carry event times; without them frames are version 1.

--bad damages the last frame in one of the ways a reader must catch:
  payload-crc     one payload byte flipped
  header-crc      one header byte flipped (the header CRC no longer holds)
  version         version 7, header CRC recomputed so only the version is wrong
  magic           "XXXX" instead of "SPSC"
  codec           codec 9, header CRC recomputed
  oversize        raw and stored lengths of 2 GiB - 1, header CRC recomputed
  cut-header      the frame ends 30 bytes into its header
  cut-payload     the frame ends 2 bytes into its payload
"""
import argparse
import hashlib
import os
import struct
import subprocess
import sys
import time

HEADER_LEN = 64
HEADER_V2_LEN = 88
NONE = -(1 << 63)


# One CRC32C for every test helper: the one written from spsc-atom(5).
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomread import crc32c  # noqa: E402




def atom_id(args, k):
    if args.weak_ids:
        # Ids that share their first eight bytes: a sink's id set must not
        # degrade into one long probe chain on them.
        return bytes(8) + struct.pack("<Q", k)
    return hashlib.sha256(("%s:%d" % (args.name, k)).encode()).digest()[:16]


def header(aid, created, events, stored, raw, codec, pcrc, times=None):
    """times: None for a version 1 header, else (tmin, tmax, wm)."""
    hlen = HEADER_LEN if times is None else HEADER_V2_LEN
    h = bytearray(hlen)
    h[0:4] = b"SPSC"
    h[4] = 1 if times is None else 2
    h[5] = codec
    struct.pack_into("<H", h, 6, hlen)
    h[8:24] = aid
    struct.pack_into("<qIIII", h, 24, created, events, 0, stored, raw)
    struct.pack_into("<I", h, 56, pcrc)
    if times is not None:
        struct.pack_into("<qqq", h, 60, *times)
    recrc(h)
    return h


def frame(args, k, created):
    raw = b"".join(b"%s %d %d\n" % (args.name.encode(), k, j)
                   for j in range(args.events))
    stored, codec = raw, 0
    if args.zstd and raw:
        stored = subprocess.run(["zstd", "-q", "-c"], input=raw,
                                stdout=subprocess.PIPE, check=True).stdout
        codec = 1
    times = None
    if args.times is not None or args.wm is not None:
        tmin, tmax = (NONE, NONE) if args.times is None else args.times
        times = (tmin, tmax, NONE if args.wm is None else args.wm)
    h = header(atom_id(args, k), created, args.events, len(stored), len(raw),
               codec, crc32c(stored), times)
    return h, bytearray(stored)


def recrc(h):
    n = len(h) - 4
    struct.pack_into("<I", h, n, crc32c(bytes(h[:n])))


def damage(kind, h, payload):
    if kind == "payload-crc":
        payload[0] ^= 0x20
    elif kind == "header-crc":
        h[33] ^= 0xFF
    elif kind == "version":
        h[4] = 7
        recrc(h)
    elif kind == "magic":
        h[0:4] = b"XXXX"
    elif kind == "codec":
        h[5] = 9
        recrc(h)
    elif kind == "oversize":
        struct.pack_into("<II", h, 40, 0x7FFFFFFF, 0x7FFFFFFF)
        recrc(h)
    elif kind == "cut-header":
        return bytes(h[:30])
    elif kind == "cut-payload":
        return bytes(h) + bytes(payload[:2])
    return bytes(h) + bytes(payload)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--atoms", type=int, default=3)
    p.add_argument("-e", "--events", type=int, default=2)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--name", default="t")
    p.add_argument("--created", type=int,
                   help="created-at in ns since the epoch (default: now)")
    p.add_argument("--age", type=float, default=0,
                   help="created-at this many seconds before now")
    p.add_argument("--zstd", action="store_true")
    p.add_argument("--times", type=lambda v: tuple(int(x) for x in v.split(",")),
                   help="TMIN,TMAX: event times, ns (a version 2 header)")
    p.add_argument("--wm", type=int,
                   help="the producer's watermark, ns (a version 2 header)")
    p.add_argument("--weak-ids", action="store_true")
    p.add_argument("--bad", choices=["payload-crc", "header-crc", "version",
                                     "magic", "codec", "oversize",
                                     "cut-header", "cut-payload"])
    p.add_argument("--delay", type=float, default=0,
                   help="seconds to sleep after each frame (a slow source)")
    args = p.parse_args()

    out = sys.stdout.buffer
    try:
        for i in range(args.atoms):
            k = args.first + i
            created = args.created
            if created is None:
                created = time.time_ns() - int(args.age * 1e9)
            h, payload = frame(args, k, created)
            if args.bad and i == args.atoms - 1:
                out.write(damage(args.bad, h, payload))
            else:
                out.write(bytes(h) + bytes(payload))
            if args.delay:
                out.flush()
                time.sleep(args.delay)
        out.flush()
    except BrokenPipeError:
        # The reader went away (a test killed it): not our failure.
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()
