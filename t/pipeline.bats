#!/usr/bin/env bats
# End-to-end guarantees of the pipe-mode toolkit: source | op | sink, with
# real archives, real child processes and reruns.
load helpers

# A tar.zst of three log files with ERROR lines sprinkled through them.
make_logs() {
	mkdir logs
	for f in app db web; do
		for i in $(seq 1 400); do
			if [ $((i % 7)) -eq 0 ]; then
				echo "$f $i ERROR something broke"
			else
				echo "$f $i INFO all good"
			fi
		done > "logs/$f.log"
	done
	tar -cf - -C logs . | zstd -q > logs.tar.zst
	cat logs/*.log | grep -F ERROR | sort > expected
}

@test "the flagship pipeline filters a tar.zst into one file per atom" {
	make_logs
	run bash -c 'spsc-source -n 100 logs.tar.zst | spsc-op -j 2 -t 30s -r 3 --dlq ./failed.atoms -- grep -F ERROR | spsc-sink results/'
	[ "$status" -eq 0 ]
	[ "$(ls results | wc -l)" -eq 12 ]
	cat results/* | sort > got
	cmp got expected
	[ ! -s failed.atoms ]
}

@test "a rerun of the whole pipeline duplicates nothing (dir, file, journal)" {
	make_logs
	for run in 1 2; do
		spsc-source -n 50 logs.tar.zst | spsc-op -j 2 -- grep -F ERROR | spsc-sink results/
		spsc-source -n 50 logs.tar.zst | spsc-op -j 2 -- grep -F ERROR | spsc-sink all.log
		spsc-source -n 50 logs.tar.zst | spsc-op -j 2 -- grep -F ERROR | spsc-sink --journal ids.journal >> stdout.log
	done
	[ "$(cat results/* | wc -l)" -eq "$(wc -l < expected)" ]
	sort all.log | cmp - expected
	sort stdout.log | cmp - expected
}

@test "ids are deterministic: the same bytes under the same name give the same files" {
	make_logs
	spsc-source --name logs -n 100 logs.tar.zst | spsc-op -- cat | spsc-sink one/
	spsc-source --name logs -n 100 logs.tar.zst | spsc-op -j 2 -- cat | spsc-sink two/
	spsc-source --name other -n 100 logs.tar.zst | spsc-op -- cat | spsc-sink three/
	[ "$(ls one)" = "$(ls two)" ]
	[ "$(ls one | wc -l)" -eq 12 ]
	[ -z "$(comm -12 <(ls one) <(ls three))" ]
}

@test "a poisonous atom is retried, dead-lettered, and the stream goes on" {
	for i in $(seq 1 50); do echo "record $i"; done > in.txt
	sed -i '23s/.*/record 23 POISON/' in.txt
	cat > op.sh <<'SH'
#!/bin/sh
while IFS= read -r line; do
	case $line in *POISON*) exit 4;; esac
	printf '%s\n' "$line"
done
SH
	chmod +x op.sh
	run bash -c 'spsc-source -n 10 in.txt | spsc-op -r 2 --dlq ./failed.atoms -- ./op.sh | spsc-sink out.txt; echo "op=${PIPESTATUS[1]} sink=${PIPESTATUS[2]}"'
	[[ "$output" == *"op=3 sink=0"* ]]
	[ "$(wc -l < out.txt)" -eq 40 ]
	# atom 3 (records 21-30) held the poison; atoms 2 and 4 came through
	grep -q '^record 20$' out.txt
	! grep -q '^record \(2[1-9]\|30\)' out.txt
	grep -q '^record 31$' out.txt
	# The dead letter is a file of frames: it replays through any stage.
	spsc-sink < failed.atoms > dead.txt
	[ "$(wc -l < dead.txt)" -eq 10 ]
	grep -qx 'record 23 POISON' dead.txt
}

@test "a hung operator is killed at its deadline and dead-lettered" {
	printf 'fast\nslow\n' | spsc-source -n 1 > in.atoms
	run bash -c 'spsc-op -t 300ms -r 2 --dlq ./dead.atoms --shell -- "read l; [ \"\$l\" = slow ] && sleep 30; echo \$l" < in.atoms | spsc-sink; echo "op=${PIPESTATUS[0]}"'
	[ "${lines[0]}" = "fast" ]
	[[ "$output" == *"op=3"* ]]
	[ "$(spsc-sink < dead.atoms)" = "slow" ]
}

@test "the warm path carries every event through cat" {
	seq 1 100000 > in.txt
	spsc-source -n 1000 in.txt | spsc-op --warm -j 2 -- cat | spsc-sink | sort -n > out.txt
	cmp in.txt out.txt
}

@test "compressed atoms flow through the whole pipeline" {
	seq 1 20000 > in.txt
	spsc-source -z -n 500 in.txt | spsc-op -z -- cat | spsc-sink --stats 2> stats > out.txt
	cmp in.txt out.txt
	grep -q '20000' stats
}

@test "--ok-exit 0,1 lets grep find nothing in an atom without failing it" {
	printf 'ERROR one\nfine\nfine\nfine\nERROR two\nfine\n' > in.txt
	run bash -c 'spsc-source -n 2 in.txt | spsc-op --ok-exit 0,1 --dlq ./dead.atoms -- grep -F ERROR | spsc-sink; echo "op=${PIPESTATUS[1]}"'
	[ "$output" = "$(printf 'ERROR one\nERROR two\nop=0')" ]
	[ ! -s dead.atoms ]
	run bash -c 'spsc-source -n 2 in.txt | spsc-op -r 1 --dlq ./dead.atoms -- grep -F ERROR | spsc-sink; echo "op=${PIPESTATUS[1]}"'
	[[ "$output" == *"op=3"* ]]
	[ "$(spsc-sink < dead.atoms)" = "$(printf 'fine\nfine')" ]
}
