/*
 * crc32c: the standard check value, agreement between the fast (ISA-L)
 * and table paths over lengths that change their course, and
 * crc32c_combine against the CRC of the joined bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "tap.h"

static unsigned char buf[200000];

int main(void)
{
	uint64_t state = 88172645463325252ull;
	int good = 1;

	for (size_t i = 0; i < sizeof buf; i++) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		buf[i] = (unsigned char)state;
	}
	ok(crc32c(0, "123456789", 9) == 0xE3069283u, "the check value of 123456789");
	ok(crc32c(crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u,
	   "a running CRC continues where it left off");

	static const size_t cuts[] = { 0, 1, 7, 8, 9, 1023, 1024, 3071, 3072, 3073,
				       6144, 65536, 99999, 150000, 200000 };
	size_t n = sizeof cuts / sizeof cuts[0];
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			size_t a = cuts[i], b = cuts[j];
			if (a + b > sizeof buf)
				continue;
			uint32_t whole = crc32c(0, buf, a + b);
			good &= crc32c_combine(crc32c(0, buf, a), crc32c(0, buf + a, b), b) == whole;
			good &= crc32c(crc32c(0, buf, a), buf + a, b) == whole;
		}
	ok(good, "crc32c_combine(CRC(A), CRC(B), |B|) is CRC(A B) for lengths 0 to 200000");
	good = 1;
	for (size_t len = 0; len <= 4200; len++)
		good &= crc32c(7, buf + len % 61, len) ==
			crc32c_portable(7, buf + len % 61, len);
	for (size_t i = 0; i < n; i++)
		good &= crc32c(0, buf, cuts[i]) == crc32c_portable(0, buf, cuts[i]);
	ok(good, "crc32c and crc32c_portable agree at every length and alignment tried");
	ok(crc32c_combine(0x12345678u, crc32c(0, "", 0), 0) == 0x12345678u,
	   "combining with nothing changes nothing");
	return tap_done();
}
