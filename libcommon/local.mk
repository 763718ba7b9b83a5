noinst_LIBRARIES += libcommon/libcommon.a
libcommon_libcommon_a_SOURCES = \
	libcommon/atom.c libcommon/atom.h \
	libcommon/atomid.c libcommon/atomid.h \
	libcommon/child.c libcommon/child.h \
	libcommon/crc32c.c libcommon/crc32c.h \
	libcommon/curvekey.c libcommon/curvekey.h \
	libcommon/endpoint.c libcommon/endpoint.h \
	libcommon/endpoint_queue.c libcommon/endpoint_queue.h \
	libcommon/event.c libcommon/event.h \
	libcommon/fdio.c libcommon/fdio.h \
	libcommon/grow.c libcommon/grow.h \
	libcommon/hash.c libcommon/hash.h \
	libcommon/heap.c libcommon/heap.h \
	libcommon/hist.c libcommon/hist.h \
	libcommon/home.c libcommon/home.h \
	libcommon/key.c libcommon/key.h \
	libcommon/le.h \
	libcommon/log.c libcommon/log.h \
	libcommon/opt.c libcommon/opt.h \
	libcommon/partition.c libcommon/partition.h \
	libcommon/proto.c libcommon/proto.h \
	libcommon/qclient.c libcommon/qclient.h \
	libcommon/stop.c libcommon/stop.h \
	libcommon/units.c libcommon/units.h
