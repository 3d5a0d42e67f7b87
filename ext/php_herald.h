/* ext/herald: Herald\emit() and friends. State lives in module globals so
 * ZTS builds keep one curl handle and one deferred queue per thread. */
#ifndef PHP_HERALD_H
#define PHP_HERALD_H

#include "php.h"
#include "zend_smart_str.h"
#include "../common/signed.h"
#include "../common/secretfile.h"
#include "../common/pusherapps.h"

extern zend_module_entry herald_module_entry;
#define phpext_herald_ptr &herald_module_entry

#define PHP_HERALD_VERSION "0.1.0"

#define HERALD_KEY_AUTO_LEN 22 /* an Idempotency-Key made by the extension */

/* One connection to one heraldd: a libcurl easy handle kept open between
 * requests, plus what it was configured with. Defined in herald.c. */
typedef struct herald_conn herald_conn_t;

/* Messages queued by defer(): batch records in one buffer, cut into chunks
 * of at most herald.max_batch_bytes and herald.max_batch_messages. Request
 * memory (emalloc). */
typedef struct herald_queue {
    smart_str buf;
    size_t count;
    size_t since_cut;   /* records in the chunk being filled */
    size_t *cuts;       /* offsets where a new batch request starts */
    size_t ncuts, cap_cuts;
} herald_queue_t;

/* A secret file read once per process, remembered with its path. */
typedef struct herald_secret_cache {
    char *path;         /* malloc'd; NULL when empty */
    herald_secret_t secret;
    char *token;        /* the emit secret (first line), malloc'd */
    size_t token_len;
} herald_secret_cache_t;

/* The Pusher app whose secret signs pusher_auth(): read from heraldd's
 * pusher_apps_file once per process and (path, key). ext/pusher.c. */
typedef struct herald_pusher_app {
    char *path;         /* malloc'd; NULL until read */
    char *want;         /* herald.pusher_app_key it was chosen by, malloc'd */
    char key[HERALD_PUSHER_APP_NAME_MAX + 1];
    unsigned char secret[HERALD_SECRET_MAX];
    size_t secret_len;
} herald_pusher_app_t;

ZEND_BEGIN_MODULE_GLOBALS(herald)
    /* INI */
    char *endpoint;
    char *secret;
    char *secret_file;
    char *emit_secret;
    char *emit_secret_file;
    zend_long connect_timeout_ms;
    zend_long timeout_ms;
    zend_long max_batch_bytes;
    zend_long max_batch_messages;
    char *pusher_apps_file;
    char *pusher_app_key;
    /* bumped by every INI change the connection depends on */
    zend_ulong config_gen;
    /* per process (per thread in ZTS) */
    herald_conn_t *conn;
    zend_ulong conn_gen;
    herald_secret_cache_t signing_file;
    herald_secret_cache_t emit_file;
    herald_secret_t secret_buf;
    herald_pusher_app_t pusher_app;
    /* idempotency keys made by the extension: prefix + counter (herald.c) */
    char key_prefix[16];
    uint64_t key_counter;
    unsigned key_epoch;
    /* per request */
    herald_queue_t deferred;
    bool shutdown_registered;
ZEND_END_MODULE_GLOBALS(herald)

ZEND_EXTERN_MODULE_GLOBALS(herald)
#define HERALD_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(herald, v)

/* Shared by herald.c and pusher.c. */
extern zend_class_entry *herald_ce_exception, *herald_ce_invalid;

/* Forget the cached Pusher app (ext/pusher.c), wiping its secret. */
void herald_pusher_app_clear(herald_pusher_app_t *app);

#if defined(ZTS) && defined(COMPILE_DL_HERALD)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif
