bin_PROGRAMS += spsc
spsc_SOURCES = cmd/spsc/main.c cmd/spsc/spsc.h \
	cmd/spsc/lex.c cmd/spsc/lex.h cmd/spsc/dag.c cmd/spsc/dag.h \
	cmd/spsc/diag.c cmd/spsc/diag.h cmd/spsc/mem.c cmd/spsc/mem.h \
	cmd/spsc/capture.c cmd/spsc/capture.h cmd/spsc/resolve.c \
	cmd/spsc/check.c cmd/spsc/check.h cmd/spsc/graph.c cmd/spsc/graph.h \
	cmd/spsc/rundir.c cmd/spsc/rundir.h cmd/spsc/logpipe.c cmd/spsc/logpipe.h
spsc_SOURCES += cmd/spsc/proc.c cmd/spsc/proc.h cmd/spsc/run.c \
	cmd/spsc/orphans.c cmd/spsc/orphans.h cmd/spsc/runstate.c \
	cmd/spsc/runstate.h cmd/spsc/coordq.c cmd/spsc/coordq.h \
	cmd/spsc/status.c cmd/spsc/stop.c cmd/spsc/systemd.c cmd/spsc/load.c \
	cmd/spsc/unitname.c cmd/spsc/unitname.h
