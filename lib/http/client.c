/*
 * HTTP/1.1 client: connection pool, request writing, response parsing with
 * llhttp, redirects, retries and timeouts.
 *
 * Objects:
 *  - a call is one request as the user sees it, across redirects and the
 *    one retry; it owns copies of everything it needs to send again;
 *  - a conn is one mesos__stream plus its llhttp parser.  It serves at most
 *    one call at a time and goes back to the client's idle list after a
 *    complete response that allows keep-alive.
 *
 * Re-entrancy.  User callbacks (on_head, on_body, on_done) may send, cancel
 * and free the client.  The rules that keep that safe:
 *  - on_head and on_body run inside llhttp_execute().  Afterwards the
 *    parser callback looks only at the call (kept alive by a pin) and stops
 *    the parser if the call was cancelled or finished;
 *  - on_done never runs inside llhttp_execute(): message completion pauses
 *    the parser, and the caller of llhttp_execute() hands the connection
 *    back to the pool first, then finishes the call.  So a request sent
 *    from on_done may reuse the very connection that just answered;
 *  - after on_done returns nothing touches the client or the connection;
 *  - a conn's memory lives until its stream's on_close, which the stream
 *    always delivers from the loop, never inside the call that closed it.
 *  A call's memory is freed when on_done has returned and no pin is held.
 */
#include "http/client.h"

#include <arpa/inet.h>
#include <llhttp.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "http/stream.h"
#include "http/tls.h"
#include "http/url.h"
#include "loop/loop_int.h"
#include "mesos/version.h"

/* Addresses of one host name tried in turn when connecting fails (a name
 * such as localhost often maps to ::1 and 127.0.0.1; a server listens on
 * one of them). */
#define CLIENT_MAX_ADDRS 8

/* Bodies up to this size are copied behind the request head so a typical
 * API call leaves in one write(2); bigger ones are written on their own. */
#define CLIENT_COALESCE_MAX ((size_t)16 << 10)

/* Largest request head (request line plus header fields) the client
 * builds: the server side refuses heads above 64 KiB anyway. */
#define CLIENT_MAX_REQUEST_HEAD ((size_t)64 << 10)

/* Longest method name accepted (the longest registered one is 17). */
#define CLIENT_MAX_METHOD 32

enum conn_state { CONN_CONNECTING, CONN_BUSY, CONN_IDLE, CONN_CLOSED };

typedef struct conn {
  mesos__list all;       /* in client->conns */
  mesos__list idle_link; /* in client->idle while CONN_IDLE */
  mesos__http_client *client; /* NULL once the client is freed */
  mesos__stream *s;
  enum conn_state state;
  char *key; /* "http://host:port": what the pool matches on */
  llhttp_t parser;
  struct mesos__http_call *call;
  uint64_t idle_since;
  unsigned served; /* responses completed on this connection */
} conn;

enum call_phase { PH_RESOLVE, PH_CONNECT, PH_WAIT, PH_DONE };

struct resolve {
  uv_getaddrinfo_t req;
  struct mesos__http_call *call; /* NULL once the call no longer waits */
};

struct mesos__http_call {
  mesos__list link; /* in client->calls */
  mesos__http_client *client;
  mesos__http_client_cbs cbs;
  void *ud;

  /* the request, kept for redirects and the retry */
  char *method;
  mesos__url url;
  mesos__http_headers req_headers;
  char *body;
  size_t body_len;
  mesos__buf head; /* request line and header fields, ready to write */
  uint32_t timeout_ms, read_timeout_ms;
  int max_redirects;
  int stream;
  int idempotent;
  int req_close; /* the caller asked for Connection: close */
  int redirects;
  int retried;

  /* the current attempt */
  enum call_phase phase;
  conn *conn;
  struct resolve *resolve;
  struct sockaddr_storage addrs[CLIENT_MAX_ADDRS];
  size_t naddrs, next_addr;
  mesos_error *connect_err; /* last address's failure, for the message */
  int sent;      /* the request reached the socket */
  int got_bytes; /* some response byte arrived */

  /* the response being parsed */
  mesos__http_response resp;
  mesos__buf field, value;
  size_t head_bytes;
  mesos__buf body_buf;
  int interim;  /* the message being parsed is a 1xx */
  int head_done;
  int head_reported;
  int redirect_pending;
  int msg_done;
  int keep_alive;
  mesos_status fail_status; /* set by a parser callback that stopped it */
  mesos_error *fail_err;

  /* time */
  mesos_timer *timer;
  uint64_t started_ms, connect_started_ms, last_read_ms;
  int paused;

  int cancelled;
  int finished;
  int pins;
};

struct mesos__http_client {
  mesos_loop *loop;
  mesos__http_client_options o;
  char *user_agent;
  mesos__tls_config *tls;
  mesos__list conns;
  mesos__list idle; /* oldest first */
  mesos__list calls;
  mesos_timer *idle_timer;
  int freeing;
};

static const llhttp_settings_t parser_settings;
static void call_finish(struct mesos__http_call *k, mesos_status st, mesos_error *e);
static mesos_status call_dispatch(struct mesos__http_call *k, int allow_pool, mesos_error **err);
static void conn_close(conn *cn);
static void call_complete(struct mesos__http_call *k);
static mesos_status call_build_head(struct mesos__http_call *k, mesos_error **err);
static mesos_status call_connect_next(struct mesos__http_call *k, const char *key,
                                      mesos_error **err);

/* ------------------------------------------------------------ helpers */

/* The loop's clock, refreshed first: a call may start long after the loop
 * last woke up (a host that blocked between iterations), and a deadline
 * computed from a stale clock would fire at once. */
static uint64_t loop_now(mesos_loop *loop) {
  uv_loop_t *uv = mesos__loop_uv(loop);
  uv_update_time(uv);
  return uv_now(uv);
}

static uint64_t now_ms(const mesos__http_client *c) { return loop_now(c->loop); }

static int is_tchar(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
    return 1;
  return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int is_token(const char *s, size_t max) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!is_tchar(s[n]) || n >= max) return 0;
  return n > 0;
}

static int method_is(const struct mesos__http_call *k, const char *m) {
  return strcmp(k->method, m) == 0;
}

