/*
 * systemd: spsc systemd DAG DIR (being written).
 */
#include "log.h"
#include "opt.h"
#include "spsc.h"

int systemd_main(const struct spsc_opts *o, const char *path, const char *dir)
{
	(void)o;
	(void)path;
	(void)dir;
	log_error("spsc systemd is not built yet");
	return EXIT_FAIL;
}
