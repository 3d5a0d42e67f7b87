#include "hub.h"

#include "log.h"
#include "signed.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The lock is never taken twice by one thread (a delivery that closes a
 * connection re-enters hub_unsubscribe): this flag lets that be asserted. */
static _Thread_local int hub_locked;

void hub_lock(hub_t *hub) {
    assert(!hub_locked);
    pthread_mutex_lock(&hub->lock);
    hub_locked = 1;
}

void hub_unlock(hub_t *hub) {
    hub_locked = 0;
    pthread_mutex_unlock(&hub->lock);
}

uint64_t hub_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hub_init(hub_t *hub, size_t nloops) {
    assert(nloops >= 1 && nloops <= HUB_LOOPS_MAX);
    memset(hub, 0, sizeof(*hub));
    atomic_init(&hub->fd_room, SIZE_MAX);
    hub->start_ms = hub_wall_ms();
    hub->nloops = nloops;
    hub->hooks_tail = &hub->hooks;
    presence_table_init(&hub->presence);
    mpsc_init(&hub->presence_ops);
    pthread_mutex_init(&hub->lock, NULL);
    pthread_mutex_init(&hub->peers_lock, NULL);
    pthread_mutex_init(&hub->creators_lock, NULL);
    hub->boxes = calloc(nloops, sizeof(*hub->boxes));
    if (hub->boxes == NULL || channel_table_init(&hub->channels) != 0 ||
        channel_table_lost_init(&hub->channels, hub->start_ms) != 0 ||
        peer_table_init(&hub->peers) != 0 || quota_table_init(&hub->creators) != 0)
        return HUB_ENOMEM;
    for (size_t i = 0; i < nloops; i++) {
        mpsc_init(&hub->boxes[i].inbox);
        mpsc_init(&hub->boxes[i].handoffs);
        atomic_init(&hub->boxes[i].asleep, 1);
        mpsc_init(&hub->boxes[i].notes);
        pthread_mutex_init(&hub->boxes[i].snap_lock, NULL);
    }
    return 0;
}

void hub_free(hub_t *hub) {
    for (size_t i = 0; i < hub->ninterest; i++) free(hub->interest[i]);
    free(hub->interest);
    if (hub->channels.buckets) channel_table_free(&hub->channels);
    if (hub->peers.buckets) peer_table_free(&hub->peers);
    quota_table_free(&hub->creators);
    presence_table_free(&hub->presence);
    webhook_events_free(hub->hooks);
    for (size_t i = 0; hub->boxes && i < hub->nloops; i++)
        pthread_mutex_destroy(&hub->boxes[i].snap_lock);
    pthread_mutex_destroy(&hub->lock);
    pthread_mutex_destroy(&hub->peers_lock);
    pthread_mutex_destroy(&hub->creators_lock);
    free(hub->boxes);
    memset(hub, 0, sizeof(*hub));
}

/* One allocation per emit however many loops: the nodes for every inbox
 * and the channel name ride with the message. */
static hub_msg_t *hub_msg_new(hub_t *hub, const message_t *m, const char *name, size_t len) {
    hub_msg_t *hm = malloc(sizeof(*hm) + hub->nloops * sizeof(hub_node_t) + len);
    if (hm == NULL) return NULL;
    char *p = (char *)&hm->nodes[hub->nloops];
    memcpy(p, name, len);
    hm->name = p;
    hm->name_len = (uint16_t)len;
    hm->m = *m;
    hm->m.sse = hm->m.sio = hm->m.pusher = NULL;
    hm->kind = HUB_MSG_DATA;
    if (hm->m.ws) buf_ref(hm->m.ws);
    atomic_init(&hm->refs, 0);
    for (size_t i = 0; i < hub->nloops; i++) hm->nodes[i].msg = hm;
    return hm;
}

void hub_msg_release(hub_msg_t *hm) {
    unsigned before = atomic_fetch_sub_explicit(&hm->refs, 1, memory_order_acq_rel);
    assert(before > 0);
    if (before == 1) {
        buf_unref(hm->m.ws);
        free(hm);
    }
}

