/*
 * The pipelined POST channel (pipe.h).
 *
 * Layout: the requests not answered yet form one FIFO; the first
 * `nwritten` of them went out on the current connection, the rest wait
 * for it (connecting, or after a failure).  Answers complete the head.
 * A connection (pconn) lives until its stream's on_close; when the pipe
 * drops it early, pconn->p is cleared so the late callbacks find nothing
 * to do.
 *
 * Parsing: llhttp stops (HPE_PAUSED) at the end of each answer, so the
 * request is completed outside the parser, and parsing resumes on the
 * bytes after it (the next pipelined answer may be in the same read).
 */
#include "http/pipe.h"

#include <arpa/inet.h>
#include <llhttp.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "http/stream.h"
#include "http/tls.h"
#include "http/url.h"
#include "loop/loop_int.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_ANSWER_TIMEOUT_MS 30000u
#define DEFAULT_MAX_ATTEMPTS 3u
#define DEFAULT_MAX_REQUESTS ((size_t)65536)
#define DEFAULT_MAX_BYTES ((size_t)256 << 20)
/* An answer's head: our master's are a few hundred bytes. */
#define MAX_HEAD_BYTES ((size_t)64 << 10)
#define RETRY_MIN_MS 50u
#define RETRY_MAX_MS 2000u

typedef struct preq {
  struct preq *next;
  uint64_t seq;      /* its number, in post order (pipe.h) */
  uint32_t attempts; /* times written */
  uint64_t written_ms;
  size_t len;
  char bytes[];
} preq;

typedef struct pconn {
  mesos__http_pipe *p; /* NULL once dropped */
  mesos__stream *s;
  llhttp_t parser;
  int connected;
  uint64_t answered;
  /* the answer being parsed */
  int status;
  size_t head_bytes;
  char body[MESOS__HTTP_PIPE_MAX_BODY + 1];
  size_t body_len;
  int interim;
  int keep_alive;
  int complete;
} pconn;

struct resolve {
  uv_getaddrinfo_t req;
  mesos__http_pipe *p; /* NULL once the pipe no longer waits */
};

struct mesos__http_pipe {
  mesos_loop *loop;
  mesos__url url;
  mesos__http_pipe_options o;
  char *content_type;
  mesos__http_pipe_done_fn done;
  void *ud;
  preq *head, *tail;
  size_t n, bytes, nwritten;
  pconn *conn;
  struct resolve *resolve;
  uint64_t connect_started_ms;
  mesos_timer *timer; /* connect and answer deadlines */
  mesos_timer *retry; /* the delay before reconnecting */
  int retry_pending;  /* ... is running */
  uint64_t retry_ms;
  uint64_t connects;
  uint64_t next_seq; /* the next post's number (from 1) */
};

static const llhttp_settings_t settings;
static void pipe_connect(mesos__http_pipe *p);

static uint64_t now_ms(mesos__http_pipe *p) { return mesos_loop_now_ms(p->loop); }

/* Drops the current connection (its late callbacks do nothing). */
static void conn_drop(mesos__http_pipe *p) {
  if (p->resolve) {
    p->resolve->p = NULL;
    p->resolve = NULL;
  }
  if (p->conn) {
    p->conn->p = NULL;
    if (p->conn->s) mesos__stream_close(p->conn->s, 0); /* NULL: closing already */
    p->conn = NULL;
  }
  p->nwritten = 0;
  mesos_timer_stop(p->timer);
}

static void arm_timer(mesos__http_pipe *p) {
  uint64_t due;
  if (p->conn == NULL && p->resolve == NULL) return;
  if (p->conn == NULL || !p->conn->connected) due = p->connect_started_ms + p->o.connect_timeout_ms;
  else if (p->nwritten > 0) due = p->head->written_ms + p->o.answer_timeout_ms;
  else {
    mesos_timer_stop(p->timer);
    return;
  }
  uint64_t now = now_ms(p);
  mesos_timer_start(p->timer, due > now ? due - now : 0, 0);
}

static void req_free_head(mesos__http_pipe *p) {
  preq *r = p->head;
  p->head = r->next;
  if (p->head == NULL) p->tail = NULL;
  p->n--;
  p->bytes -= r->len;
  mesos__free(r);
}

/* The connection is gone with `st`/`why`: every written request counts an
 * attempt; those out of attempts are answered with the failure; the rest
 * go out again on a new connection.  Every connection writes all the
 * requests queued, oldest first, so a request has no fewer attempts than
 * any posted after it: the exhausted ones are a run at the head, and
 * requests leave the queue only at its head (mesos__http_pipe_unanswered
 * relies on that). */
