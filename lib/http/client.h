/*
 * HTTP/1.1 client on llhttp, over mesos__stream (TCP, optionally TLS).
 *
 * What it is for: scheduler and executor client libraries, the agent's
 * long-lived event stream to the master plus its POSTed calls, and tests.
 *
 * What it does:
 *  - keep-alive: finished connections go to an idle pool keyed by scheme,
 *    host and port, and are reused by the next request to the same place
 *    (no pipelining: one request per connection at a time);
 *  - a pooled connection the server closed is noticed while idle; if the
 *    close races with a new request (nothing of the response arrived yet),
 *    the request is retried once on a fresh connection when its method is
 *    idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) or the request
 *    bytes never reached the socket;
 *  - buffered responses (the body is collected up to max_body_bytes) or
 *    streaming ones (on_head, then on_body for each piece as it arrives:
 *    chunked, Content-Length or read-until-close bodies);
 *  - redirects: 307 and 308 are followed with the same method, headers and
 *    body, up to max_redirects, with relative or absolute Location.  301,
 *    302 and 303 are returned to the caller as they are: they change the
 *    method to GET in practice, and an API client must not silently turn a
 *    POSTed call into a GET.  Following a redirect to another host or port
 *    drops Authorization and Cookie headers (as curl does), so a
 *    credential meant for one server is not handed to another;
 *  - timeouts: connect (resolve + TCP + TLS handshake), whole request
 *    (until the last byte; for streaming calls until the head), and for
 *    streaming calls a read timeout (the longest silence between body
 *    bytes).  All fail with MESOS_ETIMEDOUT and a message naming the URL;
 *  - limits: response head (status line and header fields) and buffered
 *    body sizes fail with MESOS_ELIMIT (an announced Content-Length that
 *    is too big fails before the body is read); a response llhttp refuses
 *    fails with MESOS_EPROTO, and so does a connection closed before the
 *    response was complete.
 *
 * Callbacks: for every call accepted by mesos__http_client_send, on_done
 * runs exactly once, never inside mesos__http_client_send itself.  Within
 * callbacks a user may send new requests, cancel any call, and free the
 * client.
 *
 * Threads: a client and its calls belong to the loop's thread.
 */
#ifndef MESOS_HTTP_CLIENT_H
#define MESOS_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "mesos/loop.h"

typedef struct mesos__http_client mesos__http_client;
typedef struct mesos__http_call mesos__http_call;
typedef struct mesos__tls_config mesos__tls_config;

/* Defaults (0 in the options means these).  The reasons:
 *  - connect 10 s: a master that does not complete a TCP (and TLS)
 *    handshake in 10 s on a data-centre network is down or overloaded;
 *  - request 60 s: longer than any Mesos endpoint takes to answer (a big
 *    /state), short enough that a stuck call is noticed;
 *  - idle 30 s: pooled connections close before servers' usual idle
 *    timeouts (our server: 120 s), so the client, not the server, normally
 *    closes first and races are rare;
 *  - 4 idle connections per host: a client library sends a few calls in
 *    parallel at most; more would hold server connections for nothing;
 *  - head 64 KiB: the server side's own header limit;
 *  - body 64 MiB: a /state document of a big cluster, with room;
 *  - 5 redirects: a leader change takes one hop, five means a loop. */
#define MESOS__HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define MESOS__HTTP_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS 60000u
#define MESOS__HTTP_CLIENT_DEFAULT_IDLE_TIMEOUT_MS 30000u
#define MESOS__HTTP_CLIENT_DEFAULT_MAX_IDLE_PER_HOST 4u
#define MESOS__HTTP_CLIENT_DEFAULT_MAX_HEADER_BYTES ((size_t)64 << 10)
#define MESOS__HTTP_CLIENT_DEFAULT_MAX_BODY_BYTES ((size_t)64 << 20)
#define MESOS__HTTP_CLIENT_DEFAULT_MAX_REDIRECTS 5
/* Most header fields accepted in one response head. */
#define MESOS__HTTP_CLIENT_MAX_HEADER_FIELDS 256

/* Zero (or NULL) in any field means its default. */
typedef struct mesos__http_client_options {
  /* Used for https:// URLs; the client takes a reference.  NULL: the
   * first https request creates a config that verifies servers against
   * the system CA bundle. */
  mesos__tls_config *tls;
  uint32_t connect_timeout_ms;
  uint32_t request_timeout_ms; /* default for requests that set none */
  uint32_t read_timeout_ms;    /* default for streaming requests; 0: none */
  uint32_t idle_timeout_ms;    /* pooled connection unused this long: closed */
  uint32_t max_idle_per_host;
  size_t max_header_bytes;     /* status line + header fields */
  size_t max_body_bytes;       /* buffered responses only */
  int max_redirects;           /* negative: never follow */
  const char *user_agent;      /* copied; NULL: "libmesos-core/<version>" */
} mesos__http_client_options;

