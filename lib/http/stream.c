/*
 * TCP (+ optional TLS) byte streams for the HTTP server and client.
 *
 * Reads land in one per-thread buffer: libuv calls alloc_cb and read_cb back
 * to back on the loop thread, and every consumer (llhttp, the TLS engine)
 * either processes the bytes or copies what it keeps before returning, so a
 * connection costs no read buffer of its own while idle.
 *
 * Writes try the socket first (uv_try_write) and copy only what the kernel
 * did not take, so a small response on an idle keep-alive connection is one
 * write(2) and no allocation.
 *
 * A stream owns two libuv handles (the socket and a timer used for the
 * lingering close and for resuming a paused TLS stream); it is freed when
 * both have closed, and on_close runs just before that, exactly once.
 */
#include "http/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "http/tls.h"
#include "loop/loop_int.h"

/* How long a gracefully closed connection keeps reading (and discarding)
 * after our FIN, so the peer sees our last response instead of a RST. */
#define STREAM_LINGER_MS 2000

/* Size of the per-thread read buffer: one syscall reads at most this. */
#define STREAM_READ_BUF (64 * 1024)

/* TLS plaintext is decrypted in chunks of this size (one TLS record). */
#define STREAM_PLAIN_BUF (16 * 1024 + 256)

enum stream_state {
  ST_CONNECTING, /* client: TCP connect in flight */
  ST_OPEN,
  ST_CLOSING,    /* graceful close requested: flushing writes */
  ST_LINGER,     /* FIN sent, discarding input until EOF or time-out */
  ST_CLOSED      /* handles closing; on_close pending */
};

struct mesos__stream {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect_req;
  uv_shutdown_t shutdown_req;
  mesos_loop *loop;
  mesos__stream_cbs cbs;
  void *ud;
  mesos__tls *tls;
  enum stream_state state;
  int is_client;
  int paused;
  int reading;
  int handshake_reported;
  int handles_open;
  size_t nwrites;  /* uv_write requests in flight */
  size_t pending;  /* bytes in those requests */
  mesos_status close_status;
  mesos_error *close_err;
  char peer[64];
};

struct write_req {
  uv_write_t req;
  mesos__stream *s;
  size_t len;
  char data[];
};

static _Thread_local char read_buf[STREAM_READ_BUF];
static _Thread_local char plain_buf[STREAM_PLAIN_BUF];

static void stream_read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf);
static void stream_start_reading(mesos__stream *s);
static void stream_drain_tls(mesos__stream *s);

/* ------------------------------------------------------------ closing */

static void handle_closed_cb(uv_handle_t *h) {
  mesos__stream *s = h->data;
  if (--s->handles_open > 0) return;
  if (s->cbs.on_close) s->cbs.on_close(s, s->close_status, s->close_err, s->ud);
  mesos_error_free(s->close_err);
  mesos__tls_free(s->tls);
  mesos__free(s);
}

static void stream_force_close(mesos__stream *s) {
  if (s->state == ST_CLOSED) return;
  s->state = ST_CLOSED;
  uv_close((uv_handle_t *)&s->tcp, handle_closed_cb);
  uv_close((uv_handle_t *)&s->timer, handle_closed_cb);
}

/* Ends the stream with an error; the first error recorded wins. */
static void stream_fail(mesos__stream *s, mesos_status why, mesos_error *err) {
  if (s->state == ST_CLOSED) {
    mesos_error_free(err);
    return;
  }
  if (s->close_status == MESOS_OK && s->close_err == NULL) {
    s->close_status = why;
    s->close_err = err;
  } else {
    mesos_error_free(err);
  }
  if (s->is_client && s->state == ST_CONNECTING && s->cbs.on_connect)
    s->cbs.on_connect(s, why, s->ud);
  stream_force_close(s);
}

static void linger_timeout_cb(uv_timer_t *t) { stream_force_close(t->data); }

