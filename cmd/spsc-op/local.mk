bin_PROGRAMS += spsc-op
spsc_op_SOURCES = \
	cmd/spsc-op/main.c \
	cmd/spsc-op/op.h \
	cmd/spsc-op/run.c \
	cmd/spsc-op/input.c \
	cmd/spsc-op/tasks.c \
	cmd/spsc-op/slot.c \
	cmd/spsc-op/relay.c \
	cmd/spsc-op/hold.c cmd/spsc-op/hold.h

UNIT_TESTS += t/unit/test-child
t_unit_test_child_SOURCES = t/unit/test-child.c t/unit/tap.h

BATS_TESTS += t/op.bats t/op-warm.bats t/op-queue.bats
