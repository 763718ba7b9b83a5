#!/usr/bin/env bats
# spsc-source and archives: every format recognised by content, members as
# streams of their own, and damaged or unsupported members named while the
# other members and inputs go on.
load helpers
load source-helpers

mkarchive() {
	"$SPSC_BUILDDIR/cmd/spsc-source/mkarchive" "$@"
}

# Three members, one without a trailing newline, one in a subdirectory.
make_tree() {
	mkdir -p d/sub
	seq 1 3 > d/a.txt
	printf 'no newline' > d/c.txt
	seq 4 6 > d/sub/b.txt
	EXPECTED=$(printf '1\n2\n3\nno newline\n4\n5\n6')
}

@test "tar, tar.gz, tar.zst, tar.xz, tar.bz2, cpio, zip and 7z give their members' events" {
	make_tree
	tar -cf x.tar -C d a.txt c.txt sub/b.txt
	gzip -c x.tar > x.tar.gz
	zstd -q -c x.tar > x.tar.zst
	xz -c x.tar > x.tar.xz
	bzip2 -c x.tar > x.tar.bz2
	(cd d && printf 'a.txt\nc.txt\nsub/b.txt\n' | cpio -o -H newc --quiet > ../x.cpio)
	(cd d && printf 'a.txt\nc.txt\nsub/b.txt\n' | cpio -o -H odc --quiet > ../x-odc.cpio)
	(cd d && zip -q ../x.zip a.txt c.txt sub/b.txt)
	(cd d && mkarchive 7zip ../x.7z a.txt c.txt sub/b.txt)
	for f in x.tar x.tar.gz x.tar.zst x.tar.xz x.tar.bz2 x.cpio x-odc.cpio x.zip x.7z; do
		run bash -c "spsc-source $f | python3 \"\$SPSC_SRCDIR/t/source-frames.py\" events"
		[ "$status" -eq 0 ] || { echo "$f: status $status"; return 1; }
		[ "$output" = "$EXPECTED" ] || { echo "$f: $output"; return 1; }
		[ "$(spsc-source $f | count_atoms /dev/stdin)" -eq 3 ]
	done
}

@test "archives are recognised by content, whatever their name" {
	make_tree
	tar -czf mislabelled.txt -C d a.txt c.txt sub/b.txt
	[ "$(spsc-source mislabelled.txt | frames events)" = "$EXPECTED" ]
}

@test "single .gz, .zst, .xz and .bz2 files: one stream, labelled as the file itself" {
	seq 1 5 > plain
	gzip -c plain > f.gz
	zstd -q -c plain > f.zst
	xz -c plain > f.xz
	bzip2 -c plain > f.bz2
	for f in f.gz f.zst f.xz f.bz2; do
		[ "$(spsc-source $f | frames events)" = "$(seq 1 5)" ]
	done
	# The same bytes under the same label: a plain file named f.gz gives
	# the ids the compressed f.gz gave, so no member name was added.
	spsc-source f.gz | frames atoms | cut -d' ' -f1 > packed
	mkdir p && cp plain p/f.gz
	(cd p && spsc-source f.gz) | frames atoms | cut -d' ' -f1 > unpacked
	cmp packed unpacked
}

@test "each member is cut on its own; ids name input and member and stay stable" {
	mkdir d
	seq 1 5 > d/one
	seq 1 5 > d/two
	tar -cf x.tar -C d one two
	spsc-source -n 3 x.tar > out.atoms
	[ "$(frames atoms < out.atoms | cut -d' ' -f2 | tr '\n' ' ')" = "3 2 3 2 " ]
	frames atoms < out.atoms | cut -d' ' -f1 > ids1
	[ "$(sort -u ids1 | wc -l)" -eq 4 ]
	spsc-source -n 3 x.tar | frames atoms | cut -d' ' -f1 > ids2
	cmp ids1 ids2
	cp x.tar y.tar
	spsc-source -n 3 y.tar | frames atoms | cut -d' ' -f1 > ids3
	[ -z "$(comm -12 <(sort ids1) <(sort ids3))" ]
}

@test "directories, links and empty members give no atom" {
	mkdir -p d/emptydir
	: > d/empty.txt
	echo data > d/real.txt
	ln -s real.txt d/link.txt
	tar -cf x.tar -C d .
	(cd d && zip -qry ../x.zip .)
	for f in x.tar x.zip; do
		spsc-source $f > out.atoms
		[ "$(count_atoms out.atoms)" -eq 1 ]
		[ "$(frames events < out.atoms)" = "data" ]
	done
}

