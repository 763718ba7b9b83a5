/*
 * mkarchive: a test helper that writes an archive with libarchive, for the
 * formats the test machine has no command-line tool for (7z).
 *
 *   mkarchive FORMAT OUT NAME...     e.g. mkarchive 7zip x.7z a.txt b.txt
 *
 * FORMAT is any name archive_write_set_format_by_name() knows.  Each NAME
 * is a regular file, stored under that name.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_file(struct archive *a, const char *name)
{
	struct archive_entry *e;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd = open(name, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(name);
		return -1;
	}
	e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, name);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = -1;
	while (rc == 0 && (n = read(fd, buf, sizeof buf)) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			rc = -1;
	archive_entry_free(e);
	close(fd);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", name, archive_error_string(a));
	return rc;
}

int main(int argc, char **argv)
{
	struct archive *a;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: mkarchive FORMAT OUT NAME...\n");
		return 2;
	}
	a = archive_write_new();
	if (archive_write_set_format_by_name(a, argv[1]) != ARCHIVE_OK ||
	    archive_write_open_filename(a, argv[2]) != ARCHIVE_OK) {
		fprintf(stderr, "%s: %s\n", argv[2], archive_error_string(a));
		return 1;
	}
	for (int i = 3; i < argc; i++)
		if (add_file(a, argv[i]) < 0)
			rc = 1;
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = 1;
	archive_write_free(a);
	return rc;
}
