#include "hubremote.h"

#include "log.h"

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
    uint64_t handed = loops ? hub_hand_over_kind(hub, loops, &m, name, len, stream, HUB_MSG_DATA) : 0;
    channel_release(t, ch);
    hub_unlock(hub);
    hub_wake(hub, handed);
    buf_unref(m.ws);
    return 0;
}
