#include "fdlimit.h"

#include "log.h"

#include <dirent.h>
#include <sys/resource.h>

uint64_t fdlimit_current(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

/* /proc lists exactly the open descriptors; counted once at start, so its
 * cost does not matter. */
size_t fdlimit_open_count(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return 64; /* no /proc: assume a generous base */
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* the directory's own descriptor */
}

/* A service manager's default soft limit (often 1024) is far below what a
 * push server holds, while the hard limit usually allows it: raise it
 * rather than fail under load. When even the hard limit is too low, say so
 * at start instead of letting it show up later as refused connections. */
size_t fdlimit_fit(uint64_t max_connections, size_t base) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return SIZE_MAX;
    uint64_t want = max_connections + base + FDLIMIT_SPARE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : (rlim_t)want;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
            log_info("open-file limit raised from %llu to %llu for max_connections %llu",
                     (unsigned long long)rl.rlim_cur, (unsigned long long)up.rlim_cur,
                     (unsigned long long)max_connections);
            rl = up;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    uint64_t room = rl.rlim_cur > base + FDLIMIT_SPARE ? rl.rlim_cur - base - FDLIMIT_SPARE : 0;
    if (room < max_connections)
        log_warn("max_connections is %llu but the open-file limit is %llu (hard limit %llu): "
                 "%llu connections fit; raise the limit (ulimit -n, systemd LimitNOFILE=) "
                 "or lower max_connections",
                 (unsigned long long)max_connections, (unsigned long long)rl.rlim_cur,
                 (unsigned long long)rl.rlim_max, (unsigned long long)room);
    return (size_t)room;
}
