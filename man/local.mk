dist_man_MANS += man/spsc.7 man/spsc-atom.5 man/spsc-source.1 man/spsc-op.1 man/spsc-sink.1