/* ------------------------------------------------------------ the pool */

static void idle_timer_cb(mesos_timer *t, void *ud);

static void idle_timer_arm(mesos__http_client *c) {
  if (mesos__list_empty(&c->idle)) {
    mesos_timer_stop(c->idle_timer);
    return;
  }
  conn *oldest = mesos__container_of(c->idle.next, conn, idle_link);
  uint64_t due = oldest->idle_since + c->o.idle_timeout_ms, now = now_ms(c);
  mesos_timer_start(c->idle_timer, due > now ? due - now : 0, 0);
}

static void idle_timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__http_client *c = ud;
  uint64_t now = now_ms(c);
  while (!mesos__list_empty(&c->idle)) {
    conn *oldest = mesos__container_of(c->idle.next, conn, idle_link);
    if (oldest->idle_since + c->o.idle_timeout_ms > now) break;
    LOG_DEBUG("http client: closing idle connection to %s", oldest->key);
    conn_close(oldest);
  }
  idle_timer_arm(c);
}

/* Takes the most recently used idle connection for `key` (the older ones
 * are left to time out first). */
static conn *pool_take(mesos__http_client *c, const char *key) {
  for (mesos__list *it = c->idle.prev; it != &c->idle; it = it->prev) {
    conn *cn = mesos__container_of(it, conn, idle_link);
    if (strcmp(cn->key, key) == 0) {
      mesos__list_remove(&cn->idle_link);
      cn->state = CONN_BUSY;
      return cn;
    }
  }
  return NULL;
}

/* Puts a connection that finished a response into the idle pool, closing
 * the oldest idle one to the same place when there are too many. */
static void pool_put(conn *cn) {
  mesos__http_client *c = cn->client;
  if (c == NULL || c->freeing) {
    conn_close(cn);
    return;
  }
  uint32_t same = 0;
  conn *oldest = NULL;
  mesos__list *it;
  for (it = c->idle.next; it != &c->idle; it = it->next) {
    conn *o = mesos__container_of(it, conn, idle_link);
    if (strcmp(o->key, cn->key) == 0) {
      if (oldest == NULL) oldest = o;
      same++;
    }
  }
  if (same >= c->o.max_idle_per_host && oldest) conn_close(oldest);
  cn->state = CONN_IDLE;
  cn->call = NULL;
  cn->idle_since = now_ms(c);
  mesos__list_insert_tail(&c->idle, &cn->idle_link);
  idle_timer_arm(c);
}

/* ------------------------------------------------------------ connections */

static void conn_close(conn *cn) {
  if (cn->state == CONN_CLOSED) return;
  if (cn->state == CONN_IDLE) mesos__list_remove(&cn->idle_link);
  cn->state = CONN_CLOSED;
  cn->call = NULL;
  /* Not graceful: either the response is complete and nothing is left to
   * say, or it is cut and the connection is unusable anyway. */
  if (cn->s) mesos__stream_close(cn->s, 0);
}

static void conn_free(conn *cn) {
  if (cn->client) mesos__list_remove(&cn->all);
  mesos__free(cn->key);
  mesos__free(cn);
}

static void call_response_reset(struct mesos__http_call *k) {
  mesos__http_headers_free(&k->resp.headers);
  k->resp.status = 0;
  k->resp.http_minor = 0;
  k->resp.body = NULL;
  k->resp.body_len = 0;
  mesos__buf_clear(&k->field);
  mesos__buf_clear(&k->value);
  mesos__buf_free(&k->body_buf);
  k->head_bytes = 0;
  k->interim = 0;
  k->head_done = 0;
  k->head_reported = 0;
  k->redirect_pending = 0;
  k->msg_done = 0;
  k->keep_alive = 0;
}

static void call_attach(struct mesos__http_call *k, conn *cn) {
  k->conn = cn;
  cn->call = k;
  llhttp_init(&cn->parser, HTTP_RESPONSE, &parser_settings);
  cn->parser.data = cn;
}

/* Where the retry-once rule for pooled connections applies: the server may
 * close an idle connection at the moment we reuse it, and then we cannot
 * know whether it saw the request.  Repeating is safe only when the method
 * is idempotent or the request never left. */
static int call_may_retry(const struct mesos__http_call *k, const conn *cn) {
  return !k->retried && cn->served > 0 && !k->got_bytes && (k->idempotent || !k->sent);
}

static void call_arm_timer(struct mesos__http_call *k);

/* Pausing stops reading the socket, which during connect would also stall
 * a TLS handshake; so a pause takes effect on the stream only once the
 * request is out, and is re-applied to each new connection. */
static void call_apply_pause(struct mesos__http_call *k) {
  if (k->conn == NULL || k->conn->s == NULL || k->phase != PH_WAIT) return;
  if (k->paused) mesos__stream_pause(k->conn->s);
  else mesos__stream_resume(k->conn->s);
}

static void call_write_request(struct mesos__http_call *k) {
  conn *cn = k->conn;
  k->phase = PH_WAIT;
  call_arm_timer(k);
  mesos_status st = mesos__stream_write(cn->s, k->head.data, k->head.len);
  if (st == MESOS_OK && k->body_len > CLIENT_COALESCE_MAX)
    st = mesos__stream_write(cn->s, k->body, k->body_len);
  /* A failed write has failed the stream: its on_close decides (retry or
   * error) with `sent` still 0. */
  if (st == MESOS_OK) k->sent = 1;
  if (k->paused) call_apply_pause(k);
}

static void conn_on_connect(mesos__stream *s, mesos_status status, void *ud) {
  (void)s;
  conn *cn = ud;
  if (status != MESOS_OK) return; /* on_close follows with the reason */
  struct mesos__http_call *k = cn->call;
  if (cn->state != CONN_CONNECTING) return;
  cn->state = CONN_BUSY;
  if (k == NULL) {
    conn_close(cn);
    return;
  }
  mesos_error_free(k->connect_err);
  k->connect_err = NULL;
  call_write_request(k);
}

