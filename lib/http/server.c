/*
 * HTTP/1.1 server: llhttp glue, routing, responses, limits, shutdown.
 *
 * One connection handles one request at a time.  When a handler does not
 * answer inside its call, llhttp is paused (on_message_complete returns
 * HPE_PAUSED), the unparsed rest of the last read is kept (at most one read
 * buffer) and reading stops; the answer resumes parsing from the loop.  So a
 * pipelined batch is answered in order and a client cannot make us buffer
 * more than one read while a slow handler works.
 *
 * Responses produced while a connection's read is being parsed go into one
 * server-wide batch buffer that is written once after llhttp returns: a
 * pipelined batch of small requests costs one write(2).  Answers given
 * later (from timers, other connections) are written at once.  Neither
 * buffer is per connection, so an idle keep-alive connection costs the
 * struct below plus its retained request arena (at most ARENA_KEEP bytes).
 *
 * Timeouts need no per-connection timer: every idle connection has the same
 * idle timeout and every reading one the same request timeout, so two FIFO
 * lists ordered by deadline suffice; one periodic sweep pops expired heads.
 * State changes are O(1) list moves, and nothing scans all connections
 * except shutdown and free.
 *
 * The transport is reached through a small ops table so the fuzz target can
 * drive the very same request path with a fake connection (no sockets).
 */
#include "http/server.h"

#include <llhttp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "http/tls.h"
#include "loop/loop_int.h"

/* Request arena memory kept between requests on one connection: enough for
 * the headers of ordinary clients, so keep-alive traffic does not malloc per
 * request, while a connection that once carried a big body gives it back. */
#define ARENA_KEEP 4096

/* Most header fields in one request (beyond this: 431). */
#define MAX_HEADER_FIELDS 256

/* Unparsed input kept while the parser is paused.  Reading goes on while a
 * handler works (so a client that disconnects is noticed at once) until
 * IN_PAUSE_AT bytes wait; then the transport is paused too.  One socket read
 * is at most 64 KiB (stream.c), so IN_MAX is never reached by a transport
 * that honours the pause. */
#define IN_PAUSE_AT ((size_t)64 << 10)
#define IN_MAX ((size_t)256 << 10)

/* Responses larger than this are not copied into the batch buffer: it is
 * flushed and the body handed to the transport directly. */
#define BATCH_DIRECT 65536

/* Bound on the shared response-assembly buffers (head + small bodies). */
#define SCRATCH_MAX ((size_t)64 << 20)

/* Pipelined parsing pauses while this much output waits for the client:
 * a client that sends requests but never reads responses stalls itself. */
#define PIPELINE_HIGH_WATER ((size_t)256 << 10)

/* Connections refused with 503 that may linger (graceful close) at once;
 * beyond this they are dropped without an answer. */
#define REJECT_MAX 1024

enum conn_state {
  C_IDLE,    /* between requests */
  C_READING, /* a request has started arriving */
  C_BUSY,    /* a handler owns the request */
  C_CLOSING  /* we asked the transport to close */
};

typedef struct conn conn;

typedef struct conn_io {
  mesos_status (*write)(conn *c, const char *data, size_t len);
  void (*pause)(conn *c);
  void (*resume)(conn *c);
  void (*close)(conn *c, int graceful);
  size_t (*pending)(const conn *c);
  const char *(*peer)(const conn *c);
} conn_io;

typedef struct hoff {
  uint32_t name, nlen, value, vlen;
} hoff;

struct mesos__http_request {
  conn *c;
  /* Request bytes, NUL-separated: target, path, header names and values,
   * then the body.  Offsets while parsing (the arena may move), pointers
   * fixed up at dispatch. */
  mesos__buf arena;
  size_t header_bytes; /* raw request-line + header bytes seen (limit) */
  size_t target_off, path_off, query_off;
  size_t body_off, body_len;
  hoff *hoffs;
  size_t nh, hcap;
  int field_state; /* 0: between fields, 1: in a name, 2: in a value */
  int headers_done;
  mesos__http_header *items;
  size_t items_cap;
  mesos__http_headers headers; /* view over items; not owned */
  const char *method;
  int version;
  int keep_alive;
  int is_head;
  int streaming;
  int chunked; /* streaming with chunk framing (HTTP/1.1) */
  int no_body;
  mesos__http_abort_fn abort_cb;
  void *abort_ud;
  mesos__http_drain_fn drain_cb; /* streaming: the transport has sent everything */
  void *drain_ud;
  int fixed_length;  /* streaming with a Content-Length announced up front */
  uint64_t length_left; /* body bytes still due on a fixed-length stream */
  char *principal; /* owned; set by the authentication step (authz_int.h) */
};

struct conn {
  mesos__list node;  /* srv->conns, or srv->zombies once the transport is gone */
  mesos__list tnode; /* srv->idle_q / srv->reading_q */
  mesos__list qnode; /* srv->defer_q */
  uint64_t deadline;
  mesos__http_server *srv;
  const conn_io *io;
  mesos__stream *stream;
  mesos__http_fake_conn *fake;
  llhttp_t parser;
  enum conn_state state;
  int io_closed;     /* the transport is gone */
  int close_after;   /* close once the response in progress is sent */
  int paused;        /* parser paused: input goes to `in` */
  int io_paused;     /* the transport stopped reading */
  int wait_drain;    /* paused for PIPELINE_HIGH_WATER */
  int dispatching;   /* inside the handler call of on_message_complete */
  int aborting;      /* inside the abort callback */
  int rejected;      /* refused with 503 */
  int q_resume;      /* queued: resume parsing */
  int q_closed;      /* queued: fake transport closed */
  int err_status;    /* set by a callback that refused the request */
  mesos__buf in;     /* unparsed input kept while paused */
  mesos__http_request req;
};

typedef struct route {
  char *method; /* NULL: any */
  char *path;
  size_t plen;
  int prefix;
  mesos__http_handler handler;
  void *ud;
} route;

struct mesos__http_server {
  mesos_loop *loop;
  uv_loop_t *uv;
  uv_tcp_t listener;
  uv_timer_t sweep_timer, defer_timer, grace_timer;
  uv_tcp_t oom_tcp;
  int oom_tcp_busy;
  int listening;
  int handles_open;
  uint16_t port;
  mesos__tls_config *tls;
  mesos__http_server_options opts;
  llhttp_settings_t settings;
  route *routes;
  size_t nroutes, routes_cap;
  mesos__list conns, zombies, idle_q, reading_q, defer_q;
  uint32_t nconns, nrejected;
  mesos__buf batch, scratch;
  conn *batch_owner;
  int shutting_down, freeing, done_called, done_pending;
  void (*done)(void *ud);
  void *done_ud;
};

struct mesos__http_fake_conn {
  conn *c;
  void (*sink)(const char *data, size_t len, void *ud);
  void *ud;
  int closed;
};

static void conn_closed(conn *c);
static void conn_free(conn *c);
static void srv_maybe_release(mesos__http_server *srv);
static void srv_check_done(mesos__http_server *srv);

/* ------------------------------------------------------------ transports */

static mesos_status stream_io_write(conn *c, const char *d, size_t n) {
  return mesos__stream_write(c->stream, d, n);
}
static void stream_io_pause(conn *c) { mesos__stream_pause(c->stream); }
static void stream_io_resume(conn *c) { mesos__stream_resume(c->stream); }
static void stream_io_close(conn *c, int graceful) { mesos__stream_close(c->stream, graceful); }
static size_t stream_io_pending(const conn *c) { return mesos__stream_pending(c->stream); }
static const char *stream_io_peer(const conn *c) { return mesos__stream_peer(c->stream); }

static const conn_io stream_io = {stream_io_write, stream_io_pause, stream_io_resume,
                                  stream_io_close, stream_io_pending, stream_io_peer};

static void defer(conn *c);

static mesos_status fake_io_write(conn *c, const char *d, size_t n) {
  if (c->fake->closed) return MESOS_ECLOSED;
  if (c->fake->sink) c->fake->sink(d, n, c->fake->ud);
  return MESOS_OK;
}
static void fake_io_noop(conn *c) { (void)c; }
static void fake_io_close(conn *c, int graceful) {
  (void)graceful;
  if (c->fake->closed) return;
  c->fake->closed = 1;
  /* Like a real stream, the close is reported later, from the loop. */
  c->q_closed = 1;
  defer(c);
}
static size_t fake_io_pending(const conn *c) { return 0; }
static const char *fake_io_peer(const conn *c) { return "fake"; }

