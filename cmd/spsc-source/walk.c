/*
 * walk: from command-line arguments to the files they name, in an order
 * that does not depend on the locale or the filesystem, because atom ids
 * depend on it only through each file's own name, but people compare runs.
 *
 *  - "-" is standard input.
 *  - A directory is read recursively; at each level names are sorted by
 *    their bytes (strcmp), depth first.  Symbolic links to files are
 *    followed; links to directories are not (no loops), and FIFOs, sockets
 *    and devices inside a directory are skipped with a warning.
 *  - An argument that does not exist but holds a glob character (* ? [)
 *    is expanded with glob(3), matches sorted the same way.
 *  - Anything else is opened as it is, so a missing file gets its error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "source.h"

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void walk_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* dir + "/" + name, without doubling a slash the user wrote. */
char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *s;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	s = malloc(dl + nl + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, dir, dl);
	if (!(dl == 1 && dir[0] == '/'))
		s[dl++] = '/';
	memcpy(s + dl, name, nl + 1);
	return s;
}

/* The names in dir but "." and "..", sorted; -1 with errno on error. */
int walk_dir_sorted(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;
	int saved;

	*names = NULL;
	*count = 0;
	if (d == NULL)
		return -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof *v);
			if (nv == NULL)
				goto fail;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
		errno = 0;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	qsort(v, n, sizeof *v, by_bytes);
	*names = v;
	*count = n;
	return 0;
fail:
	saved = errno ? errno : ENOMEM;
	closedir(d);
	walk_names_free(v, n);
	errno = saved;
	return -1;
}

static int walk_dir(struct source *src, const char *dir, walk_fn fn);

/* One entry found inside a directory. */
static int walk_entry(struct source *src, const char *path, walk_fn fn)
{
	struct stat st;
	int link;

	if (lstat(path, &st) < 0) {
		log_error("%s: %s", path, strerror(errno));
		src->failed = 1;
		return 0;
	}
	link = S_ISLNK(st.st_mode);
	if (link && stat(path, &st) < 0) {
		log_warn("%s: skipped: dangling symbolic link", path);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!link)
			return walk_dir(src, path, fn);
		log_warn("%s: skipped: symbolic link to a directory", path);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("%s: skipped: not a regular file", path);
		return 0;
	}
	return fn(src, path);
}

static int walk_dir(struct source *src, const char *dir, walk_fn fn)
{
	char **names;
	size_t count;

	if (walk_dir_sorted(dir, &names, &count) < 0) {
		log_error("%s: cannot read directory: %s", dir, strerror(errno));
		src->failed = 1;
		return 0;
	}
	for (size_t i = 0; i < count && !src->stopping && !src->fatal; i++) {
		char *path = path_join(dir, names[i]);
		if (path == NULL) {
			log_error("%s: out of memory", dir);
			src->fatal = 1;
			break;
		}
		walk_entry(src, path, fn);
		free(path);
	}
	walk_names_free(names, count);
	return 0;
}

static int walk_glob(struct source *src, const char *pattern, walk_fn fn)
{
	glob_t g;
	int rc = glob(pattern, GLOB_NOSORT, NULL, &g);

	if (rc == GLOB_NOMATCH) {
		log_error("%s: no file matches", pattern);
		src->failed = 1;
		return 0;
	}
	if (rc != 0) {
		log_error("%s: cannot expand: %s", pattern,
			  rc == GLOB_NOSPACE ? "out of memory" : "read error");
		src->failed = 1;
		return 0;
	}
	qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_bytes);
	for (size_t i = 0; i < g.gl_pathc && !src->stopping && !src->fatal; i++)
		walk_entry(src, g.gl_pathv[i], fn);
	globfree(&g);
	return 0;
}

/* Calls fn for every file arg names, in order.  Errors are logged and
 * counted in src->failed; the walk goes on unless the run must stop. */
int walk_arg(struct source *src, const char *arg, walk_fn fn)
{
	struct stat st;

	if (strcmp(arg, "-") == 0)
		return fn(src, arg);
	if (stat(arg, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return walk_dir(src, arg, fn);
		return fn(src, arg);
	}
	if (errno == ENOENT && strpbrk(arg, "*?[") != NULL)
		return walk_glob(src, arg, fn);
	return fn(src, arg);
}