/* The request's connection ended before its response was complete. */
static void call_conn_lost(struct mesos__http_call *k, conn *cn, mesos_status why,
                           const mesos_error *err) {
  k->conn = NULL;
  const char *msg = err ? mesos_error_message(err) : mesos_status_str(why);
  mesos_error *e = NULL;
  if (k->phase == PH_CONNECT) {
    /* Keep the reason and try the host's next address. */
    mesos_status code = why == MESOS_ECLOSED ? MESOS_EIO : why;
    mesos__err(&e, code, "%s %s: %s%s", k->method, k->url.href,
               why == MESOS_ECLOSED ? "connection closed during connect to " : "",
               why == MESOS_ECLOSED ? mesos__stream_peer(cn->s) : msg);
    mesos_error_free(k->connect_err);
    k->connect_err = e;
    e = NULL;
    if (k->next_addr < k->naddrs) {
      mesos_status st = call_connect_next(k, cn->key, &e);
      if (st == MESOS_OK) return;
      call_finish(k, st, e);
      return;
    }
    e = k->connect_err;
    k->connect_err = NULL;
    call_finish(k, mesos_error_code(e), e);
    return;
  }
  if (why == MESOS_ECLOSED && k->head_done && !k->msg_done &&
      llhttp_message_needs_eof(&cn->parser)) {
    /* A body delimited by the end of the connection is complete now.
     * llhttp_finish runs only on_message_complete, no user callback. */
    llhttp_finish(&cn->parser);
    cn->call = NULL;
    if (k->msg_done) {
      k->keep_alive = 0;
      call_complete(k);
      return;
    }
  }
  if (call_may_retry(k, cn)) {
    LOG_DEBUG("http client: %s %s: pooled connection to %s closed (%s); retrying on a new one",
              k->method, k->url.href, cn->key, msg);
    k->retried = 1;
    mesos_status st = call_dispatch(k, 0, &e);
    if (st != MESOS_OK) call_finish(k, st, e);
    return;
  }
  if (why == MESOS_ECLOSED) {
    mesos__err(&e, MESOS_EPROTO,
               "%s %s: connection closed by the server before the response was complete",
               k->method, k->url.href);
    call_finish(k, MESOS_EPROTO, e);
  } else {
    mesos__err(&e, why, "%s %s: %s", k->method, k->url.href, msg);
    call_finish(k, why, e);
  }
}

static void conn_on_close(mesos__stream *s, mesos_status why, const mesos_error *err, void *ud) {
  (void)s;
  conn *cn = ud;
  if (cn->state == CONN_IDLE) mesos__list_remove(&cn->idle_link);
  cn->state = CONN_CLOSED;
  struct mesos__http_call *k = cn->call;
  /* cn->call stays set while call_conn_lost runs: a close-delimited body
   * is completed through the parser, whose callbacks find the call there. */
  if (k && k->conn == cn && !k->finished) call_conn_lost(k, cn, why, err);
  cn->call = NULL;
  cn->s = NULL;
  conn_free(cn);
}

static void conn_on_data(mesos__stream *s, const char *data, size_t len, void *ud);

static const mesos__stream_cbs conn_cbs = {
    .on_data = conn_on_data,
    .on_connect = conn_on_connect,
    .on_drain = NULL,
    .on_close = conn_on_close,
};

/* The TLS config for https: the caller's, or one made on first use that
 * verifies against the system bundle. */
static mesos_status client_tls(mesos__http_client *c, mesos__tls_config **out,
                               mesos_error **err) {
  if (c->tls == NULL) {
    mesos__tls_config_options o;
    memset(&o, 0, sizeof o);
    o.verify_peer = 1;
    mesos_status st = mesos__tls_config_new(&c->tls, &o, err);
    if (st != MESOS_OK) return st;
  }
  *out = c->tls;
  return MESOS_OK;
}

/* Opens a connection to the next address of the call's host. */
static mesos_status call_connect_next(struct mesos__http_call *k, const char *key,
                                      mesos_error **err) {
  mesos__http_client *c = k->client;
  mesos__tls_config *tls = NULL;
  if (k->url.tls) {
    mesos_error *e = NULL;
    mesos_status st = client_tls(c, &tls, &e);
    if (st != MESOS_OK)
      return mesos__err_wrap(err, st, e, "%s %s: TLS set-up: %s", k->method, k->url.href,
                             mesos_error_message(e));
  }
  mesos_error *last = NULL;
  while (k->next_addr < k->naddrs) {
    const struct sockaddr *a = (const struct sockaddr *)&k->addrs[k->next_addr++];
    conn *cn = MESOS__NEW(conn);
    char *kc = cn ? mesos__strdup(key) : NULL;
    if (kc == NULL) {
      mesos__free(cn);
      mesos_error_free(last);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    cn->key = kc;
    cn->client = c;
    cn->state = CONN_CONNECTING;
    mesos__list_init(&cn->idle_link);
    mesos_error *e = NULL;
    mesos_status st = mesos__stream_connect(&cn->s, c->loop, a, tls, k->url.host, &conn_cbs, cn, &e);
    if (st == MESOS_OK) {
      mesos__list_insert_tail(&c->conns, &cn->all);
      mesos_error_free(last);
      call_attach(k, cn);
      k->phase = PH_CONNECT;
      k->connect_started_ms = now_ms(c);
      call_arm_timer(k);
      return MESOS_OK;
    }
    mesos__free(cn->key);
    mesos__free(cn);
    mesos_error_free(last);
    last = e;
  }
  if (last == NULL) return mesos__err(err, MESOS_EIO, "%s %s: no address to connect to",
                                      k->method, k->url.href);
  mesos_status code = mesos_error_code(last);
  mesos__err_wrap(err, code, last, "%s %s: %s", k->method, k->url.href, mesos_error_message(last));
  return code;
}

static void resolve_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct resolve *r = mesos__container_of(req, struct resolve, req);
  struct mesos__http_call *k = r->call;
  mesos__free(r);
  if (k == NULL) {
    if (res) uv_freeaddrinfo(res);
    return;
  }
  k->resolve = NULL;
  mesos_error *e = NULL;
  if (status != 0) {
    if (res) uv_freeaddrinfo(res);
    mesos_status code = (status == UV_EAI_NONAME || status == UV_EAI_NODATA) ? MESOS_ENOTFOUND
                                                                             : MESOS_EIO;
    mesos__err(&e, code, "%s %s: cannot resolve host '%s': %s", k->method, k->url.href,
               k->url.host, uv_strerror(status));
    call_finish(k, code, e);
    return;
  }
  k->naddrs = k->next_addr = 0;
  for (struct addrinfo *ai = res; ai && k->naddrs < CLIENT_MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
      struct sockaddr_in *a = (struct sockaddr_in *)&k->addrs[k->naddrs++];
      memcpy(a, ai->ai_addr, sizeof *a);
      a->sin_port = htons(k->url.port);
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&k->addrs[k->naddrs++];
      memcpy(a, ai->ai_addr, sizeof *a);
      a->sin6_port = htons(k->url.port);
    }
  }
  uv_freeaddrinfo(res);
  char key[MESOS__URL_MAX + 16];
  snprintf(key, sizeof key, "%s://%s", k->url.tls ? "https" : "http", k->url.authority);
  mesos_status st = call_connect_next(k, key, &e);
  if (st != MESOS_OK) call_finish(k, st, e);
}

