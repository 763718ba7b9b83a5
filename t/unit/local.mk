UNIT_TESTS += t/unit/test-atom
check_PROGRAMS += $(UNIT_TESTS)
t_unit_test_atom_SOURCES = t/unit/test-atom.c t/unit/tap.h
