/*
 * A byte stream over TCP, optionally wrapped in TLS: the transport under the
 * HTTP server and client.  Users see plaintext only.
 *
 * Lifetime: a stream is created by accept or connect and lives until its
 * on_close callback has run; the stream is freed right after on_close
 * returns.  on_close runs exactly once, for every way a stream ends (peer
 * EOF, error, TLS failure, mesos__stream_close).
 */
#ifndef MESOS_HTTP_STREAM_H
#define MESOS_HTTP_STREAM_H

#include <sys/socket.h>
#include <uv.h>

#include "mesos/loop.h"

typedef struct mesos__stream mesos__stream;
typedef struct mesos__tls_config mesos__tls_config;

typedef struct mesos__stream_cbs {
  /* Plaintext arrived.  `data` is only valid during the call. */
  void (*on_data)(mesos__stream *s, const char *data, size_t len, void *ud);
  /* Client streams: the TCP connection (and TLS handshake, if any) is up,
   * or failed with `status` (on_close follows a failure).  Server streams:
   * called when a TLS handshake completes; never for plain TCP. */
  void (*on_connect)(mesos__stream *s, mesos_status status, void *ud);
  /* Every queued byte has been handed to the kernel.  Optional. */
  void (*on_drain)(mesos__stream *s, void *ud);
  /* The stream ended: MESOS_OK after mesos__stream_close, MESOS_ECLOSED on
   * peer EOF, or the error (EIO, ETLS, ETIMEDOUT).  `err` is borrowed (may be
   * NULL).  REQUIRED. */
  void (*on_close)(mesos__stream *s, mesos_status why, const mesos_error *err, void *ud);
} mesos__stream_cbs;

/* Accepts one pending connection from a listening libuv TCP handle.  `tls`
 * NULL means plaintext; otherwise a server-side session is created. */
mesos_status mesos__stream_accept(mesos__stream **out, uv_stream_t *listener,
                                  mesos__tls_config *tls, const mesos__stream_cbs *cbs,
                                  void *ud, mesos_error **err);

/* Connects to `addr`.  `server_name` is the TLS SNI / verified host name
 * (ignored without TLS).  on_connect reports the outcome. */
mesos_status mesos__stream_connect(mesos__stream **out, mesos_loop *loop,
                                   const struct sockaddr *addr, mesos__tls_config *tls,
                                   const char *server_name, const mesos__stream_cbs *cbs,
                                   void *ud, mesos_error **err);

/* Queues plaintext for sending; the bytes are copied (or written at once).
 * MESOS_ECLOSED once the stream is closing. */
mesos_status mesos__stream_write(mesos__stream *s, const char *data, size_t len);

/* Plaintext bytes accepted but not yet handed to the kernel. */
size_t mesos__stream_pending(const mesos__stream *s);

/* Stops / resumes delivering on_data (back-pressure).  Reading is on after
 * accept and after connect succeeds. */
void mesos__stream_pause(mesos__stream *s);
void mesos__stream_resume(mesos__stream *s);

/*
 * Ends the stream.  Graceful: pending writes are flushed, TLS sends
 * close_notify, then the write side is shut down and the peer gets a short
 * time to finish (so an error response is not destroyed by a RST when the
 * client was still sending); then on_close(MESOS_OK).  Not graceful: closes
 * at once, dropping pending data.  Safe to call more than once and from
 * inside any callback.
 */
void mesos__stream_close(mesos__stream *s, int graceful);

/* Changes the callback argument. */
void mesos__stream_set_ud(mesos__stream *s, void *ud);

/* The peer address as "ip:port" (borrowed, set at accept/connect). */
const char *mesos__stream_peer(const mesos__stream *s);

/* The loop the stream runs on. */
mesos_loop *mesos__stream_loop(const mesos__stream *s);

/* True when the stream speaks TLS. */
int mesos__stream_is_tls(const mesos__stream *s);

/* The verified TLS peer certificate's CN, or NULL. */
const char *mesos__stream_tls_peer_cn(const mesos__stream *s);

/* Parses "ip:port" / "[ipv6]:port" / "host:port" with a numeric IP into
 * `out`.  MESOS_EINVAL with a message on a malformed address. */
mesos_status mesos__parse_sockaddr(const char *hostport, struct sockaddr_storage *out,
                                   mesos_error **err);

#endif
