/*
 * atomid: deterministic 128-bit atom ids.
 *
 * Ids are what make output effectively-once: sinks drop an atom whose id they
 * have already written.  So an id must depend only on what the atom *is*,
 * never on when or where it was made:
 *
 *  - a source atom: the source name, the input's label (file or archive
 *    member), the atom's ordinal within that input and a digest of its bytes;
 *  - an operator's output: the parent id, the operator's salt (its --name or
 *    its command line) and the output's ordinal.
 */
#ifndef SPSC_ATOMID_H
#define SPSC_ATOMID_H

#include <stddef.h>
#include <stdint.h>

struct atom_id {
	uint8_t b[16];
};

#define ATOMID_HEX_LEN 32

struct atom_id atomid_source(const char *name, const char *label,
			     uint64_t ordinal, uint32_t crc, uint64_t len);
struct atom_id atomid_child(const struct atom_id *parent, uint64_t salt,
			    uint64_t ordinal);
uint64_t atomid_salt(int argc, char *const argv[]);
uint64_t atomid_producer(uint64_t salt, const char *input);
void atomid_hex(const struct atom_id *id, char out[ATOMID_HEX_LEN + 1]);
int atomid_parse(const char *hex, struct atom_id *id);
int atomid_equal(const struct atom_id *a, const struct atom_id *b);
uint64_t atomid_hash(const struct atom_id *id);

#endif
