bin_PROGRAMS += spsc-shuffle
spsc_shuffle_SOURCES = cmd/spsc-shuffle/main.c \
	cmd/spsc-shuffle/shuffle.c cmd/spsc-shuffle/shuffle.h

UNIT_TESTS += t/unit/test-partition
t_unit_test_partition_SOURCES = t/unit/test-partition.c t/unit/tap.h

BATS_TESTS += t/shuffle.bats
EXTRA_DIST += t/partition.py
