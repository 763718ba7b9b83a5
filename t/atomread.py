#!/usr/bin/env python3
"""atomread.py: a reader (and a small writer) of spsc atom frames.

Written from spsc-atom(5) alone, in plain Python 3 with no third-party
modules, to prove that the page is enough to implement the format in another
language.  It shares no code with the C implementation: the CRC32C, the
header layout, the checks and the id derivation are all redone here from the
page's text.  zstd payloads (codec 1) are decoded by running zstd -d.

Read mode (the default) checks every frame on stdin or in the named files
and prints, for each atom, one header line and then its events, each
prefixed with a tab:

  atom id=HEX created_ns=N events=N attempt=N fail=NAME:CODE raw=R | \
offset=O header_len=H codec=raw|zstd stored=S payload_crc=0x.. header_crc=0x..

A version 2 frame also carries event times, printed after raw=R as
"tmin=T tmax=T wm=T", each T in ns since the epoch, "none" (INT64_MIN: not
known) or "end" (INT64_MAX: the end of input); a version 1 line is as it
always was.  The part before " | " is what the atom carries; the rest
describes its frame.
--headers prints only the header lines, --events only the events (byte for
byte).  --check-ids NAME LABEL also recomputes every id as a source atom of
that name and label would have it (ordinal 0, 1, ...) and fails on a
mismatch.  Errors go to stderr as "atomread: INPUT: byte OFFSET: MESSAGE",
with exit status 1.

Write mode (--write) frames the lines on stdin into atoms, for testing the C
readers against an independent writer; --tmin, --tmax and --wm make version 2
frames.
"""

import argparse
import os
import struct
import subprocess
import sys

MAGIC = b"SPSC"
VERSIONS = (1, 2)
HEADER_LEN = 64          # version 1, and the shortest header
HEADER_V2_LEN = 88       # version 2: three event times at 60, 68, 76
HEADER_MAX = 4096
DEFAULT_LIMIT = 64 << 20
CODECS = {0: "raw", 1: "zstd"}
FAIL_NAMES = ["none", "exit", "signal", "timeout", "protocol", "output",
              "receives", "key", "late"]
U64 = (1 << 64) - 1
TIME_NONE = -(1 << 63)   # INT64_MIN: not known
TIME_END = (1 << 63) - 1  # INT64_MAX: the end of input


class FrameError(Exception):
    """A frame that is wrong: ends the stream, like the C readers."""


# --- CRC32C (spsc-atom(5), CRC32C) ----------------------------------------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data):
    """CRC-32C: reflected 0x82F63B78, initial ~0, final xor ~0."""
    crc = 0xFFFFFFFF
    table = CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


# --- ids (spsc-atom(5), ATOM IDS) -----------------------------------------

K1 = 0x9E3779B97F4A7C15
K2 = 0xC2B2AE3D27D4EB4F


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & U64


