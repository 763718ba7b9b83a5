# The long runs that make check leaves out (see t/fuzz/README):
#
#   make fuzz          builds the libFuzzer harnesses t/fuzz/fuzz-* with clang
#   make fuzz-run      runs each for FUZZ_TIME seconds (default 30) on a copy
#                      of its seed corpus; fails if any finds anything
#   make fuzz-proto    t/coord-fuzz.bats with FUZZ_PROTO_MESSAGES messages
#   make chaos         t/chaos.bats with CHAOS_KILLS kill -9s, CHAOS_SINK_KILLS
#                      of them of the sink, over CHAOS_EVENTS events sent at
#                      CHAOS_RATE a second
#
# The harnesses are built with clang straight from the sources, not from
# the objects of the ordinary build: they need clang's coverage
# instrumentation (-fsanitize=fuzzer-no-link) in every object.  All of
# libcommon, and every spsc-coord source but main.c, go into two archives,
# so that each harness links just the objects it uses, whatever depends
# on what this week.

FUZZ_HARNESSES = atom-decode atom-stream proto key units replay msgwire
FUZZ_TIME = 30
FUZZ_PROTO_MESSAGES = 1000000
CHAOS_KILLS = 100
CHAOS_SINK_KILLS = 20
CHAOS_EVENTS = 1000000
CHAOS_RATE = 20000

FUZZ_PROGS = t/fuzz/fuzz-atom-decode t/fuzz/fuzz-atom-stream \
	t/fuzz/fuzz-proto t/fuzz/fuzz-key t/fuzz/fuzz-units t/fuzz/fuzz-replay \
	t/fuzz/fuzz-msgwire
FUZZ_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/libcommon \
	-I$(top_srcdir)/cmd/spsc-coord -I$(top_builddir) \
	$(ZMQ_CFLAGS) $(ARCHIVE_CFLAGS) $(ZSTD_CFLAGS) $(CJSON_CFLAGS) $(ISAL_CFLAGS)
FUZZ_CFLAGS = -std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIBS = $(ZMQ_LIBS) $(ARCHIVE_LIBS) $(ZSTD_LIBS) $(CJSON_LIBS) $(NATS_LIBS) $(ISAL_LIBS)
FUZZ_CC = $(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS)
FUZZ_LINK = $(FUZZ_CC) -fsanitize=fuzzer
FUZZ_LIBCOMMON = t/fuzz/libcommon-fuzz.a
FUZZ_COORD = t/fuzz/coord-fuzz.a

EXTRA_DIST += t/fuzz/README t/fuzz/fuzz.h t/fuzz/mkseeds t/fuzz/run \
	t/fuzz/proto.dict t/fuzz/key.dict t/fuzz/corpus \
	t/fuzz/fuzz-atom-decode.c t/fuzz/fuzz-atom-stream.c t/fuzz/fuzz-proto.c \
	t/fuzz/fuzz-key.c t/fuzz/fuzz-units.c t/fuzz/fuzz-replay.c \
	t/fuzz/fuzz-msgwire.c t/fuzz/feed.c

fuzz:
	@if test -z "$(CLANG)"; then \
	  echo "make fuzz: configure found no clang; install clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev), then run configure again" >&2; \
	  exit 1; \
	fi
	@if test "$(FUZZ_OK)" != yes; then \
	  echo "make fuzz: $(CLANG) cannot link -fsanitize=fuzzer; install libFuzzer's runtime (apt-get install libclang-rt-14-dev), then run configure again" >&2; \
	  exit 1; \
	fi
	@$(MAKE) $(AM_MAKEFLAGS) --no-print-directory fuzz-progs

fuzz-progs: $(FUZZ_PROGS)

fuzz-run: fuzz
	@SPSC_SRCDIR='$(abs_top_srcdir)' $(SHELL) $(top_srcdir)/t/fuzz/run \
	  '$(FUZZ_TIME)' $(FUZZ_HARNESSES)

