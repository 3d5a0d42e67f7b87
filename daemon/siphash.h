/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash for tables whose keys come from outside (channel
 * names, client addresses), so nobody can pick keys that share a bucket
 * without knowing the process's random key. */
#ifndef HERALD_SIPHASH_H
#define HERALD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16

/* The 64-bit SipHash-2-4 of data[0..len) under a 16-byte key. */
uint64_t siphash24(const unsigned char key[SIPHASH_KEY_BYTES], const void *data, size_t len);

/* This process's random key (OpenSSL RAND_bytes, drawn once). NULL when
 * no random bytes could be had: the caller refuses to start. */
const unsigned char *siphash_process_key(void);

#endif