static void shutdown_cb(uv_shutdown_t *req, int status) {
  mesos__stream *s = req->data;
  if (status < 0) stream_force_close(s);
}

static void stream_begin_linger(mesos__stream *s) {
  s->state = ST_LINGER;
  s->shutdown_req.data = s;
  if (uv_shutdown(&s->shutdown_req, (uv_stream_t *)&s->tcp, shutdown_cb) != 0) {
    stream_force_close(s);
    return;
  }
  uv_timer_start(&s->timer, linger_timeout_cb, STREAM_LINGER_MS, 0);
  if (!s->reading) {
    s->paused = 0;
    stream_start_reading(s);
  }
}

void mesos__stream_close(mesos__stream *s, int graceful) {
  if (s == NULL || s->state == ST_CLOSED) return;
  if (!graceful || s->state == ST_CONNECTING) {
    stream_force_close(s);
    return;
  }
  if (s->state != ST_OPEN) return; /* already closing */
  s->state = ST_CLOSING;
  if (s->tls) {
    mesos__tls_shutdown(s->tls);
    stream_drain_tls(s);
    if (s->state == ST_CLOSED) return;
  }
  if (s->nwrites == 0) stream_begin_linger(s);
}

/* ------------------------------------------------------------ writing */

static void write_cb(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *)req;
  mesos__stream *s = w->s;
  s->nwrites--;
  s->pending -= w->len;
  mesos__free(w);
  if (status < 0) {
    if (status == UV_ECANCELED) return; /* stream is closing already */
    mesos_error *e = NULL;
    mesos__uv_err(&e, status, "write");
    stream_fail(s, MESOS_EIO, e);
    return;
  }
  if (s->nwrites > 0) return;
  if (s->state == ST_CLOSING) {
    stream_begin_linger(s);
    return;
  }
  if (s->state == ST_OPEN && s->cbs.on_drain) s->cbs.on_drain(s, s->ud);
}

/* Hands bytes to the kernel, copying only what it does not take now. */
static mesos_status raw_write(mesos__stream *s, const char *data, size_t len) {
  if (len == 0) return MESOS_OK;
  if (s->state == ST_CLOSED || s->state == ST_LINGER) return MESOS_ECLOSED;
  if (s->nwrites == 0 && s->state != ST_CONNECTING) {
    uv_buf_t b = uv_buf_init((char *)data, (unsigned int)len);
    int r = uv_try_write((uv_stream_t *)&s->tcp, &b, 1);
    if (r > 0) {
      data += r;
      len -= (size_t)r;
      if (len == 0) return MESOS_OK;
    } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
      mesos_error *e = NULL;
      mesos__uv_err(&e, r, "write");
      stream_fail(s, MESOS_EIO, e);
      return MESOS_EIO;
    }
  }
  size_t total;
  if (!mesos__size_add(&total, sizeof(struct write_req), len)) return MESOS_ENOMEM;
  struct write_req *w = mesos__malloc(total);
  if (w == NULL) {
    stream_fail(s, MESOS_ENOMEM, NULL);
    return MESOS_ENOMEM;
  }
  w->s = s;
  w->len = len;
  memcpy(w->data, data, len);
  uv_buf_t b = uv_buf_init(w->data, (unsigned int)len);
  int r = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, write_cb);
  if (r != 0) {
    mesos__free(w);
    mesos_error *e = NULL;
    mesos__uv_err(&e, r, "write");
    stream_fail(s, MESOS_EIO, e);
    return MESOS_EIO;
  }
  s->nwrites++;
  s->pending += len;
  return MESOS_OK;
}

/* Sends whatever ciphertext the TLS engine has produced. */
static void flush_tls_out(mesos__stream *s) {
  size_t n;
  const char *p = mesos__tls_out(s->tls, &n);
  if (n == 0) return;
  mesos_status st = raw_write(s, p, n);
  mesos__tls_consume_out(s->tls, n);
  (void)st; /* a failed write has already failed the stream */
}

