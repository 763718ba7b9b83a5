bin_PROGRAMS += spsc-sink
spsc_sink_SOURCES = cmd/spsc-sink/main.c

UNIT_TESTS += t/unit/test-hist
t_unit_test_hist_SOURCES = t/unit/test-hist.c t/unit/tap.h
