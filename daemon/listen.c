#include "listen.h"

#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

/* mkdir -p; *made is set when the last directory is new (so that a
 * heraldd run by hand can remove the /run/herald it made). */
static int listen_mkdirs(const char *dir, int *made) {
    char tmp[CONFIG_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) == 0) {
        *made = 1;
        return 0;
    }
    return errno == EEXIST ? 0 : -1;
}

/* A socket file nobody answers on is left from a crash: replace it. One
 * that answers belongs to a running heraldd: refuse to steal it. */
static int listen_unix_prepare(const char *path, int *made) {
    char dir[CONFIG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (listen_mkdirs(dir, made) != 0) {
            log_error("cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!S_ISSOCK(st.st_mode)) {
        log_error("%s exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) close(fd);
    if (live) {
        log_error("%s is in use by a running process", path);
        return -1;
    }
    unlink(path);
    return 0;
}

/* Whoever can write to a directory on the way to the socket can rename it
 * and put their own socket in its place, then read every emit. Each
 * directory from the socket's up to / must belong to root or to heraldd's
 * user and be writable by nobody else, unless it is sticky (like /tmp:
 * others cannot rename or remove what heraldd made there). systemd's
 * RuntimeDirectory= (named by $RUNTIME_DIRECTORY, owned by heraldd) may
 * be writable by its group: that directory is heraldd's own. 0 or -1. */
static int listen_unix_dir_check(const char *path) {
    char dir[CONFIG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    const char *runtime = getenv("RUNTIME_DIRECTORY");
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        if (slash == dir) slash[1] = '\0';
        else *slash = '\0';
        struct stat st;
        if (stat(dir, &st) != 0) {
            log_error("emit socket directory %s: %s", dir, strerror(errno));
            return -1;
        }
        int own = st.st_uid == geteuid();
        int others_w = (st.st_mode & 0002) && !(st.st_mode & S_ISVTX);
        int group_w = (st.st_mode & 0020) && !(st.st_mode & S_ISVTX) &&
                      !(own && runtime && strcmp(runtime, dir) == 0);
        if ((!own && st.st_uid != 0) || others_w || group_w) {
            log_error("emit socket directory %s (mode %04o, owner uid %u) could let another user "
                      "replace the socket and read every emit: use a directory only heraldd's "
                      "user can write (e.g. /run/herald, chmod 755), or one with the sticky bit",
                      dir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
            return -1;
        }
        if (slash == dir) break;
    }
    return 0;
}

/* The mode is set on the descriptor before bind, and bind creates the file
 * with it (Linux takes the new node's mode from the socket's inode, under
 * the umask, which is 0 for that moment): no chmod by path, no moment with
 * another mode. A group other than heraldd's own is given with setegid
 * around the bind where allowed (root); otherwise the file is born
 * owner-only and then given its group and mode without following a
 * symlink, in a directory no one else can write (listen_unix_dir_check).
 * Listeners are set up before any worker thread starts, so the
 * process-wide umask and egid are safe to change. */
/* glibc does AT_SYMLINK_NOFOLLOW for chmod through /proc; without /proc,
 * a node that lstat shows is still our socket is changed by path (the
 * directory was checked: nobody else can swap it in between). */
static int listen_chmod_nofollow(const char *path, mode_t mode) {
    if (fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) == 0) return 0;
    struct stat st;
    if ((errno != ENOTSUP && errno != EOPNOTSUPP) || lstat(path, &st) != 0 ||
        !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return -1;
    return chmod(path, mode);
}

static int listen_unix_bind(int fd, const char *path, const listen_unix_perm_t *perm) {
    mode_t mode = perm ? (mode_t)perm->mode : 0600;
    gid_t gid = getegid(), old_gid = getegid();
    if (perm && perm->group && perm->group[0]) {
        struct group *g = getgrnam(perm->group);
        if (g == NULL) {
            log_error("emit_socket_group %s: no such group", perm->group);
            return -1;
        }
        gid = g->gr_gid;
    }
    int later = gid != old_gid && setegid(gid) != 0; /* group set after bind */
    if (fchmod(fd, later ? (mode & 0700) : mode) != 0) {
        log_error("emit_socket_mode: fchmod: %s", strerror(errno));
        if (!later && gid != old_gid) setegid(old_gid);
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    mode_t old_mask = umask(0);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    int err = errno;
    umask(old_mask);
    if (!later && gid != old_gid && setegid(old_gid) != 0) {
        log_error("setegid back to %u: %s", (unsigned)old_gid, strerror(errno));
        return -1;
    }
    if (rc != 0) {
        log_error("listen on unix:%s: %s", path, strerror(err));
        return -1;
    }
    if (later && (fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) != 0 ||
                  listen_chmod_nofollow(path, mode) != 0)) {
        log_error("emit_socket_group %s: cannot give %s its group: %s", perm->group, path,
                  strerror(errno));
        return 1; /* bound: the caller unlinks */
    }
    return 0;
}

static int listen_unix(uv_loop_t *loop, stream_handle_t *h, const char *path,
                       const listen_unix_perm_t *perm, int *state) {
    int made = 0;
    if (listen_unix_prepare(path, &made) != 0 || listen_unix_dir_check(path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("listen on unix:%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = listen_unix_bind(fd, path, perm);
    if (rc != 0) {
        if (rc > 0) unlink(path);
        close(fd);
        return -1;
    }
    uv_pipe_init(loop, &h->pipe, 0);
    *state = LISTEN_INIT;
    rc = uv_pipe_open(&h->pipe, fd);
    if (rc != 0) {
        close(fd);
        unlink(path);
        log_error("listen on unix:%s: %s", path, uv_strerror(rc));
        return -1;
    }
    *state = made ? LISTEN_BOUND_DIR : LISTEN_BOUND;
    return 0;
}

/* libuv 1.44 has no UV_TCP_REUSEPORT: make the socket, let every loop bind
 * the same port with SO_REUSEPORT (the kernel spreads new connections over
 * them), then hand it to libuv. */
static int listen_tcp(uv_loop_t *loop, stream_handle_t *h, const char *hostport,
                      unsigned flags, int *state) {
    char host[CONFIG_PATH_MAX];
    int port;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (config_hostport_split(hostport, host, sizeof(host), &port) != 0) {
        log_error("%s: not HOST:PORT", hostport);
        return -1;
    }
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof(host), "127.0.0.1");
    int v6 = strchr(host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        log_error("%s: not a numeric IP address", hostport);
        return -1;
    }
    if (!(flags & LISTEN_REUSEPORT)) {
        uv_tcp_init(loop, &h->tcp);
        *state = LISTEN_INIT;
        rc = uv_tcp_bind(&h->tcp, (struct sockaddr *)&ss, 0);
    } else {
        int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
            bind(fd, (struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in)) != 0) {
            log_error("listen on %s: %s", hostport, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        uv_tcp_init(loop, &h->tcp);
        *state = LISTEN_INIT;
        rc = uv_tcp_open(&h->tcp, fd);
        if (rc != 0) close(fd);
    }
    if (rc != 0) {
        log_error("listen on %s: %s", hostport, uv_strerror(rc));
        return -1;
    }
    return 0;
}

int listen_open(uv_loop_t *loop, stream_handle_t *h, const char *addr, unsigned flags,
                const listen_unix_perm_t *perm, uv_connection_cb cb, int *state) {
    *state = LISTEN_NONE;
    int is_unix = strncmp(addr, "unix:", 5) == 0;
    int rc = is_unix ? listen_unix(loop, h, addr + 5, perm, state)
                     : listen_tcp(loop, h, addr, flags, state);
    if (rc != 0) return -1;
    rc = uv_listen(&h->stream, LISTEN_BACKLOG, cb);
    if (rc != 0) {
        log_error("listen on %s: %s", addr, uv_strerror(rc));
        return -1;
    }
    return 0;
}