mesos_status mesos__stream_write(mesos__stream *s, const char *data, size_t len) {
  if (s->state == ST_CLOSED || s->state == ST_LINGER || s->state == ST_CLOSING)
    return MESOS_ECLOSED;
  if (s->tls == NULL) return raw_write(s, data, len);
  mesos_error *e = NULL;
  mesos_status st = mesos__tls_write(s->tls, data, len, &e);
  if (st != MESOS_OK) {
    stream_fail(s, st, e);
    return st;
  }
  flush_tls_out(s);
  return s->state == ST_CLOSED ? MESOS_ECLOSED : MESOS_OK;
}

size_t mesos__stream_pending(const mesos__stream *s) { return s->pending; }

/* ------------------------------------------------------------ reading */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void stream_start_reading(mesos__stream *s) {
  if (s->reading || s->state == ST_CLOSED) return;
  if (uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, stream_read_cb) == 0) s->reading = 1;
}

static void stream_stop_reading(mesos__stream *s) {
  if (!s->reading) return;
  uv_read_stop((uv_stream_t *)&s->tcp);
  s->reading = 0;
}

static int stream_delivering(const mesos__stream *s) {
  return (s->state == ST_OPEN || s->state == ST_CONNECTING) && !s->paused;
}

/* Decrypts and delivers what the TLS engine holds, reports the handshake,
 * and sends whatever the engine wants to send back. */
static void stream_drain_tls(mesos__stream *s) {
  for (;;) {
    if (s->state == ST_CLOSED) return;
    mesos_error *e = NULL;
    ssize_t n = mesos__tls_read(s->tls, plain_buf, sizeof plain_buf, &e);
    flush_tls_out(s);
    if (s->state == ST_CLOSED) {
      mesos_error_free(e);
      return;
    }
    if (!s->handshake_reported && mesos__tls_handshake_done(s->tls)) {
      s->handshake_reported = 1;
      if (s->state == ST_CONNECTING) s->state = ST_OPEN;
      if (s->cbs.on_connect) s->cbs.on_connect(s, MESOS_OK, s->ud);
      if (s->state == ST_CLOSED) {
        mesos_error_free(e);
        return;
      }
    }
    if (n == 0) return;
    if (n < 0) {
      if (n == MESOS_ECLOSED) {
        mesos_error_free(e);
        if (s->state == ST_LINGER || s->state == ST_CLOSING) stream_force_close(s);
        else stream_fail(s, MESOS_ECLOSED, NULL);
      } else {
        stream_fail(s, (mesos_status)n, e);
      }
      return;
    }
    /* Data decrypted while closing is dropped, like plaintext input. */
    if (s->state == ST_OPEN) s->cbs.on_data(s, plain_buf, (size_t)n, s->ud);
    if (s->paused) return; /* the rest stays inside the engine */
  }
}

