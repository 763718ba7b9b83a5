bin_PROGRAMS += spsc-coord
spsc_coord_SOURCES = \
	cmd/spsc-coord/main.c \
	cmd/spsc-coord/admin.c cmd/spsc-coord/admin.h \
	cmd/spsc-coord/conf.c \
	cmd/spsc-coord/coord.h \
	cmd/spsc-coord/curve.c cmd/spsc-coord/curve.h \
	cmd/spsc-coord/listen.c cmd/spsc-coord/listen.h \
	cmd/spsc-coord/manage.c \
	cmd/spsc-coord/ops.c cmd/spsc-coord/ops.h \
	cmd/spsc-coord/queue.c cmd/spsc-coord/queue.h \
	cmd/spsc-coord/reply.c cmd/spsc-coord/reply.h \
	cmd/spsc-coord/server.c \
	cmd/spsc-coord/store.c cmd/spsc-coord/store.h
