/* Protocol headers: what proto_parse accepts, and which request id an
 * error reply echoes when it refuses a header. */
#include <string.h>

#include "proto.h"
#include "tap.h"

static struct proto_header h;
static char err[256];

static int parse(const char *text)
{
	err[0] = '\0';
	return proto_parse(text, strlen(text), &h, err, sizeof err);
}

static void test_accepted(void)
{
	ok(parse("SPSC/1 GET 7 raw max=10 wait=1000") == 0 && !h.reply &&
	   h.code == OP_GET && h.reqid == 7 && strcmp(h.queue, "raw") == 0 &&
	   proto_get(&h, "max", 0) == 10 && proto_get(&h, "wait", 0) == 1000,
	   "a GET with its keys");
	ok(parse("SPSC/1 GET 18446744073709551615 raw") == 0 &&
	   h.reqid == UINT64_MAX, "the largest request id, 2^64-1");
	ok(parse("SPSC/1 OK 3 n=1") == 0 && h.reply && h.code == ST_OK &&
	   h.reqid == 3, "a reply");
}

/* spsc-protocol(7): "A reply to a request whose header could not be read
 * as far as its request id carries 0." */
static void test_reqid_on_errors(void)
{
	ok(parse("SPSC/1 GET 18446744073709551616 raw") < 0 && h.reqid == 0,
	   "an id past 2^64-1 is unreadable: reply id 0, not 2^64-1");
	ok(parse("SPSC/1 GET 99999999999999999999999 raw") < 0 && h.reqid == 0,
	   "a far larger id: reply id 0");
	ok(parse("SPSC/1 GET 12abc raw") < 0 && h.reqid == 0,
	   "an id with letters after its digits: reply id 0, not 12");
	ok(parse("SPSC/1 GET -1 raw") < 0 && h.reqid == 0, "a negative id: 0");
	ok(parse("SPSC/1 get 12 raw") < 0 && h.reqid == 12,
	   "an unknown operation after a readable id: the id is echoed");
	ok(parse("SPSC/1 GET 12 ../x") < 0 && h.reqid == 12 &&
	   strstr(err, "bad queue name") != NULL,
	   "a bad queue name after a readable id: the id is echoed");
	ok(parse("SPSC/1 GET 5 raw max=18446744073709551616") < 0 &&
	   strstr(err, "not a whole number") != NULL,
	   "a value past 2^64-1 is refused");
}

int main(void)
{
	test_accepted();
	test_reqid_on_errors();
	return tap_done();
}