static void stream_read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf) {
  mesos__stream *s = h->data;
  if (nread == 0) return;
  if (nread < 0) {
    if (s->state == ST_LINGER) {
      stream_force_close(s);
    } else if (nread == UV_EOF) {
      stream_fail(s, MESOS_ECLOSED, NULL);
    } else {
      mesos_error *e = NULL;
      mesos__uv_err(&e, (int)nread, "read");
      stream_fail(s, MESOS_EIO, e);
    }
    return;
  }
  if (s->state == ST_LINGER || s->state == ST_CLOSING) {
    if (s->tls == NULL) return; /* discard */
  }
  if (s->tls == NULL) {
    s->cbs.on_data(s, buf->base, (size_t)nread, s->ud);
    return;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__tls_feed(s->tls, buf->base, (size_t)nread, &e);
  if (st != MESOS_OK) {
    stream_fail(s, st, e);
    return;
  }
  if (s->paused) {
    /* Keep the ciphertext inside the engine; stop reading more. */
    stream_stop_reading(s);
    return;
  }
  stream_drain_tls(s);
}

static void resume_timer_cb(uv_timer_t *t) {
  mesos__stream *s = t->data;
  if (s->tls && stream_delivering(s)) stream_drain_tls(s);
}

void mesos__stream_pause(mesos__stream *s) {
  if (s->state == ST_CLOSED) return;
  s->paused = 1;
  if (s->tls == NULL) stream_stop_reading(s);
}

void mesos__stream_resume(mesos__stream *s) {
  if (s->state == ST_CLOSED || !s->paused) return;
  s->paused = 0;
  if (s->state == ST_CONNECTING) return;
  stream_start_reading(s);
  /* TLS may hold decrypted data from before the pause; deliver it from the
   * loop, never from inside the caller's stack. */
  if (s->tls && s->state == ST_OPEN) uv_timer_start(&s->timer, resume_timer_cb, 0, 0);
}

/* ------------------------------------------------------------ set-up */

static void format_peer(mesos__stream *s) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      uv_ip4_name(a, ip, sizeof ip);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      uv_ip6_name(a, ip, sizeof ip);
      port = ntohs(a->sin6_port);
    }
  }
  if (strchr(ip, ':')) snprintf(s->peer, sizeof s->peer, "[%s]:%d", ip, port);
  else snprintf(s->peer, sizeof s->peer, "%s:%d", ip, port);
}

static mesos_status stream_alloc(mesos__stream **out, mesos_loop *loop,
                                 const mesos__stream_cbs *cbs, void *ud,
                                 mesos__tls_config *tls, const char *server_name,
                                 mesos_error **err) {
  if (cbs == NULL || cbs->on_close == NULL || cbs->on_data == NULL)
    return mesos__err(err, MESOS_EINVAL, "stream: on_data and on_close are required");
  mesos__stream *s = MESOS__NEW(mesos__stream);
  if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (tls) {
    mesos_status st = mesos__tls_new(&s->tls, tls, server_name, err);
    if (st != MESOS_OK) {
      mesos__free(s);
      return st;
    }
  }
  uv_loop_t *uv = mesos__loop_uv(loop);
  uv_tcp_init(uv, &s->tcp);
  uv_timer_init(uv, &s->timer);
  s->tcp.data = s;
  s->timer.data = s;
  s->handles_open = 2;
  s->loop = loop;
  s->cbs = *cbs;
  s->ud = ud;
  *out = s;
  return MESOS_OK;
}

mesos_status mesos__stream_accept(mesos__stream **out, uv_stream_t *listener,
                                  mesos__tls_config *tls, const mesos__stream_cbs *cbs,
                                  void *ud, mesos_error **err) {
  mesos__stream *s = NULL;
  mesos_status st =
      stream_alloc(&s, mesos__loop_from_uv(listener->loop), cbs, ud, tls, NULL, err);
  if (st != MESOS_OK) return st;
  int r = uv_accept(listener, (uv_stream_t *)&s->tcp);
  if (r != 0) {
    /* Nobody has seen this stream: close it without calling back. */
    st = mesos__uv_err(err, r, "accept");
    s->cbs.on_close = NULL;
    stream_force_close(s);
    return st;
  }
  uv_tcp_nodelay(&s->tcp, 1);
  s->state = ST_OPEN;
  format_peer(s);
  stream_start_reading(s);
  *out = s;
  return MESOS_OK;
}

static void connect_cb(uv_connect_t *req, int status) {
  mesos__stream *s = req->data;
  if (s->state == ST_CLOSED) return;
  if (status < 0) {
    mesos_error *e = NULL;
    mesos__err(&e, status == UV_ETIMEDOUT ? MESOS_ETIMEDOUT : MESOS_EIO,
               "connect to %s: %s", s->peer, uv_strerror(status));
    stream_fail(s, mesos_error_code(e), e);
    return;
  }
  uv_tcp_nodelay(&s->tcp, 1);
  if (!s->paused) stream_start_reading(s);
  if (s->tls == NULL) {
    s->state = ST_OPEN;
    if (s->cbs.on_connect) s->cbs.on_connect(s, MESOS_OK, s->ud);
    return;
  }
  /* Kick off the handshake: the engine writes its ClientHello. */
  stream_drain_tls(s);
}

