#include "hubremote.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

/* Why these are here and not in hub.c: the cluster's entry points, kept
 * apart so hub.c stays the single node's shared state. */

void hub_cluster_enable(hub_t *hub, uv_async_t *wake) {
    hub_lock(hub);
    hub->cluster = 1;
    hub->interest_wake = wake;
    hub_unlock(hub);
}

size_t hub_interest_take(hub_t *hub, char ***names) {
    hub_lock(hub);
    *names = hub->interest;
    size_t n = hub->ninterest;
    hub->interest = NULL;
    hub->ninterest = hub->interest_cap = 0;
    hub_unlock(hub);
    return n;
}

int hub_remote_wanted(hub_t *hub, const char *name, size_t len, int *ready) {
    hub_lock(hub);
    channel_t *ch = channel_find(&hub->channels, name, len);
    int wanted = ch && ch->nsubs > 0;
    *ready = ch && ch->ready;
    hub_unlock(hub);
    return wanted;
}

int hub_remote_drop(hub_t *hub, const char *name, size_t len) {
    hub_lock(hub);
    channel_t *ch = channel_find(&hub->channels, name, len);
    int drop = ch == NULL || ch->nsubs == 0;
    if (ch && drop) ch->ready = 0; /* what follows is not received any more */
    hub_unlock(hub);
    return drop;
}

/* Under the lock: one history entry as an encoded message, kept. */
static int hub_entry_push(channel_table_t *t, const config_t *cfg, channel_t *ch,
                          const hub_entry_t *e, message_t *m) {
    if (channel_message_build(m, ch, e->id, e->ms, e->data, e->len) != 0) return HUB_ENOMEM;
    if (history_push(&t->hist, &ch->hist, m, cfg->history_size,
                     cfg->history_max_bytes_per_channel) < 0)
        log_error("out of memory: message %llu not kept in history", (unsigned long long)e->id);
    ch->next_id = e->id + 1;
    return 0;
}

int hub_remote_load(hub_t *hub, const config_t *cfg, const char *name, size_t len,
                    uint64_t last, const hub_entry_t *e, size_t n, int gap) {
    uint64_t now = hub_wall_ms();
    channel_table_t *t = &hub->channels;
    hub_lock(hub);
    channel_t *ch = channel_get(t, name, len, now);
    if (ch == NULL) {
        hub_unlock(hub);
        return HUB_ENOMEM;
    }
    history_free(&t->hist, &ch->hist);
    history_init(&ch->hist);
    ch->base_id = n ? e[0].id : last + 1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        message_t m;
        rc = hub_entry_push(t, cfg, ch, &e[i], &m);
        if (rc == 0) buf_unref(m.ws);
    }
    if (rc != 0) { /* keep nothing: earlier ids are a gap to a resume */
        history_free(&t->hist, &ch->hist);
        history_init(&ch->hist);
        ch->base_id = last + 1;
    }
    ch->next_id = last + 1;
    history_expire(&t->hist, &ch->hist, now, cfg->history_ttl_ms);
    channel_table_trim(t, cfg->history_max_bytes, ch);
    ch->ready = 1;
    message_t none = {0};
    uint64_t handed = 0;
    if (gap && ch->loops)
        handed |= hub_hand_over_kind(hub, ch->loops, &none, name, len, 0, HUB_MSG_GAP);
    if (ch->loops) handed |= hub_hand_over_kind(hub, ch->loops, &none, name, len, 0, HUB_MSG_READY);
    channel_release(t, ch);
    hub_unlock(hub);
    hub_wake(hub, handed);
    return rc;
}

int hub_remote_apply(hub_t *hub, const config_t *cfg, const char *name, size_t len,
                     const hub_entry_t *e, int stream) {
    uint64_t now = hub_wall_ms();
    channel_table_t *t = &hub->channels;
    hub_lock(hub);
    channel_t *ch = channel_find(t, name, len);
    if (ch == NULL || !ch->ready) {
        hub_unlock(hub);
        return 1;
    }
    message_t m;
    history_expire(&t->hist, &ch->hist, now, cfg->history_ttl_ms);
    if (hub_entry_push(t, cfg, ch, e, &m) != 0) {
        hub_unlock(hub);
        return HUB_ENOMEM;
    }
    channel_table_trim(t, cfg->history_max_bytes, ch);
    uint64_t loops = ch->loops;
    if (hub->nbcast && channel_is_public(cfg->socketio_channels, name, len))
        loops |= hub->bcast_loops;
    int how = stream ? HUB_STREAM_REMOTE : HUB_STREAM_NONE;
    uint64_t handed = loops ? hub_hand_over_kind(hub, loops, &m, name, len, how, HUB_MSG_DATA) : 0;
    channel_release(t, ch);
    hub_unlock(hub);
    hub_wake(hub, handed);
    buf_unref(m.ws);
    return 0;
}

