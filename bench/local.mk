# bench/: the smoke test of bench/queue, and `make bench-queue`, `make
# bench-coord-queues`, `make bench-reduce-rss`, `make bench-wordcount` and
# `make bench-campaigns`.  (bench/pipe's, bench/wordcount's and
# bench/campaigns' tests and `make bench-pipe` live in examples/local.mk;
# the directory itself is shipped whole through EXTRA_DIST in Makefile.am.)

BATS_TESTS += t/bench-queue.bats

# make bench-queue [BENCH_ARGS='--quick']: bench/queue on the programs just
# built.  Build without --enable-sanitizers for meaningful numbers.
bench-queue: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/queue' $(BENCH_ARGS)

.PHONY: bench-queue

# make bench-coord-queues [BENCH_ARGS='-n 20000']: bench/coord-queues on the
# programs just built.
bench-coord-queues: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/coord-queues' $(BENCH_ARGS)

.PHONY: bench-coord-queues

# make bench-reduce-rss [BENCH_ARGS='1000000']: bench/reduce-rss, the
# memory one key costs spsc-reduce, on the programs just built.
bench-reduce-rss: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/reduce-rss' $(BENCH_ARGS)

.PHONY: bench-reduce-rss

# make bench-wordcount [BENCH_ARGS='-p 4 256M']: bench/wordcount on the
# programs just built.  The text it counts is kept in the build tree
# (bench-wordcount-*.txt, 1 GiB by default), which make clean removes.
bench-wordcount: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/wordcount' $(BENCH_ARGS)

CLEANFILES += bench-wordcount-*.txt

.PHONY: bench-wordcount

# make bench-campaigns [BENCH_ARGS='-r 1 --rates 100000']: bench/campaigns,
# the YSB-like job of examples/campaigns, on the programs just built.
bench-campaigns: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/campaigns' $(BENCH_ARGS)

.PHONY: bench-campaigns