static const conn_io fake_io = {fake_io_write, fake_io_noop, fake_io_noop,
                                fake_io_close, fake_io_pending, fake_io_peer};

static const char *conn_peer(const conn *c) {
  return c->io_closed ? "(closed)" : c->io->peer(c);
}

static void conn_write(conn *c, const char *d, size_t n) {
  if (c->io_closed || n == 0) return;
  /* A failed write closes the transport; on_close tells us. */
  (void)c->io->write(c, d, n);
}

static void conn_close(conn *c, int graceful) {
  if (c->io_closed) return;
  if (c->state != C_CLOSING && c->state != C_BUSY) c->state = C_CLOSING;
  mesos__list_remove(&c->tnode);
  c->close_after = 1;
  c->io->close(c, graceful);
}

/* ------------------------------------------------------------ timeouts */

static uint64_t srv_now(const mesos__http_server *srv) { return uv_now(srv->uv); }

static void conn_set_idle(conn *c) {
  mesos__http_server *srv = c->srv;
  c->state = C_IDLE;
  mesos__list_remove(&c->tnode);
  c->deadline = srv_now(srv) + srv->opts.idle_timeout_ms;
  mesos__list_insert_tail(&srv->idle_q, &c->tnode);
}

static void conn_set_reading(conn *c) {
  mesos__http_server *srv = c->srv;
  c->state = C_READING;
  mesos__list_remove(&c->tnode);
  c->deadline = srv_now(srv) + srv->opts.request_timeout_ms;
  mesos__list_insert_tail(&srv->reading_q, &c->tnode);
}

static void send_error(conn *c, int status, const char *why);

static void sweep_cb(uv_timer_t *t) {
  mesos__http_server *srv = t->data;
  uint64_t now = srv_now(srv);
  while (!mesos__list_empty(&srv->idle_q)) {
    conn *c = mesos__container_of(srv->idle_q.next, conn, tnode);
    if (c->deadline > now) break;
    LOG_DEBUG("http: %s: idle keep-alive connection closed", conn_peer(c));
    conn_close(c, 1);
  }
  while (!mesos__list_empty(&srv->reading_q)) {
    conn *c = mesos__container_of(srv->reading_q.next, conn, tnode);
    if (c->deadline > now) break;
    LOG_DEBUG("http: %s: request not complete within %u ms", conn_peer(c),
              srv->opts.request_timeout_ms);
    send_error(c, 408, "request not complete in time\n");
    conn_close(c, 1);
  }
}

/* ------------------------------------------------------------ deferred work */

static void defer_cb(uv_timer_t *t);

static void defer(conn *c) {
  mesos__http_server *srv = c->srv;
  if (c->qnode.next == &c->qnode) mesos__list_insert_tail(&srv->defer_q, &c->qnode);
  if (!srv->freeing) uv_timer_start(&srv->defer_timer, defer_cb, 0, 0);
}

/* ------------------------------------------------------------ requests */

static void req_reset(mesos__http_request *r) {
  if (r->arena.cap > ARENA_KEEP) mesos__buf_free(&r->arena);
  else mesos__buf_clear(&r->arena);
  if (r->hcap > 64) {
    mesos__free(r->hoffs);
    r->hoffs = NULL;
    r->hcap = 0;
    mesos__free(r->items);
    r->items = NULL;
    r->items_cap = 0;
  }
  r->header_bytes = 0;
  r->target_off = r->path_off = r->query_off = 0;
  r->body_off = r->body_len = 0;
  r->nh = 0;
  r->field_state = 0;
  r->headers_done = 0;
  r->headers.items = NULL;
  r->headers.count = r->headers.cap = 0;
  r->method = "";
  r->version = 11;
  r->keep_alive = 1;
  r->is_head = 0;
  r->streaming = r->chunked = r->no_body = 0;
  r->abort_cb = NULL;
  r->abort_ud = NULL;
  r->drain_cb = NULL;
  r->drain_ud = NULL;
  r->fixed_length = 0;
  r->length_left = 0;
  mesos__free(r->principal);
  r->principal = NULL;
}

static void resume_parsing(conn *c);

/* The handler is done with the request (answered, or aborted). */
static void req_finish(conn *c) {
  req_reset(&c->req);
  if (c->io_closed) {
    /* A zombie: its transport went away while the handler held it. */
    c->state = C_CLOSING;
    if (!c->aborting) conn_free(c);
    return;
  }
  if (c->close_after || c->srv->shutting_down) {
    c->close_after = 1;
    c->state = C_CLOSING;
    if (!c->dispatching) conn_close(c, 1);
    return;
  }
  conn_set_idle(c);
  if (c->dispatching) return; /* on_message_complete goes on parsing */
  resume_parsing(c);
}

/* ------------------------------------------------------------ llhttp callbacks */

static int fail_cb(conn *c, int status, const char *reason) {
  c->err_status = status;
  llhttp_set_error_reason(&c->parser, reason);
  return HPE_USER;
}

static int arena_put(conn *c, const char *at, size_t len) {
  if (mesos__buf_append(&c->req.arena, at, len) != MESOS_OK)
    return fail_cb(c, 500, "out of memory");
  return 0;
}

static int count_header_bytes(conn *c, size_t len) {
  mesos__http_request *r = &c->req;
  r->header_bytes += len;
  if (r->header_bytes > c->srv->opts.max_header_bytes)
    return fail_cb(c, 431, "request header fields too large");
  return 0;
}

static int on_message_begin(llhttp_t *p) {
  conn *c = p->data;
  req_reset(&c->req);
  c->err_status = 0;
  conn_set_reading(c);
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  conn *c = p->data;
  c->req.header_bytes += len;
  if (c->req.header_bytes > c->srv->opts.max_header_bytes)
    return fail_cb(c, 414, "request target too long");
  return arena_put(c, at, len);
}

/* The target is complete: keep it as sent, then a copy of the path alone;
 * the query is a suffix of the kept target. */
static int on_url_complete(llhttp_t *p) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  size_t tlen = r->arena.len;
  if (arena_put(c, "", 1)) return HPE_USER;
  char *t = r->arena.data;
  r->target_off = 0;
  size_t start = 0;
  if (tlen > 0 && t[0] != '/' && !(tlen == 1 && t[0] == '*')) {
    /* absolute-form (RFC 7230 5.3.2): skip "scheme://authority". */
    const char *sep = memchr(t, ':', tlen);
    if (sep == NULL || (size_t)(sep - t) + 3 > tlen || sep[1] != '/' || sep[2] != '/')
      return fail_cb(c, 400, "request target is neither a path nor an absolute URI");
    const char *slash = memchr(sep + 3, '/', tlen - (size_t)(sep + 3 - t));
    start = slash ? (size_t)(slash - t) : tlen;
  }
  size_t end = start;
  while (end < tlen && t[end] != '?' && t[end] != '#') end++;
  r->query_off = tlen; /* the target's NUL: "" */
  if (end < tlen && t[end] == '?') r->query_off = end + 1;
  r->path_off = r->arena.len;
  /* Reserve first: the copy's source is inside the arena itself. */
  if (mesos__buf_reserve(&r->arena, end - start + 2) != MESOS_OK)
    return fail_cb(c, 500, "out of memory");
  if (start == tlen) (void)mesos__buf_append(&r->arena, "/", 1);
  else (void)mesos__buf_append(&r->arena, r->arena.data + start, end - start);
  (void)mesos__buf_append(&r->arena, "", 1);
  /* A fragment (never sent by clients) is not part of the query. */
  if (r->query_off < tlen) {
    char *hash = memchr(r->arena.data + r->query_off, '#', tlen - r->query_off);
    if (hash) *hash = '\0';
  }
  return 0;
}

static int finish_value(conn *c);

