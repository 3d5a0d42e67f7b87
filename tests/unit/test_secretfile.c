/* Unit tests for common/secretfile.c, the secret-file reader heraldd and the
 * PHP extension share: what it refuses (without ever blocking) and how it
 * cuts lines, the same for both sides. */
#include "t.h"
#include "secretfile.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* A file under the test directory with the given bytes and mode. */
static const char *file_make(const char *name, const char *bytes, size_t n, mode_t mode) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, bytes, n) != (ssize_t)n) {
        fprintf(stderr, "  cannot create %s\n", path);
        t_failed_checks++;
    }
    if (fd >= 0) close(fd);
    chmod(path, mode);
    return path;
}

static int read_file(const char *path, char *out, size_t size, size_t *len, char *err) {
    return herald_secret_file_read(path, out, size, len, err, 512);
}

static void reads_a_private_file_whole(void) {
    char out[64], err[512];
    size_t len = 99;
    const char *p = file_make("ok", "t1:0123456789abcdef\n", 20, 0600);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), 0);
    CHECK_MEM(out, len, "t1:0123456789abcdef\n", 20);
    /* 640 (a group php-fpm is in) is the documented shared setup */
    p = file_make("group", "abc", 3, 0640);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), 0);
    CHECK_EQ_INT(len, 3);
    p = file_make("empty", "", 0, 0600);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), 0);
    CHECK_EQ_INT(len, 0);
}

/* Opened without O_NONBLOCK, a FIFO with no writer blocks in open() forever;
 * the alarm turns such a hang into a failed test instead of a stuck suite. */
static void fifo_is_refused_without_blocking(void) {
    char path[128], out[64], err[512];
    size_t len;
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK_EQ_INT(mkfifo(path, 0600), 0);
    alarm(5);
    CHECK_EQ_INT(read_file(path, out, sizeof out, &len, err), -1);
    alarm(0);
    CHECK(strstr(err, "is a FIFO, not a regular file") != NULL);
    CHECK(strstr(err, path) != NULL);
    unlink(path);
}

static void dev_zero_is_refused(void) {
    char out[64], err[512];
    size_t len;
    alarm(5);
    CHECK_EQ_INT(read_file("/dev/zero", out, sizeof out, &len, err), -1);
    alarm(0);
    CHECK_STR(err, "/dev/zero is a character device, not a regular file: point it at the file that holds the secret");
}

static void directory_is_refused(void) {
    char out[64], err[512];
    size_t len;
    CHECK_EQ_INT(read_file(dir, out, sizeof out, &len, err), -1);
    CHECK(strstr(err, "is a directory, not a regular file") != NULL);
}

static void missing_file_names_the_path(void) {
    char path[128], out[64], err[512];
    size_t len;
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    CHECK_EQ_INT(read_file(path, out, sizeof out, &len, err), -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "No such file or directory (check the path)") != NULL);
}

static void other_readable_or_writable_is_refused_with_the_fix(void) {
    char out[64], err[512];
    size_t len;
    const char *p = file_make("o-r", "t1:0123456789abcdef", 19, 0644);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), -1);
    CHECK(strstr(err, "is readable by every user: run chmod o-rw") != NULL);
    CHECK(strstr(err, "640 with a group php-fpm is in") != NULL);
    CHECK(strstr(err, "0123456789abcdef") == NULL);
    p = file_make("o-w", "t1:0123456789abcdef", 19, 0602);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), -1);
    CHECK(strstr(err, "is writable by every user") != NULL);
}

static void larger_than_size_is_refused_and_exactly_size_is_read(void) {
    char big[65], out[64], err[512];
    size_t len;
    memset(big, 's', sizeof big);
    const char *p = file_make("big", big, sizeof big, 0600);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), -1);
    CHECK(strstr(err, "is larger than 64 bytes") != NULL);
    CHECK(strstr(err, "ssss") == NULL);
    p = file_make("fits", big, 64, 0600);
    CHECK_EQ_INT(read_file(p, out, sizeof out, &len, err), 0);
    CHECK_EQ_INT(len, 64);
    CHECK_EQ_INT(HERALD_SECRET_FILE_MAX, 65536);
}

/* Collect every line the walker yields as "N:text|". */
static void lines_of(const char *text, char *got, size_t size) {
    size_t pos = 0, n;
    const char *l;
    int lineno = 0;
    got[0] = '\0';
    while (herald_secret_line_next(text, strlen(text), &pos, &l, &n, &lineno) == 1) {
        size_t used = strlen(got);
        snprintf(got + used, size - used, "%d:%.*s|", lineno, (int)n, l);
    }
}

static void crlf_lines_lose_their_cr(void) {
    char got[256];
    lines_of("t1:aaaaaaaaaaaaaaaa\r\nt2:bbbbbbbbbbbbbbbb\r\n", got, sizeof got);
    CHECK_STR(got, "1:t1:aaaaaaaaaaaaaaaa|2:t2:bbbbbbbbbbbbbbbb|");
}

/* The old readers differed here: heraldd kept a trailing tab in the emit
 * secret, the extension cut it, so the two sides held different tokens. */
static void trailing_space_and_tab_are_cut_leading_kept(void) {
    char got[256];
    lines_of("key1 \t \n\t key2\t\n  key3  ", got, sizeof got);
    CHECK_STR(got, "1:key1|2:\t key2|3:  key3|");
    lines_of("a\t\r\n", got, sizeof got);
    CHECK_STR(got, "1:a|");
    lines_of("a\r\t\n", got, sizeof got);
    CHECK_STR(got, "1:a|");
}

static void blank_lines_are_skipped_and_counted(void) {
    char got[256];
    lines_of("\n\r\n \t \nfirst\n\n\nsecond", got, sizeof got);
    CHECK_STR(got, "4:first|7:second|");
    lines_of("", got, sizeof got);
    CHECK_STR(got, "");
    lines_of("\n\n \r\n\t", got, sizeof got);
    CHECK_STR(got, "");
}

static void the_walk_ends_and_stays_ended(void) {
    size_t pos = 0, n = 0;
    const char *l = NULL;
    int lineno = 0;
    const char *text = "only\n";
    CHECK_EQ_INT(herald_secret_line_next(text, 5, &pos, &l, &n, &lineno), 1);
    CHECK_EQ_INT(pos, 5);
    CHECK_EQ_INT(herald_secret_line_next(text, 5, &pos, &l, &n, &lineno), 0);
    CHECK_EQ_INT(herald_secret_line_next(text, 5, &pos, &l, &n, &lineno), 0);
    CHECK_EQ_INT(lineno, 1);
    /* bytes after a NUL still count: the length bounds the walk, not a NUL */
    pos = 0;
    lineno = 0;
    CHECK_EQ_INT(herald_secret_line_next("a\0b\n", 4, &pos, &l, &n, &lineno), 1);
    CHECK_EQ_INT(n, 3);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/herald-secretfile-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(reads_a_private_file_whole);
    RUN(fifo_is_refused_without_blocking);
    RUN(dev_zero_is_refused);
    RUN(directory_is_refused);
    RUN(missing_file_names_the_path);
    RUN(other_readable_or_writable_is_refused_with_the_fix);
    RUN(larger_than_size_is_refused_and_exactly_size_is_read);
    RUN(crlf_lines_lose_their_cr);
    RUN(trailing_space_and_tab_are_cut_leading_kept);
    RUN(blank_lines_are_skipped_and_counted);
    RUN(the_walk_ends_and_stays_ended);
    static const char *const names[] = {"ok", "group", "empty", "o-r", "o-w", "big", "fits"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return T_DONE();
}