typedef struct mesos__http_client_request {
  const char *method;                 /* NULL: "GET"; CONNECT is refused */
  const char *url;                    /* http://host[:port]/... or https:// */
  /* Extra header fields, copied.  Host, User-Agent (unless given here) and
   * Content-Length are added by the client; Content-Length,
   * Transfer-Encoding, Upgrade and TE given here are refused. */
  const mesos__http_headers *headers;
  const char *body;                   /* copied; may be NULL with body_len 0 */
  size_t body_len;
  uint32_t timeout_ms;                /* 0: the client's request timeout */
  uint32_t read_timeout_ms;           /* streaming; 0: the client's */
  int max_redirects;                  /* 0: the client's; negative: none */
  int stream;                         /* deliver the body through on_body */
} mesos__http_client_request;

typedef struct mesos__http_response {
  int status;                 /* 200 ... */
  int http_minor;             /* 0 or 1 (HTTP/1.x) */
  mesos__http_headers headers;
  /* Buffered calls: the whole body, NUL-terminated ("" when empty; may
   * hold NULs).  Streaming calls: NULL and 0. */
  const char *body;
  size_t body_len;
  /* The URL that answered (differs from the request's after redirects). */
  const char *url;
} mesos__http_response;

typedef struct mesos__http_client_cbs {
  /* Streaming calls: the final response head (status and headers) is here;
   * redirects followed and 1xx interim responses are not reported.
   * Optional. */
  void (*on_head)(mesos__http_call *call, const mesos__http_response *resp, void *ud);
  /* Streaming calls: the next piece of the body, de-chunked; `data` is
   * valid during the call only.  Optional. */
  void (*on_body)(mesos__http_call *call, const char *data, size_t len, void *ud);
  /* The call is over, exactly once: MESOS_OK when the whole response
   * arrived (any HTTP status: a 404 is data, not an error), else the
   * failure and `err` (borrowed) saying why.  `resp` is borrowed for the
   * duration of the callback: the complete response on success, the head
   * when a failure came after it, NULL when no head arrived.  The call
   * handle is freed when on_done returns.  REQUIRED.
   * Statuses: MESOS_EIO (connect or socket failure; the message names the
   * address), MESOS_ENOTFOUND (host name does not resolve), MESOS_ETIMEDOUT,
   * MESOS_ETLS, MESOS_EPROTO (malformed response, bad redirect Location,
   * connection closed before the response was complete), MESOS_ELIMIT
   * (head or buffered body too big, too many redirects), MESOS_ECLOSED
   * (cancelled, or the client was freed), MESOS_ENOMEM. */
  void (*on_done)(mesos__http_call *call, mesos_status status, const mesos__http_response *resp,
                  const mesos_error *err, void *ud);
} mesos__http_client_cbs;

/* Creates a client on `loop`.  `opts` (NULL: all defaults) is copied.
 * MESOS_EINVAL (loop NULL), MESOS_ENOMEM. */
mesos_status mesos__http_client_new(mesos__http_client **out, mesos_loop *loop,
                                    const mesos__http_client_options *opts, mesos_error **err);

/* Cancels every call in flight (their on_done runs inside this function
 * with MESOS_ECLOSED), closes every connection and frees the client.
 * Sockets finish closing as the loop runs (or in mesos_loop_free).  May be
 * called from inside the client's own callbacks.  NULL is accepted. */
void mesos__http_client_free(mesos__http_client *c);

/* Starts a request.  `req` and everything it points to are copied.  On
 * success *call_out (if not NULL) is a handle valid until on_done returns.
 * On failure no callback runs.
 * MESOS_EINVAL (bad URL, method or header, a body of nearly 4 GiB or more;
 * the message says which), MESOS_ECLOSED (client being freed), MESOS_EIO (no
 * socket could be made), MESOS_ENOMEM. */
mesos_status mesos__http_client_send(mesos__http_client *c, const mesos__http_client_request *req,
                                     const mesos__http_client_cbs *cbs, void *ud,
                                     mesos__http_call **call_out, mesos_error **err);

/* Cancels a call: no on_head or on_body runs after this returns, and
 * on_done(MESOS_ECLOSED, "cancelled") follows from the loop, never inside
 * this function (so it is safe to cancel from inside on_body and then
 * touch the state on_done will free).  Its connection is closed (a
 * response cut in the middle cannot be reused).  A call already finished
 * or cancelled is left alone; call it only with a handle whose on_done has
 * not returned yet. */
void mesos__http_call_cancel(mesos__http_call *call);

/* Back-pressure for streaming calls: stop / resume reading the response.
 * Bytes already read when pausing are still delivered.  The read timeout
 * does not run while paused. */
void mesos__http_call_pause(mesos__http_call *call);
void mesos__http_call_resume(mesos__http_call *call);

/* Connections currently open (idle in the pool plus busy).  For tests and
 * metrics. */
size_t mesos__http_client_connections(const mesos__http_client *c);

/* Idle pooled connections. */
size_t mesos__http_client_idle_connections(const mesos__http_client *c);

#endif