/* Hand m to the loops in `others` (bits) that still take messages, as a
 * message of the given kind (HUB_MSG_*: cluster notices carry none); the
 * loops it went to are returned, to be woken by hub_wake once the lock is
 * released. Under the lock: every inbox then receives a channel's
 * messages, and notices, in id order. */
uint64_t hub_hand_over_kind(hub_t *hub, uint64_t others, const message_t *m,
                            const char *channel, size_t channel_len, int stream, int kind) {
    hub_msg_t *hm = hub_msg_new(hub, m, channel, channel_len);
    if (hm == NULL) {
        log_error("out of memory: message %llu not handed to the other loops",
                  (unsigned long long)m->id);
        return 0;
    }
    assert(stream >= HUB_STREAM_NONE && stream <= HUB_STREAM_REMOTE);
    hm->stream = (uint8_t)stream;
    hm->kind = (uint8_t)kind;
    unsigned refs = 0;
    uint64_t handed = 0;
    for (size_t i = 0; i < hub->nloops; i++)
        if ((others & (UINT64_C(1) << i)) && hub->boxes[i].open) refs++;
    atomic_store_explicit(&hm->refs, refs ? refs : 1, memory_order_relaxed);
    for (size_t i = 0; i < hub->nloops; i++) {
        hub_mailbox_t *box = &hub->boxes[i];
        if (!(others & (UINT64_C(1) << i)) || !box->open) continue;
        mpsc_push(&box->inbox, &hm->nodes[i].node);
        handed |= UINT64_C(1) << i;
    }
    if (refs == 0) hub_msg_release(hm);
    return handed;
}

/* Why no wake-up is lost: a sender pushes (a sequentially consistent swap
 * of the inbox's head, mpsc.c), then swaps the asleep flag to 0 and wakes
 * the owner if it was 1. The owner, having popped its inbox empty, stores 1
 * in the flag and then reads the head (hub_mailbox_sleep). All four are
 * sequentially consistent, so in their one total order either the owner's
 * read comes after the push (it sees the message and pops again) or the
 * sender's swap comes after the owner's store (the sender sees 1, or a
 * later sender took the flag and woke it: either way a wake-up follows the
 * store, and the owner pops everything pushed before it runs). A flag of 0
 * never stays while the owner waits: it stores 1 before every wait. The
 * lock keeps hub_mailbox_close from closing the handle under uv_async_send,
 * which may be called again after the callback started (libuv then runs it
 * once more). */
void hub_wake(hub_t *hub, uint64_t loops) {
    for (size_t i = 0; loops && i < hub->nloops; i++) {
        if (!(loops & (UINT64_C(1) << i))) continue;
        loops &= ~(UINT64_C(1) << i);
        hub_mailbox_t *box = &hub->boxes[i];
        if (atomic_exchange_explicit(&box->asleep, 0, memory_order_seq_cst) == 0) continue;
        hub_lock(hub);
        if (box->open) uv_async_send(box->wake);
        hub_unlock(hub);
    }
}

static uint64_t hub_hand_over(hub_t *hub, uint64_t others, const message_t *m,
                              const char *channel, size_t channel_len, int stream) {
    return hub_hand_over_kind(hub, others, m, channel, channel_len, stream, HUB_MSG_DATA);
}

/* Under the lock: the link is told the channel gained its first or lost
 * its last subscriber on this node (it subscribes or unsubscribes in
 * Redis). Names are queued, not decided here: the link reads the count
 * again when it acts, so a quick leave and come back nets out. */
static void hub_interest_note(hub_t *hub, const char *name, size_t len) {
    if (hub->ninterest == hub->interest_cap) {
        size_t cap = hub->interest_cap ? hub->interest_cap * 2 : 16;
        char **a = realloc(hub->interest, cap * sizeof(*a));
        if (a == NULL) goto oom;
        hub->interest = a;
        hub->interest_cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) goto oom;
    memcpy(copy, name, len);
    copy[len] = '\0';
    hub->interest[hub->ninterest++] = copy;
    if (hub->interest_wake) uv_async_send(hub->interest_wake);
    return;
oom:
    log_error("out of memory: the Redis link misses a change of channel %.*s", (int)len, name);
}

/* Under the lock, at the change it reports: events are queued in the
 * order the channels changed. Never blocks on the sender. */
