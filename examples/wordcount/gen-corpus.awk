# gen-corpus.awk: the WordCount example's corpus, made on the spot.
#
#   awk -v lines=N -f gen-corpus.awk words.txt > corpus.txt
#
# Prose-like lines from the word list, picked with Zipf's law (the word of
# rank r is drawn in proportion to 1/r) as in real text.  The generator is
# the Park-Miller "minimal standard" (x = x * 16807 mod 2^31-1) rather than
# rand(): awk implementations differ in rand(), while these products stay
# below 2^53, so every awk computes the same corpus and the expected top
# words never change.
function next_random() {
	state = (state * 16807) % 2147483647
	return state
}

function pick_word(	target, lo, hi, mid) {
	target = (next_random() / 2147483647) * total
	lo = 1
	hi = nwords
	while (lo < hi) {
		mid = int((lo + hi) / 2)
		if (cumulative[mid] < target)
			lo = mid + 1
		else
			hi = mid
	}
	return word[lo]
}

function sentence(	n, i, w, s) {
	n = 4 + next_random() % 12
	for (i = 1; i <= n; i++) {
		w = pick_word()
		if (i == 1)
			w = toupper(substr(w, 1, 1)) substr(w, 2)
		s = s (i > 1 ? " " : "") w
		if (i < n && next_random() % 9 == 0)
			s = s ","
	}
	return s "."
}

{
	word[++nwords] = $1
	total += 1 / nwords
	cumulative[nwords] = total
}

END {
	if (lines == "")
		lines = 6000
	state = 20261103
	line = ""
	while (printed < lines) {
		s = sentence()
		if (line != "" && length(line) + 1 + length(s) > 72) {
			print line
			printed++
			line = ""
			if (next_random() % 8 == 0 && printed < lines) {
				print ""
				printed++
			}
		}
		line = line (line == "" ? "" : " ") s
	}
}
