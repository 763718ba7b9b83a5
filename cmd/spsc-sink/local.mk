bin_PROGRAMS += spsc-sink
spsc_sink_SOURCES = cmd/spsc-sink/main.c \
	cmd/spsc-sink/dest.c cmd/spsc-sink/dest.h \
	cmd/spsc-sink/dirdest.c \
	cmd/spsc-sink/journal.c cmd/spsc-sink/journal.h \
	cmd/spsc-sink/stats.c cmd/spsc-sink/stats.h

UNIT_TESTS += t/unit/test-hist
t_unit_test_hist_SOURCES = t/unit/test-hist.c t/unit/tap.h

BATS_TESTS += t/sink.bats
EXTRA_DIST += t/mkatoms.py