/* Starts (or restarts, after a redirect or for the retry) the current
 * attempt: a pooled connection if allowed and there is one, else a new
 * connection, resolving the host name first when it is not an address. */
static mesos_status call_dispatch(struct mesos__http_call *k, int allow_pool, mesos_error **err) {
  mesos__http_client *c = k->client;
  k->sent = 0;
  k->got_bytes = 0;
  call_response_reset(k);
  char key[MESOS__URL_MAX + 16];
  snprintf(key, sizeof key, "%s://%s", k->url.tls ? "https" : "http", k->url.authority);
  if (allow_pool) {
    conn *cn = pool_take(c, key);
    if (cn) {
      idle_timer_arm(c);
      call_attach(k, cn);
      call_write_request(k);
      return MESOS_OK;
    }
  }
  /* A literal address needs no resolver. */
  memset(k->addrs, 0, sizeof k->addrs);
  k->naddrs = k->next_addr = 0;
  if (k->url.is_ipv6) {
    if (uv_ip6_addr(k->url.host, k->url.port, (struct sockaddr_in6 *)&k->addrs[0]) == 0)
      k->naddrs = 1;
  } else if (uv_ip4_addr(k->url.host, k->url.port, (struct sockaddr_in *)&k->addrs[0]) == 0) {
    struct in_addr probe;
    /* uv_ip4_addr accepts shorthand such as "10.1"; only a dotted quad is
     * taken as an address, anything else is a name. */
    if (inet_pton(AF_INET, k->url.host, &probe) == 1) k->naddrs = 1;
  }
  if (k->naddrs == 1) {
    k->connect_started_ms = now_ms(c);
    return call_connect_next(k, key, err);
  }
  struct resolve *r = MESOS__NEW(struct resolve);
  if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  r->call = k;
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(mesos__loop_uv(c->loop), &r->req, resolve_cb, k->url.host, NULL, &hints);
  if (rc != 0) {
    mesos__free(r);
    return mesos__err(err, MESOS_EIO, "%s %s: cannot resolve host '%s': %s", k->method,
                      k->url.href, k->url.host, uv_strerror(rc));
  }
  k->resolve = r;
  k->phase = PH_RESOLVE;
  k->connect_started_ms = now_ms(c);
  call_arm_timer(k);
  return MESOS_OK;
}

/* ------------------------------------------------------------ timeouts */

static uint32_t connect_timeout(const struct mesos__http_call *k) {
  return k->client ? k->client->o.connect_timeout_ms : MESOS__HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
}

/* One timer per call, set to the nearest deadline that applies now:
 * connecting (resolve, TCP, TLS), the whole request (buffered calls, and
 * streaming calls until their head), and the read timeout (streaming
 * calls after the head, not while paused).  Body bytes only move
 * last_read_ms; the timer re-arms itself when it finds the deadline moved,
 * which keeps a busy stream from restarting a timer per chunk. */
static int call_next_deadline(const struct mesos__http_call *k, uint64_t *due) {
  uint64_t d = UINT64_MAX;
  if (k->phase == PH_RESOLVE || k->phase == PH_CONNECT) {
    uint64_t t = k->connect_started_ms + connect_timeout(k);
    if (t < d) d = t;
  }
  if (!k->head_reported && k->timeout_ms > 0) {
    uint64_t t = k->started_ms + k->timeout_ms;
    if (t < d) d = t;
  }
  if (k->head_reported && k->read_timeout_ms > 0 && !k->paused) {
    uint64_t t = k->last_read_ms + k->read_timeout_ms;
    if (t < d) d = t;
  }
  *due = d;
  return d != UINT64_MAX;
}

static void call_arm_timer(struct mesos__http_call *k) {
  if (k->cancelled || k->finished) return;
  uint64_t due, now = loop_now(k->client->loop);
  if (!call_next_deadline(k, &due)) {
    mesos_timer_stop(k->timer);
    return;
  }
  mesos_timer_start(k->timer, due > now ? due - now : 0, 0);
}

static void call_timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  struct mesos__http_call *k = ud;
  mesos_error *e = NULL;
  if (k->finished) return;
  if (k->cancelled) {
    mesos__err(&e, MESOS_ECLOSED, "%s %s: cancelled", k->method, k->url.href);
    call_finish(k, MESOS_ECLOSED, e);
    return;
  }
  uint64_t now = loop_now(k->client->loop);
  if ((k->phase == PH_RESOLVE || k->phase == PH_CONNECT) &&
      now >= k->connect_started_ms + connect_timeout(k)) {
    mesos__err(&e, MESOS_ETIMEDOUT, "%s %s: connecting to %s timed out after %u ms", k->method,
               k->url.href, k->url.authority, connect_timeout(k));
  } else if (!k->head_reported && k->timeout_ms > 0 && now >= k->started_ms + k->timeout_ms) {
    mesos__err(&e, MESOS_ETIMEDOUT, "%s %s: no complete response within %u ms", k->method,
               k->url.href, k->timeout_ms);
  } else if (k->head_reported && k->read_timeout_ms > 0 && !k->paused &&
             now >= k->last_read_ms + k->read_timeout_ms) {
    mesos__err(&e, MESOS_ETIMEDOUT, "%s %s: no data from the server for %u ms", k->method,
               k->url.href, k->read_timeout_ms);
  } else {
    call_arm_timer(k);
    return;
  }
  call_finish(k, MESOS_ETIMEDOUT, e);
}

