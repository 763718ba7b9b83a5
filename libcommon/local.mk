noinst_LIBRARIES += libcommon/libcommon.a
libcommon_libcommon_a_SOURCES = \
	libcommon/atom.c libcommon/atom.h \
	libcommon/atomid.c libcommon/atomid.h \
	libcommon/child.c libcommon/child.h \
	libcommon/crc32c.c libcommon/crc32c.h \
	libcommon/curvekey.c libcommon/curvekey.h \
	libcommon/dirlock.c libcommon/dirlock.h \
	libcommon/deadletter.c libcommon/deadletter.h \
	libcommon/endpoint.c libcommon/endpoint.h \
	libcommon/endpoint_nats.c \
	libcommon/endpoint_queue.c \
	libcommon/event.c libcommon/event.h \
	libcommon/evtime.c libcommon/evtime.h \
	libcommon/fdio.c libcommon/fdio.h \
	libcommon/flow.c libcommon/flow.h \
	libcommon/grow.c libcommon/grow.h \
	libcommon/hash.c libcommon/hash.h \
	libcommon/heap.c libcommon/heap.h \
	libcommon/hist.c libcommon/hist.h \
	libcommon/home.c libcommon/home.h \
	libcommon/idset.c libcommon/idset.h \
	libcommon/key.c libcommon/key.h \
	libcommon/le.h \
	libcommon/log.c libcommon/log.h \
	libcommon/msgwire.c libcommon/msgwire.h \
	libcommon/natsflow.c libcommon/natsflow.h \
	libcommon/natswm.c libcommon/natswm.h \
	libcommon/natspull.c libcommon/natspull.h \
	libcommon/natsq.c libcommon/natsq.h \
	libcommon/opt.c libcommon/opt.h \
	libcommon/partition.c libcommon/partition.h \
	libcommon/plan.c libcommon/plan.h \
	libcommon/prog.c libcommon/prog.h \
	libcommon/proto.c libcommon/proto.h \
	libcommon/qbackend.h \
	libcommon/qclient.c libcommon/qclient.h \
	libcommon/qlink.c libcommon/qlink.h \
	libcommon/qname.c libcommon/qname.h \
	libcommon/stop.c libcommon/stop.h \
	libcommon/unixconn.c libcommon/unixconn.h \
	libcommon/units.c libcommon/units.h
