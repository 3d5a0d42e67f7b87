#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *secretfile_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* O_NONBLOCK makes open() of a FIFO return at once instead of waiting for a
 * writer; fstat on that descriptor (not stat on the path, which could be
 * swapped in between) then decides. A read never starts on anything but a
 * regular file, so /dev/zero or a FIFO cannot hang or fill memory. */
int herald_secret_file_read(const char *path, char *out, size_t size, size_t *len,
                            char *err, size_t err_size) {
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_size, "cannot open %s: %s (%s)", path, strerror(e),
                 e == ENOENT || e == ENOTDIR ? "check the path"
                 : e == EACCES ? "this user may not read it: give the file to its user, or mode 640 "
                                 "with a group this user is in"
                 : "check the path and its permissions");
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s is %s, not a regular file: point it at the file that holds the secret",
                 path, secretfile_kind(st.st_mode));
        close(fd);
        return -1;
    }
    /* A secret other users can read lets them mint names or publish; one
     * they can write lets them choose it. Refuse, saying how to fix it. */
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        snprintf(err, err_size, "%s is %s by every user: run chmod o-rw %s (e.g. chmod 600, or 640 "
                 "with a group php-fpm is in)", path,
                 (st.st_mode & S_IWOTH) ? "writable" : "readable", path);
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > (unsigned long long)size) {
        snprintf(err, err_size, "%s is larger than %zu bytes: a secret file holds a few short lines",
                 path, size);
        close(fd);
        return -1;
    }
    /* The size may change under us: read to the end, and one byte past
     * size proves the file too large whatever fstat said. */
    size_t n = 0;
    int too_large = 0, e = 0;
    for (;;) {
        char extra;
        ssize_t r = n < size ? read(fd, out + n, size - n) : read(fd, &extra, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { e = errno; break; }
        if (r == 0) break;
        if (n == size) { too_large = 1; break; }
        n += (size_t)r;
    }
    close(fd);
    if (e != 0 || too_large) {
        memset(out, 0, n);
        if (too_large)
            snprintf(err, err_size, "%s is larger than %zu bytes: a secret file holds a few short lines",
                     path, size);
        else
            snprintf(err, err_size, "cannot read %s: %s", path, strerror(e));
        return -1;
    }
    *len = n;
    return 0;
}

int herald_secret_line_next(const char *text, size_t len, size_t *pos, const char **line,
                            size_t *line_len, int *lineno) {
    while (*pos < len) {
        const char *l = text + *pos;
        const char *nl = memchr(l, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - l) : len - *pos;
        *pos += n + (nl ? 1 : 0);
        (*lineno)++;
        while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t')) n--;
        if (n == 0) continue;
        *line = l;
        *line_len = n;
        return 1;
    }
    return 0;
}
