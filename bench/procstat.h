/* A process's CPU time from /proc, as the load generators report it
 * (loadgen.c, httpload.c): one reader of the format, not one per tool. */
#ifndef HERALD_BENCH_PROCSTAT_H
#define HERALD_BENCH_PROCSTAT_H

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* utime and stime of /proc/PID/stat (fields 14 and 15), in ns: clock
 * ticks, coarser than schedstat, but split into the process's own code
 * and the kernel's. 0, or -1 when the process is gone. */
static int procstat_user_sys_ns(pid_t pid, int64_t *user, int64_t *sys)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *rp = strrchr(buf, ')'); /* the name may hold spaces and ')' */
    unsigned long ut, stt;
    if (!rp || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                      &ut, &stt) != 2)
        return -1;
    int64_t tick = 1000000000LL / sysconf(_SC_CLK_TCK);
    *user = (int64_t)ut * tick;
    *sys = (int64_t)stt * tick;
    return 0;
}

/* CPU time of every thread of pid in ns: the scheduler's run time
 * (schedstat, exact) where the kernel keeps it, else utime + stime.
 * 0 when the process is gone. */
static int64_t procstat_cpu_ns(pid_t pid)
{
    char path[64];
    int64_t total = 0;
    int found = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!isdigit((unsigned char)e->d_name[0]))
                continue;
            char p2[320];
            long long run;
            snprintf(p2, sizeof p2, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
            FILE *f = fopen(p2, "r");
            if (f && fscanf(f, "%lld", &run) == 1) {
                total += run;
                found = 1;
            }
            if (f)
                fclose(f);
        }
        closedir(d);
        if (found)
            return total;
    }
    int64_t ut, st;
    return procstat_user_sys_ns(pid, &ut, &st) == 0 ? ut + st : 0;
}

#endif
