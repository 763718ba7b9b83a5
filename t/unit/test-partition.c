/* partition: the vectors spsc-shuffle(1) prints, which t/partition.py (a
 * Python producer written from the page, with python3-xxhash) must also
 * give.  Changing any of them breaks every producer that places keys
 * itself: they are the contract. */
#include <string.h>

#include "partition.h"
#include "tap.h"

static const struct {
	const char *key;
	uint64_t hash;
	uint32_t p4, p16, p1000;
} vectors[] = {
	{ "", 0x2d06800538d394c2ULL, 0, 0, 241 },
	{ "a", 0xe6c632b61e964e1fULL, 1, 14, 350 },
	{ "hello", 0x9555e8555c62dcfdULL, 0, 7, 296 },
	{ "campaign-42", 0xa44af6eb5c183e19ULL, 0, 0, 824 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const char *k = vectors[i].key;
		size_t len = strlen(k);
		ok(partition_hash(k, len) == vectors[i].hash, "XXH3 of \"%s\"", k);
		ok(partition_of(k, len, 4) == vectors[i].p4 &&
		   partition_of(k, len, 16) == vectors[i].p16 &&
		   partition_of(k, len, 1000) == vectors[i].p1000,
		   "\"%s\" goes to %u of 4, %u of 16, %u of 1000", k,
		   vectors[i].p4, vectors[i].p16, vectors[i].p1000);
	}
	ok(partition_jump(12345, 1) == 0, "one partition takes every key");
	{
		/* Consistency: growing from 10 to 11 partitions moves a key only
		 * to the new one, and moves about 1/11 of the keys. */
		unsigned moved = 0, wrong = 0;
		for (uint64_t k = 0; k < 100000; k++) {
			uint32_t a = partition_jump(k * 0x9e3779b97f4a7c15ULL, 10);
			uint32_t b = partition_jump(k * 0x9e3779b97f4a7c15ULL, 11);
			moved += a != b;
			wrong += a != b && b != 10;
		}
		ok(wrong == 0 && moved > 8000 && moved < 10200,
		   "10 to 11 partitions moves %u of 100000 keys, all to the new one", moved);
	}
	return tap_done();
}
