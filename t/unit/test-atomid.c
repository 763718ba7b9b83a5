/* Atom ids: deterministic, sensitive to every input, and pinned to fixed
 * vectors, because sinks compare ids across runs and versions: an id that
 * changed would re-deliver (duplicate) everything a sink already holds. */
#include <stdint.h>
#include <string.h>

#include "atomid.h"
#include "tap.h"

static int id_is(const struct atom_id *id, const char *hex)
{
	char got[ATOMID_HEX_LEN + 1];

	atomid_hex(id, got);
	if (strcmp(got, hex) != 0) {
		printf("# id %s, wanted %s\n", got, hex);
		return 0;
	}
	return 1;
}

static void test_vectors(void)
{
	struct atom_id a = atomid_source("logs", "app.log", 0, 0xE3069283u, 9);
	struct atom_id z = atomid_source("", "", 0, 0, 0);
	struct atom_id c = atomid_child(&z, 7, 3);
	char *argv[] = { "grep", "-F", "ERROR" };

	ok(id_is(&a, "178987c521fa3ae7283cfa34a64a3e02"), "source id vector");
	ok(id_is(&z, "72d5760c7b25b54445394b84e60c6df7"), "empty source id vector");
	ok(id_is(&c, "00d7489ec69653c19e8343a9262fb814"), "child id vector");
	ok(atomid_salt(3, argv) == UINT64_C(0x29bf93586b6f5689), "salt vector");
}

static void test_sensitivity(void)
{
	struct atom_id base = atomid_source("name", "label", 5, 0xabcdef01u, 100);
	struct atom_id same = atomid_source("name", "label", 5, 0xabcdef01u, 100);
	struct atom_id parent = atomid_source("p", "q", 1, 2, 3);
	struct atom_id child = atomid_child(&parent, 9, 0);
	char *ab_c[] = { "ab", "c" }, *a_bc[] = { "a", "bc" }, *abc[] = { "abc" };
	char *a_b[] = { "a b" }, *a__b[] = { "a", "b" };

	ok(atomid_equal(&base, &same), "the same fields give the same id");
	ok(!atomid_equal(&base, &(struct atom_id){ 0 }), "an id is not zero");
	{
		struct atom_id v[] = {
			atomid_source("Name", "label", 5, 0xabcdef01u, 100),
			atomid_source("name", "label2", 5, 0xabcdef01u, 100),
			atomid_source("name", "label", 6, 0xabcdef01u, 100),
			atomid_source("name", "label", 5, 0xabcdef00u, 100),
			atomid_source("name", "label", 5, 0xabcdef01u, 101),
			atomid_source("namel", "abel", 5, 0xabcdef01u, 100),
		};
		const char *what[] = { "name", "label", "ordinal", "crc",
				       "length", "name/label boundary" };
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
			ok(!atomid_equal(&base, &v[i]), "the %s changes a source id",
			   what[i]);
	}
	ok(!atomid_equal(&child, &parent), "a child differs from its parent");
	{
		struct atom_id other = atomid_source("p", "q", 1, 2, 4);
		struct atom_id v[] = {
			atomid_child(&other, 9, 0),
			atomid_child(&parent, 10, 0),
			atomid_child(&parent, 9, 1),
		};
		const char *what[] = { "parent", "salt", "ordinal" };
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
			ok(!atomid_equal(&child, &v[i]), "the %s changes a child id",
			   what[i]);
	}
	ok(atomid_salt(2, ab_c) != atomid_salt(2, a_bc) &&
		   atomid_salt(2, ab_c) != atomid_salt(1, abc),
	   "argument boundaries are part of the salt");
	ok(atomid_salt(1, a_b) != atomid_salt(2, a__b),
	   "\"a b\" is not \"a\" \"b\"");
	ok(atomid_salt(0, NULL) != 0, "an empty command line has a salt");
}

/* A label too long to copy is folded into its hash; it must still count. */
static void test_long_fields(void)
{
	static char l1[4000], l2[4000], n1[600], n2[600];
	struct atom_id a, b;

	memset(l1, 'x', sizeof l1 - 1);
	memcpy(l2, l1, sizeof l2);
	l2[3000] = 'y';
	a = atomid_source("n", l1, 0, 0, 0);
	b = atomid_source("n", l2, 0, 0, 0);
	ok(!atomid_equal(&a, &b), "long labels that differ late give different ids");
	b = atomid_source("n", l1, 0, 0, 0);
	ok(atomid_equal(&a, &b), "long labels are deterministic");

	memset(n1, 'n', sizeof n1 - 1);
	memcpy(n2, n1, sizeof n2);
	n2[100] = 'm';
	a = atomid_source(n1, "l", 0, 0, 0);
	b = atomid_source(n2, "l", 0, 0, 0);
	ok(!atomid_equal(&a, &b), "long names that differ early give different ids");
	n2[599 - 1] = '\0';
	b = atomid_source(n2, "l", 0, 0, 0);
	ok(!atomid_equal(&a, &b), "a long name's length counts");
}

static void test_hex(void)
{
	struct atom_id id = atomid_source("hex", "round trip", 1, 2, 3), back;
	char hex[ATOMID_HEX_LEN + 1], upper[ATOMID_HEX_LEN + 1];

	atomid_hex(&id, hex);
	ok(strlen(hex) == 32 && strspn(hex, "0123456789abcdef") == 32,
	   "hex is 32 lower-case digits");
	ok(atomid_parse(hex, &back) == 0 && atomid_equal(&id, &back),
	   "hex round trip");
	for (int i = 0; i <= ATOMID_HEX_LEN; i++)
		upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	ok(atomid_parse(upper, &back) == 0 && atomid_equal(&id, &back),
	   "upper-case hex parses");
	ok(atomid_parse("", &back) < 0, "empty hex is refused");
	ok(atomid_parse("0123456789abcdef0123456789abcde", &back) < 0,
	   "31 digits are refused");
	ok(atomid_parse("0123456789abcdef0123456789abcdef0", &back) < 0,
	   "33 digits are refused");
	ok(atomid_parse("0123456789abcdef0123456789abcdeg", &back) < 0,
	   "a non-hex digit is refused");
	ok(atomid_parse("0123456789abcdef 123456789abcdef", &back) < 0,
	   "a space is refused");
	id = (struct atom_id){ { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } };
	ok(id_is(&id, "0123456789abcdef0000000000000000"),
	   "byte 0 is printed first");
	ok(atomid_hash(&id) == UINT64_C(0xefcdab8967452301),
	   "atomid_hash is the first 8 bytes, little-endian");
}

int main(void)
{
	test_vectors();
	test_sensitivity();
	test_long_fields();
	test_hex();
	return tap_done();
}