/* RFC 7230 tchar. */
static int is_tchar(unsigned char ch) {
  if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
    return 1;
  return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  if (count_header_bytes(c, len)) return HPE_USER;
  if (r->headers_done) return 0; /* trailers: counted, not kept */
  if (r->field_state == 2 && finish_value(c)) return HPE_USER;
  if (r->field_state != 1) {
    if (r->nh == MAX_HEADER_FIELDS)
      return fail_cb(c, 431, "too many header fields");
    if (r->nh == r->hcap) {
      size_t cap = r->hcap ? r->hcap * 2 : 16;
      hoff *n = mesos__realloc(r->hoffs, cap * sizeof *n);
      if (n == NULL) return fail_cb(c, 500, "out of memory");
      r->hoffs = n;
      r->hcap = cap;
    }
    r->hoffs[r->nh].name = (uint32_t)r->arena.len;
    r->hoffs[r->nh].nlen = 0;
    r->hoffs[r->nh].value = 0;
    r->hoffs[r->nh].vlen = 0;
    r->nh++;
    r->field_state = 1;
  }
  return arena_put(c, at, len);
}

static int on_header_field_complete(llhttp_t *p) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  if (r->headers_done || r->nh == 0) return 0;
  hoff *h = &r->hoffs[r->nh - 1];
  h->nlen = (uint32_t)(r->arena.len - h->name);
  /* llhttp 8.1 lets spaces and other separators into field names; such a
   * name is a request-smuggling vector (RFC 7230 3.2.4), so refuse it. */
  for (uint32_t i = 0; i < h->nlen; i++)
    if (!is_tchar((unsigned char)r->arena.data[h->name + i]))
      return fail_cb(c, 400, "invalid character in header name");
  if (arena_put(c, "", 1)) return HPE_USER;
  h->value = (uint32_t)r->arena.len;
  r->field_state = 2;
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  conn *c = p->data;
  if (count_header_bytes(c, len)) return HPE_USER;
  if (c->req.headers_done) return 0;
  return arena_put(c, at, len);
}

/* Ends the value of the last field (also when llhttp reported no bytes
 * of it: an empty value). */
static int finish_value(conn *c) {
  mesos__http_request *r = &c->req;
  if (r->nh == 0 || r->field_state != 2) return 0;
  hoff *h = &r->hoffs[r->nh - 1];
  size_t vlen = r->arena.len - h->value;
  /* llhttp drops leading whitespace; drop trailing (RFC 7230 3.2.4). */
  while (vlen > 0 && (r->arena.data[h->value + vlen - 1] == ' ' ||
                      r->arena.data[h->value + vlen - 1] == '\t'))
    vlen--;
  h->vlen = (uint32_t)vlen;
  if (arena_put(c, "", 1)) return HPE_USER;
  r->arena.data[h->value + vlen] = '\0';
  r->field_state = 0;
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  conn *c = p->data;
  if (c->req.headers_done) return 0;
  return finish_value(c);
}

/* Header lookup while parsing (offsets, before the pointers exist). */
static const char *req_find(const mesos__http_request *r, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < r->nh; i++) {
    if (r->hoffs[i].value == 0) continue; /* value not complete */
    if (r->hoffs[i].nlen == len && strncasecmp(r->arena.data + r->hoffs[i].name, name, len) == 0)
      return r->arena.data + r->hoffs[i].value;
  }
  return NULL;
}

static int on_headers_complete(llhttp_t *p) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  mesos__http_server *srv = c->srv;
  if (finish_value(c)) return -1;
  r->headers_done = 1;
  r->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(p));
  r->is_head = llhttp_get_method(p) == HTTP_HEAD;
  if (llhttp_get_http_major(p) != 1) return fail_cb(c, 505, "unsupported HTTP version");
  r->version = 10 + (llhttp_get_http_minor(p) >= 1 ? 1 : 0);
  r->keep_alive = llhttp_should_keep_alive(p);
  /* We never switch protocols: an Upgrade request is answered as plain
   * HTTP (RFC 7230 6.7 lets a server ignore Upgrade), so llhttp must not
   * stop at the end of its headers. */
  p->upgrade = 0;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > srv->opts.max_body_bytes)
    return fail_cb(c, 413, "request body too large");
  const char *expect = req_find(r, "Expect");
  if (expect != NULL && r->version == 11) {
    if (strcasecmp(expect, "100-continue") != 0)
      return fail_cb(c, 417, "unsupported expectation");
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (srv->batch_owner == c) {
      if (mesos__buf_append(&srv->batch, cont, sizeof cont - 1) != MESOS_OK)
        return fail_cb(c, 500, "out of memory");
    } else {
      conn_write(c, cont, sizeof cont - 1);
    }
  }
  r->body_off = r->arena.len;
  /* A body of known size gets its room at once instead of doubling
   * through every read; only up to 64 KiB, so a client announcing a large
   * body it never sends does not make the server hold the room for it. */
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0) {
    uint64_t want = p->content_length < 65536 ? p->content_length : 65536;
    if (mesos__buf_reserve(&r->arena, (size_t)want) != MESOS_OK)
      return fail_cb(c, 500, "out of memory");
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  if (len > c->srv->opts.max_body_bytes - r->body_len)
    return fail_cb(c, 413, "request body too large");
  r->body_len += len;
  return arena_put(c, at, len);
}

static void dispatch(conn *c);
static void fix_header_views(mesos__http_request *r);

static int on_message_complete(llhttp_t *p) {
  conn *c = p->data;
  mesos__http_request *r = &c->req;
  mesos__http_server *srv = c->srv;
  /* NUL-terminate the body for convenience (not counted in body_len). */
  if (mesos__buf_reserve(&r->arena, 1) != MESOS_OK) return fail_cb(c, 500, "out of memory");
  r->arena.data[r->arena.len] = '\0';
  if (r->nh > r->items_cap) {
    mesos__http_header *n = mesos__realloc(r->items, r->nh * sizeof *n);
    if (n == NULL) return fail_cb(c, 500, "out of memory");
    r->items = n;
    r->items_cap = r->nh;
  }
  fix_header_views(r);
  r->headers.items = r->items;
  r->headers.count = r->headers.cap = r->nh;
  if (!r->keep_alive || srv->shutting_down) c->close_after = 1;
  mesos__list_remove(&c->tnode);
  c->state = C_BUSY;
  c->dispatching = 1;
  dispatch(c);
  c->dispatching = 0;
  if (c->state == C_BUSY) return HPE_PAUSED; /* answered later */
  if (c->close_after) return HPE_PAUSED;    /* nothing more is read */
  if (c->io->pending(c) + srv->batch.len > PIPELINE_HIGH_WATER) {
    c->wait_drain = 1;
    return HPE_PAUSED;
  }
  return 0;
}

/* ------------------------------------------------------------ routing */

static void respond_builtin(mesos__http_request *req, int status, const char *body,
                            const mesos__http_headers *extra) {
  conn *c = req->c;
  mesos_status st = mesos__http_respond(req, status, extra, body, strlen(body));
  if (st != MESOS_OK && st != MESOS_ECLOSED && c->state == C_BUSY) {
    /* Only an allocation failure gets here: give up on the connection. */
    c->close_after = 1;
    req_finish(c);
  }
}

/* How well a route's method fits: 3 the same method, 2 a GET route for a
 * HEAD request, 1 a route for any method, 0 no fit. */
static int method_score(const route *rt, const char *method, int is_head) {
  if (rt->method == NULL) return 1;
  if (strcmp(rt->method, method) == 0) return 3;
  return is_head && strcmp(rt->method, "GET") == 0 ? 2 : 0;
}

static int path_matches(const route *rt, const char *path, size_t plen) {
  if (rt->prefix) return plen >= rt->plen && memcmp(rt->path, path, rt->plen) == 0;
  return plen == rt->plen && memcmp(rt->path, path, plen) == 0;
}

/* Points the header views at the arena (again, after it moved). */
static void fix_header_views(mesos__http_request *r) {
  for (size_t i = 0; i < r->nh; i++) {
    r->items[i].name = r->arena.data + r->hoffs[i].name;
    r->items[i].value = r->arena.data + r->hoffs[i].value;
  }
}

void mesos__http_request_release_body(mesos__http_request *req) {
  if (req == NULL || req->arena.data == NULL) return;
  size_t keep = req->body_off;
  req->body_len = 0;
  if (req->arena.cap <= keep + 1) return;
  /* Shrinking in place (or to a smaller block): the request line and
   * headers stay, at the same offsets. */
  char *d = mesos__realloc(req->arena.data, keep + 1);
  if (d == NULL) return; /* keeps the room; the body still reads empty */
  d[keep] = '\0';
  req->arena.data = d;
  req->arena.len = keep;
  req->arena.cap = keep + 1;
  fix_header_views(req);
}

