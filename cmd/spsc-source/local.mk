bin_PROGRAMS += spsc-source
spsc_source_SOURCES = cmd/spsc-source/main.c
