# examples/, completions/ and bench/: their tests, the installed bash and
# zsh completions, and `make bench-pipe`.  (The directories themselves are shipped
# whole through EXTRA_DIST in Makefile.am.)

BATS_TESTS += t/examples.bats t/completions.bats t/bench.bats

# bash-completion loads completions lazily, by command name, so the one
# script is installed once per program it completes.
bashcompdir = $(datadir)/bash-completion/completions
SPSC_COMPLETED_COMMANDS = spsc spsc-source spsc-op spsc-sink spsc-shuffle spsc-reduce spsc-coord

install-data-local: install-bash-completions
uninstall-local: uninstall-bash-completions

install-bash-completions:
	$(MKDIR_P) '$(DESTDIR)$(bashcompdir)'
	for p in $(SPSC_COMPLETED_COMMANDS); do \
		$(INSTALL_DATA) '$(srcdir)/completions/spsc.bash' \
			"$(DESTDIR)$(bashcompdir)/$$p" || exit 1; \
	done

uninstall-bash-completions:
	for p in $(SPSC_COMPLETED_COMMANDS); do \
		rm -f "$(DESTDIR)$(bashcompdir)/$$p"; \
	done

# zsh finds completion functions by their #compdef line, so one file does.
zshcompdir = $(datadir)/zsh/site-functions
dist_zshcomp_DATA = completions/_spsc

# make bench-pipe [BENCH_ARGS='-r 5 1G']: bench/pipe on the programs just
# built.  (Not "bench": that names the directory, which `make dist` ships.)
bench-pipe: all
	SPSC_BIN='$(abs_top_builddir)' '$(srcdir)/bench/pipe' $(BENCH_ARGS)

.PHONY: bench-pipe install-bash-completions uninstall-bash-completions