size_t mesos__http_request_held_bytes(const mesos__http_request *req) {
  return req->arena.cap;
}

static void dispatch(conn *c) {
  mesos__http_server *srv = c->srv;
  mesos__http_request *r = &c->req;
  const char *path = r->arena.data + r->path_off;
  size_t plen = strlen(path);
  /* Exact routes first, then the longest prefix; among the routes of the
   * chosen path, one whose method matches (HEAD falls back to GET). */
  const route *best = NULL;
  int path_known = 0;
  for (int pass = 0; pass < 2 && best == NULL && !path_known; pass++) {
    size_t best_len = 0;
    int best_score = 0;
    for (size_t i = 0; i < srv->nroutes; i++) {
      const route *rt = &srv->routes[i];
      if (rt->prefix != pass || !path_matches(rt, path, plen)) continue;
      if (pass == 1 && rt->plen < best_len) continue;
      if (pass == 1 && rt->plen > best_len) {
        best = NULL;
        best_score = 0;
        best_len = rt->plen;
      }
      path_known = 1;
      int score = method_score(rt, r->method, r->is_head);
      if (score > best_score) {
        best = rt;
        best_score = score;
      }
    }
  }
  if (best != NULL) {
    best->handler(r, best->ud);
    /* A request answered with a stream lives as long as the stream (an
     * agent's or a scheduler's, for days): its body -- a re-registering
     * agent's whole report -- was the handler's to read while it ran, and
     * is given back now. */
    if (r->streaming) mesos__http_request_release_body(r);
    return;
  }
  if (!path_known) {
    respond_builtin(r, 404, "Not Found\n", NULL);
    return;
  }
  /* 405 with the methods this path does allow. */
  char allow[256];
  size_t n = 0;
  allow[0] = '\0';
  size_t match_len = 0;
  for (size_t i = 0; i < srv->nroutes; i++) {
    const route *rt = &srv->routes[i];
    if (rt->method && path_matches(rt, path, plen) && rt->plen > match_len && rt->prefix)
      match_len = rt->plen;
  }
  for (size_t i = 0; i < srv->nroutes; i++) {
    const route *rt = &srv->routes[i];
    if (rt->method == NULL || !path_matches(rt, path, plen)) continue;
    if (rt->prefix && rt->plen != match_len) continue;
    int w = snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", rt->method);
    if (w < 0 || (size_t)w >= sizeof allow - n) break;
    n += (size_t)w;
  }
  mesos__http_header h = {(char *)"Allow", allow};
  mesos__http_headers extra = {&h, 1, 1};
  respond_builtin(r, 405, "Method Not Allowed\n", &extra);
}

/* ------------------------------------------------------------ parsing */

static void conn_pause_io(conn *c) {
  if (c->io_paused || c->io_closed) return;
  c->io_paused = 1;
  c->io->pause(c);
}

static void conn_keep_input(conn *c, const char *data, size_t len) {
  if (len == 0) return;
  if (mesos__buf_append(&c->in, data, len) != MESOS_OK) {
    LOG_DEBUG("http: %s: too much input while paused; closing", conn_peer(c));
    conn_close(c, 0);
  }
}

static void batch_flush(mesos__http_server *srv, conn *c) {
  if (srv->batch.len == 0) return;
  conn_write(c, srv->batch.data, srv->batch.len);
  mesos__buf_clear(&srv->batch);
}

/* Runs llhttp over bytes; `from_in`: they are c->in's own. */
static void conn_parse(conn *c, const char *data, size_t len, int from_in) {
  mesos__http_server *srv = c->srv;
  srv->batch_owner = c;
  llhttp_errno_t e = llhttp_execute(&c->parser, data, len);
  if (e == HPE_OK) {
    if (from_in) mesos__buf_clear(&c->in);
  } else if (e == HPE_PAUSED) {
    size_t used = (size_t)(llhttp_get_error_pos(&c->parser) - data);
    if (c->close_after) {
      /* Nothing after a closing request is ever parsed. */
      if (from_in) mesos__buf_clear(&c->in);
    } else {
      if (from_in) mesos__buf_consume(&c->in, used);
      else conn_keep_input(c, data + used, len - used);
      c->paused = 1;
      /* A busy handler: keep reading (bounded) to notice a disconnect.  A
       * client that does not read its responses: stop at once. */
      if (c->wait_drain || c->in.len >= IN_PAUSE_AT) conn_pause_io(c);
    }
  } else {
    int status = c->err_status ? c->err_status : 400;
    if (status == 500) status = 503;
    LOG_DEBUG("http: %s: bad request (%d): %s: %s", conn_peer(c), status,
              llhttp_errno_name(e), llhttp_get_error_reason(&c->parser));
    if (from_in) mesos__buf_clear(&c->in);
    if (c->state == C_BUSY) {
      /* Cannot happen: llhttp stops at the pause of a busy request. */
      c->close_after = 1;
    } else {
      send_error(c, status, "Bad Request\n");
      c->close_after = 1;
      c->state = C_CLOSING;
    }
  }
  batch_flush(srv, c);
  srv->batch_owner = NULL;
  /* The batch may have gone straight into the kernel: then no drain event
   * will come to resume a connection paused for output. */
  if (c->wait_drain && !c->io_closed && c->io->pending(c) == 0) resume_parsing(c);
  if (srv->batch.cap > ((size_t)1 << 20)) mesos__buf_free(&srv->batch);
  if (c->close_after && c->state != C_BUSY) conn_close(c, 1);
}

static void conn_on_data(conn *c, const char *data, size_t len) {
  if (c->state == C_CLOSING || c->close_after || c->rejected) return; /* discarded */
  if (c->paused || c->state == C_BUSY || c->in.len > 0) {
    /* The parser waits for a handler (or a resume is queued): keep the
     * bytes for then, and stop reading once enough wait. */
    conn_keep_input(c, data, len);
    if (c->in.len >= IN_PAUSE_AT) conn_pause_io(c);
    if (!c->paused && c->state != C_BUSY) resume_parsing(c);
    return;
  }
  conn_parse(c, data, len, 0);
}

static void resume_parsing(conn *c) {
  c->q_resume = 1;
  defer(c);
}

static void conn_resume(conn *c) {
  if (c->io_closed || c->state == C_BUSY || c->state == C_CLOSING || c->close_after) return;
  c->paused = 0;
  c->wait_drain = 0;
  if (llhttp_get_errno(&c->parser) == HPE_PAUSED) llhttp_resume(&c->parser);
  if (c->in.len > 0) conn_parse(c, c->in.data, c->in.len, 1);
  if (!c->paused && c->io_paused && !c->io_closed && c->state != C_CLOSING) {
    c->io_paused = 0;
    c->io->resume(c);
  }
}

static void defer_cb(uv_timer_t *t) {
  mesos__http_server *srv = t->data;
  mesos__list local;
  mesos__list_init(&local);
  /* Work queued while this runs waits for the next round, so one busy
   * connection cannot starve the loop. */
  if (!mesos__list_empty(&srv->defer_q)) {
    local.next = srv->defer_q.next;
    local.prev = srv->defer_q.prev;
    local.next->prev = &local;
    local.prev->next = &local;
    mesos__list_init(&srv->defer_q);
  }
  while (!mesos__list_empty(&local)) {
    conn *c = mesos__container_of(local.next, conn, qnode);
    mesos__list_remove(&c->qnode);
    if (c->q_closed) {
      c->q_closed = 0;
      conn_closed(c);
      continue;
    }
    if (c->q_resume) {
      c->q_resume = 0;
      conn_resume(c);
    }
  }
  if (srv->done_pending) {
    srv->done_pending = 0;
    srv->done_called = 1;
    if (srv->done) srv->done(srv->done_ud);
  }
}

/* ------------------------------------------------------------ responses */

/* Case-insensitive name compare with the length checked first (most
 * names differ in length, so this is usually one integer compare). */
