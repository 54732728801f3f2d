/*
 * TLS engine over memory buffers (mbedtls inside).
 *
 * There are no sockets in here: the transport (lib/http/stream.c) feeds the
 * ciphertext it reads with mesos__tls_feed(), takes the ciphertext to send
 * from mesos__tls_out(), and moves plaintext with mesos__tls_read() and
 * mesos__tls_write().  Keeping I/O outside makes the engine testable with two
 * sessions talking through memory, and lets any event loop drive it.
 *
 * Driving a session (what a transport does):
 *
 *   on bytes from the socket:   mesos__tls_feed(t, bytes, n)
 *                               loop: n = mesos__tls_read(t, buf, cap)
 *                                     until n == 0 (needs more input) or < 0
 *   to send plaintext:          mesos__tls_write(t, data, n)
 *   after every feed/read/write/shutdown, and right after mesos__tls_new():
 *                               p = mesos__tls_out(t, &len); send p[0..len);
 *                               mesos__tls_consume_out(t, sent)
 *
 * Ciphertext is produced even on failure: after MESOS_ETLS the output may
 * hold a fatal alert telling the peer why; send it before closing.
 *
 * Limits: input and output are bounded buffers (defaults below, overridable
 * per config).  A feed or write that would pass the bound fails with
 * MESOS_ELIMIT and changes nothing, so the transport can apply back-pressure.
 *
 * Threads: a config is immutable after creation and may be shared by
 * sessions on different threads (its reference count is atomic and mbedtls
 * locks the shared random generator).  A session belongs to one thread.
 *
 * Versions: TLS 1.2 only, ECDHE key exchange with AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305).  Debian's mbedtls 2.28 has no TLS 1.3, so min_version
 * "1.3" fails with MESOS_EUNSUPPORTED; renegotiation is refused.
 */
#ifndef MESOS_HTTP_TLS_H
#define MESOS_HTTP_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "mesos/error.h"

/* Default bound on ciphertext fed but not yet decrypted.  A transport reads
 * at most a socket buffer (64 KiB) at a time and then drains with
 * mesos__tls_read(), which leaves less than one record (about 16.4 KiB)
 * behind; 1 MiB leaves room for a reader that pauses without ever letting a
 * peer grow memory beyond it. */
#define MESOS__TLS_DEFAULT_MAX_IN ((size_t)1 << 20)

/* Default bound on ciphertext waiting to be sent, plus plaintext queued
 * before the handshake finished.  Large enough for a big JSON state
 * document written in one go; a transport that wants a tighter bound sets
 * max_out. */
#define MESOS__TLS_DEFAULT_MAX_OUT ((size_t)64 << 20)

/* Shared by many sessions; reference counted. */
typedef struct mesos__tls_config mesos__tls_config;

typedef struct mesos__tls_config_options {
  int is_server;
  const char *cert_file; /* PEM (may hold a chain); required for servers,
                            optional client certificate for clients */
  const char *key_file;  /* PEM private key matching cert_file (unencrypted) */
  const char *ca_file;   /* PEM CA bundle: servers verify client certificates
                            against it, clients verify the server against it.
                            Clients that verify and give none use the system
                            bundle (/etc/ssl/certs/ca-certificates.crt). */
  int verify_peer;       /* server: 0 none, 1 optional (a certificate that is
                            sent must verify), 2 required client certificate;
                            client: 0 skip verification (tests only),
                            1 verify the server certificate and host name */
  const char *min_version; /* "1.2" (default when NULL) or "1.3" */
  size_t max_in;           /* 0: MESOS__TLS_DEFAULT_MAX_IN */
  size_t max_out;          /* 0: MESOS__TLS_DEFAULT_MAX_OUT */
} mesos__tls_config_options;

/* Creates a config: loads and checks the files (a key that does not match
 * its certificate is refused here, not at the first handshake) and seeds a
 * random generator from the system entropy source.
 * MESOS_EINVAL (missing or unreadable file, bad PEM, key mismatch, bad
 * option), MESOS_EUNSUPPORTED ("1.3"), MESOS_ETLS (entropy or mbedtls setup
 * failure), MESOS_ENOMEM. */
mesos_status mesos__tls_config_new(mesos__tls_config **out, const mesos__tls_config_options *o,
                                   mesos_error **err);
