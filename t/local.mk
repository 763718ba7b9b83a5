# make check runs the C unit tests and the bats files, all speaking TAP so
# that every test case is counted on its own.
include t/unit/local.mk

BATS_TESTS += t/cli.bats t/pipeline.bats t/badinput.bats t/coord.bats t/coord-log.bats t/coord-security.bats t/chaos.bats t/queue-dag.bats
BATS_TESTS += t/coord-fuzz.bats
BATS_TESTS += t/coord-limits.bats
BATS_TESTS += t/coord-unix.bats
BATS_TESTS += t/complete.bats t/chaos-keyed.bats
BATS_TESTS += t/reduce-windows.bats
BATS_TESTS += t/dag-check.bats t/dag-run.bats t/batch.bats
BATS_TESTS += t/notify.bats t/log-journal.bats
BATS_TESTS += t/print-endpoints.bats t/nats.bats t/nats-cluster.bats
BATS_TESTS += t/systemd.bats
EXTRA_DIST += t/reduce_ref.py t/gen_events.py
EXTRA_DIST += t/coord-fuzz.py
TESTS += $(UNIT_TESTS) $(BATS_TESTS)
EXTRA_DIST += $(BATS_TESTS) t/helpers.bash t/coord_helpers.bash t/nats_helpers.bash t/qtool.py t/logrec.py

# One suite, two backends: each queue conformance file runs again on a
# nats-server, through its .natsbats twin (a link to it).
NATS_TWINS = t/nats-op-queue.natsbats t/nats-batch.natsbats t/nats-complete.natsbats
TESTS += $(NATS_TWINS)
EXTRA_DIST += $(NATS_TWINS)

TEST_EXTENSIONS = .bats .natsbats
TAP_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_DRIVER = $(TAP_DRIVER)
BATS_LOG_DRIVER = $(TAP_DRIVER)
# A hang must fail its test, not stall the suite: bats stops one test
# after BATS_TEST_TIMEOUT seconds, and timeout(1) stops a whole file
# whose teardown hangs too.
BATS_TEST_TIMEOUT = 600
BATS_FILE_TIMEOUT = 1200
BATS_RUN = timeout -k 30 $(BATS_FILE_TIMEOUT) $(BATS) --tap
BATS_LOG_COMPILER = $(BATS_RUN)
NATSBATS_LOG_DRIVER = $(TAP_DRIVER)
NATSBATS_LOG_COMPILER = env SPSC_TEST_BACKEND=nats $(BATS_RUN)
AM_TESTS_ENVIRONMENT = \
	PATH='$(abs_top_builddir)':"$$PATH"; export PATH; \
	SPSC_SRCDIR='$(abs_top_srcdir)'; export SPSC_SRCDIR; \
	SPSC_BUILDDIR='$(abs_top_builddir)'; export SPSC_BUILDDIR; \
	BATS_TEST_TIMEOUT='$(BATS_TEST_TIMEOUT)'; export BATS_TEST_TIMEOUT;
