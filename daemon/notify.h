/* systemd's readiness protocol (Type=notify), without libsystemd. */
#ifndef HERALD_NOTIFY_H
#define HERALD_NOTIFY_H

/* Send state ("READY=1", "RELOADING=1", "STOPPING=1", ...) as one datagram
 * to $NOTIFY_SOCKET. Without the variable (not under systemd) nothing is
 * sent. 0, or a negative errno. */
int notify_send(const char *state);

#endif