static void hub_hook(hub_t *hub, int kind, const char *name, size_t len, const char *user_id) {
    if (hub->hooks_wake == NULL) return;
    webhook_event_t *e = NULL;
    if (hub->hooks_held >= hub->hooks_max ||
        (e = webhook_event_new(kind, name, len, user_id)) == NULL) {
        hub->hooks_dropped++;
    } else {
        *hub->hooks_tail = e;
        hub->hooks_tail = &e->next;
        hub->hooks_held++;
    }
    uv_async_send(hub->hooks_wake);
}

void hub_hook_queue(hub_t *hub, int kind, const char *name, size_t len, const char *user_id) {
    hub_lock(hub);
    hub_hook(hub, kind, name, len, user_id);
    hub_unlock(hub);
}

void hub_hooks_open(hub_t *hub, uv_async_t *wake, size_t max) {
    hub_lock(hub);
    hub->hooks_wake = wake;
    hub->hooks_max = max;
    webhook_event_t *dropped = wake ? NULL : hub->hooks;
    if (wake == NULL) {
        hub->hooks_held -= webhook_events_free(dropped);
        hub->hooks = NULL;
        hub->hooks_tail = &hub->hooks;
    }
    hub_unlock(hub);
}

webhook_event_t *hub_hooks_take(hub_t *hub, uint64_t *dropped) {
    hub_lock(hub);
    webhook_event_t *list = hub->hooks;
    hub->hooks = NULL;
    hub->hooks_tail = &hub->hooks;
    *dropped = hub->hooks_dropped;
    hub->hooks_dropped = 0;
    hub_unlock(hub);
    return list;
}

void hub_hooks_done(hub_t *hub, size_t n) {
    hub_lock(hub);
    hub->hooks_held = hub->hooks_held > n ? hub->hooks_held - n : 0;
    hub_unlock(hub);
}

int hub_publish(hub_t *hub, unsigned from, const config_t *cfg, const char *channel,
                size_t channel_len, const char *data, size_t len, int stream, message_t *m,
                size_t *everywhere, uint64_t *handed) {
    *handed = 0;
    if (herald_channel_check(channel, channel_len) != 0) return HUB_EINVAL;
    uint64_t now = hub_wall_ms();
    channel_table_t *t = &hub->channels;
    hub_lock(hub);
    channel_t *ch = channel_find(t, channel, channel_len);
    /* With history_size 0 a channel nobody subscribes to lives only for
     * this call, so max_channels does not stand in the way. */
    if (ch == NULL && t->count >= cfg->max_channels && cfg->history_size > 0) {
        hub_unlock(hub);
        return HUB_EFULL;
    }
    if (ch == NULL) ch = channel_get(t, channel, channel_len, now);
    if (ch == NULL || channel_message_build(m, ch, ch->next_id, now, data, len) != 0) {
        if (ch) channel_release(t, ch);
        hub_unlock(hub);
        return HUB_ENOMEM;
    }
    history_expire(&t->hist, &ch->hist, now, cfg->history_ttl_ms);
    ch->next_id++;
    if (history_push(&t->hist, &ch->hist, m, cfg->history_size,
                     cfg->history_max_bytes_per_channel) < 0)
        log_error("out of memory: message %llu not kept in history", (unsigned long long)m->id);
    channel_table_trim(t, cfg->history_max_bytes, ch);
    *everywhere = ch->nsubs;
    /* Only loops with subscribers to this channel are handed the message:
     * with per-user channels most emits concern one loop. */
    uint64_t loops = ch->loops;
    if (hub->nbcast && channel_is_public(cfg->socketio_channels, channel, channel_len)) {
        loops |= hub->bcast_loops;
        *everywhere += hub->nbcast;
    }
    uint64_t others = loops & ~(UINT64_C(1) << from);
    if (others) *handed = hub_hand_over(hub, others, m, channel, channel_len, stream);
    channel_release(t, ch);
    hub_unlock(hub);
    return 0;
}

