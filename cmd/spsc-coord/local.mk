bin_PROGRAMS += spsc-coord
spsc_coord_SOURCES = \
	cmd/spsc-coord/main.c \
	cmd/spsc-coord/admin.c cmd/spsc-coord/admin.h \
	cmd/spsc-coord/admin_nats.c \
	cmd/spsc-coord/render.c cmd/spsc-coord/render.h \
	cmd/spsc-coord/compact.c \
	cmd/spsc-coord/conf.c \
	cmd/spsc-coord/conns.c cmd/spsc-coord/conns.h \
	cmd/spsc-coord/flowjson.c cmd/spsc-coord/flowjson.h \
	cmd/spsc-coord/frames.c cmd/spsc-coord/frames.h \
	cmd/spsc-coord/fsck.c cmd/spsc-coord/fsck.h \
	cmd/spsc-coord/lock.c cmd/spsc-coord/lock.h \
	cmd/spsc-coord/coord.h \
	cmd/spsc-coord/curve.c cmd/spsc-coord/curve.h \
	cmd/spsc-coord/listen.c cmd/spsc-coord/listen.h \
	cmd/spsc-coord/contents.c cmd/spsc-coord/contents.h \
	cmd/spsc-coord/deliver.c cmd/spsc-coord/deliver.h \
	cmd/spsc-coord/manage.c cmd/spsc-coord/manage.h \
	cmd/spsc-coord/ops.c \
	cmd/spsc-coord/produce.c cmd/spsc-coord/produce.h \
	cmd/spsc-coord/request.c cmd/spsc-coord/request.h \
	cmd/spsc-coord/qtable.c cmd/spsc-coord/qtable.h \
	cmd/spsc-coord/queue.c cmd/spsc-coord/queue.h \
	cmd/spsc-coord/replay.c \
	cmd/spsc-coord/reply.c cmd/spsc-coord/reply.h \
	cmd/spsc-coord/segfile.c cmd/spsc-coord/segfile.h \
	cmd/spsc-coord/segment.c cmd/spsc-coord/segment.h \
	cmd/spsc-coord/segview.c cmd/spsc-coord/segview.h \
	cmd/spsc-coord/server.c \
	cmd/spsc-coord/spare.c cmd/spsc-coord/spare.h \
	cmd/spsc-coord/store.c cmd/spsc-coord/store.h \
	cmd/spsc-coord/syncer.c cmd/spsc-coord/syncer.h \
	cmd/spsc-coord/table.c \
	cmd/spsc-coord/waiters.c cmd/spsc-coord/waiters.h
# Only the coordinator talks to a service manager (sd_notify, in server.c).
spsc_coord_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
spsc_coord_LDADD = $(LDADD) $(SYSTEMD_LIBS)

UNIT_TESTS += t/unit/test-qtable
t_unit_test_qtable_SOURCES = t/unit/test-qtable.c t/unit/tap.h \
	cmd/spsc-coord/qtable.c cmd/spsc-coord/qtable.h
t_unit_test_qtable_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cmd/spsc-coord

UNIT_TESTS += t/unit/test-spare
t_unit_test_spare_SOURCES = t/unit/test-spare.c t/unit/tap.h \
	cmd/spsc-coord/spare.c cmd/spsc-coord/spare.h \
	cmd/spsc-coord/segfile.c cmd/spsc-coord/segfile.h \
	cmd/spsc-coord/segment.c cmd/spsc-coord/segment.h
t_unit_test_spare_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cmd/spsc-coord
