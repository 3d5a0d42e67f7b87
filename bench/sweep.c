/* How long the channel sweep holds the hub lock: a table of N channels
 * (default 1,000,000), each with one message in history, swept in the
 * chunks hub_sweep uses (HUB_SWEEP_BUCKETS) and, for comparison, whole in
 * one go (what every tick did before issue 11). Build and run from the top:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Idaemon -Icommon bench/sweep.c daemon/channel.c \
 *      daemon/history.c daemon/siphash.c daemon/buf.c daemon/utf8.c daemon/ws.c \
 *      -lcrypto -o build/sweep && build/sweep 1000000 */
#include "channel.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double sweep_now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    channel_table_t t;
    if (channel_table_init(&t) != 0 || channel_table_lost_init(&t, 1000) != 0) return 1;
    char name[32];
    for (size_t i = 0; i < n; i++) {
        int l = snprintf(name, sizeof(name), "user.%zu", i);
        channel_t *ch = channel_get(&t, name, (size_t)l, 1000);
        message_t m;
        if (ch == NULL || channel_message_build(&m, ch, ch->next_id++, 1000, "hello", 5) != 0) return 1;
        history_push(&t.hist, &ch->hist, &m, 100, 1 << 22);
        buf_unref(m.ws);
    }
    double worst = 0, total = 0;
    int chunks = 0;
    for (int wrapped = 0; !wrapped; chunks++) {
        double a = sweep_now_us();
        wrapped = channel_table_sweep(&t, 2000, 300000, HUB_SWEEP_BUCKETS);
        double d = sweep_now_us() - a;
        total += d;
        if (d > worst) worst = d;
    }
    t.cursor = 0;
    double a = sweep_now_us();
    channel_table_sweep(&t, 2000, 300000, t.nbuckets);
    double whole = sweep_now_us() - a;
    printf("%zu channels, %zu buckets: a %d-bucket chunk holds the lock %.0f us on average "
           "(worst %.0f us, %d chunks); the whole table in one go %.0f us\n",
           n, t.nbuckets, HUB_SWEEP_BUCKETS, total / chunks, worst, chunks, whole);
    channel_table_free(&t);
    return 0;
}