static void conn_lost(mesos__http_pipe *p, mesos_status st, const char *why) {
  int was_answering = p->conn && p->conn->answered > 0;
  size_t written = p->nwritten;
  conn_drop(p);
  size_t nfailed = 0;
  preq *failed = p->head, *last = NULL;
  while (nfailed < written && p->head && p->head->attempts >= p->o.max_attempts) {
    last = p->head;
    p->head = last->next;
    p->n--;
    p->bytes -= last->len;
    nfailed++;
  }
  if (last) {
    last->next = NULL;
    if (p->head == NULL) p->tail = NULL;
  } else {
    failed = NULL;
  }
  /* Requeue first, answer after: `done` may post (or reset). */
  if (p->head) {
    if (was_answering) {
      p->retry_ms = RETRY_MIN_MS;
      pipe_connect(p);
    } else {
      mesos_timer_start(p->retry, p->retry_ms, 0);
      p->retry_pending = 1;
      p->retry_ms = p->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : p->retry_ms * 2;
    }
  }
  while (failed) {
    preq *f = failed;
    failed = f->next;
    mesos__free(f);
    if (p->done) p->done(p, st, 0, NULL, 0, why, p->ud);
  }
}

/* Writes the requests not written yet (connected only). */
static void write_rest(mesos__http_pipe *p) {
  if (p->conn == NULL || !p->conn->connected) return;
  preq *r = p->head;
  for (size_t i = 0; i < p->nwritten && r; i++) r = r->next;
  uint64_t now = now_ms(p);
  int arm = p->nwritten == 0;
  for (; r; r = r->next) {
    if (mesos__stream_write(p->conn->s, r->bytes, r->len) != MESOS_OK) break; /* closing */
    r->attempts++;
    r->written_ms = now;
    p->nwritten++;
  }
  if (arm && p->nwritten > 0) arm_timer(p);
}

/* ------------------------------------------------------------ parsing */

static int on_status(llhttp_t *ps, const char *at, size_t len) {
  (void)at;
  pconn *c = ps->data;
  c->head_bytes += len;
  return c->head_bytes > MAX_HEAD_BYTES ? HPE_USER : 0;
}

static int on_header_part(llhttp_t *ps, const char *at, size_t len) {
  (void)at;
  pconn *c = ps->data;
  c->head_bytes += len + 2;
  return c->head_bytes > MAX_HEAD_BYTES ? HPE_USER : 0;
}

static int on_headers_complete(llhttp_t *ps) {
  pconn *c = ps->data;
  c->status = llhttp_get_status_code(ps);
  c->interim = c->status >= 100 && c->status < 200;
  if (c->status == 101) return HPE_USER;
  return 0;
}

static int on_body(llhttp_t *ps, const char *at, size_t len) {
  pconn *c = ps->data;
  size_t room = MESOS__HTTP_PIPE_MAX_BODY - c->body_len;
  if (len > room) len = room; /* the rest is dropped: see pipe.h */
  memcpy(c->body + c->body_len, at, len);
  c->body_len += len;
  return 0;
}

