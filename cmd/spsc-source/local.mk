bin_PROGRAMS += spsc-source
spsc_source_SOURCES = \
	cmd/spsc-source/main.c cmd/spsc-source/source.h \
	cmd/spsc-source/batch.c \
	cmd/spsc-source/stamp.c cmd/spsc-source/stamp.h \
	cmd/spsc-source/follow.c \
	cmd/spsc-source/input.c \
	cmd/spsc-source/manifest.c cmd/spsc-source/manifest.h \
	cmd/spsc-source/progress.c \
	cmd/spsc-source/stream.c \
	cmd/spsc-source/wait.c \
	cmd/spsc-source/walk.c \
	cmd/spsc-source/watch.c

# Writes archives the test machine has no tool for (7z).
check_PROGRAMS += cmd/spsc-source/mkarchive
cmd_spsc_source_mkarchive_SOURCES = cmd/spsc-source/mkarchive.c

BATS_TESTS += t/source.bats t/source-archive.bats t/source-follow.bats \
	t/source-state.bats
EXTRA_DIST += t/source-frames.py t/source-helpers.bash
