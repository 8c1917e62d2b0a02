/* SPDX-License-Identifier: MIT */
/*
 * Reading the configuration file and key files. O_NONBLOCK keeps the open of a FIFO from
 * waiting for a writer; fstat then refuses anything but a regular file, whose reads never
 * block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_file.h"
#include "wg_crypto.h"

static int open_regular(const char *path, struct stat *st, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		close(fd);
		return -1;
	}
	return fd;
}

/* Up to cap bytes, through short reads and signals; how many, or -1. */
static ssize_t read_all(int fd, char *buf, size_t cap, const char **why)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t wg_config_read_small(const char *path, char *buf, size_t cap, const char **why)
{
	struct stat st;
	ssize_t n;
	int fd = open_regular(path, &st, why);

	if (fd < 0)
		return -1;
	n = read_all(fd, buf, cap, why);
	close(fd);
	return n;
}

char *wg_config_read_file(const char *path, size_t max, size_t *len, const char **why)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd = open_regular(path, &st, why);

	if (fd < 0)
		return NULL;
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		*why = "too large";
		close(fd);
		return NULL;
	}
	/* A file that grows meanwhile is read as long as it was; one that shrinks, as
	 * long as it is now. */
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		*why = "out of memory";
		close(fd);
		return NULL;
	}
	n = read_all(fd, text, (size_t)st.st_size, why);
	close(fd);
	if (n < 0) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len = (size_t)n;
	return text;
}
