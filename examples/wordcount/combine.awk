# combine.awk: the combiner of the WordCount job.  spsc-op runs it once per
# atom, over the atom's words (one a line): it counts them and prints each
# distinct word once, as "word<TAB>count".  So an atom of 500 lines, some
# 5000 words, crosses the shuffle as at most 141 lines (one per word of
# words.txt), and spsc-reduce sum:2 adds up the partial counts of a word.
NF { n[$1]++ }
END { for (w in n) print w "\t" n[w] }