static int on_message_complete(llhttp_t *ps) {
  pconn *c = ps->data;
  if (c->interim) { /* 100 Continue and the like: the answer follows */
    c->interim = 0;
    c->head_bytes = 0;
    c->body_len = 0;
    return 0;
  }
  c->complete = 1;
  c->keep_alive = llhttp_should_keep_alive(ps);
  return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_status = on_status,
    .on_header_field = on_header_part,
    .on_header_value = on_header_part,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* One answer arrived: it is the head request's. */
static void answer(mesos__http_pipe *p, pconn *c) {
  int status = c->status;
  size_t blen = c->body_len;
  char body[MESOS__HTTP_PIPE_MAX_BODY + 1];
  memcpy(body, c->body, blen);
  body[blen] = '\0';
  c->complete = 0;
  c->status = 0;
  c->head_bytes = 0;
  c->body_len = 0;
  c->answered++;
  p->retry_ms = RETRY_MIN_MS;
  req_free_head(p);
  p->nwritten--;
  if (p->nwritten > 0) arm_timer(p);
  else mesos_timer_stop(p->timer);
  if (p->done) p->done(p, MESOS_OK, status, body, blen, NULL, p->ud);
}

static void conn_on_data(mesos__stream *s, const char *data, size_t len, void *ud) {
  (void)s;
  pconn *c = ud;
  mesos__http_pipe *p = c->p;
  if (p == NULL) return;
  size_t off = 0;
  while (off < len) {
    if (p->nwritten == 0) {
      /* An answer nobody asked for: the connection cannot be trusted. */
      LOG_WARN("%s: %zu unexpected bytes from the server; reconnecting", p->url.href, len - off);
      conn_lost(p, MESOS_EPROTO, "unexpected bytes from the server");
      return;
    }
    llhttp_errno_t pe = llhttp_execute(&c->parser, data + off, len - off);
    if (pe == HPE_PAUSED && c->complete) {
      const char *pos = llhttp_get_error_pos(&c->parser);
      off = pos ? (size_t)(pos - data) : len;
      llhttp_resume(&c->parser);
      int keep = c->keep_alive;
      answer(p, c);
      /* `done` may have reset the pipe (dropping this connection). */
      if (c->p != p || p->conn != c) return;
      if (!keep) {
        /* The server closes after this answer: the rest goes again on a
         * new connection (it answered, so at once). */
        conn_lost(p, MESOS_ECLOSED, "the server closed the connection");
        return;
      }
      continue;
    }
    if (pe != HPE_OK) {
      char why[256];
      snprintf(why, sizeof why, "malformed answer from %s: %s", p->url.authority,
               llhttp_get_error_reason(&c->parser) ? llhttp_get_error_reason(&c->parser)
                                                   : llhttp_errno_name(pe));
      LOG_WARN("%s: %s", p->url.href, why);
      conn_lost(p, MESOS_EPROTO, why);
      return;
    }
    off = len;
  }
}

static void conn_on_connect(mesos__stream *s, mesos_status st, void *ud) {
  (void)s;
  pconn *c = ud;
  mesos__http_pipe *p = c->p;
  if (p == NULL || st != MESOS_OK) return; /* on_close follows a failure */
  c->connected = 1;
  mesos_timer_stop(p->timer);
  write_rest(p);
}

static void conn_on_close(mesos__stream *s, mesos_status why, const mesos_error *err, void *ud) {
  (void)s;
  pconn *c = ud;
  mesos__http_pipe *p = c->p;
  if (p && p->conn == c) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s: %s", p->url.authority,
             err ? mesos_error_message(err)
                 : why == MESOS_ECLOSED ? "connection closed by the server"
                                        : mesos_status_str(why));
    if (p->nwritten > 0) LOG_DEBUG("pipe %s: %s; writing again", p->url.href, msg);
    p->conn->s = NULL;
    conn_lost(p, why == MESOS_OK || why == MESOS_ECLOSED ? MESOS_EIO : why, msg);
  }
  mesos__free(c);
}

static const mesos__stream_cbs conn_cbs = {conn_on_data, conn_on_connect, NULL, conn_on_close};

/* ------------------------------------------------------------ connecting */

static void connect_addr(mesos__http_pipe *p, const struct sockaddr *addr) {
  pconn *c = MESOS__NEW(pconn);
  mesos_error *e = NULL;
  if (c == NULL) {
    conn_lost(p, MESOS_ENOMEM, "out of memory");
    return;
  }
  c->p = p;
  llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
  c->parser.data = c;
  mesos_status st = mesos__stream_connect(&c->s, p->loop, addr, p->url.tls ? p->o.tls : NULL,
                                          p->url.host, &conn_cbs, c, &e);
  if (st != MESOS_OK) {
    mesos__free(c);
    char why[300];
    snprintf(why, sizeof why, "%s", e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    conn_lost(p, st, why);
    return;
  }
  p->conn = c;
  p->connects++;
  arm_timer(p);
}

static void resolve_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct resolve *r = mesos__container_of(req, struct resolve, req);
  mesos__http_pipe *p = r->p;
  mesos__free(r);
  if (p == NULL) {
    if (res) uv_freeaddrinfo(res);
    return;
  }
  p->resolve = NULL;
  struct sockaddr_storage ss;
  int found = 0;
  for (struct addrinfo *ai = status == 0 ? res : NULL; ai && !found; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
      memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in));
      ((struct sockaddr_in *)&ss)->sin_port = htons(p->url.port);
      found = 1;
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
      memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in6));
      ((struct sockaddr_in6 *)&ss)->sin6_port = htons(p->url.port);
      found = 1;
    }
  }
  if (res) uv_freeaddrinfo(res);
  if (!found) {
    char why[300];
    snprintf(why, sizeof why, "cannot resolve host '%s': %s", p->url.host,
             status ? uv_strerror(status) : "no address");
    mesos_timer_stop(p->timer);
    conn_lost(p, MESOS_ENOTFOUND, why);
    return;
  }
  connect_addr(p, (const struct sockaddr *)&ss);
}

