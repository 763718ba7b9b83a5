bin_PROGRAMS += spsc-reduce
spsc_reduce_SOURCES = cmd/spsc-reduce/main.c \
	cmd/spsc-reduce/agg.c cmd/spsc-reduce/agg.h \
	cmd/spsc-reduce/checkpoint.c cmd/spsc-reduce/checkpoint.h \
	cmd/spsc-reduce/pool.c cmd/spsc-reduce/pool.h \
	cmd/spsc-reduce/reduce.c cmd/spsc-reduce/reduce.h \
	cmd/spsc-reduce/result.c \
	cmd/spsc-reduce/ser.c cmd/spsc-reduce/ser.h \
	cmd/spsc-reduce/stage.c cmd/spsc-reduce/stage.h \
	cmd/spsc-reduce/state.c cmd/spsc-reduce/state.h \
	cmd/spsc-reduce/window.c cmd/spsc-reduce/window.h

UNIT_TESTS += t/unit/test-evtime
t_unit_test_evtime_SOURCES = t/unit/test-evtime.c t/unit/tap.h

BATS_TESTS += t/reduce.bats
