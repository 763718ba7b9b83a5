bin_PROGRAMS += spsc-sink
spsc_sink_SOURCES = cmd/spsc-sink/main.c