@test "archives and compressed streams on standard input are recognised too" {
	make_tree
	tar -cf - -C d a.txt c.txt sub/b.txt | zstd -q > x.tar.zst
	(cd d && zip -q ../x.zip a.txt c.txt sub/b.txt)
	[ "$(spsc-source < x.tar.zst | frames events)" = "$EXPECTED" ]
	[ "$(cat x.tar.zst | spsc-source | frames events)" = "$EXPECTED" ]
	[ "$(cat x.zip | spsc-source | frames events)" = "$EXPECTED" ]
	[ "$(seq 1 4 | gzip | spsc-source | frames events)" = "$(seq 1 4)" ]
}

@test "a 7z archive on a pipe is refused with a clear reason" {
	make_tree
	(cd d && mkarchive 7zip ../x.7z a.txt)
	run bash -c 'cat x.7z | spsc-source 2>&1 >/dev/null; echo "rc=${PIPESTATUS[1]}"'
	[[ "$output" == *"error: -"*"a 7z archive must be a file, not a pipe"* ]]
	[[ "$output" == *"rc=1" ]]
}

@test "text that other archivers would claim (mtree) is read as it is" {
	printf '#mtree\n. type=dir\n./a type=file\n' > m.txt
	[ "$(spsc-source m.txt | frames events)" = "$(cat m.txt)" ]
	[ "$(spsc-source < m.txt | frames events)" = "$(cat m.txt)" ]
	[ "$(cat m.txt | spsc-source | frames events)" = "$(cat m.txt)" ]
}

@test "a member with a bad CRC is named; the other members and inputs go on" {
	seq 1 3 > a.txt
	echo "BBBB-unique-marker" > b.txt
	echo c > c.txt
	zip -q0 s.zip a.txt b.txt c.txt
	off=$(grep -boa 'BBBB-unique' s.zip | head -1 | cut -d: -f1)
	printf 'X' | dd of=s.zip bs=1 seek="$off" conv=notrunc status=none
	echo after > after.txt
	run bash -c 'spsc-source s.zip after.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[[ "$output" == "$(printf '1\n2\n3\n')"*"$(printf 'c\nafter\nrc=1')" ]]
	grep -q 's.zip/b.txt: byte 19: ZIP bad CRC' err
}

@test "an encrypted member is unsupported: named, the others go on" {
	seq 1 3 > a.txt
	echo secret > b.txt
	echo c > c.txt
	zip -q e.zip a.txt
	zip -q -P pw e.zip b.txt
	zip -q e.zip c.txt
	run bash -c 'spsc-source e.zip 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf '1\n2\n3\nc\nrc=1')" ]
	grep -q 'e.zip/b.txt: byte 0: Passphrase required' err
}

@test "a truncated tar.gz: members before the damage are delivered, the damage is named" {
	seq 1 3 > a.txt
	head -c 300000 /dev/urandom | od -An -tx1 > big.txt
	tar -czf t.tar.gz a.txt big.txt
	head -c $(( $(size_of t.tar.gz) / 2 )) t.tar.gz > cut.tar.gz
	echo after > after.txt
	run bash -c 'spsc-source cut.tar.gz after.txt 2>err > out.atoms; echo "rc=$?"'
	[ "$output" = "rc=1" ]
	frames events < out.atoms > got
	[ "$(head -3 got)" = "$(seq 1 3)" ]
	[ "$(tail -1 got)" = "after" ]
	# Whatever big.txt gave before the damage is whole lines of it.
	sed -n '4,$p' got | sed '$d' > partial
	cmp partial <(head -n "$(wc -l < partial)" big.txt)
	grep -q 'cut.tar.gz/big.txt: byte [0-9]*: truncated gzip input' err
}

@test "garbage that claims to be gzip is named, the other inputs go on" {
	printf '\037\213\010\000garbage that is not deflate at all' > bad.gz
	echo fine > fine.txt
	run bash -c 'spsc-source bad.gz fine.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'fine\nrc=1')" ]
	grep -q '^spsc-source\[[0-9]*\]: error: bad.gz' err
}

@test "an event over --max-atom in a member names the member; the next member goes on" {
	mkdir d
	printf 'ok\n%s\nrest\n' "$(printf 'z%.0s' $(seq 1 50))" > d/a.log
	printf 'b\n' > d/b.log
	tar -cf x.tar -C d a.log b.log
	run bash -c 'spsc-source --max-atom 20 x.tar 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'ok\nb\nrc=1')" ]
	grep -q 'x.tar/a.log: byte 3: event longer than --max-atom (20 bytes)' err
}

@test "a damaged tar header is named; the members after it are still read" {
	seq 1 3 > a
	seq 4 6 > b
	seq 7 9 > c
	tar -cf t.tar a b c
	# Spoil b's header checksum (the second 512-byte block pair).
	printf 'ZZ' | dd of=t.tar bs=1 seek=$((1024 + 148)) conv=notrunc status=none
	run bash -c 'spsc-source t.tar 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf '1\n2\n3\n7\n8\n9\nrc=1')" ]
	grep -q 't.tar: Damaged tar archive (looking for the next member)' err
}
