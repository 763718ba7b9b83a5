#!/bin/sh
# Collects each atom's events, runs one tr over them, echoes the end marker.
# spsc-op --warm -- sh upper.sh
batch=
while IFS= read -r line; do
	if [ "$line" = "$SPSC_MARKER" ]; then
		printf '%s' "$batch" | tr a-z A-Z
		printf '%s\n' "$line"
		batch=
	else
		batch="$batch$line
"
	fi
done
