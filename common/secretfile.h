/* Secret files: how heraldd and the PHP extension read a private file and
 * walk its lines, compiled into both so the two can never disagree on what
 * a secret file holds or which files are acceptable. No allocation, no
 * globals; error texts name the path and the reason, never file bytes. */
#ifndef HERALD_SECRETFILE_H
#define HERALD_SECRETFILE_H

#include <stddef.h>

#define HERALD_SECRET_FILE_MAX (64 * 1024)

/* Read a private file whole into out (not NUL-terminated). Refuses, and never
 * blocks on: a path that is not a regular file (FIFO, device such as
 * /dev/zero, directory), a file other users can read or write (the reason
 * says how to fix it), a file larger than size. 0, or -1 with a reason in
 * err that never contains secret bytes (out is then wiped). */
int herald_secret_file_read(const char *path, char *out, size_t size, size_t *len,
                            char *err, size_t err_size);

/* Walk lines of text: the next non-blank line from *pos, with trailing CR,
 * space and tab cut (LF ends a line; leading bytes are kept), *lineno the
 * 1-based number of that line. Start with *pos = 0 and *lineno = 0. 1 when
 * a line was found (*line points into text), 0 at the end. */
int herald_secret_line_next(const char *text, size_t len, size_t *pos, const char **line,
                            size_t *line_len, int *lineno);

#endif