/* ------------------------------------------------------------ finishing */

static void call_free(struct mesos__http_call *k) {
  mesos__free(k->method);
  mesos__url_free(&k->url);
  mesos__http_headers_free(&k->req_headers);
  mesos__free(k->body);
  mesos__buf_free(&k->head);
  mesos__http_headers_free(&k->resp.headers);
  mesos__buf_free(&k->field);
  mesos__buf_free(&k->value);
  mesos__buf_free(&k->body_buf);
  mesos_error_free(k->fail_err);
  mesos_error_free(k->connect_err);
  mesos_timer_free(k->timer);
  mesos__free(k);
}

static void call_unpin(struct mesos__http_call *k) {
  if (--k->pins == 0 && k->finished) call_free(k);
}

/* Closes the call's connection (never back to the pool: it is mid-call)
 * and abandons a name lookup in flight (its result finds no call). */
static void call_drop_io(struct mesos__http_call *k) {
  if (k->conn) {
    conn *cn = k->conn;
    k->conn = NULL;
    cn->call = NULL;
    conn_close(cn);
  }
  if (k->resolve) {
    k->resolve->call = NULL;
    uv_cancel((uv_req_t *)&k->resolve->req);
    k->resolve = NULL;
  }
}

/* Ends the call: detaches (and closes) its connection, stops everything
 * pending, reports on_done, and frees the call unless someone up the stack
 * still holds a pin.  Takes ownership of `e`. */
static void call_finish(struct mesos__http_call *k, mesos_status st, mesos_error *e) {
  if (k->finished) {
    mesos_error_free(e);
    return;
  }
  k->finished = 1;
  k->phase = PH_DONE;
  call_drop_io(k);
  mesos_timer_stop(k->timer);
  mesos__list_remove(&k->link);
  k->client = NULL;
  const mesos__http_response *resp = NULL;
  if (k->head_done && !k->interim) {
    if (!k->stream) {
      /* A buffer that was only reserved holds no NUL yet. */
      k->resp.body = k->body_buf.len ? k->body_buf.data : "";
      k->resp.body_len = k->body_buf.len;
    }
    k->resp.url = k->url.href;
    resp = &k->resp;
  }
  if (st != MESOS_OK)
    LOG_DEBUG("http client: %s", e ? mesos_error_message(e) : mesos_status_str(st));
  k->pins++;
  k->cbs.on_done(k, st, resp, st == MESOS_OK ? NULL : e, k->ud);
  mesos_error_free(e);
  call_unpin(k);
}

/* The response is complete (parser paused on message completion, or the
 * connection's end delimited the body): hand the connection back or close
 * it, then follow a redirect or report the result. */
static void call_complete(struct mesos__http_call *k) {
  conn *cn = k->conn;
  if (cn) {
    k->conn = NULL;
    cn->call = NULL;
    cn->served++;
    /* An idle connection must read, to notice the server closing it. */
    if (k->paused && cn->s) mesos__stream_resume(cn->s);
    if (k->keep_alive && !k->req_close && cn->state == CONN_BUSY) pool_put(cn);
    else conn_close(cn);
  }
  if (!k->redirect_pending) {
    call_finish(k, MESOS_OK, NULL);
    return;
  }
  mesos_error *e = NULL, *cause = NULL;
  const char *loc = mesos__http_headers_get(&k->resp.headers, "Location");
  mesos__url next;
  if (k->redirects >= k->max_redirects) {
    mesos__err(&e, MESOS_ELIMIT, "%s %s: more than %d redirects (last Location: %.200s)",
               k->method, k->url.href, k->max_redirects, loc);
    call_finish(k, MESOS_ELIMIT, e);
    return;
  }
  if (mesos__url_resolve(&next, &k->url, loc, &cause) != MESOS_OK) {
    /* A Location we cannot follow is the server's fault, unless we ran
     * out of memory following it. */
    mesos_status code = mesos_error_code(cause) == MESOS_ENOMEM ? MESOS_ENOMEM : MESOS_EPROTO;
    mesos__err_wrap(&e, code, cause, "%s %s: bad redirect: %s", k->method, k->url.href,
                    mesos_error_message(cause));
    mesos__url_free(&next);
    call_finish(k, code, e);
    return;
  }
  if (!mesos__url_same_origin(&next, &k->url)) {
    /* Credentials meant for one server are not handed to another. */
    size_t out = 0;
    for (size_t i = 0; i < k->req_headers.count; i++) {
      mesos__http_header *h = &k->req_headers.items[i];
      if (strcasecmp(h->name, "Authorization") == 0 || strcasecmp(h->name, "Cookie") == 0) {
        mesos__free(h->name);
        mesos__free(h->value);
        continue;
      }
      k->req_headers.items[out++] = *h;
    }
    k->req_headers.count = out;
  }
  LOG_DEBUG("http client: %s %s: %d redirect to %s", k->method, k->url.href, k->resp.status,
            next.href);
  mesos__url_free(&k->url);
  k->url = next;
  k->redirects++;
  k->retried = 0;
  k->naddrs = k->next_addr = 0;
  mesos_status st = call_build_head(k, &e);
  if (st == MESOS_OK) st = call_dispatch(k, 1, &e);
  if (st != MESOS_OK) call_finish(k, st, e);
}

/* ------------------------------------------------------------ parsing */

/* Stops the parser with a failure the caller of llhttp_execute reports. */
static int parse_fail(struct mesos__http_call *k, mesos_status st, mesos_error *e) {
  if (k->fail_status == MESOS_OK) {
    k->fail_status = st;
    k->fail_err = e;
  } else {
    mesos_error_free(e);
  }
  return HPE_USER;
}

static struct mesos__http_call *parser_call(llhttp_t *p) {
  conn *cn = p->data;
  return cn->call;
}