# Compiles the .c files among the sources named after the target, one
# object each, into an archive for the harnesses.
FUZZ_ARCHIVE = set -e; obj=$@.d; rm -rf $$obj; $(MKDIR_P) $$obj; \
	for f in $$srcs; do \
	  case $$f in *.c) ;; *) continue ;; esac; \
	  $(FUZZ_CC) -fsanitize=fuzzer-no-link -c $(top_srcdir)/$$f \
	    -o $$obj/`echo $$f | sed 's|/|_|g; s|\.c$$|.o|'`; \
	done; \
	rm -f $@; $(AR) cr $@ $$obj/*.o; $(RANLIB) $@

$(FUZZ_LIBCOMMON): $(libcommon_libcommon_a_SOURCES)
	$(AM_V_GEN)srcs='$(libcommon_libcommon_a_SOURCES)'; $(FUZZ_ARCHIVE)

$(FUZZ_COORD): $(spsc_coord_SOURCES)
	$(AM_V_GEN)srcs=`echo '$(spsc_coord_SOURCES)' | sed 's|cmd/spsc-coord/main\.c||'`; \
	$(FUZZ_ARCHIVE)

t/fuzz/fuzz-atom-decode: t/fuzz/fuzz-atom-decode.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) $(top_srcdir)/t/fuzz/fuzz-atom-decode.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

# read(2) is wrapped so that the stream arrives in chunks of the harness's
# choosing (see fuzz-atom-stream.c).
t/fuzz/fuzz-atom-stream: t/fuzz/fuzz-atom-stream.c t/fuzz/feed.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) -Wl,--wrap=read $(top_srcdir)/t/fuzz/fuzz-atom-stream.c \
	  $(top_srcdir)/t/fuzz/feed.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

# read(2) is wrapped as for atom-stream (feed.c).
t/fuzz/fuzz-msgwire: t/fuzz/fuzz-msgwire.c t/fuzz/feed.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) -Wl,--wrap=read $(top_srcdir)/t/fuzz/fuzz-msgwire.c \
	  $(top_srcdir)/t/fuzz/feed.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

t/fuzz/fuzz-proto: t/fuzz/fuzz-proto.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) $(top_srcdir)/t/fuzz/fuzz-proto.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

t/fuzz/fuzz-key: t/fuzz/fuzz-key.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) $(top_srcdir)/t/fuzz/fuzz-key.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

t/fuzz/fuzz-units: t/fuzz/fuzz-units.c t/fuzz/fuzz.h $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) $(top_srcdir)/t/fuzz/fuzz-units.c \
	  $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

t/fuzz/fuzz-replay: t/fuzz/fuzz-replay.c t/fuzz/fuzz.h $(FUZZ_COORD) $(FUZZ_LIBCOMMON)
	$(AM_V_GEN)$(FUZZ_LINK) $(top_srcdir)/t/fuzz/fuzz-replay.c \
	  $(FUZZ_COORD) $(FUZZ_LIBCOMMON) $(FUZZ_LIBS) -o $@

fuzz-proto: all
	@$(AM_TESTS_ENVIRONMENT) COORD_FUZZ_MESSAGES='$(FUZZ_PROTO_MESSAGES)' \
	  $(BATS) $(top_srcdir)/t/coord-fuzz.bats

chaos: all
	@$(AM_TESTS_ENVIRONMENT) CHAOS_KILLS='$(CHAOS_KILLS)' \
	  CHAOS_SINK_KILLS='$(CHAOS_SINK_KILLS)' CHAOS_EVENTS='$(CHAOS_EVENTS)' \
	  CHAOS_RATE='$(CHAOS_RATE)' \
	  $(BATS) $(top_srcdir)/t/chaos.bats

clean-local: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_PROGS) $(FUZZ_LIBCOMMON) $(FUZZ_COORD) \
	  $(FUZZ_LIBCOMMON).d $(FUZZ_COORD).d t/fuzz/run.d

.PHONY: fuzz fuzz-progs fuzz-run fuzz-proto chaos clean-fuzz