static int name_is(const char *name, size_t len, const char *lit, size_t lit_len) {
  return len == lit_len && strncasecmp(name, lit, len) == 0;
}

/* A handler's header is sendable: a token name, a value without CR/LF (no
 * response splitting), and not one of the framing headers we write. */
static int header_ok(const mesos__http_header *h, size_t *nlen, size_t *vlen) {
  if (h->name == NULL || h->value == NULL || h->name[0] == '\0') return 0;
  const char *p;
  for (p = h->name; *p; p++)
    if (!is_tchar((unsigned char)*p)) return 0;
  *nlen = (size_t)(p - h->name);
  for (p = h->value; *p; p++)
    if (*p == '\r' || *p == '\n') return 0;
  *vlen = (size_t)(p - h->value);
  return !name_is(h->name, *nlen, "Content-Length", 14) &&
         !name_is(h->name, *nlen, "Transfer-Encoding", 17);
}

static char *put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

static char *put_uint(char *p, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

enum framing { F_LENGTH, F_CHUNKED_, F_UNTIL_CLOSE, F_NONE };

/* Writes status line and headers into `b`.  `*closing` is in/out: the
 * response says Connection: close when set (or when `extra` asks). */
static mesos_status build_head(mesos__buf *b, const mesos__http_request *r, int status,
                               const mesos__http_headers *extra, enum framing fr,
                               uint64_t length, int *closing) {
  const char *text = mesos__http_status_text(status);
  size_t tlen = strlen(text);
  size_t need = 64 + tlen;
  int user_conn = 0;
  if (extra) {
    for (size_t i = 0; i < extra->count; i++) {
      const mesos__http_header *h = &extra->items[i];
      size_t nl, vl;
      if (!header_ok(h, &nl, &vl)) return MESOS_EINVAL;
      if (!mesos__size_add(&need, need, nl) || !mesos__size_add(&need, need, vl + 4))
        return MESOS_ELIMIT;
      if (name_is(h->name, nl, "Connection", 10)) {
        user_conn = 1;
        if (mesos__http_has_token(h->value, "close")) *closing = 1;
      }
    }
  }
  need += 80; /* framing and connection headers */
  mesos_status st = mesos__buf_reserve(b, need);
  if (st != MESOS_OK) return st;
  char *p = b->data + b->len;
  p = put(p, "HTTP/1.1 ", 9);
  *p++ = (char)('0' + status / 100);
  *p++ = (char)('0' + status / 10 % 10);
  *p++ = (char)('0' + status % 10);
  *p++ = ' ';
  p = put(p, text, tlen);
  p = put(p, "\r\n", 2);
  if (extra) {
    for (size_t i = 0; i < extra->count; i++) {
      const mesos__http_header *h = &extra->items[i];
      p = put(p, h->name, strlen(h->name));
      p = put(p, ": ", 2);
      p = put(p, h->value, strlen(h->value));
      p = put(p, "\r\n", 2);
    }
  }
  switch (fr) {
  case F_LENGTH:
    p = put(p, "Content-Length: ", 16);
    p = put_uint(p, length);
    p = put(p, "\r\n", 2);
    break;
  case F_CHUNKED_:
    p = put(p, "Transfer-Encoding: chunked\r\n", 28);
    break;
  case F_UNTIL_CLOSE:
    *closing = 1;
    break;
  case F_NONE:
    break;
  }
  if (!user_conn) {
    if (*closing) p = put(p, "Connection: close\r\n", 19);
    else if (r->version == 10) p = put(p, "Connection: keep-alive\r\n", 24);
  }
  p = put(p, "\r\n", 2);
  b->len = (size_t)(p - b->data);
  b->data[b->len] = '\0';
  return MESOS_OK;
}

/* Where a response for `c` is assembled: the batch while its input is
 * being parsed (flushed after llhttp returns), else the scratch buffer,
 * written out at once by out_done. */
static mesos__buf *out_buf(conn *c) {
  return c->srv->batch_owner == c ? &c->srv->batch : &c->srv->scratch;
}

static void out_done(conn *c, mesos__buf *b, const char *direct, size_t dlen) {
  if (b == &c->srv->scratch || direct != NULL) {
    conn_write(c, b->data, b->len);
    mesos__buf_clear(b);
    if (direct) conn_write(c, direct, dlen);
    if (b->cap > ((size_t)1 << 20)) mesos__buf_free(b);
  }
}

static int no_body_status(int status) {
  return status < 200 || status == 204 || status == 304;
}

static void send_error(conn *c, int status, const char *body) {
  if (c->io_closed) return;
  mesos__buf *b = out_buf(c);
  mesos__http_request *r = &c->req;
  int closing = 1;
  size_t blen = strlen(body);
  r->version = 11;
  if (build_head(b, r, status, NULL, F_LENGTH, blen, &closing) == MESOS_OK)
    (void)mesos__buf_append(b, body, blen);
  out_done(c, b, NULL, 0);
}

static mesos_status check_answerable(mesos__http_request *req, int status) {
  if (req == NULL || req->c == NULL) return MESOS_EINVAL;
  if (req->c->state != C_BUSY || req->streaming) return MESOS_EINVAL;
  if (status < 200 || status > 599) return MESOS_EINVAL;
  return MESOS_OK;
}

mesos_status mesos__http_respond(mesos__http_request *req, int status,
                                 const mesos__http_headers *extra, const char *body,
                                 size_t len) {
  mesos_status st = check_answerable(req, status);
  if (st != MESOS_OK) return st;
  conn *c = req->c;
  if (c->io_closed) {
    req_finish(c);
    return MESOS_ECLOSED;
  }
  int send_body = !req->is_head && !no_body_status(status);
  int closing = c->close_after || c->srv->shutting_down;
  mesos__buf *b = out_buf(c);
  size_t mark = b->len;
  st = build_head(b, req, status, extra, no_body_status(status) ? F_NONE : F_LENGTH, len,
                  &closing);
  if (st != MESOS_OK) {
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
    return st;
  }
  const char *direct = NULL;
  if (send_body && len > 0) {
    if (len > BATCH_DIRECT) {
      direct = body;
      if (b == &c->srv->batch) {
        batch_flush(c->srv, c);
        conn_write(c, body, len);
        direct = NULL;
      }
    } else if ((st = mesos__buf_append(b, body, len)) != MESOS_OK) {
      b->len = mark;
      b->data[mark] = '\0';
      return st;
    }
  }
  out_done(c, b, direct, direct ? len : 0);
  if (closing) c->close_after = 1;
  req_finish(c);
  return MESOS_OK;
}

mesos_status mesos__http_stream_start(mesos__http_request *req, int status,
                                      const mesos__http_headers *extra) {
  mesos_status st = check_answerable(req, status);
  if (st != MESOS_OK) return st;
  conn *c = req->c;
  if (c->io_closed) return MESOS_ECLOSED;
  int closing = c->close_after || c->srv->shutting_down;
  enum framing fr = F_CHUNKED_;
  if (req->is_head || no_body_status(status)) {
    req->no_body = 1;
    fr = no_body_status(status) ? F_NONE : F_CHUNKED_;
  } else if (req->version == 10) {
    fr = F_UNTIL_CLOSE; /* no chunked coding in HTTP/1.0 */
  }
  mesos__buf *b = out_buf(c);
  size_t mark = b->len;
  st = build_head(b, req, status, extra, fr, 0, &closing);
  if (st != MESOS_OK) {
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
    return st;
  }
  out_done(c, b, NULL, 0);
  if (closing) c->close_after = 1;
  req->streaming = 1;
  req->chunked = fr == F_CHUNKED_;
  return MESOS_OK;
}

mesos_status mesos__http_stream_start_length(mesos__http_request *req, int status,
                                             const mesos__http_headers *extra,
                                             uint64_t length) {
  mesos_status st = check_answerable(req, status);
  if (st != MESOS_OK) return st;
  conn *c = req->c;
  if (c->io_closed) return MESOS_ECLOSED;
  int closing = c->close_after || c->srv->shutting_down;
  int no_body = req->is_head || no_body_status(status);
  mesos__buf *b = out_buf(c);
  size_t mark = b->len;
  st = build_head(b, req, status, extra, no_body_status(status) ? F_NONE : F_LENGTH, length,
                  &closing);
  if (st != MESOS_OK) {
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
    return st;
  }
  out_done(c, b, NULL, 0);
  if (closing) c->close_after = 1;
  req->streaming = 1;
  req->chunked = 0;
  req->no_body = no_body;
  req->fixed_length = 1;
  req->length_left = no_body ? 0 : length;
  return MESOS_OK;
}

mesos_status mesos__http_stream_send(mesos__http_request *req, const char *data, size_t len) {
  if (req == NULL || req->c == NULL || !req->streaming) return MESOS_EINVAL;
  conn *c = req->c;
  if (c->io_closed || c->state == C_CLOSING) return MESOS_ECLOSED;
  if (len == 0 || req->no_body) return MESOS_OK;
  if (req->fixed_length) {
    /* More than announced would corrupt the next response on the
     * connection: refused, nothing sent. */
    if (len > req->length_left) return MESOS_EINVAL;
    req->length_left -= len;
  }
  if (c->io->pending(c) + len > c->srv->opts.max_backlog_bytes) {
    LOG_INFO("http: %s: client does not read its stream (%zu bytes queued); closing",
             conn_peer(c), c->io->pending(c));
    conn_close(c, 0);
    return MESOS_ELIMIT;
  }
  mesos__buf *b = out_buf(c);
  size_t mark = b->len;
  mesos_status st = MESOS_OK;
  if (req->chunked) {
    char head[24];
    int n = snprintf(head, sizeof head, "%zx\r\n", len);
    st = mesos__buf_append(b, head, (size_t)n);
  }
  int direct = len > BATCH_DIRECT;
  if (st == MESOS_OK && !direct) st = mesos__buf_append(b, data, len);
  if (st == MESOS_OK && !direct && req->chunked) st = mesos__buf_append(b, "\r\n", 2);
  if (st != MESOS_OK) {
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
    return st;
  }
  if (direct) {
    conn_write(c, b->data, b->len);
    mesos__buf_clear(b);
    conn_write(c, data, len);
    if (req->chunked) conn_write(c, "\r\n", 2);
  } else {
    out_done(c, b, NULL, 0);
  }
  return c->io_closed ? MESOS_ECLOSED : MESOS_OK;
}

mesos_status mesos__http_stream_end(mesos__http_request *req) {
  if (req == NULL || req->c == NULL || !req->streaming) return MESOS_EINVAL;
  conn *c = req->c;
  if (c->io_closed) {
    req_finish(c);
    return MESOS_ECLOSED;
  }
  if (req->fixed_length) {
    /* Ended short of its Content-Length: only closing the connection
     * tells the client the body is incomplete. */
    if (req->length_left) c->close_after = 1;
  } else if (req->chunked && !req->no_body) {
    mesos__buf *b = out_buf(c);
    if (mesos__buf_append(b, "0\r\n\r\n", 5) != MESOS_OK) c->close_after = 1;
    else out_done(c, b, NULL, 0);
  } else if (!req->chunked && !req->no_body) {
    c->close_after = 1; /* the close ends an HTTP/1.0 stream */
  }
  req_finish(c);
  return MESOS_OK;
}

/* ------------------------------------------------------------ accessors */

const char *mesos__http_request_method(const mesos__http_request *req) { return req->method; }
const char *mesos__http_request_path(const mesos__http_request *req) {
  return req->arena.data + req->path_off;
}
const char *mesos__http_request_query(const mesos__http_request *req) {
  return req->arena.data + req->query_off;
}
const char *mesos__http_request_target(const mesos__http_request *req) {
  return req->arena.data + req->target_off;
}
int mesos__http_request_version(const mesos__http_request *req) { return req->version; }
const mesos__http_headers *mesos__http_request_headers(const mesos__http_request *req) {
  return &req->headers;
}
const char *mesos__http_request_header(const mesos__http_request *req, const char *name) {
  return mesos__http_headers_get(&req->headers, name);
}
const char *mesos__http_request_body(const mesos__http_request *req, size_t *len) {
  if (len) *len = req->body_len;
  return req->arena.data + req->body_off;
}
mesos_status mesos__http_request_set_principal(mesos__http_request *req, const char *principal) {
  char *p = NULL;
  if (principal && (p = mesos__strdup(principal)) == NULL) return MESOS_ENOMEM;
  mesos__free(req->principal);
  req->principal = p;
  return MESOS_OK;
}
const char *mesos__http_request_principal(const mesos__http_request *req) {
  return req->principal;
}
const char *mesos__http_request_peer(const mesos__http_request *req) {
  return conn_peer(req->c);
}
int mesos__http_request_is_tls(const mesos__http_request *req) {
  return req->c->stream && !req->c->io_closed && mesos__stream_is_tls(req->c->stream);
}
const char *mesos__http_request_tls_peer_cn(const mesos__http_request *req) {
  if (req->c->stream == NULL || req->c->io_closed) return NULL;
  return mesos__stream_tls_peer_cn(req->c->stream);
}
int mesos__http_request_connected(const mesos__http_request *req) {
  return !req->c->io_closed && req->c->state != C_CLOSING;
}
size_t mesos__http_request_pending(const mesos__http_request *req) {
  return req->c->io_closed ? 0 : req->c->io->pending(req->c);
}
mesos__http_server *mesos__http_request_server(const mesos__http_request *req) {
  return req->c->srv;
}
void mesos__http_request_on_drain(mesos__http_request *req, mesos__http_drain_fn cb,
                                  void *ud) {
  req->drain_cb = cb;
  req->drain_ud = ud;
}

mesos_loop *mesos__http_server_loop(const mesos__http_server *srv) { return srv->loop; }
void mesos__http_request_on_abort(mesos__http_request *req, mesos__http_abort_fn cb,
                                  void *ud) {
  req->abort_cb = cb;
  req->abort_ud = ud;
}

/* ------------------------------------------------------------ connections */

static const mesos__stream_cbs conn_stream_cbs;

static void conn_init(conn *c, mesos__http_server *srv) {
  c->srv = srv;
  mesos__list_init(&c->node);
  mesos__list_init(&c->tnode);
  mesos__list_init(&c->qnode);
  mesos__buf_init(&c->in, IN_MAX);
  mesos__buf_init(&c->req.arena, srv->opts.max_header_bytes * 2 + srv->opts.max_body_bytes +
                                     MAX_HEADER_FIELDS * 2 + 64);
  c->req.c = c;
  req_reset(&c->req);
  llhttp_init(&c->parser, HTTP_REQUEST, &srv->settings);
  c->parser.data = c;
}

static void conn_free(conn *c) {
  mesos__http_server *srv = c->srv;
  mesos__list_remove(&c->node);
  mesos__list_remove(&c->tnode);
  mesos__list_remove(&c->qnode);
  if (c->fake) c->fake->c = NULL;
  mesos__buf_free(&c->in);
  mesos__buf_free(&c->req.arena);
  mesos__free(c->req.hoffs);
  mesos__free(c->req.items);
  mesos__free(c->req.principal);
  mesos__free(c);
  srv_maybe_release(srv);
}

/* Runs the abort callback of a request the handler still owns. */
static void conn_abort(conn *c) {
  mesos__http_abort_fn cb = c->req.abort_cb;
  if (cb == NULL) return;
  c->req.abort_cb = NULL;
  c->aborting = 1;
  cb(&c->req, c->req.abort_ud);
  c->aborting = 0;
}

/* The transport is gone. */
static void conn_closed(conn *c) {
  mesos__http_server *srv = c->srv;
  if (c->io_closed) return;
  c->io_closed = 1;
  c->stream = NULL;
  mesos__list_remove(&c->tnode);
  mesos__list_remove(&c->qnode);
  c->q_resume = c->q_closed = 0;
  if (c->rejected) srv->nrejected--;
  else srv->nconns--;
  if (c->state == C_BUSY && c->req.abort_cb == NULL && !srv->freeing) {
    /* The handler holds the request and will answer it (getting ECLOSED). */
    mesos__list_remove(&c->node);
    mesos__list_insert_tail(&srv->zombies, &c->node);
    srv_check_done(srv);
    return;
  }
  if (c->state == C_BUSY) conn_abort(c);
  /* After mesos__http_server_free, the last connection's conn_free releases
   * the server itself: it must not be touched afterwards. */
  int freeing = srv->freeing;
  conn_free(c); /* releases the request, whatever the callback did */
  if (!freeing) srv_check_done(srv);
}

static void on_stream_data(mesos__stream *s, const char *data, size_t len, void *ud) {
  (void)s;
  conn_on_data(ud, data, len);
}

static void on_stream_drain(mesos__stream *s, void *ud) {
  (void)s;
  conn *c = ud;
  if (c->state == C_BUSY && c->req.streaming && c->req.drain_cb && !c->io_closed) {
    c->req.drain_cb(&c->req, c->req.drain_ud); /* may finish the request */
    return;
  }
  if (c->wait_drain && c->state != C_BUSY) resume_parsing(c);
}

static void on_stream_close(mesos__stream *s, mesos_status why, const mesos_error *err,
                            void *ud) {
  (void)s;
  conn *c = ud;
  if (why != MESOS_OK && why != MESOS_ECLOSED)
    LOG_DEBUG("http: %s: connection failed: %s", mesos__stream_peer(s),
              err ? mesos_error_message(err) : mesos_status_name(why));
  conn_closed(c);
}

static const mesos__stream_cbs conn_stream_cbs = {on_stream_data, NULL, on_stream_drain,
                                                  on_stream_close};

static void oom_closed_cb(uv_handle_t *h) {
  mesos__http_server *srv = h->data;
  srv->oom_tcp_busy = 0;
  srv->handles_open--;
  srv_maybe_release(srv);
}

/* Without memory for a connection it must still be taken off the backlog
 * (libuv stops watching the listener until it is), so accept it into a
 * spare handle and close it. */
static void drop_pending_connection(mesos__http_server *srv) {
  if (srv->oom_tcp_busy) return;
  uv_tcp_init(srv->uv, &srv->oom_tcp);
  srv->oom_tcp.data = srv;
  srv->oom_tcp_busy = 1;
  srv->handles_open++;
  (void)uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&srv->oom_tcp);
  uv_close((uv_handle_t *)&srv->oom_tcp, oom_closed_cb);
}