/* Adds a reference; returns `c`.  NULL is accepted. */
mesos__tls_config *mesos__tls_config_ref(mesos__tls_config *c);
/* Drops a reference; the last one frees.  NULL is accepted.  Sessions hold
 * their own reference, so a config may be unreffed while sessions live. */
void mesos__tls_config_unref(mesos__tls_config *c);
/* True for a server config. */
int mesos__tls_config_is_server(const mesos__tls_config *c);

/* One session = one connection. */
typedef struct mesos__tls mesos__tls;

/* Creates a session.  `server_name`: for clients the SNI name and the name
 * the certificate must match (a numeric IPv4/IPv6 address is matched
 * against the certificate's IP address entries and sent without SNI); NULL
 * only when the config does not verify.  Servers pass NULL.
 * A client session starts its handshake here: the ClientHello is waiting in
 * mesos__tls_out() when this returns.
 * MESOS_EINVAL (missing server_name), MESOS_ETLS, MESOS_ENOMEM. */
mesos_status mesos__tls_new(mesos__tls **out, mesos__tls_config *cfg, const char *server_name,
                            mesos_error **err);
/* Frees the session (no close_notify: call mesos__tls_shutdown first for a
 * graceful end).  NULL is accepted. */
void mesos__tls_free(mesos__tls *t);

/* Bytes read from the socket go in here; they are copied.  MESOS_ELIMIT
 * when they would pass max_in (nothing is copied; read first), MESOS_ECLOSED
 * after a failure or the peer's close_notify (the bytes are dropped). */
mesos_status mesos__tls_feed(mesos__tls *t, const char *data, size_t len, mesos_error **err);

/* Decrypted application data out; drives the handshake as needed.
 * Returns > 0 (bytes stored in buf), 0 when more input is needed (or
 * cap == 0), MESOS_ECLOSED after the peer's close_notify, MESOS_ETLS on
 * failure (err says why: certificate, handshake, bad record, plaintext sent
 * to a TLS port), MESOS_ENOMEM when mbedtls runs out of memory.  Call it
 * until it returns <= 0: one record may take several calls with a small
 * buffer.  A failure is sticky: later calls return it again. */
ssize_t mesos__tls_read(mesos__tls *t, char *buf, size_t cap, mesos_error **err);

/* Drives the handshake without reading application data: MESOS_OK once it
 * is done, MESOS_EAGAIN while it needs more input, MESOS_ETLS on failure. */
mesos_status mesos__tls_handshake(mesos__tls *t, mesos_error **err);

/* Encrypts application data into the output; before the handshake is done
 * the plaintext is queued and encrypted when it completes.  All or nothing:
 * MESOS_ELIMIT when the output would pass max_out, MESOS_ECLOSED after
 * mesos__tls_shutdown or the peer's close_notify, MESOS_ETLS after a
 * failure. */
mesos_status mesos__tls_write(mesos__tls *t, const char *data, size_t len, mesos_error **err);

/* Ciphertext waiting to be sent (handshake messages, records, alerts): a
 * pointer into the session, valid until the next call on it.  NULL with
 * *len == 0 when there is nothing. */
const char *mesos__tls_out(mesos__tls *t, size_t *len);
/* Marks the first n bytes of mesos__tls_out() as sent (n is clamped). */
void mesos__tls_consume_out(mesos__tls *t, size_t n);

int mesos__tls_handshake_done(const mesos__tls *t);

/* Queues close_notify (once; later calls do nothing).  Before the
 * handshake is done, or after a failure, nothing is queued and plaintext
 * waiting for the handshake is dropped.  Writes fail with MESOS_ECLOSED
 * afterwards; reads still deliver what the peer sends until its own
 * close_notify.  MESOS_ETLS (MESOS_ENOMEM) when the alert cannot be
 * produced. */
mesos_status mesos__tls_shutdown(mesos__tls *t);

/* After the handshake: the verified peer certificate's subject CN
 * (borrowed, lives as long as the session) or NULL when the peer sent no
 * certificate, it was not verified (verify_peer 0) or it has no CN. */
const char *mesos__tls_peer_cn(const mesos__tls *t);

/* The negotiated protocol and cipher suite names ("TLSv1.2",
 * "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"), static strings, or NULL before
 * the handshake is done. */
const char *mesos__tls_version(const mesos__tls *t);
const char *mesos__tls_cipher(const mesos__tls *t);

#endif