int hub_subscribe(hub_t *hub, unsigned from, const config_t *cfg, const char *plain,
                  size_t len, int counted, int create, int has_since, uint64_t since,
                  uint64_t *last, message_t **replay, size_t *nreplay) {
    uint64_t now = hub_wall_ms();
    channel_table_t *t = &hub->channels;
    *replay = NULL;
    *nreplay = 0;
    hub_lock(hub);
    channel_t *ch = channel_find(t, plain, len);
    int refused = ch ? 0 : !create ? HUB_ENOENT : t->count >= cfg->max_channels ? HUB_EFULL : 0;
    if (ch == NULL && refused == 0) ch = channel_get(t, plain, len, now);
    if (ch == NULL) {
        hub_unlock(hub);
        return refused ? refused : HUB_ENOMEM;
    }
    if (counted) {
        if (ch->nsubs++ == 0) {
            if (!hub->cluster) /* else Redis decides, for the cluster (presenceredis.c) */
                hub_hook(hub, WEBHOOK_CHANNEL_OCCUPIED, plain, len, NULL);
            if (hub->cluster) hub_interest_note(hub, plain, len);
        }
        ch->loops |= UINT64_C(1) << from;
    }
    if (hub->cluster && !ch->ready) {
        channel_release(t, ch);
        hub_unlock(hub);
        return HUB_PENDING;
    }
    history_expire(&t->hist, &ch->hist, now, cfg->history_ttl_ms);
    size_t start = 0;
    int ok = 1;
    if (has_since)
        /* in a cluster the history loaded from Redis is all that is known:
         * whatever came before its first id counts as lost */
        ok = history_since(&ch->hist, since, ch->base_id, ch->next_id,
                           hub->cluster ? ch->base_id : channel_lost_before(t, ch), &start);
    *last = ch->next_id - 1;
    size_t count = history_count(&ch->hist);
    if (has_since && ok && start < count) {
        message_t *r = malloc((count - start) * sizeof(*r));
        if (r) {
            for (size_t i = start; i < count; i++) {
                r[i - start] = *history_at(&ch->hist, i);
                r[i - start].sse = r[i - start].sio = r[i - start].pusher = NULL;
                buf_ref(r[i - start].ws);
            }
            *replay = r;
            *nreplay = count - start;
        } else {
            ok = 0; /* cannot replay: say gap, the client reloads */
        }
    }
    channel_release(t, ch);
    hub_unlock(hub);
    return ok;
}

int hub_channels_missing(hub_t *hub, const config_t *cfg, const char *const *names,
                         const size_t *lens, size_t n, size_t *missing) {
    size_t k = 0;
    hub_lock(hub);
    for (size_t i = 0; i < n; i++)
        if (channel_find(&hub->channels, names[i], lens[i]) == NULL) k++;
    int rc = k && hub->channels.count + k > cfg->max_channels ? HUB_EFULL : 0;
    hub_unlock(hub);
    *missing = k;
    return rc;
}

/* The burst lets one page subscribe to all its channels at once. */
int hub_creators_take(hub_t *hub, const config_t *cfg, const peer_addr_t *a, size_t n,
                      uint64_t now_ms) {
    uint64_t rate = cfg->max_new_channels_per_ip_per_second;
    if (rate == 0 || n == 0 || a->family == 0) return 0;
    pthread_mutex_lock(&hub->creators_lock);
    int rc = quota_take(&hub->creators, a, n, now_ms, rate, rate + cfg->max_subscriptions);
    pthread_mutex_unlock(&hub->creators_lock);
    return rc;
}

void hub_unsubscribe(hub_t *hub, unsigned from, sub_t *const *subs, size_t n) {
    if (n == 0) return;
    hub_lock(hub);
    for (size_t i = 0; i < n; i++) {
        channel_t *sh = channel_find(&hub->channels, subs[i]->ch->name, subs[i]->ch->name_len);
        if (sh && sh->nsubs && --sh->nsubs == 0) {
            if (!hub->cluster) hub_hook(hub, WEBHOOK_CHANNEL_VACATED, sh->name, sh->name_len, NULL);
            if (hub->cluster) hub_interest_note(hub, sh->name, sh->name_len);
        }
        /* still counted in the loop's own channel: 1 means it was the last */
        if (sh && subs[i]->ch->nsubs <= 1) sh->loops &= ~(UINT64_C(1) << from);
        if (sh) channel_release(&hub->channels, sh);
    }
    hub_unlock(hub);
}

