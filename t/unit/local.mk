# The C unit tests for libcommon, one program per concept, each speaking TAP
# through t/unit/tap.h.  Programs register their own unit tests (test-child,
# test-hist) in cmd/<prog>/local.mk; every UNIT_TESTS entry is built here.
check_PROGRAMS += $(UNIT_TESTS)

UNIT_TESTS += t/unit/test-atom
t_unit_test_atom_SOURCES = t/unit/test-atom.c t/unit/tap.h

UNIT_TESTS += t/unit/test-key
t_unit_test_key_SOURCES = t/unit/test-key.c t/unit/tap.h
