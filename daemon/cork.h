/* When a loop writes its subscribers' frames: at the end of the turn that
 * queued them, or held while emits stream in, so a burst leaves in one
 * writev per client instead of one system call per frame (what a frame
 * costs on loopback: bench/RESULTS.md). The decision only, from times the
 * loop passes in: no handles, so it is tested on its own. */
#ifndef HERALD_CORK_H
#define HERALD_CORK_H

#include <stddef.h>
#include <stdint.h>

/* Emits this close together are a stream; a stream that pauses this long
 * is over (the loop's cork timer), and its frames go. */
#define CORK_GAP_NS 1000000
/* The longest a stream's frames are held, however long it goes on. */
#define CORK_MAX_NS 4000000
/* A stream that comes from Redis (a cluster): a publisher waiting for each
 * answer waits for the Redis round trip too, so its messages reach a node
 * about three times further apart than a local stream's; the same batching
 * takes three times the gap and the hold. With the local figures a node
 * wrote 2-6 frames a write where one node writes 22 (bench/RESULTS.md,
 * "Cluster"). */
#define CORK_REMOTE_GAP_NS 4000000
#define CORK_REMOTE_MAX_NS 12000000
/* ... but only for a loop with at least this many clients to write: with
 * fewer, a frame each costs little CPU and the hold would be pure latency
 * (an emit every 3 ms reached 1 subscriber per node 8 ms late, not 0.6). */
#define CORK_REMOTE_MIN_CLIENTS 32

typedef struct cork {
    uint64_t publish_ns;   /* the last publish to this loop's subscribers */
    uint64_t check_ns;     /* the last turn's end (cork_turn) */
    uint64_t delivered_ns; /* end of the last turn that published or wrote */
    uint64_t start_ns;     /* when frames were first held; 0 = none held */
    uint8_t brk;           /* a client's queue grew large: write this turn */
    uint8_t end;           /* the stream paused (the timer fired): write */
    uint8_t stream_in;     /* a message handed over this turn was held on its loop */
    uint8_t remote_in;     /* ... and came from Redis as part of a stream */
    uint8_t remote;        /* the frames held are a stream from Redis: its gap and max */
} cork_t;

/* What cork_turn asks of the loop (bits). */
enum {
    CORK_WRITE = 1,        /* write the subscribers' frames now */
    CORK_ARM = 2,          /* (re)start the timer: cork_gap_ns from now, end */
    CORK_DISARM = 4,       /* stop the timer */
};

/* A message was queued for this loop's subscribers at now_ns. */
static inline void cork_published(cork_t *k, uint64_t now_ns) { k->publish_ns = now_ns; }

/* The end of a loop turn at now_ns; dirty: clients with frames queued; running:
 * the loop is not shutting down (then nothing is held). A lone message is
 * written at once; one that comes within CORK_GAP_NS of the last turn that
 * published or wrote (or that was handed over held) starts a cork, which
 * lasts while messages keep coming within CORK_GAP_NS of each other, at
 * most CORK_MAX_NS (CORK_REMOTE_* once a stream from Redis is held). */
unsigned cork_turn(cork_t *k, uint64_t now_ns, size_t dirty, int running);

/* How long a pause ends the stream being held. */
static inline uint64_t cork_gap_ns(const cork_t *k) {
    return k->remote ? CORK_REMOTE_GAP_NS : CORK_GAP_NS;
}

/* The frames were written; now_ns: when the writing ended. */
static inline void cork_written(cork_t *k, uint64_t now_ns) { k->delivered_ns = now_ns; }

#endif
