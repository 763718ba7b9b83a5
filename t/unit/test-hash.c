/* hash64 is part of the on-disk contract (atom ids derive from it), so its
 * values are pinned here: a change to the function fails these vectors.
 * The same vectors are computed independently in t/atom-format.bats from
 * the description in spsc-atom(5). */
#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "tap.h"

struct vector {
	const char *in;
	uint64_t seed0, seed42;
};

static const struct vector vectors[] = {
	{ "", UINT64_C(0x0000000000000000), UINT64_C(0x864e3a085a4748e4) },
	{ "a", UINT64_C(0x6979c75f71f5b8a9), UINT64_C(0xaea3acf87568bd81) },
	{ "abc", UINT64_C(0x2d99c8cac77dd1a1), UINT64_C(0x5615f1a56b89f940) },
	{ "12345678", UINT64_C(0xfcc34e7dc5e36a7d), UINT64_C(0xb6ad0cc9e92808e7) },
	{ "123456789", UINT64_C(0x0e6c1a6b94a46c28), UINT64_C(0x33c9561789d4667a) },
	{ "hello, world!\n", UINT64_C(0xa026818fa547f4f8), UINT64_C(0xb4f014271a381d37) },
	{ "0123456789abcdef0", UINT64_C(0x0792eacfe3ac2a61), UINT64_C(0x976a27040101981f) },
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const struct vector *v = &vectors[i];
		size_t n = strlen(v->in);
		ok(hash64(v->in, n, 0) == v->seed0, "hash64 of %zu bytes, seed 0", n);
		ok(hash64(v->in, n, 42) == v->seed42, "hash64 of %zu bytes, seed 42", n);
	}
	ok(hash_mix64(0) == 0, "the splitmix64 finaliser fixes 0");
	ok(hash_mix64(1) == UINT64_C(0x5692161d100b05e5), "hash_mix64(1)");
}

/* Every length from 0 to 40 covers the word loop and all tail sizes. */
static void test_properties(void)
{
	static const char zeros[40];
	unsigned char buf[40], copy[41];
	int trailing_zeros = 1, every_byte = 1, unaligned = 1;

	for (size_t n = 1; n < sizeof zeros; n++)
		trailing_zeros &= hash64(zeros, n, 0) != hash64(zeros, n - 1, 0);
	ok(trailing_zeros, "appending a zero byte changes the hash");

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 1; n <= sizeof buf; n++) {
		uint64_t h = hash64(buf, n, 7);
		for (size_t i = 0; i < n; i++) {
			buf[i] ^= 0x01;
			every_byte &= hash64(buf, n, 7) != h;
			buf[i] ^= 0x01;
		}
		memcpy(copy + 1, buf, n);
		unaligned &= hash64(copy + 1, n, 7) == h;
	}
	ok(every_byte, "flipping one bit of any byte changes the hash");
	ok(unaligned, "the hash does not depend on alignment");
	ok(hash64("abc", 3, 1) != hash64("abc", 3, 2), "the seed matters");
}

int main(void)
{
	test_vectors();
	test_properties();
	return tap_done();
}