static void pipe_connect(mesos__http_pipe *p) {
  if (p->conn || p->resolve || p->head == NULL) return;
  p->connect_started_ms = now_ms(p);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct in_addr probe;
  if (p->url.is_ipv6) {
    if (uv_ip6_addr(p->url.host, p->url.port, (struct sockaddr_in6 *)&ss) == 0) {
      connect_addr(p, (const struct sockaddr *)&ss);
      return;
    }
  } else if (inet_pton(AF_INET, p->url.host, &probe) == 1 &&
             uv_ip4_addr(p->url.host, p->url.port, (struct sockaddr_in *)&ss) == 0) {
    connect_addr(p, (const struct sockaddr *)&ss);
    return;
  }
  struct resolve *r = MESOS__NEW(struct resolve);
  if (r == NULL) {
    conn_lost(p, MESOS_ENOMEM, "out of memory");
    return;
  }
  r->p = p;
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(mesos__loop_uv(p->loop), &r->req, resolve_cb, p->url.host, NULL, &hints);
  if (rc != 0) {
    mesos__free(r);
    char why[300];
    snprintf(why, sizeof why, "cannot resolve host '%s': %s", p->url.host, uv_strerror(rc));
    conn_lost(p, MESOS_ENOTFOUND, why);
    return;
  }
  p->resolve = r;
  arm_timer(p);
}

static void timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__http_pipe *p = ud;
  uint64_t now = now_ms(p);
  if (p->conn && p->conn->connected) {
    if (p->nwritten == 0) return;
    uint64_t due = p->head->written_ms + p->o.answer_timeout_ms;
    if (due > now) {
      arm_timer(p);
      return;
    }
    char why[160];
    snprintf(why, sizeof why, "%s: no answer for %u ms", p->url.authority,
             (unsigned)p->o.answer_timeout_ms);
    LOG_WARN("%s: %s; reconnecting", p->url.href, why);
    conn_lost(p, MESOS_ETIMEDOUT, why);
    return;
  }
  if (p->conn == NULL && p->resolve == NULL) return;
  char why[160];
  snprintf(why, sizeof why, "%s: cannot connect within %u ms", p->url.authority,
           (unsigned)p->o.connect_timeout_ms);
  /* Nothing was written: the queued requests lose no attempt. */
  conn_lost(p, MESOS_ETIMEDOUT, why);
}

static void retry_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__http_pipe *p = ud;
  p->retry_pending = 0;
  pipe_connect(p);
}

/* ------------------------------------------------------------ API */

mesos_status mesos__http_pipe_new(mesos__http_pipe **out, mesos_loop *loop, const char *url,
                                  const mesos__http_pipe_options *opts,
                                  mesos__http_pipe_done_fn done, void *ud, mesos_error **err) {
  if (out == NULL || loop == NULL || url == NULL)
    return mesos__err(err, MESOS_EINVAL, "http pipe: need out, loop and url");
  mesos__http_pipe *p = MESOS__NEW(mesos__http_pipe);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  p->loop = loop;
  p->done = done;
  p->ud = ud;
  if (opts) p->o = *opts;
  p->o.tls = NULL;
  if (p->o.connect_timeout_ms == 0) p->o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  if (p->o.answer_timeout_ms == 0) p->o.answer_timeout_ms = DEFAULT_ANSWER_TIMEOUT_MS;
  if (p->o.max_attempts == 0) p->o.max_attempts = DEFAULT_MAX_ATTEMPTS;
  if (p->o.max_requests == 0) p->o.max_requests = DEFAULT_MAX_REQUESTS;
  if (p->o.max_bytes == 0) p->o.max_bytes = DEFAULT_MAX_BYTES;
  p->retry_ms = RETRY_MIN_MS;
  p->next_seq = 1;
  mesos_status st = mesos__url_parse(&p->url, url, err);
  if (st == MESOS_OK && p->url.tls && (opts == NULL || opts->tls == NULL))
    st = mesos__err(err, MESOS_EINVAL, "http pipe: %s needs a TLS configuration", url);
  const char *ct = opts && opts->content_type ? opts->content_type : "application/x-protobuf";
  if (st == MESOS_OK && strpbrk(ct, "\r\n"))
    st = mesos__err(err, MESOS_EINVAL, "http pipe: bad content type");
  if (st == MESOS_OK && (p->content_type = mesos__strdup(ct)) == NULL)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) st = mesos_timer_new(&p->timer, loop, timer_cb, p, err);
  if (st == MESOS_OK) st = mesos_timer_new(&p->retry, loop, retry_cb, p, err);
  if (st != MESOS_OK) {
    mesos__http_pipe_free(p);
    return st;
  }
  if (p->url.tls) p->o.tls = mesos__tls_config_ref(opts->tls);
  *out = p;
  return MESOS_OK;
}

