#include "presence.h"

#include <stdlib.h>
#include <string.h>

void presence_table_init(presence_table_t *t) { memset(t, 0, sizeof(*t)); }

static void presence_channel_free(presence_channel_t *p) {
    while (p->members) {
        presence_member_t *m = p->members;
        p->members = m->next;
        free(m->info);
        free(m);
    }
    free(p);
}

void presence_table_free(presence_table_t *t) {
    for (size_t i = 0; i < PRESENCE_BUCKETS; i++)
        while (t->buckets[i]) {
            presence_channel_t *p = t->buckets[i];
            t->buckets[i] = p->next;
            presence_channel_free(p);
        }
    t->count = 0;
}

/* FNV-1a: names are short and chosen by the application, not by clients
 * alone (a presence channel needs the app's signature). */
static size_t presence_bucket(const char *name, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)name[i]) * 16777619u;
    return h % PRESENCE_BUCKETS;
}

presence_channel_t *presence_find(const presence_table_t *t, const char *name, size_t len) {
    for (presence_channel_t *p = t->buckets[presence_bucket(name, len)]; p; p = p->next)
        if (p->name_len == len && memcmp(p->name, name, len) == 0) return p;
    return NULL;
}

static presence_member_t *presence_member_find(presence_channel_t *p, const char *user_id) {
    presence_member_t *m = p->members;
    while (m && strcmp(m->user_id, user_id) != 0) m = m->next;
    return m;
}

int presence_join(presence_table_t *t, const char *name, size_t len, const char *user_id,
                  const char *info, size_t max) {
    presence_channel_t *p = presence_find(t, name, len), *created = NULL;
    if (p == NULL) {
        if (len > UINT16_MAX || (created = p = calloc(1, sizeof(*p) + len)) == NULL)
            return PRESENCE_ENOMEM;
        memcpy(p->name, name, len);
        p->name_len = (uint16_t)len;
    }
    presence_member_t *m = presence_member_find(p, user_id);
    if (m) {
        m->count++;
        return 0;
    }
    if (p->nmembers >= max) {
        free(created);
        return PRESENCE_EFULL;
    }
    size_t idl = strlen(user_id);
    m = malloc(sizeof(*m) + idl + 1);
    char *copy = m ? strdup(info) : NULL;
    if (copy == NULL) {
        free(m);
        free(created);
        return PRESENCE_ENOMEM;
    }
    memcpy(m->user_id, user_id, idl + 1);
    m->info = copy;
    m->count = 1;
    m->next = p->members;
    p->members = m;
    p->nmembers++;
    if (created) {
        size_t b = presence_bucket(name, len);
        p->next = t->buckets[b];
        t->buckets[b] = p;
        t->count++;
    }
    t->seq++;
    return 1;
}

int presence_leave(presence_table_t *t, const char *name, size_t len, const char *user_id) {
    presence_channel_t *p = presence_find(t, name, len);
    presence_member_t *m = p ? presence_member_find(p, user_id) : NULL;
    if (m == NULL) return PRESENCE_ENOENT;
    if (--m->count) return 0;
    presence_member_t **mp = &p->members;
    while (*mp != m) mp = &(*mp)->next;
    *mp = m->next;
    free(m->info);
    free(m);
    t->seq++;
    if (--p->nmembers == 0) { /* nobody left: the channel goes */
        presence_channel_t **pp = &t->buckets[presence_bucket(name, len)];
        while (*pp != p) pp = &(*pp)->next;
        *pp = p->next;
        free(p);
        t->count--;
    }
    return 1;
}
