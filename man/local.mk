dist_man_MANS += man/spsc.7 man/spsc-atom.5 man/spsc-source.1 man/spsc-op.1 man/spsc-sink.1
dist_man_MANS += man/spsc-coord.1 man/spsc-protocol.7 man/spsc-shuffle.1
dist_man_MANS += man/spsc-reduce.1 man/spsc.1 man/spsc-dag.5

# The coordinator's pages checked against the code (coord-cli) and against a
# running coordinator (coord-docs), with a log reader and a session runner
# written from spsc-protocol(7).
BATS_TESTS += t/coord-cli.bats t/coord-docs.bats
EXTRA_DIST += t/logread.py t/protosession.py

# The launcher's pages, spsc(1) and spsc-dag(5), checked against the
# launcher: its --help, status --json, state.json, check's messages and
# the DAGs the pages show.
BATS_TESTS += t/spsc-docs.bats