static void on_connection(uv_stream_t *l, int status) {
  mesos__http_server *srv = l->data;
  if (status < 0) {
    LOG_WARN("http: accept on port %u: %s", srv->port, uv_strerror(status));
    return;
  }
  conn *c = MESOS__NEW(conn);
  if (c == NULL) {
    LOG_WARN("http: out of memory accepting a connection; dropped");
    drop_pending_connection(srv);
    return;
  }
  conn_init(c, srv);
  c->io = &stream_io;
  mesos_error *err = NULL;
  if (mesos__stream_accept(&c->stream, l, srv->tls, &conn_stream_cbs, c, &err) != MESOS_OK) {
    LOG_WARN("http: accept: %s", mesos_error_message(err));
    mesos_error_free(err);
    mesos__buf_free(&c->req.arena);
    mesos__free(c);
    return;
  }
  mesos__list_insert_tail(&srv->conns, &c->node);
  if (srv->nconns >= srv->opts.max_connections) {
    c->rejected = 1;
    c->state = C_CLOSING;
    srv->nrejected++;
    if (srv->nrejected > REJECT_MAX) {
      conn_close(c, 0);
      return;
    }
    LOG_DEBUG("http: %s: connection limit (%u) reached: 503", conn_peer(c),
              srv->opts.max_connections);
    send_error(c, 503, "Too many connections\n");
    conn_close(c, 1);
    return;
  }
  srv->nconns++;
  conn_set_idle(c);
}

