#!/usr/bin/env python3
# Upper-cases every event, as bytes; flushes after echoing the end marker.
# spsc-op --warm -- python3 upper.py
import os, sys
marker = os.environb[b"SPSC_MARKER"] + b"\n"
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    out.write(line if line == marker else line.upper())
    if line == marker:
        out.flush()
