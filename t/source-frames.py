#!/usr/bin/env python3
"""Decode atom frames (spsc-atom(5)) for spsc-source's tests.

    source-frames.py events < atoms    the events, in order
    source-frames.py atoms  < atoms    one line per atom:
                                       ID EVENTS RAWLEN CODEC CREATED_NS

Every header and payload CRC is checked independently of the C code; any
damage is an error (exit 1).  zstd payloads are decoded with `zstd -d`.
"""
import os
import struct
import subprocess
import sys


# One CRC32C for every test helper: the one written from spsc-atom(5).
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomread import crc32c  # noqa: E402


def frames(buf):
    off = 0
    while off < len(buf):
        hdr = buf[off:off + 64]
        if len(hdr) < 8 or hdr[:4] != b"SPSC" or hdr[4] != 1:
            sys.exit("byte %d: not a version 1 frame" % off)
        hlen = struct.unpack_from("<H", hdr, 6)[0]
        hdr = buf[off:off + hlen]
        if crc32c(hdr[:hlen - 4]) != struct.unpack_from("<I", hdr, hlen - 4)[0]:
            sys.exit("byte %d: header CRC mismatch" % off)
        codec = hdr[5]
        created, events, _attempt, stored, raw = struct.unpack_from("<qIIII", hdr, 24)
        pcrc = struct.unpack_from("<I", hdr, 56)[0]
        payload = buf[off + hlen:off + hlen + stored]
        if len(payload) != stored:
            sys.exit("byte %d: truncated payload" % off)
        if crc32c(payload) != pcrc:
            sys.exit("byte %d: payload CRC mismatch" % off)
        if codec == 1:
            payload = subprocess.run(["zstd", "-dqc"], input=payload,
                                     stdout=subprocess.PIPE, check=True).stdout
        elif codec != 0:
            sys.exit("byte %d: unknown codec %d" % (off, codec))
        if len(payload) != raw or (raw and payload[-1:] != b"\n"):
            sys.exit("byte %d: bad raw payload" % off)
        if payload.count(b"\n") != events:
            sys.exit("byte %d: header says %d events, payload has %d"
                     % (off, events, payload.count(b"\n")))
        yield hdr[8:24].hex(), events, raw, codec, created, payload
        off += hlen + stored


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "events"
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    for ident, events, raw, codec, created, payload in frames(data):
        if mode == "events":
            out.write(payload)
        else:
            out.write(b"%s %d %d %d %d\n" % (ident.encode(), events, raw,
                                              codec, created))


if __name__ == "__main__":
    main()