mesos_status mesos__http_pipe_post(mesos__http_pipe *p, const mesos__http_headers *headers,
                                   const void *body, size_t len, uint64_t *seq,
                                   mesos_error **err) {
  if (p == NULL || (body == NULL && len > 0))
    return mesos__err(err, MESOS_EINVAL, "http pipe: NULL argument");
  if (p->n >= p->o.max_requests || len > p->o.max_bytes || p->bytes > p->o.max_bytes - len)
    return mesos__err(err, MESOS_ELIMIT, "%s: %zu requests (%zu bytes) wait for an answer already",
                      p->url.href, p->n, p->bytes);
  mesos__buf b;
  mesos__buf_init(&b, p->o.max_bytes);
  mesos_status st = mesos__buf_printf(&b,
                                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                                      "Content-Length: %zu\r\n",
                                      p->url.target, p->url.host_header, p->content_type, len);
  for (size_t i = 0; headers && i < headers->count && st == MESOS_OK; i++) {
    const mesos__http_header *h = &headers->items[i];
    if (strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n")) {
      st = mesos__err(err, MESOS_EINVAL, "http pipe: header '%s' has a CR, LF or colon", h->name);
      break;
    }
    st = mesos__buf_printf(&b, "%s: %s\r\n", h->name, h->value);
  }
  if (st == MESOS_OK) st = mesos__buf_puts(&b, "\r\n");
  if (st == MESOS_OK && len) st = mesos__buf_append(&b, body, len);
  preq *r = NULL;
  if (st == MESOS_OK) {
    size_t total = 0;
    if (!mesos__size_add(&total, sizeof *r, b.len) || (r = mesos__malloc(total)) == NULL)
      st = MESOS_ENOMEM;
  }
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    if (err && *err == NULL) mesos__err(err, st, "http pipe: cannot build the request");
    return st;
  }
  r->next = NULL;
  r->seq = p->next_seq++;
  if (seq) *seq = r->seq;
  r->attempts = 0;
  r->written_ms = 0;
  r->len = b.len;
  memcpy(r->bytes, b.data, b.len);
  mesos__buf_free(&b);
  if (p->tail) p->tail->next = r;
  else p->head = r;
  p->tail = r;
  p->n++;
  p->bytes += r->len;
  if (p->conn && p->conn->connected) {
    write_rest(p);
  } else if (p->conn == NULL && p->resolve == NULL && !p->retry_pending) {
    pipe_connect(p);
  }
  return MESOS_OK;
}

void mesos__http_pipe_reset(mesos__http_pipe *p) {
  if (p == NULL) return;
  conn_drop(p);
  mesos_timer_stop(p->retry);
  p->retry_pending = 0;
  while (p->head) req_free_head(p);
  p->retry_ms = RETRY_MIN_MS;
}

void mesos__http_pipe_free(mesos__http_pipe *p) {
  if (p == NULL) return;
  if (p->timer) mesos__http_pipe_reset(p);
  mesos_timer_free(p->timer);
  mesos_timer_free(p->retry);
  mesos__tls_config_unref(p->o.tls);
  mesos__url_free(&p->url);
  mesos__free(p->content_type);
  mesos__free(p);
}

size_t mesos__http_pipe_pending(const mesos__http_pipe *p) { return p ? p->n : 0; }

int mesos__http_pipe_unanswered(const mesos__http_pipe *p, uint64_t seq) {
  /* Requests leave the queue at its head only (conn_lost), so the queued
   * ones are exactly those numbered from the head's up. */
  return p && p->head && seq >= p->head->seq && seq < p->next_seq;
}

uint64_t mesos__http_pipe_connects(const mesos__http_pipe *p) { return p ? p->connects : 0; }