static int head_account(struct mesos__http_call *k, size_t len) {
  size_t max = k->client->o.max_header_bytes;
  if (!mesos__size_add(&k->head_bytes, k->head_bytes, len) || k->head_bytes > max) {
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_ELIMIT, "%s %s: response head larger than %zu bytes", k->method,
               k->url.href, max);
    return parse_fail(k, MESOS_ELIMIT, e);
  }
  return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  return head_account(k, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  if (head_account(k, len)) return HPE_USER;
  if (mesos__buf_append(&k->field, at, len) != MESOS_OK)
    return parse_fail(k, MESOS_ENOMEM, NULL);
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  if (head_account(k, len)) return HPE_USER;
  if (mesos__buf_append(&k->value, at, len) != MESOS_OK)
    return parse_fail(k, MESOS_ENOMEM, NULL);
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  if (k->resp.headers.count >= MESOS__HTTP_CLIENT_MAX_HEADER_FIELDS) {
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_ELIMIT, "%s %s: response has more than %d header fields", k->method,
               k->url.href, MESOS__HTTP_CLIENT_MAX_HEADER_FIELDS);
    return parse_fail(k, MESOS_ELIMIT, e);
  }
  /* Each field costs its ": " and CRLF too, so thousands of empty fields
   * count against the head limit. */
  if (head_account(k, 4)) return HPE_USER;
  mesos_status st = mesos__http_headers_add(&k->resp.headers, k->field.data ? k->field.data : "",
                                            k->field.len, k->value.data ? k->value.data : "",
                                            k->value.len);
  mesos__buf_clear(&k->field);
  mesos__buf_clear(&k->value);
  if (st != MESOS_OK) return parse_fail(k, st, NULL);
  return 0;
}

static int on_headers_complete(llhttp_t *p) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  int status = llhttp_get_status_code(p);
  k->resp.status = status;
  k->resp.http_minor = llhttp_get_http_minor(p);
  if (status == 101) {
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_EPROTO, "%s %s: unexpected 101 Switching Protocols", k->method,
               k->url.href);
    return parse_fail(k, MESOS_EPROTO, e);
  }
  if (status >= 100 && status < 200) {
    k->interim = 1; /* 100 Continue, 102, 103: the real answer follows */
    return 0;
  }
  k->head_done = 1;
  int skip_body = method_is(k, "HEAD");
  if ((status == 307 || status == 308) && k->max_redirects >= 0 &&
      mesos__http_headers_get(&k->resp.headers, "Location") != NULL) {
    k->redirect_pending = 1;
    return skip_body;
  }
  if (!k->stream && !skip_body && (p->flags & F_CONTENT_LENGTH)) {
    /* The length is announced: refuse a body that cannot fit before
     * reading it, and size the buffer once instead of doubling it. */
    if (p->content_length > k->body_buf.max) {
      mesos_error *e = NULL;
      mesos__err(&e, MESOS_ELIMIT,
                 "%s %s: response body larger than %zu bytes (Content-Length: %llu)",
                 k->method, k->url.href, k->body_buf.max, (unsigned long long)p->content_length);
      return parse_fail(k, MESOS_ELIMIT, e);
    }
    if (mesos__buf_reserve(&k->body_buf, (size_t)p->content_length) != MESOS_OK)
      return parse_fail(k, MESOS_ENOMEM, NULL);
  }
  if (k->stream) {
    k->head_reported = 1;
    k->last_read_ms = loop_now(k->client->loop);
    call_arm_timer(k);
    if (k->cbs.on_head) {
      k->resp.url = k->url.href;
      k->cbs.on_head(k, &k->resp, k->ud);
      if (k->finished || k->cancelled) return -1;
    }
  }
  return skip_body;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  if (k->redirect_pending) return 0; /* the body of a redirect is dropped */
  if (k->stream) {
    if (k->cbs.on_body) {
      k->cbs.on_body(k, at, len, k->ud);
      if (k->finished || k->cancelled) return HPE_USER;
    }
    return 0;
  }
  mesos_status st = mesos__buf_append(&k->body_buf, at, len);
  if (st == MESOS_ELIMIT) {
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_ELIMIT, "%s %s: response body larger than %zu bytes", k->method,
               k->url.href, k->body_buf.max);
    return parse_fail(k, MESOS_ELIMIT, e);
  }
  if (st != MESOS_OK) return parse_fail(k, st, NULL);
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct mesos__http_call *k = parser_call(p);
  if (k == NULL) return -1;
  if (k->interim) {
    mesos__http_headers_free(&k->resp.headers);
    k->interim = 0;
    k->head_bytes = 0;
    return 0;
  }
  k->msg_done = 1;
  k->keep_alive = llhttp_should_keep_alive(p);
  /* Pause: completion is handled after llhttp_execute returns, never
   * inside it (see the top of this file). */
  return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_on_data(mesos__stream *s, const char *data, size_t len, void *ud) {
  (void)s;
  conn *cn = ud;
  struct mesos__http_call *k = cn->call;
  if (k == NULL || cn->state != CONN_BUSY) {
    /* A server must not speak without being asked: whatever this is, the
     * connection cannot be trusted for the next request. */
    if (cn->client) LOG_DEBUG("http client: unexpected %zu bytes from %s; closing", len, cn->key);
    conn_close(cn);
    return;
  }
  k->got_bytes = 1;
  k->last_read_ms = loop_now(k->client->loop);
  k->pins++;
  llhttp_errno_t pe = llhttp_execute(&cn->parser, data, len);
  if (k->finished || k->cancelled || k->conn != cn) {
    call_unpin(k);
    return;
  }
  if (pe == HPE_PAUSED && k->msg_done) {
    /* Bytes after the response were not asked for (no pipelining): the
     * connection is not reused. */
    const char *pos = llhttp_get_error_pos(&cn->parser);
    if (pos == NULL || pos != data + len) k->keep_alive = 0;
    k->pins--;
    call_complete(k);
    return;
  }
  if (pe != HPE_OK) {
    mesos_status st = k->fail_status;
    mesos_error *e = k->fail_err;
    k->fail_status = MESOS_OK;
    k->fail_err = NULL;
    if (st == MESOS_OK) {
      st = MESOS_EPROTO;
      mesos__err(&e, st, "%s %s: malformed response from %s: %s (%s)", k->method, k->url.href,
                 mesos__stream_peer(cn->s), llhttp_errno_name(pe),
                 llhttp_get_error_reason(&cn->parser) ? llhttp_get_error_reason(&cn->parser) : "");
    } else if (e == NULL) {
      mesos__err(&e, st, "%s %s: %s", k->method, k->url.href, mesos_status_str(st));
    }
    call_finish(k, st, e);
  }
  call_unpin(k);
}

