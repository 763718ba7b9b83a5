# The C unit tests for libcommon, one program per concept, each speaking TAP
# through t/unit/tap.h.  Programs register their own unit tests (test-child,
# test-hist) in cmd/<prog>/local.mk; every UNIT_TESTS entry is built here.
check_PROGRAMS += $(UNIT_TESTS)

UNIT_TESTS += t/unit/test-atom
t_unit_test_atom_SOURCES = t/unit/test-atom.c t/unit/tap.h

UNIT_TESTS += t/unit/test-key
t_unit_test_key_SOURCES = t/unit/test-key.c t/unit/tap.h

UNIT_TESTS += t/unit/test-units
t_unit_test_units_SOURCES = t/unit/test-units.c t/unit/tap.h

UNIT_TESTS += t/unit/test-event
t_unit_test_event_SOURCES = t/unit/test-event.c t/unit/tap.h

UNIT_TESTS += t/unit/test-hash
t_unit_test_hash_SOURCES = t/unit/test-hash.c t/unit/tap.h

UNIT_TESTS += t/unit/test-natswm
t_unit_test_natswm_SOURCES = t/unit/test-natswm.c t/unit/tap.h

UNIT_TESTS += t/unit/test-heap
t_unit_test_heap_SOURCES = t/unit/test-heap.c t/unit/tap.h

UNIT_TESTS += t/unit/test-atomid
t_unit_test_atomid_SOURCES = t/unit/test-atomid.c t/unit/tap.h

UNIT_TESTS += t/unit/test-fdio
t_unit_test_fdio_SOURCES = t/unit/test-fdio.c t/unit/tap.h

UNIT_TESTS += t/unit/test-endpoint
t_unit_test_endpoint_SOURCES = t/unit/test-endpoint.c t/unit/tap.h

UNIT_TESTS += t/unit/test-log
t_unit_test_log_SOURCES = t/unit/test-log.c t/unit/tap.h

UNIT_TESTS += t/unit/test-proto
t_unit_test_proto_SOURCES = t/unit/test-proto.c t/unit/tap.h

UNIT_TESTS += t/unit/test-qlink
t_unit_test_qlink_SOURCES = t/unit/test-qlink.c t/unit/tap.h

UNIT_TESTS += t/unit/test-prog
t_unit_test_prog_SOURCES = t/unit/test-prog.c t/unit/tap.h

# The frame format checked from both sides: atomtool writes and reads frames
# through libcommon, t/atomread.py through nothing but spsc-atom(5).
check_PROGRAMS += t/unit/atomtool
t_unit_atomtool_SOURCES = t/unit/atomtool.c
BATS_TESTS += t/atom-format.bats
EXTRA_DIST += t/atomread.py

UNIT_TESTS += t/unit/test-msgwire
t_unit_test_msgwire_SOURCES = t/unit/test-msgwire.c t/unit/tap.h

UNIT_TESTS += t/unit/test-crc32c
t_unit_test_crc32c_SOURCES = t/unit/test-crc32c.c t/unit/tap.h