/* ---- presence across nodes -------------------------------------------- */

uint64_t hub_presence_token(hub_t *hub) { return atomic_fetch_add(&hub->presence_tokens, 1) + 1; }

void hub_presence_ops_open(hub_t *hub, uv_async_t *wake) {
    hub_lock(hub);
    hub->presence_wake = wake;
    hub_unlock(hub);
    if (wake) return;
    hub_presence_op_t *op;
    while ((op = hub_presence_op_pop(hub)) != NULL) free(op);
}

int hub_presence_op_push(hub_t *hub, int join, unsigned loop, const char *name, size_t len,
                         const char *user_id, const char *info, uint32_t max, uint64_t token) {
    size_t ul = strlen(user_id) + 1, il = info ? strlen(info) + 1 : 0;
    hub_presence_op_t *op = malloc(sizeof(*op) + len + 1 + ul + il);
    if (op == NULL) return HUB_ENOMEM;
    char *p = (char *)(op + 1);
    memcpy(p, name, len);
    p[len] = '\0';
    op->name = p;
    op->name_len = len;
    op->user_id = memcpy(p + len + 1, user_id, ul);
    op->info = info ? memcpy(p + len + 1 + ul, info, il) : NULL;
    op->join = join != 0;
    op->loop = (uint8_t)loop;
    op->max = max;
    op->token = token;
    hub_lock(hub);
    int open = hub->presence_wake != NULL;
    if (open) {
        mpsc_push(&hub->presence_ops, &op->node);
        uv_async_send(hub->presence_wake);
    }
    hub_unlock(hub);
    if (!open) free(op);
    return open ? 0 : HUB_EDOWN;
}

int hub_presence_is_up(hub_t *hub) { return atomic_load(&hub->presence_up); }

void hub_presence_set_up(hub_t *hub, int up) { atomic_store(&hub->presence_up, up); }

hub_presence_op_t *hub_presence_op_pop(hub_t *hub) {
    return (hub_presence_op_t *)mpsc_pop(&hub->presence_ops);
}

/* Under the lock, as hub.c's member notes: a loop's notes keep the order
 * in which they were handed over. */
static void hub_presence_note_locked(hub_t *hub, int kind, const char *name, size_t len,
                                     uint64_t seq, buf_t *frame, size_t frame_off, unsigned to,
                                     uint64_t token, int status, char *roll) {
    uint64_t loops;
    if (kind == HUB_NOTE_JOINED) {
        loops = UINT64_C(1) << to;
    } else {
        channel_t *ch = channel_find(&hub->channels, name, len);
        loops = ch ? ch->loops : 0;
    }
    hub_note_post(hub, loops, kind, name, len, seq, frame, frame_off, token, status, roll);
}

void hub_presence_note(hub_t *hub, int kind, const char *name, size_t len, uint64_t seq,
                       buf_t *frame, size_t frame_off, unsigned to, uint64_t token, int status,
                       char *roll) {
    hub_lock(hub);
    hub_presence_note_locked(hub, kind, name, len, seq, frame, frame_off, to, token, status, roll);
    hub_unlock(hub);
}

void hub_presence_reset_all(hub_t *hub) {
    hub_lock(hub);
    for (size_t i = 0; i < hub->channels.nbuckets; i++)
        for (channel_t *ch = hub->channels.buckets[i]; ch; ch = ch->hnext)
            if (ch->nsubs && ch->name_len > 9 && memcmp(ch->name, "presence-", 9) == 0)
                hub_presence_note_locked(hub, HUB_NOTE_RESET, ch->name, ch->name_len, 0, NULL, 0,
                                         0, 0, 0, NULL);
    hub_unlock(hub);
}