mesos_status mesos__stream_connect(mesos__stream **out, mesos_loop *loop,
                                   const struct sockaddr *addr, mesos__tls_config *tls,
                                   const char *server_name, const mesos__stream_cbs *cbs,
                                   void *ud, mesos_error **err) {
  mesos__stream *s = NULL;
  mesos_status st = stream_alloc(&s, loop, cbs, ud, tls, server_name, err);
  if (st != MESOS_OK) return st;
  s->is_client = 1;
  s->state = ST_CONNECTING;
  char ip[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)addr, ip, sizeof ip);
    snprintf(s->peer, sizeof s->peer, "%s:%d", ip,
             ntohs(((const struct sockaddr_in *)addr)->sin_port));
  } else if (addr->sa_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *)addr, ip, sizeof ip);
    snprintf(s->peer, sizeof s->peer, "[%s]:%d", ip,
             ntohs(((const struct sockaddr_in6 *)addr)->sin6_port));
  }
  s->connect_req.data = s;
  int r = uv_tcp_connect(&s->connect_req, &s->tcp, addr, connect_cb);
  if (r != 0) {
    st = mesos__err(err, MESOS_EIO, "connect to %s: %s", s->peer, uv_strerror(r));
    /* Not reported through callbacks: the caller gets the error now. */
    s->cbs.on_connect = NULL;
    s->cbs.on_close = NULL;
    stream_force_close(s);
    return st;
  }
  *out = s;
  return MESOS_OK;
}

void mesos__stream_set_ud(mesos__stream *s, void *ud) { s->ud = ud; }

const char *mesos__stream_peer(const mesos__stream *s) { return s->peer; }

mesos_loop *mesos__stream_loop(const mesos__stream *s) { return s->loop; }

int mesos__stream_is_tls(const mesos__stream *s) { return s->tls != NULL; }

const char *mesos__stream_tls_peer_cn(const mesos__stream *s) {
  return s->tls ? mesos__tls_peer_cn(s->tls) : NULL;
}

mesos_status mesos__parse_sockaddr(const char *hostport, struct sockaddr_storage *out,
                                   mesos_error **err) {
  if (hostport == NULL) return mesos__err(err, MESOS_EINVAL, "address is NULL");
  char host[INET6_ADDRSTRLEN + 2];
  const char *colon;
  size_t hlen;
  if (hostport[0] == '[') {
    const char *close = strchr(hostport, ']');
    if (close == NULL || close[1] != ':')
      return mesos__err(err, MESOS_EINVAL, "address '%s': expected [ipv6]:port", hostport);
    hlen = (size_t)(close - hostport - 1);
    if (hlen >= sizeof host)
      return mesos__err(err, MESOS_EINVAL, "address '%s': host too long", hostport);
    memcpy(host, hostport + 1, hlen);
    colon = close + 1;
  } else {
    colon = strrchr(hostport, ':');
    if (colon == NULL)
      return mesos__err(err, MESOS_EINVAL, "address '%s': expected ip:port", hostport);
    hlen = (size_t)(colon - hostport);
    if (hlen >= sizeof host)
      return mesos__err(err, MESOS_EINVAL, "address '%s': host too long", hostport);
    memcpy(host, hostport, hlen);
  }
  host[hlen] = '\0';
  char *end = NULL;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (colon[1] == '\0' || *end != '\0' || errno != 0 || port > 65535)
    return mesos__err(err, MESOS_EINVAL, "address '%s': bad port", hostport);
  memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0) return MESOS_OK;
  if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0) return MESOS_OK;
  return mesos__err(err, MESOS_EINVAL, "address '%s': '%s' is not a numeric IP address",
                    hostport, host);
}