/* ------------------------------------------------------------ fake connections */

mesos_status mesos__http_fake_conn_new(mesos__http_fake_conn **out, mesos__http_server *srv,
                                       void (*sink)(const char *data, size_t len, void *ud),
                                       void *ud) {
  if (srv == NULL || srv->freeing || srv->shutting_down) return MESOS_EINVAL;
  mesos__http_fake_conn *fc = MESOS__NEW(mesos__http_fake_conn);
  conn *c = MESOS__NEW(conn);
  if (fc == NULL || c == NULL) {
    mesos__free(fc);
    mesos__free(c);
    return MESOS_ENOMEM;
  }
  conn_init(c, srv);
  c->io = &fake_io;
  c->fake = fc;
  fc->c = c;
  fc->sink = sink;
  fc->ud = ud;
  mesos__list_insert_tail(&srv->conns, &c->node);
  srv->nconns++;
  conn_set_idle(c);
  *out = fc;
  return MESOS_OK;
}

size_t mesos__http_fake_conn_feed(mesos__http_fake_conn *fc, const char *data, size_t len) {
  conn *c = fc->c;
  if (c == NULL || fc->closed || c->io_closed) return 0;
  if (c->paused || c->state == C_BUSY || c->q_resume) return 0;
  conn_on_data(c, data, len);
  return len;
}

int mesos__http_fake_conn_closed(const mesos__http_fake_conn *fc) {
  return fc->closed || fc->c == NULL || fc->c->io_closed;
}

int mesos__http_fake_conn_paused(const mesos__http_fake_conn *fc) {
  return fc->c != NULL && !fc->c->io_closed &&
         (fc->c->paused || fc->c->state == C_BUSY || fc->c->q_resume);
}

void mesos__http_fake_conn_free(mesos__http_fake_conn *fc) {
  if (fc == NULL) return;
  conn *c = fc->c;
  if (c != NULL && !c->io_closed) {
    fc->closed = 1;
    conn_closed(c); /* frees c (or leaves a zombie that no longer points here) */
  }
  if (fc->c) fc->c->fake = NULL;
  mesos__free(fc);
}

/* ------------------------------------------------------------ server */

static void handle_closed_cb(uv_handle_t *h) {
  mesos__http_server *srv = h->data;
  srv->handles_open--;
  if (h == (uv_handle_t *)&srv->listener) srv_check_done(srv);
  srv_maybe_release(srv);
}

/* Frees the server once free was asked and nothing refers to it anymore. */
static void srv_maybe_release(mesos__http_server *srv) {
  if (!srv->freeing || srv->handles_open > 0 || !mesos__list_empty(&srv->conns) ||
      !mesos__list_empty(&srv->zombies))
    return;
  for (size_t i = 0; i < srv->nroutes; i++) {
    mesos__free(srv->routes[i].method);
    mesos__free(srv->routes[i].path);
  }
  mesos__free(srv->routes);
  mesos__buf_free(&srv->batch);
  mesos__buf_free(&srv->scratch);
  mesos__tls_config_unref(srv->tls);
  mesos__free(srv);
}

static void srv_check_done(mesos__http_server *srv) {
  if (!srv->shutting_down || srv->done_called || srv->done_pending || srv->freeing) return;
  if (srv->nconns > 0 || srv->listening) return;
  uv_timer_stop(&srv->grace_timer);
  srv->done_pending = 1;
  uv_timer_start(&srv->defer_timer, defer_cb, 0, 0);
}

static void close_handles(mesos__http_server *srv) {
  if (srv->listening) {
    srv->listening = 0;
    uv_close((uv_handle_t *)&srv->listener, handle_closed_cb);
  }
  uv_close((uv_handle_t *)&srv->sweep_timer, handle_closed_cb);
  uv_close((uv_handle_t *)&srv->defer_timer, handle_closed_cb);
  uv_close((uv_handle_t *)&srv->grace_timer, handle_closed_cb);
}

