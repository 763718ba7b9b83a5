bin_PROGRAMS += spsc-op
spsc_op_SOURCES = cmd/spsc-op/main.c
