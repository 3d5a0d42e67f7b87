/* Presence channels' members (Pusher presence-): one member per user
 * however many connections it has, with its user_info as JSON. A plain
 * table: the hub keeps it under its lock, so every loop sees one list.
 * Each member coming or going gets the next number of one sequence for
 * the whole table, so a reader that took a snapshot can tell a later
 * event from one its snapshot already holds. */
#ifndef HERALD_PRESENCE_H
#define HERALD_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct presence_member {
    struct presence_member *next;
    uint32_t count;            /* its connections on the channel */
    char *info;                /* user_info as JSON text */
    char user_id[];
} presence_member_t;

typedef struct presence_channel {
    struct presence_channel *next;
    presence_member_t *members;
    uint32_t nmembers;
    uint16_t name_len;
    char name[];
} presence_channel_t;

#define PRESENCE_BUCKETS 256

typedef struct presence_table {
    presence_channel_t *buckets[PRESENCE_BUCKETS];
    size_t count;              /* channels with members */
    uint64_t seq;              /* the last member event's number */
} presence_table_t;

/* Results: 1 the member was added / removed, 0 it was (still is) there. */
enum { PRESENCE_EFULL = -3, PRESENCE_ENOMEM = -2, PRESENCE_ENOENT = -1 };

void presence_table_init(presence_table_t *t);
void presence_table_free(presence_table_t *t);

presence_channel_t *presence_find(const presence_table_t *t, const char *name, size_t len);

/* One more connection of user_id on the channel: 1 when it is the user's
 * first (a copy of info is kept, and t->seq grows), 0 when it only counts,
 * PRESENCE_EFULL when a new member would make more than max, or
 * PRESENCE_ENOMEM. */
int presence_join(presence_table_t *t, const char *name, size_t len, const char *user_id,
                  const char *info, size_t max);

/* One connection of user_id less: 1 when it was the user's last (the member
 * goes, and the channel with its last member; t->seq grows), 0 when others
 * remain, PRESENCE_ENOENT when it was not there. */
int presence_leave(presence_table_t *t, const char *name, size_t len, const char *user_id);

#endif