mesos_status mesos__http_server_new(mesos__http_server **out, mesos_loop *loop,
                                    const mesos__http_server_options *opts, mesos_error **err) {
  if (out == NULL || loop == NULL) return mesos__err(err, MESOS_EINVAL, "http server: NULL argument");
  *out = NULL;
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  if (opts) o = *opts;
  if (o.max_header_bytes == 0) o.max_header_bytes = MESOS__HTTP_DEFAULT_MAX_HEADER_BYTES;
  if (o.max_body_bytes == 0) o.max_body_bytes = MESOS__HTTP_DEFAULT_MAX_BODY_BYTES;
  if (o.max_connections == 0) o.max_connections = MESOS__HTTP_DEFAULT_MAX_CONNECTIONS;
  if (o.idle_timeout_ms == 0) o.idle_timeout_ms = MESOS__HTTP_DEFAULT_IDLE_TIMEOUT_MS;
  if (o.request_timeout_ms == 0) o.request_timeout_ms = MESOS__HTTP_DEFAULT_REQUEST_TIMEOUT_MS;
  if (o.max_backlog_bytes == 0) o.max_backlog_bytes = MESOS__HTTP_DEFAULT_MAX_BACKLOG_BYTES;
  if (o.backlog <= 0) o.backlog = 511;
  if (o.max_header_bytes > ((size_t)1 << 30) || o.max_body_bytes > ((size_t)1 << 40))
    return mesos__err(err, MESOS_EINVAL, "http server: limits too large");
  if (o.tls && !mesos__tls_config_is_server(o.tls))
    return mesos__err(err, MESOS_EINVAL, "http server: TLS config is not a server config");
  struct sockaddr_storage addr;
  if (o.listen) {
    mesos_status st = mesos__parse_sockaddr(o.listen, &addr, err);
    if (st != MESOS_OK) return st;
  }
  mesos__http_server *srv = MESOS__NEW(mesos__http_server);
  if (srv == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  srv->loop = loop;
  srv->uv = mesos__loop_uv(loop);
  srv->opts = o;
  srv->opts.listen = NULL; /* not kept: the caller's string */
  mesos__list_init(&srv->conns);
  mesos__list_init(&srv->zombies);
  mesos__list_init(&srv->idle_q);
  mesos__list_init(&srv->reading_q);
  mesos__list_init(&srv->defer_q);
  mesos__buf_init(&srv->batch, SCRATCH_MAX);
  mesos__buf_init(&srv->scratch, SCRATCH_MAX);
  llhttp_settings_init(&srv->settings);
  srv->settings.on_message_begin = on_message_begin;
  srv->settings.on_url = on_url;
  srv->settings.on_url_complete = on_url_complete;
  srv->settings.on_header_field = on_header_field;
  srv->settings.on_header_field_complete = on_header_field_complete;
  srv->settings.on_header_value = on_header_value;
  srv->settings.on_header_value_complete = on_header_value_complete;
  srv->settings.on_headers_complete = on_headers_complete;
  srv->settings.on_body = on_body;
  srv->settings.on_message_complete = on_message_complete;
  uv_timer_init(srv->uv, &srv->sweep_timer);
  uv_timer_init(srv->uv, &srv->defer_timer);
  uv_timer_init(srv->uv, &srv->grace_timer);
  srv->sweep_timer.data = srv->defer_timer.data = srv->grace_timer.data = srv;
  srv->handles_open = 3;
  /* The sweep runs at a quarter of the shortest timeout (a deadline is
   * overshot by at most that), between 5 ms and 1 s; it does not keep the
   * loop alive by itself. */
  uint32_t tick = o.idle_timeout_ms < o.request_timeout_ms ? o.idle_timeout_ms
                                                           : o.request_timeout_ms;
  tick /= 4;
  if (tick < 5) tick = 5;
  if (tick > 1000) tick = 1000;
  uv_timer_start(&srv->sweep_timer, sweep_cb, tick, tick);
  uv_unref((uv_handle_t *)&srv->sweep_timer);
  if (o.listen) {
    uv_tcp_init(srv->uv, &srv->listener);
    srv->listener.data = srv;
    srv->handles_open++;
    srv->listening = 1;
    int r = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&srv->listener, o.backlog, on_connection);
    if (r != 0) {
      mesos_status st = mesos__err(err, r == UV_EADDRINUSE ? MESOS_EEXIST : MESOS_EIO,
                                   "http server: listen on %s: %s", opts->listen,
                                   uv_strerror(r));
      srv->freeing = 1;
      close_handles(srv);
      return st;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len) == 0) {
      if (bound.ss_family == AF_INET)
        srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
      else if (bound.ss_family == AF_INET6)
        srv->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }
  }
  if (o.tls) srv->tls = mesos__tls_config_ref(o.tls);
  *out = srv;
  return MESOS_OK;
}

uint16_t mesos__http_server_port(const mesos__http_server *srv) { return srv->port; }

uint32_t mesos__http_server_connections(const mesos__http_server *srv) { return srv->nconns; }

mesos_status mesos__http_server_route(mesos__http_server *srv, const char *method,
                                      const char *path, int prefix, mesos__http_handler handler,
                                      void *ud) {
  if (srv == NULL || path == NULL || handler == NULL || path[0] != '/') return MESOS_EINVAL;
  prefix = prefix ? 1 : 0;
  for (size_t i = 0; i < srv->nroutes; i++) {
    const route *rt = &srv->routes[i];
    int same_method = (rt->method == NULL && method == NULL) ||
                      (rt->method && method && strcmp(rt->method, method) == 0);
    if (same_method && rt->prefix == prefix && strcmp(rt->path, path) == 0) return MESOS_EEXIST;
  }
  if (srv->nroutes == srv->routes_cap) {
    size_t cap = srv->routes_cap ? srv->routes_cap * 2 : 16;
    route *n = mesos__realloc(srv->routes, cap * sizeof *n);
    if (n == NULL) return MESOS_ENOMEM;
    srv->routes = n;
    srv->routes_cap = cap;
  }
  route *rt = &srv->routes[srv->nroutes];
  rt->method = method ? mesos__strdup(method) : NULL;
  rt->path = mesos__strdup(path);
  if (rt->path == NULL || (method && rt->method == NULL)) {
    mesos__free(rt->method);
    mesos__free(rt->path);
    return MESOS_ENOMEM;
  }
  rt->plen = strlen(path);
  rt->prefix = prefix;
  rt->handler = handler;
  rt->ud = ud;
  srv->nroutes++;
  return MESOS_OK;
}

static void grace_cb(uv_timer_t *t) {
  mesos__http_server *srv = t->data;
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &srv->conns) {
    conn *c = mesos__container_of(it, conn, node);
    LOG_DEBUG("http: %s: shutdown grace period over; closing", conn_peer(c));
    conn_close(c, 0);
  }
}

void mesos__http_server_shutdown(mesos__http_server *srv, uint32_t grace_ms,
                                 void (*done)(void *ud), void *ud) {
  if (srv == NULL || srv->shutting_down || srv->freeing) return;
  srv->shutting_down = 1;
  srv->done = done;
  srv->done_ud = ud;
  if (srv->listening) {
    srv->listening = 0;
    uv_close((uv_handle_t *)&srv->listener, handle_closed_cb);
  }
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &srv->conns) {
    conn *c = mesos__container_of(it, conn, node);
    if (c->io_closed || c->rejected) continue;
    switch (c->state) {
    case C_IDLE:
      conn_close(c, 1);
      break;
    case C_READING:
      c->close_after = 1; /* answered, then closed */
      break;
    case C_BUSY:
      c->close_after = 1;
      if (c->req.streaming) {
        /* The handler learns its stream is over (unless its abort
         * callback ends the stream itself, we do). */
        conn_abort(c);
        if (c->state == C_BUSY && c->req.streaming) (void)mesos__http_stream_end(&c->req);
      }
      break;
    case C_CLOSING:
      break;
    }
  }
  /* The grace timer keeps the loop alive: libuv runs no timers on a loop
   * whose only handles are inactive (paused) connections. */
  if (srv->nconns > 0) uv_timer_start(&srv->grace_timer, grace_cb, grace_ms, 0);
  srv_check_done(srv);
}

void mesos__http_server_free(mesos__http_server *srv) {
  if (srv == NULL || srv->freeing) return;
  srv->freeing = 1;
  close_handles(srv);
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &srv->zombies) {
    conn_free(mesos__container_of(it, conn, node));
  }
  MESOS__LIST_FOREACH_SAFE(it, tmp, &srv->conns) {
    conn *c = mesos__container_of(it, conn, node);
    if (c->state == C_BUSY) conn_abort(c);
    if (c->state == C_BUSY) req_reset(&c->req);
    if (c->fake) {
      conn_closed(c); /* no socket: done now */
    } else {
      c->state = C_CLOSING;
      c->io->close(c, 0); /* on_close frees it */
    }
  }
  srv_maybe_release(srv);
}

void mesos__http_respond_text(mesos__http_request *req, int status, const char *text) {
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "text/plain; charset=utf-8");
  mesos__http_respond(req, status, &h, text, strlen(text));
  mesos__http_headers_free(&h);
}