void hub_broadcast_member(hub_t *hub, unsigned from, int delta) {
    hub_lock(hub);
    hub_mailbox_t *box = &hub->boxes[from];
    assert(delta > 0 || box->bcast > 0);
    box->bcast += (uint32_t)delta;
    hub->nbcast += (size_t)(ssize_t)delta;
    if (box->bcast) hub->bcast_loops |= UINT64_C(1) << from;
    else hub->bcast_loops &= ~(UINT64_C(1) << from);
    hub_unlock(hub);
}

void hub_mailbox_open(hub_t *hub, unsigned i, uv_async_t *wake) {
    hub_lock(hub);
    hub->boxes[i].wake = wake;
    hub->boxes[i].open = 1;
    hub_unlock(hub);
}

void hub_mailbox_close(hub_t *hub, unsigned i) {
    hub_mailbox_t *box = &hub->boxes[i];
    hub_lock(hub);
    box->open = 0;
    hub_unlock(hub);
    mpsc_node_t *n;
    while ((n = mpsc_pop(&box->inbox)) != NULL) hub_msg_release(((hub_node_t *)n)->msg);
    while ((n = mpsc_pop(&box->notes)) != NULL) hub_note_release(((hub_note_node_t *)n)->note);
    while ((n = mpsc_pop(&box->handoffs)) != NULL) {
        hub_handoff_t *h = (hub_handoff_t *)n;
        h->drop(h);
    }
}

int hub_handoff_push(hub_t *hub, unsigned to, hub_handoff_t *h) {
    hub_lock(hub);
    hub_mailbox_t *box = &hub->boxes[to];
    int open = box->open;
    if (open) {
        mpsc_push(&box->handoffs, &h->node);
        uv_async_send(box->wake);
    }
    hub_unlock(hub);
    return open ? 0 : -1;
}

hub_handoff_t *hub_handoff_pop(hub_t *hub, unsigned i) {
    return (hub_handoff_t *)mpsc_pop(&hub->boxes[i].handoffs);
}

/* The owner popped its inbox empty: 1 when it may wait for a wake-up (a
 * sender will wake it for anything pushed since: hub_wake), 0 when
 * messages came meanwhile and it must pop again before it waits. */
static int hub_mailbox_sleep(hub_mailbox_t *box) {
    atomic_store_explicit(&box->asleep, 1, memory_order_seq_cst);
    if (mpsc_empty(&box->inbox)) return 1;
    /* take the flag back, unless a sender took it: its wake-up is coming */
    return atomic_exchange_explicit(&box->asleep, 0, memory_order_seq_cst) == 0;
}

size_t hub_mailbox_drain(hub_t *hub, unsigned i, hub_deliver_cb deliver, void *ctx) {
    hub_mailbox_t *box = &hub->boxes[i];
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        mpsc_node_t *node;
        while ((node = mpsc_pop(&box->inbox)) != NULL) {
            hub_msg_t *hm = ((hub_node_t *)node)->msg;
            deliver(ctx, hm);
            hub_msg_release(hm);
            n++;
        }
        total += n;
        if (hub_mailbox_sleep(box)) return total;
        if (n == 0) {
            /* A push half-way (its link not yet written): the flag stays
             * 0, so no sender wakes this loop; it wakes itself and looks
             * again next turn rather than spin on the other thread. */
            uv_async_send(box->wake);
            return total;
        }
    }
}

void hub_broadcast(hub_t *hub, unsigned from, int what) {
    hub_lock(hub);
    for (size_t i = 0; i < hub->nloops; i++) {
        hub_mailbox_t *box = &hub->boxes[i];
        if (i == from || !box->open) continue;
        atomic_fetch_or(&box->pending, what);
        uv_async_send(box->wake);
    }
    hub_unlock(hub);
}

int hub_pending_take(hub_t *hub, unsigned i) {
    return atomic_exchange(&hub->boxes[i].pending, 0);
}