def _mix(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & U64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & U64
    x ^= x >> 31
    return x


def hash64(data, seed):
    h = seed ^ ((len(data) * K1) & U64)
    whole = len(data) - len(data) % 8
    for i in range(0, whole, 8):
        w = int.from_bytes(data[i:i + 8], "little")
        h = (_rotl(h ^ ((w * K2) & U64), 31) * K1) & U64
    w = int.from_bytes(data[whole:], "little")
    h = (_rotl(h ^ ((w * K2) & U64), 27) * K1) & U64
    return _mix(h)


def make_id(data):
    return struct.pack("<QQ", hash64(data, 0x7370736361746F6D),
                       hash64(data, 0x61746F6D69643132))


def source_id(name, label, ordinal, crc, length):
    fields = struct.pack("<QQQQ", len(name), len(label), ordinal,
                         ((crc << 32) ^ length) & U64)
    if len(label) <= 736:
        data = fields + name[:256] + label
    else:
        data = struct.pack("<Q", hash64(label, 0)) + fields + name[:256]
    return make_id(data)


def child_id(parent, salt, ordinal):
    return make_id(parent + struct.pack("<QQ", salt, ordinal))


def command_salt(argv):
    salt = 0x73616C74
    for arg in argv:
        salt = hash64(arg + b"\0", salt)
    return salt


# --- reading (spsc-atom(5), WRITING A READER) -----------------------------

def read_exactly(f, n):
    """Up to n bytes: fewer only at the end of the input."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def zstd_decompress(stored):
    try:
        run = subprocess.run(["zstd", "-d", "-q", "-c"], input=stored,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             check=False)
    except OSError as e:
        raise FrameError("bad zstd payload: cannot run zstd: %s" % e)
    if run.returncode != 0:
        why = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FrameError("bad zstd payload: %s" % (why[-1] if why else
                                                   "zstd failed"))
    return run.stdout


def read_frame(f, limit):
    """The next atom as a dict, None at a clean end, or FrameError."""
    hdr = read_exactly(f, 8)
    if not hdr:
        return None
    if len(hdr) < 8:
        raise FrameError("truncated frame header (%d bytes at end of input)"
                         % len(hdr))
    if hdr[0:4] != MAGIC:
        raise FrameError("not an atom frame (bad magic %s)"
                         % " ".join("%02x" % b for b in hdr[0:4]))
    version = hdr[4]
    if version not in VERSIONS:
        raise FrameError("unknown frame version %d (this reader knows %d to %d)"
                         % (version, VERSIONS[0], VERSIONS[-1]))
    hlen = struct.unpack_from("<H", hdr, 6)[0]
    if hlen < (HEADER_LEN if version == 1 else HEADER_V2_LEN) or \
            hlen > HEADER_MAX:
        raise FrameError("bad header length %d" % hlen)
    hdr += read_exactly(f, hlen - 8)
    if len(hdr) < hlen:
        raise FrameError("truncated frame header (%d bytes at end of input)"
                         % len(hdr))
    header_crc = struct.unpack_from("<I", hdr, hlen - 4)[0]
    if crc32c(hdr[:hlen - 4]) != header_crc:
        raise FrameError("header CRC mismatch")
    codec = hdr[5]
    stored_len, raw_len = struct.unpack_from("<II", hdr, 40)
    if codec not in CODECS:
        raise FrameError("unknown codec %d" % codec)
    if stored_len > limit or raw_len > limit:
        raise FrameError("frame of %d bytes is over the size limit of %d bytes"
                         % (max(stored_len, raw_len), limit))
    if codec == 0 and stored_len != raw_len:
        raise FrameError("raw frame with stored length %d != raw length %d"
                         % (stored_len, raw_len))
    stored = read_exactly(f, stored_len)
    if len(stored) < stored_len:
        raise FrameError("truncated frame: header promises %d payload bytes, "
                         "input ends after %d" % (stored_len, len(stored)))
    payload_crc = struct.unpack_from("<I", hdr, 56)[0]
    if crc32c(stored) != payload_crc:
        raise FrameError("payload CRC mismatch")
    raw = stored if codec == 0 else zstd_decompress(stored)
    if len(raw) != raw_len:
        raise FrameError("bad zstd payload: %d bytes decoded, header says %d"
                         % (len(raw), raw_len))
    if raw and raw[-1:] != b"\n":
        raise FrameError("payload does not end with a newline")
    created, events, attempt = struct.unpack_from("<qII", hdr, 24)
    fail_kind = hdr[48]
    fail_code = struct.unpack_from("<i", hdr, 52)[0]
    if raw.count(b"\n") != events:
        raise FrameError("header counts %d events, payload holds %d"
                         % (events, raw.count(b"\n")))
    # Version 2: min and max event time, the producer's watermark.
    times = struct.unpack_from("<qqq", hdr, 60) if version >= 2 else None
    return {
        "id": hdr[8:24], "created_ns": created, "events": events,
        "attempt": attempt, "fail_kind": fail_kind, "fail_code": fail_code,
        "raw": raw, "version": version, "header_len": hlen, "codec": codec,
        "stored": stored_len, "payload_crc": payload_crc,
        "header_crc": header_crc, "times": times,
    }


def split_events(raw):
    """Events end at '\n' and nowhere else: not at '\r' as splitlines()
    would have it."""
    parts = raw.split(b"\n")
    events = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        events.append(parts[-1])
    return events


def fail_name(kind):
    return FAIL_NAMES[kind] if kind < len(FAIL_NAMES) else "unknown"


def time_text(t):
    if t == TIME_NONE:
        return "none"
    if t == TIME_END:
        return "end"
    return "%d" % t


def header_line(atom, offset):
    times = ""
    if atom["times"] is not None:
        times = " tmin=%s tmax=%s wm=%s" % tuple(map(time_text, atom["times"]))
    return ("atom id=%s created_ns=%d events=%d attempt=%d fail=%s:%d raw=%d%s"
            " | offset=%d header_len=%d codec=%s stored=%d payload_crc=0x%08x"
            " header_crc=0x%08x\n" % (
                atom["id"].hex(), atom["created_ns"], atom["events"],
                atom["attempt"], fail_name(atom["fail_kind"]),
                atom["fail_code"], len(atom["raw"]), times, offset,
                atom["header_len"], CODECS[atom["codec"]], atom["stored"],
                atom["payload_crc"], atom["header_crc"]))


def print_atom(out, atom, offset, args):
    if not args.events:
        out.write(header_line(atom, offset).encode())
    if args.headers:
        return
    if args.events:
        out.write(atom["raw"])
        return
    for event in split_events(atom["raw"]):
        out.write(b"\t" + event)


def read_stream(f, name, args, out):
    offset = ordinal = 0
    while True:
        try:
            atom = read_frame(f, args.max_atom)
        except FrameError as e:
            fail("%s: byte %d: %s" % (name, offset, e))
        if atom is None:
            return
        if args.check_ids:
            want = source_id(args.check_ids[0].encode(),
                             args.check_ids[1].encode(), ordinal,
                             crc32c(atom["raw"]), len(atom["raw"]))
            if want != atom["id"]:
                fail("%s: byte %d: id %s, but spsc-atom(5) derives %s"
                     % (name, offset, atom["id"].hex(), want.hex()))
        print_atom(out, atom, offset, args)
        offset += atom["header_len"] + atom["stored"]
        ordinal += 1


# --- writing (spsc-atom(5), WRITING A WRITER) -----------------------------

def zstd_compress(raw):
    run = subprocess.run(["zstd", "-q", "-c", "-3"], input=raw,
                         stdout=subprocess.PIPE, check=True)
    return run.stdout


def encode(events, ordinal, args):
    raw = b"".join(events)
    codec, stored = 0, raw
    if args.zstd and raw:
        packed = zstd_compress(raw)
        if args.zstd_always or len(packed) < len(raw):
            codec, stored = 1, packed
    atom_id = source_id(args.name.encode(), args.label.encode(), ordinal,
                        crc32c(raw), len(raw))
    kind, code = args.fail
    hdr = bytearray(args.header_len)
    hdr[0:4] = MAGIC
    hdr[4] = args.version
    hdr[5] = codec
    struct.pack_into("<H", hdr, 6, args.header_len)
    hdr[8:24] = atom_id
    struct.pack_into("<qIIIIB", hdr, 24, args.created, len(events),
                     args.attempt, len(stored), len(raw), kind)
    struct.pack_into("<iI", hdr, 52, code, crc32c(stored))
    known = 60
    if args.version == 2:
        struct.pack_into("<qqq", hdr, 60, args.tmin, args.tmax, args.wm)
        known = 84
    # Extension bytes a reader must skip: make them noticeable.
    for i in range(known, args.header_len - 4):
        hdr[i] = 0xEE
    struct.pack_into("<I", hdr, args.header_len - 4,
                     crc32c(bytes(hdr[:args.header_len - 4])))
    return bytes(hdr) + stored


def write_stream(f, args, out):
    events = split_events(f.read())
    if events and not events[-1].endswith(b"\n"):
        events[-1] += b"\n"
    ordinal = 0
    for i in range(0, len(events), args.atom_events):
        out.write(encode(events[i:i + args.atom_events], ordinal, args))
        ordinal += 1
    if not events and args.empty_atom:
        out.write(encode([], 0, args))


# --- command line ---------------------------------------------------------

def fail(message):
    sys.stdout.flush()
    sys.stderr.write("atomread: %s\n" % message)
    sys.exit(1)


def size(text):
    scale = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20,
             "g": 1 << 30, "G": 1 << 30}
    if text and text[-1] in scale:
        return int(text[:-1]) * scale[text[-1]]
    return int(text)


def fail_spec(text):
    kind, _, code = text.partition(":")
    return int(kind), int(code or 0)


def event_time(text):
    """ns since the epoch, or "none" / "end" as atomread prints them."""
    if text == "none":
        return TIME_NONE
    if text == "end":
        return TIME_END
    value = int(text)
    if not TIME_NONE <= value <= TIME_END:
        raise ValueError(text)
    return value


def parse_args():
    p = argparse.ArgumentParser(
        prog="atomread.py",
        description="Check and print spsc atom frames (spsc-atom(5)).")
    p.add_argument("files", nargs="*", help="files of frames (default stdin)")
    p.add_argument("--headers", action="store_true",
                   help="print only the header lines")
    p.add_argument("--events", action="store_true",
                   help="print only the events, byte for byte")
    p.add_argument("--max-atom", type=size, default=DEFAULT_LIMIT,
                   metavar="SIZE", help="frame size limit (default 64M)")
    p.add_argument("--check-ids", nargs=2, metavar=("NAME", "LABEL"),
                   help="check ids as a source NAME reading LABEL makes them")
    w = p.add_argument_group("write mode")
    w.add_argument("--write", action="store_true",
                   help="frame the lines on stdin instead of reading frames")
    w.add_argument("-n", "--atom-events", type=int, default=1000)
    w.add_argument("--zstd", action="store_true",
                   help="compress payloads when that makes them smaller")
    w.add_argument("--zstd-always", action="store_true",
                   help="with --zstd, compress even when it does not pay")
    w.add_argument("--name", default="atomread")
    w.add_argument("--label", default="-")
    w.add_argument("--created", type=int, default=0)
    w.add_argument("--attempt", type=int, default=0)
    w.add_argument("--fail", type=fail_spec, default=(0, 0),
                   metavar="KIND:CODE")
    w.add_argument("--tmin", type=event_time, metavar="NS",
                   help="min event time: a version 2 frame (none, end or ns)")
    w.add_argument("--tmax", type=event_time, metavar="NS",
                   help="max event time: a version 2 frame")
    w.add_argument("--wm", type=event_time, metavar="NS",
                   help="the producer's watermark: a version 2 frame")
    w.add_argument("--header-len", type=int,
                   help="header length (default 64, or 88 for version 2)")
    w.add_argument("--empty-atom", action="store_true",
                   help="with no input, write one atom with no events")
    args = p.parse_args()
    if args.headers and args.events:
        p.error("--headers and --events exclude each other")
    timed = (args.tmin, args.tmax, args.wm) != (None, None, None)
    args.version = 2 if timed else 1
    least = HEADER_V2_LEN if timed else HEADER_LEN
    for name in ("tmin", "tmax", "wm"):
        if getattr(args, name) is None:
            setattr(args, name, TIME_NONE)
    if args.header_len is None:
        args.header_len = least
    if not least <= args.header_len <= HEADER_MAX:
        p.error("--header-len must be from %d to %d%s"
                % (least, HEADER_MAX, " with event times" if timed else ""))
    if args.atom_events < 1:
        p.error("--atom-events must be at least 1")
    return args


def main():
    args = parse_args()
    out = sys.stdout.buffer
    try:
        if args.write:
            write_stream(sys.stdin.buffer, args, out)
        elif not args.files:
            read_stream(sys.stdin.buffer, "stdin", args, out)
        else:
            for path in args.files:
                try:
                    with open(path, "rb") as f:
                        read_stream(f, path, args, out)
                except OSError as e:
                    fail("%s: cannot open: %s" % (path, e.strerror))
        out.flush()
    except BrokenPipeError:
        # A reader that went away (head -1) is not our error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
