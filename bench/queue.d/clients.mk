# The bench/queue clients: one small program per system, each the shared
# harness plus a driver.  Built by bench/queue, not by the project's build
# (hence not named Makefile, which configure owns):
#
#   make -f bench/queue.d/clients.mk OUT=DIR SPSC_BUILD=BUILDDIR \
#        qb-spsc qb-beanstalkd ... latprobe
#
# OUT is where the programs go (never the source tree); SPSC_BUILD is a
# configured and built spsc tree holding libcommon/libcommon.a, needed only
# for qb-spsc.  SAN_FLAGS must repeat -fsanitize=... when that tree is a
# sanitizer build.

SRC := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
TOP := $(SRC)/../..
OUT ?= .
SPSC_BUILD ?= $(TOP)
SAN_FLAGS ?=

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -I$(SRC)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN_FLAGS) $(CPPFLAGS)

HARNESS := $(SRC)/harness.c $(SRC)/harness.h

# libcommon's CRC-32C comes from ISA-L when that tree was configured with it.
ISAL_LIBS := $(shell grep -qs '^\#define HAVE_ISAL 1' $(SPSC_BUILD)/config.h && \
	pkg-config --libs libisal)

.PHONY: all
all: $(OUT)/qb-spsc $(OUT)/qb-beanstalkd $(OUT)/qb-redis $(OUT)/qb-nats \
	$(OUT)/latprobe

qb-%: $(OUT)/qb-% ;
latprobe: $(OUT)/latprobe ;

$(OUT)/qb-spsc: $(SRC)/drv-spsc.c $(HARNESS) $(SPSC_BUILD)/libcommon/libcommon.a
	$(CC) $(ALL_CFLAGS) -I$(TOP)/libcommon -I$(SPSC_BUILD) -o $@ \
		$(SRC)/harness.c $(SRC)/drv-spsc.c $(SPSC_BUILD)/libcommon/libcommon.a \
		$$(pkg-config --libs libzmq libzstd) $(ISAL_LIBS)

$(OUT)/qb-beanstalkd: $(SRC)/drv-beanstalkd.c $(HARNESS)
	$(CC) $(ALL_CFLAGS) -o $@ $(SRC)/harness.c $(SRC)/drv-beanstalkd.c

$(OUT)/qb-redis: $(SRC)/drv-redis.c $(HARNESS)
	$(CC) $(ALL_CFLAGS) -o $@ $(SRC)/harness.c $(SRC)/drv-redis.c \
		$$(pkg-config --cflags --libs hiredis)

$(OUT)/qb-nats: $(SRC)/drv-nats.c $(HARNESS)
	$(CC) $(ALL_CFLAGS) -o $@ $(SRC)/harness.c $(SRC)/drv-nats.c -lnats

# Not a client: the latency floor of plain pipes (see latprobe.c).
$(OUT)/latprobe: $(SRC)/latprobe.c
	$(CC) $(ALL_CFLAGS) -o $@ $(SRC)/latprobe.c