void hub_channels_each(hub_t *hub, const char *prefix, size_t prefix_len,
                       void (*fn)(const channel_t *ch, void *arg), void *arg) {
    hub_lock(hub);
    for (size_t i = 0; i < hub->channels.nbuckets; i++)
        for (channel_t *ch = hub->channels.buckets[i]; ch; ch = ch->hnext)
            if (ch->nsubs && ch->name_len >= prefix_len && memcmp(ch->name, prefix, prefix_len) == 0)
                fn(ch, arg);
    hub_unlock(hub);
}

size_t hub_channel_subscribers(hub_t *hub, const char *name, size_t len) {
    hub_lock(hub);
    channel_t *ch = channel_find(&hub->channels, name, len);
    size_t n = ch ? ch->nsubs : 0;
    hub_unlock(hub);
    return n;
}

void hub_sweep(hub_t *hub, uint64_t now_ms, const config_t *cfg) {
    /* a reload may have lowered history_max_bytes: apply it without
     * waiting for an emit */
    hub_lock(hub);
    channel_table_trim(&hub->channels, cfg->history_max_bytes, NULL);
    hub_unlock(hub);
    for (int i = 0; i < HUB_SWEEP_CHUNKS; i++) {
        hub_lock(hub);
        int wrapped = channel_table_sweep(&hub->channels, now_ms, cfg->history_ttl_ms,
                                          HUB_SWEEP_BUCKETS);
        hub_unlock(hub);
        if (wrapped) break;
    }
    uint64_t rate = cfg->max_new_channels_per_ip_per_second;
    pthread_mutex_lock(&hub->creators_lock);
    quota_table_sweep(&hub->creators, now_ms, rate ? rate : 1, rate + cfg->max_subscriptions,
                      HUB_SWEEP_BUCKETS * HUB_SWEEP_CHUNKS);
    pthread_mutex_unlock(&hub->creators_lock);
}

/* Its own lock, not the channels': taken once per accept and close of a
 * public connection, never per message. */
uint32_t hub_peer_incr(hub_t *hub, const peer_addr_t *a) {
    pthread_mutex_lock(&hub->peers_lock);
    uint32_t n = peer_table_incr(&hub->peers, a);
    pthread_mutex_unlock(&hub->peers_lock);
    return n;
}

void hub_peer_decr(hub_t *hub, const peer_addr_t *a) {
    pthread_mutex_lock(&hub->peers_lock);
    peer_table_decr(&hub->peers, a);
    pthread_mutex_unlock(&hub->peers_lock);
}

void hub_stats_publish(hub_t *hub, unsigned i, const stats_t *s) {
    pthread_mutex_lock(&hub->boxes[i].snap_lock);
    hub->boxes[i].snap = *s;
    pthread_mutex_unlock(&hub->boxes[i].snap_lock);
}

/* Other loops publish a copy of their counters at each sweep tick, so a
 * /stats or /metrics answer is at most one tick old for them and live for
 * the asking loop. */
stats_t *hub_stats_collect(hub_t *hub, unsigned self, const stats_t *mine, size_t *channels) {
    stats_t *each = calloc(hub->nloops, sizeof(*each));
    if (each == NULL) return NULL;
    for (size_t i = 0; i < hub->nloops; i++) {
        if (i == self) {
            each[i] = *mine;
            continue;
        }
        pthread_mutex_lock(&hub->boxes[i].snap_lock);
        each[i] = hub->boxes[i].snap;
        pthread_mutex_unlock(&hub->boxes[i].snap_lock);
    }
    hub_lock(hub);
    *channels = hub->channels.count;
    hub_unlock(hub);
    return each;
}

void hub_note_release(hub_note_t *n) {
    unsigned before = atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel);
    assert(before > 0);
    if (before == 1) {
        buf_unref(n->frame);
        free(n->roll);
        free(n);
    }
}

hub_note_t *hub_note_pop(hub_t *hub, unsigned i) {
    mpsc_node_t *n = mpsc_pop(&hub->boxes[i].notes);
    return n ? ((hub_note_node_t *)n)->note : NULL;
}

/* Under the lock, as messages are: every loop then sees a channel's
 * members come and go in sequence order, whether the note came from this
 * node (hub_note_hand_over) or from Redis (hubremote.c). One allocation
 * for every loop in loops, freed by the last hub_note_release; takes roll. */
