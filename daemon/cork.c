#include "cork.h"

/* Holding for the length of the stream, not a fixed time from its start,
 * is what makes coalescing steady: a publisher slowed by a busy machine
 * (an emit every 0.3 ms instead of every 0.05) still fills each write
 * with many frames, where a fixed 1 ms window wrote 2-3 a write. The gap
 * is counted from the last turn that published, so a turn woken by
 * anything else (a pong, a timer) neither ends nor extends the cork. */
unsigned cork_turn(cork_t *k, uint64_t now, size_t dirty, int running) {
    int published = k->publish_ns > k->check_ns;
    /* A message handed over is held here when its own loop held it: the
     * timing of the hand-over (wake-ups, this loop's turns) must not
     * decide whether a stream is coalesced. A stream from Redis is, when
     * enough clients wait for it. */
    int remote = k->remote_in && dirty >= CORK_REMOTE_MIN_CLIENTS;
    int hot = published && (k->publish_ns - k->delivered_ns < CORK_GAP_NS ||
                            (k->stream_in && (!k->remote_in || remote)));
    if (published && remote) k->remote = 1;
    k->stream_in = k->remote_in = 0;
    k->check_ns = now;
    if (published) k->delivered_ns = now; /* while held: the last turn that published */
    unsigned disarm = k->start_ns ? CORK_DISARM : 0;
    if (!dirty) { /* what was held went with its clients: nothing to end */
        k->start_ns = 0;
        k->end = k->brk = k->remote = 0;
        return disarm;
    }
    int hold = 0;
    uint64_t max = k->remote ? CORK_REMOTE_MAX_NS : CORK_MAX_NS;
    if (running && !k->brk && !k->end)
        hold = k->start_ns ? now - k->start_ns < max && now - k->delivered_ns < cork_gap_ns(k) : hot;
    if (hold) {
        if (k->start_ns == 0) k->start_ns = now;
        return published ? CORK_ARM : 0; /* the pause that ends it counts from here */
    }
    k->start_ns = 0;
    k->end = k->brk = k->remote = 0;
    return CORK_WRITE | disarm;
}