/* ------------------------------------------------------------ requests */

static int header_forbidden(const char *name) {
  static const char *const names[] = {"Host", "Content-Length", "Transfer-Encoding", "TE",
                                      "Upgrade"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i]) == 0) return 1;
  return 0;
}

static int value_ok(const char *v) {
  for (; *v; v++) {
    unsigned char ch = (unsigned char)*v;
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return 0;
  }
  return 1;
}

/* Writes the request line and header fields for the current URL. */
static mesos_status call_build_head(struct mesos__http_call *k, mesos_error **err) {
  mesos__buf *b = &k->head;
  mesos__buf_free(b);
  mesos__buf_init(b, CLIENT_MAX_REQUEST_HEAD + CLIENT_COALESCE_MAX);
  mesos_status st = mesos__buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", k->method,
                                      k->url.target, k->url.host_header);
  int have_ua = mesos__http_headers_get(&k->req_headers, "User-Agent") != NULL;
  if (st == MESOS_OK && !have_ua)
    st = mesos__buf_printf(b, "User-Agent: %s\r\n", k->client->user_agent);
  for (size_t i = 0; st == MESOS_OK && i < k->req_headers.count; i++)
    st = mesos__buf_printf(b, "%s: %s\r\n", k->req_headers.items[i].name,
                           k->req_headers.items[i].value);
  int wants_length = k->body_len > 0 || method_is(k, "POST") || method_is(k, "PUT") ||
                     method_is(k, "PATCH");
  if (st == MESOS_OK && wants_length)
    st = mesos__buf_printf(b, "Content-Length: %zu\r\n", k->body_len);
  if (st == MESOS_OK) st = mesos__buf_puts(b, "\r\n");
  if (st == MESOS_OK && b->len > CLIENT_MAX_REQUEST_HEAD) st = MESOS_ELIMIT;
  if (st == MESOS_OK && k->body_len > 0 && k->body_len <= CLIENT_COALESCE_MAX)
    st = mesos__buf_append(b, k->body, k->body_len);
  if (st == MESOS_ELIMIT)
    return mesos__err(err, MESOS_EINVAL, "%s %s: request head larger than %zu bytes", k->method,
                      k->url.href, CLIENT_MAX_REQUEST_HEAD);
  if (st != MESOS_OK) return mesos__err(err, st, "out of memory");
  return MESOS_OK;
}

