noinst_LIBRARIES += libcommon/libcommon.a
libcommon_libcommon_a_SOURCES = \
	libcommon/atom.c libcommon/atom.h \
	libcommon/atomid.c libcommon/atomid.h \
	libcommon/child.c libcommon/child.h \
	libcommon/crc32c.c libcommon/crc32c.h \
	libcommon/endpoint.c libcommon/endpoint.h \
	libcommon/event.c libcommon/event.h \
	libcommon/fdio.c libcommon/fdio.h \
	libcommon/hash.c libcommon/hash.h \
	libcommon/hist.c libcommon/hist.h \
	libcommon/key.c libcommon/key.h \
	libcommon/log.c libcommon/log.h \
	libcommon/opt.c libcommon/opt.h \
	libcommon/units.c libcommon/units.h