void hub_note_post(hub_t *hub, uint64_t loops, int kind, const char *name, size_t len,
                   uint64_t seq, buf_t *frame, size_t frame_off, uint64_t token, int status,
                   char *roll) {
    unsigned refs = 0;
    for (size_t i = 0; i < hub->nloops; i++)
        if ((loops & (UINT64_C(1) << i)) && hub->boxes[i].open) refs++;
    hub_note_t *n = refs ? malloc(sizeof(*n) + hub->nloops * sizeof(hub_note_node_t) + len) : NULL;
    if (n == NULL) {
        if (refs) log_error("out of memory: a presence note of %.*s not handed to the loops", (int)len, name);
        free(roll);
        return;
    }
    char *p = (char *)&n->nodes[hub->nloops];
    memcpy(p, name, len);
    n->name = p;
    n->name_len = (uint16_t)len;
    n->seq = seq;
    n->kind = (uint8_t)kind;
    n->status = (int8_t)status;
    n->token = token;
    n->roll = roll;
    n->frame = frame ? buf_ref(frame) : NULL;
    n->frame_off = frame_off;
    atomic_init(&n->refs, refs);
    for (size_t i = 0; i < hub->nloops; i++) {
        hub_mailbox_t *box = &hub->boxes[i];
        if (!(loops & (UINT64_C(1) << i)) || !box->open) continue;
        n->nodes[i].note = n;
        mpsc_push(&box->notes, &n->nodes[i].node);
        uv_async_send(box->wake);
    }
}

/* The origin loop is handed it too (its joining connection skips it by
 * seq), so each loop delivers it once the same way. */
static void hub_note_hand_over(hub_t *hub, const char *name, size_t len, buf_t *frame,
                               size_t frame_off) {
    if (frame == NULL) return;
    channel_t *ch = channel_find(&hub->channels, name, len);
    hub_note_post(hub, ch ? ch->loops : 0, HUB_NOTE_EVENT, name, len, hub->presence.seq, frame,
                  frame_off, 0, 0, NULL);
}

static size_t hub_presence_list(hub_t *hub, const char *name, size_t len,
                                void (*each)(void *arg, const char *user_id, const char *info),
                                void *arg) {
    presence_channel_t *p = presence_find(&hub->presence, name, len);
    if (p == NULL) return 0;
    for (presence_member_t *m = p->members; m && each; m = m->next) each(arg, m->user_id, m->info);
    return p->nmembers;
}

int hub_presence_join(hub_t *hub, const char *name, size_t len, const char *user_id,
                      const char *info, size_t max, buf_t *frame, size_t frame_off,
                      void (*each)(void *arg, const char *user_id, const char *info),
                      void *arg, uint64_t *seq) {
    hub_lock(hub);
    int rc = presence_join(&hub->presence, name, len, user_id, info, max);
    if (rc == 1) {
        hub_note_hand_over(hub, name, len, frame, frame_off);
        hub_hook(hub, WEBHOOK_MEMBER_ADDED, name, len, user_id);
    }
    if (rc >= 0) {
        hub_presence_list(hub, name, len, each, arg);
        *seq = hub->presence.seq;
    }
    hub_unlock(hub);
    return rc >= 0 ? rc : rc == PRESENCE_EFULL ? HUB_EFULL : HUB_ENOMEM;
}

int hub_presence_leave(hub_t *hub, const char *name, size_t len, const char *user_id,
                       buf_t *frame, size_t frame_off) {
    hub_lock(hub);
    int rc = presence_leave(&hub->presence, name, len, user_id);
    if (rc == 1) {
        hub_note_hand_over(hub, name, len, frame, frame_off);
        hub_hook(hub, WEBHOOK_MEMBER_REMOVED, name, len, user_id);
    }
    hub_unlock(hub);
    return rc;
}

size_t hub_presence_each(hub_t *hub, const char *name, size_t len,
                         void (*each)(void *arg, const char *user_id, const char *info),
                         void *arg) {
    hub_lock(hub);
    size_t n = hub_presence_list(hub, name, len, each, arg);
    hub_unlock(hub);
    return n;
}