mesos_status mesos__http_client_send(mesos__http_client *c, const mesos__http_client_request *req,
                                     const mesos__http_client_cbs *cbs, void *ud,
                                     mesos__http_call **call_out, mesos_error **err) {
  if (call_out) *call_out = NULL;
  if (c == NULL || req == NULL || cbs == NULL || cbs->on_done == NULL)
    return mesos__err(err, MESOS_EINVAL, "http client: client, request and on_done are required");
  if (c->freeing) return mesos__err(err, MESOS_ECLOSED, "http client: client is being freed");
  const char *method = req->method ? req->method : "GET";
  if (!is_token(method, CLIENT_MAX_METHOD))
    return mesos__err(err, MESOS_EINVAL, "http client: bad method '%.40s'", method);
  if (strcasecmp(method, "CONNECT") == 0)
    return mesos__err(err, MESOS_EINVAL, "http client: CONNECT is not supported");
  /* One stream write carries the body, and libuv buffers hold 32-bit
   * lengths. */
  if (req->body_len > (size_t)UINT32_MAX - CLIENT_MAX_REQUEST_HEAD)
    return mesos__err(err, MESOS_EINVAL, "http client: request body of %zu bytes is too big",
                      req->body_len);
  if (req->body == NULL && req->body_len > 0)
    return mesos__err(err, MESOS_EINVAL, "http client: body is NULL but body_len is %zu",
                      req->body_len);
  const mesos__http_headers *hs = req->headers;
  for (size_t i = 0; hs && i < hs->count; i++) {
    const char *n = hs->items[i].name, *v = hs->items[i].value;
    if (n == NULL || v == NULL || !is_token(n, CLIENT_MAX_REQUEST_HEAD))
      return mesos__err(err, MESOS_EINVAL, "http client: bad header name '%.80s'",
                        n ? n : "(null)");
    if (header_forbidden(n))
      return mesos__err(err, MESOS_EINVAL, "http client: header '%s' is set by the client", n);
    if (!value_ok(v))
      return mesos__err(err, MESOS_EINVAL,
                        "http client: value of header '%s' holds a control character", n);
  }

  struct mesos__http_call *k = MESOS__NEW(struct mesos__http_call);
  if (k == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__list_init(&k->link);
  mesos__http_headers_init(&k->req_headers);
  mesos__http_headers_init(&k->resp.headers);
  mesos__buf_init(&k->head, 0);
  mesos__buf_init(&k->field, c->o.max_header_bytes);
  mesos__buf_init(&k->value, c->o.max_header_bytes);
  mesos__buf_init(&k->body_buf, c->o.max_body_bytes);
  k->client = c;
  k->cbs = *cbs;
  k->ud = ud;
  mesos_status st = mesos__url_parse(&k->url, req->url, err);
  if (st != MESOS_OK) goto fail;
  k->method = mesos__strdup(method);
  if (k->method == NULL) goto nomem;
  for (char *m = k->method; *m; m++)
    if (*m >= 'a' && *m <= 'z') *m = (char)(*m - 'a' + 'A');
  if (req->body_len > 0) {
    k->body = mesos__memdup(req->body, req->body_len);
    if (k->body == NULL) goto nomem;
    k->body_len = req->body_len;
  }
  if (mesos__http_headers_copy(&k->req_headers, hs) != MESOS_OK) goto nomem;
  const char *conn_hdr = mesos__http_headers_get(hs, "Connection");
  k->req_close = conn_hdr && mesos__http_has_token(conn_hdr, "close");
  static const char *const idem[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
  for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
    if (method_is(k, idem[i])) k->idempotent = 1;
  k->timeout_ms = req->timeout_ms ? req->timeout_ms : c->o.request_timeout_ms;
  k->read_timeout_ms = req->read_timeout_ms ? req->read_timeout_ms : c->o.read_timeout_ms;
  k->max_redirects = req->max_redirects ? req->max_redirects : c->o.max_redirects;
  k->stream = req->stream != 0;
  st = call_build_head(k, err);
  if (st != MESOS_OK) goto fail;
  st = mesos_timer_new(&k->timer, c->loop, call_timer_cb, k, err);
  if (st != MESOS_OK) goto fail;
  k->started_ms = now_ms(c);
  mesos__list_insert_tail(&c->calls, &k->link);
  st = call_dispatch(k, 1, err);
  if (st != MESOS_OK) {
    mesos__list_remove(&k->link);
    if (k->conn) {
      k->conn->call = NULL;
      conn_close(k->conn);
    }
    goto fail;
  }
  if (call_out) *call_out = k;
  return MESOS_OK;
nomem:
  st = mesos__err(err, MESOS_ENOMEM, "out of memory");
fail:
  call_free(k);
  return st;
}

void mesos__http_call_cancel(mesos__http_call *k) {
  if (k == NULL || k->finished || k->cancelled) return;
  k->cancelled = 1;
  call_drop_io(k);
  /* on_done from the loop: the caller may be deep inside on_body. */
  mesos_timer_start(k->timer, 0, 0);
}

void mesos__http_call_pause(mesos__http_call *k) {
  if (k == NULL || k->finished || k->cancelled || k->paused) return;
  k->paused = 1;
  call_apply_pause(k);
  call_arm_timer(k);
}

void mesos__http_call_resume(mesos__http_call *k) {
  if (k == NULL || k->finished || k->cancelled || !k->paused) return;
  k->paused = 0;
  k->last_read_ms = loop_now(k->client->loop);
  call_apply_pause(k);
  call_arm_timer(k);
}

/* ------------------------------------------------------------ the client */

mesos_status mesos__http_client_new(mesos__http_client **out, mesos_loop *loop,
                                    const mesos__http_client_options *opts, mesos_error **err) {
  *out = NULL;
  if (loop == NULL) return mesos__err(err, MESOS_EINVAL, "http client: loop is NULL");
  mesos__http_client *c = MESOS__NEW(mesos__http_client);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (opts) c->o = *opts;
  mesos__http_client_options *o = &c->o;
  if (!o->connect_timeout_ms) o->connect_timeout_ms = MESOS__HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  if (!o->request_timeout_ms) o->request_timeout_ms = MESOS__HTTP_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS;
  if (!o->idle_timeout_ms) o->idle_timeout_ms = MESOS__HTTP_CLIENT_DEFAULT_IDLE_TIMEOUT_MS;
  if (!o->max_idle_per_host) o->max_idle_per_host = MESOS__HTTP_CLIENT_DEFAULT_MAX_IDLE_PER_HOST;
  if (!o->max_header_bytes) o->max_header_bytes = MESOS__HTTP_CLIENT_DEFAULT_MAX_HEADER_BYTES;
  if (!o->max_body_bytes) o->max_body_bytes = MESOS__HTTP_CLIENT_DEFAULT_MAX_BODY_BYTES;
  if (!o->max_redirects) o->max_redirects = MESOS__HTTP_CLIENT_DEFAULT_MAX_REDIRECTS;
  c->loop = loop;
  mesos__list_init(&c->conns);
  mesos__list_init(&c->idle);
  mesos__list_init(&c->calls);
  char ua[64];
  snprintf(ua, sizeof ua, "libmesos-core/%s", MESOS_VERSION_STRING);
  c->user_agent = mesos__strdup(o->user_agent ? o->user_agent : ua);
  o->user_agent = NULL; /* never keep the caller's pointer */
  o->tls = NULL;
  if (c->user_agent == NULL) {
    mesos__free(c);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (!value_ok(c->user_agent)) {
    mesos__free(c->user_agent);
    mesos__free(c);
    return mesos__err(err, MESOS_EINVAL, "http client: user_agent holds a control character");
  }
  mesos_status st = mesos_timer_new(&c->idle_timer, loop, idle_timer_cb, c, err);
  if (st != MESOS_OK) {
    mesos__free(c->user_agent);
    mesos__free(c);
    return st;
  }
  if (opts && opts->tls) c->tls = mesos__tls_config_ref(opts->tls);
  *out = c;
  return MESOS_OK;
}

void mesos__http_client_free(mesos__http_client *c) {
  if (c == NULL || c->freeing) return;
  c->freeing = 1;
  while (!mesos__list_empty(&c->calls)) {
    struct mesos__http_call *k = mesos__container_of(c->calls.next, struct mesos__http_call, link);
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_ECLOSED, "%s %s: the HTTP client was freed", k->method, k->url.href);
    call_finish(k, MESOS_ECLOSED, e);
  }
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &c->conns) {
    conn *cn = mesos__container_of(it, conn, all);
    mesos__list_remove(&cn->all);
    conn_close(cn);
    cn->client = NULL;
  }
  mesos_timer_free(c->idle_timer);
  mesos__tls_config_unref(c->tls);
  mesos__free(c->user_agent);
  mesos__free(c);
}

size_t mesos__http_client_connections(const mesos__http_client *c) {
  size_t n = 0;
  for (const mesos__list *it = c->conns.next; it != &c->conns; it = it->next) {
    const conn *cn = mesos__container_of(it, conn, all);
    if (cn->state != CONN_CLOSED) n++;
  }
  return n;
}

size_t mesos__http_client_idle_connections(const mesos__http_client *c) {
  size_t n = 0;
  for (const mesos__list *it = c->idle.next; it != &c->idle; it = it->next) n++;
  return n;
}
