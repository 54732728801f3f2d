/*
 * HTTP/1.1 server on llhttp, over mesos__stream (TCP, optionally TLS).
 *
 * What it does for its handlers:
 *  - routing by method + exact path, or by path prefix ("/files/");
 *    unknown paths get 404, a known path with another method 405 + Allow;
 *  - keep-alive (HTTP/1.1 default, Connection: close, HTTP/1.0 rules),
 *    pipelining answered in order, Expect: 100-continue, Content-Length and
 *    chunked request bodies, HEAD;
 *  - responses that always carry Content-Length or chunked framing, and
 *    long-lived chunked streams pushed by the handler (event streams);
 *  - limits, each answered and followed by a closed connection: header
 *    size 431 (request target alone: 414), body size 413, connection count
 *    503, request not complete in time 408, anything llhttp refuses 400;
 *  - graceful shutdown.
 *
 * Requests: a handler runs once the whole request (headers and body) has
 * arrived.  It answers at once or later, from any callback of the same
 * loop, with exactly one of mesos__http_respond() or the stream calls.
 * Until it has answered, later requests pipelined on the same connection
 * wait (the server stops reading from that connection; nothing piles up).
 *
 * Request lifetime: the request is owned by the server.  It stays valid
 * until the handler has finished its response (mesos__http_respond, or
 * mesos__http_stream_end) or, if the connection ends first, until the abort
 * callback (mesos__http_request_on_abort) has returned.  A handler that
 * answers later must either register an abort callback or keep its promise
 * to answer: with no abort callback a request whose connection died stays
 * allocated until the handler answers (the answer then fails with
 * MESOS_ECLOSED and releases it) or the server is freed.
 *
 * Memory per connection: the connection and its stream (about 1 KiB) plus its
 * request arena, kept between requests up to 4 KiB; while a request
 * arrives, at most max_header_bytes + max_body_bytes; while a handler holds
 * a request, at most ~128 KiB of pipelined input (then reading stops).
 * Response bytes the client has not read yet are bounded by pausing
 * pipelined parsing at 256 KiB and, for streams, by max_backlog_bytes.
 *
 * Threads: a server and its requests belong to the loop's thread.
 */
#ifndef MESOS_HTTP_SERVER_H
#define MESOS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/stream.h"
#include "mesos/loop.h"

typedef struct mesos__http_server mesos__http_server;
typedef struct mesos__http_request mesos__http_request;

typedef void (*mesos__http_handler)(mesos__http_request *req, void *ud);
typedef void (*mesos__http_abort_fn)(mesos__http_request *req, void *ud);
typedef void (*mesos__http_drain_fn)(mesos__http_request *req, void *ud);

/* Defaults of the limits (0 in the options means these).  The reasons:
 *  - headers: 64 KiB, far above any real client (curl sends < 1 KiB; a
 *    bearer token a few KiB) and small enough that 10k connections mid-
 *    request cannot hold much;
 *  - body: 16 MiB.  The largest legitimate bodies are scheduler ACCEPT
 *    calls launching many tasks and agent re-registrations listing every
 *    task (a few MiB for thousands of tasks); more than that is a client
 *    bug or an attack;
 *  - connections: 10000, one per agent and framework plus operators,
 *    below a typical 65536 fd limit with room for the rest of the process;
 *  - idle keep-alive: 120 s, longer than clients' usual pool timeouts so
 *    the client (which knows) closes first;
 *  - request: 30 s to deliver one complete request once its first byte
 *    arrived (slowloris bound);
 *  - stream backlog: 16 MiB of response bytes the peer has not read before
 *    a stream is dropped as a slow consumer. */
#define MESOS__HTTP_DEFAULT_MAX_HEADER_BYTES ((size_t)64 << 10)
#define MESOS__HTTP_DEFAULT_MAX_BODY_BYTES ((size_t)16 << 20)
#define MESOS__HTTP_DEFAULT_MAX_CONNECTIONS 10000u
#define MESOS__HTTP_DEFAULT_IDLE_TIMEOUT_MS 120000u
#define MESOS__HTTP_DEFAULT_REQUEST_TIMEOUT_MS 30000u
#define MESOS__HTTP_DEFAULT_MAX_BACKLOG_BYTES ((size_t)16 << 20)

/* Zero (or NULL) in any field means its default. */
typedef struct mesos__http_server_options {
  /* "ip:port" with a numeric IPv4/IPv6 address; port 0 picks a free port
   * (mesos__http_server_port tells which).  NULL: no listening socket at
   * all (connections come only from mesos__http_server_fake_conn; fuzzing
   * and tests). */
  const char *listen;
  mesos__tls_config *tls;       /* NULL: plain TCP.  The server takes a reference. */
  size_t max_header_bytes;      /* request line + header fields -> 431 */
  size_t max_body_bytes;        /* decoded body -> 413 */
  uint32_t max_connections;     /* -> 503 and close */
  uint32_t idle_timeout_ms;     /* keep-alive connection with no request -> close */
  uint32_t request_timeout_ms;  /* first byte to last byte of a request -> 408 */
  size_t max_backlog_bytes;     /* unsent response bytes on one connection */
  int backlog;                  /* listen(2) backlog; default 511 */
} mesos__http_server_options;

/* Creates a server and starts listening.  `opts` is copied.
 * MESOS_EINVAL (bad address), MESOS_EIO (bind/listen failed, e.g. port in
 * use), MESOS_ENOMEM. */
mesos_status mesos__http_server_new(mesos__http_server **out, mesos_loop *loop,
                                    const mesos__http_server_options *opts, mesos_error **err);

/* The bound port (useful with port 0), or 0 without a listener. */
uint16_t mesos__http_server_port(const mesos__http_server *srv);

/* Routes `method` ("GET"; NULL = any method) + `path` to `handler`.
 * `path` is exact ("/api/v1/scheduler"), or a prefix when it ends in '/'
 * and `prefix` is non-zero ("/files/" matches "/files/read").  Exact routes
 * win over prefixes, longer prefixes over shorter ones.  Strings are copied.
 * MESOS_EEXIST (same method and path twice), MESOS_EINVAL (path not
 * starting with '/'), MESOS_ENOMEM. */
mesos_status mesos__http_server_route(mesos__http_server *srv, const char *method,
                                      const char *path, int prefix, mesos__http_handler handler,
                                      void *ud);

/* Graceful shutdown: stops accepting, closes idle keep-alive connections,
 * lets requests in progress finish (their responses say Connection: close),
 * ends open streams (terminating chunk, then their abort callbacks run),
 * and force-closes whatever is left after `grace_ms`.  `done` (optional)
 * runs on the loop once every connection is closed; never inside this
 * call.  Calling it again does nothing. */
void mesos__http_server_shutdown(mesos__http_server *srv, uint32_t grace_ms,
                                 void (*done)(void *ud), void *ud);

/* Closes everything at once (abort callbacks of unfinished requests run)
 * and frees the server; memory still tied to closing sockets is released
 * as the loop runs (or by mesos_loop_free).  NULL is accepted.  Must not be
 * called from inside one of this server's handlers or abort callbacks. */
void mesos__http_server_free(mesos__http_server *srv);

/* Connections currently open (not counting ones refused with 503). */
uint32_t mesos__http_server_connections(const mesos__http_server *srv);

/* ------------------------------------------------------------ requests */

/* All returned strings are borrowed from the request, NUL-terminated. */
const char *mesos__http_request_method(const mesos__http_request *req); /* "GET" */
const char *mesos__http_request_path(const mesos__http_request *req);   /* raw, no query */
const char *mesos__http_request_query(const mesos__http_request *req);  /* after '?', or "" */
/* The request target as sent (path and query). */
const char *mesos__http_request_target(const mesos__http_request *req);
/* 10 for HTTP/1.0, 11 for HTTP/1.1. */
int mesos__http_request_version(const mesos__http_request *req);
const mesos__http_headers *mesos__http_request_headers(const mesos__http_request *req);
/* First value of header `name` (case-insensitive), or NULL. */
const char *mesos__http_request_header(const mesos__http_request *req, const char *name);
/* The decoded body (NUL-terminated for convenience; may contain NULs).
 * Empty once released (below). */
const char *mesos__http_request_body(const mesos__http_request *req, size_t *len);
/* Gives back the memory of the request's body (the request line and
 * headers stay).  The server does it itself when a handler returns having
 * started a stream on the request; a handler that answers later (after
 * deferred work) with a stream calls it once it has read the body. */
void mesos__http_request_release_body(mesos__http_request *req);
/* Bytes the server holds for the request's line, headers and body
 * (tests: a long-lived stream must not keep its request's body). */
size_t mesos__http_request_held_bytes(const mesos__http_request *req);
/* The principal the authentication step (lib/authz/authz_int.h) found,
 * or NULL (not authenticated, or authentication off).  set copies it;
 * MESOS_ENOMEM leaves the old value. */
mesos_status mesos__http_request_set_principal(mesos__http_request *req, const char *principal);
const char *mesos__http_request_principal(const mesos__http_request *req);
/* "ip:port" of the client. */
const char *mesos__http_request_peer(const mesos__http_request *req);
/* Whether the connection is TLS, and the verified client certificate CN. */
int mesos__http_request_is_tls(const mesos__http_request *req);
const char *mesos__http_request_tls_peer_cn(const mesos__http_request *req);
/* False once the connection has gone (answers then fail with ECLOSED). */
int mesos__http_request_connected(const mesos__http_request *req);
/* Response bytes accepted but not yet handed to the kernel: a streaming
 * handler uses it for back-pressure (slow down, coalesce, or drop). */
size_t mesos__http_request_pending(const mesos__http_request *req);
mesos__http_server *mesos__http_request_server(const mesos__http_request *req);
/* The loop the server runs on (for a handler's timers). */
mesos_loop *mesos__http_server_loop(const mesos__http_server *srv);

/* Registers the callback that tells the handler the client went away (or
 * the server shut down) before the response finished; the request is
 * released right after it returns.  NULL unregisters. */
void mesos__http_request_on_abort(mesos__http_request *req, mesos__http_abort_fn cb, void *ud);

/* ------------------------------------------------------------ responses */

/* Sends a complete response: status line, the `extra` headers (may be
 * NULL), Content-Length, and `body` (not sent for HEAD, 1xx, 204, 304).
 * The bytes are copied.  Finishes the request.
 * MESOS_EINVAL (status outside 200..599, a header name or value with CR,
 * LF or NUL, Content-Length / Transfer-Encoding in `extra`, or the request
 * was already answered): nothing is sent, the request stays unanswered.
 * MESOS_ECLOSED: the connection is gone; the request is released. */
mesos_status mesos__http_respond(mesos__http_request *req, int status,
                                 const mesos__http_headers *extra, const char *body, size_t len);

/* mesos__http_respond with a text/plain (UTF-8) body: the shape of every
 * error answer of the v1 APIs and the classic endpoints. */
void mesos__http_respond_text(mesos__http_request *req, int status, const char *text);

/* Starts a streaming response (Transfer-Encoding: chunked; for an HTTP/1.0
 * client the raw bytes followed by a close).  Same errors as respond. */
mesos_status mesos__http_stream_start(mesos__http_request *req, int status,
                                      const mesos__http_headers *extra);
/* Sends one chunk (empty data sends nothing).  MESOS_ECLOSED when the
 * connection is gone (the request stays valid until stream_end or the
 * abort callback); MESOS_ELIMIT when the client has not read
 * max_backlog_bytes: the connection is then closed (abort follows). */
mesos_status mesos__http_stream_send(mesos__http_request *req, const char *data, size_t len);
/* Starts a streaming response whose whole length is known in advance
 * (Content-Length: `length`, no chunk framing), for large bodies produced
 * piecewise: the mesos__http_stream_send calls must add up to `length`
 * (a send beyond it is refused with MESOS_EINVAL, nothing sent); ending
 * short of it closes the connection so the client sees a truncated body.
 * Same errors as respond. */
mesos_status mesos__http_stream_start_length(mesos__http_request *req, int status,
                                             const mesos__http_headers *extra,
                                             uint64_t length);
/* Registers the callback a streaming handler uses for back-pressure: it
 * runs on the loop whenever the transport has handed every queued byte to
 * the kernel (mesos__http_request_pending is then 0).  It may send, end
 * the stream or do nothing.  NULL unregisters. */
void mesos__http_request_on_drain(mesos__http_request *req, mesos__http_drain_fn cb, void *ud);
/* Ends the stream (terminating chunk) and finishes the request.
 * MESOS_ECLOSED if the connection was gone; the request is released
 * either way. */
mesos_status mesos__http_stream_end(mesos__http_request *req);

/* ------------------------------------------------------------ testing */

/* A connection without a socket, for fuzzing the request path: bytes go in
 * with _feed, responses land in `sink` (called for every write).  It
 * behaves like a real connection (pipelining pauses, limits, timeouts). */
typedef struct mesos__http_fake_conn mesos__http_fake_conn;
mesos_status mesos__http_fake_conn_new(mesos__http_fake_conn **out, mesos__http_server *srv,
                                       void (*sink)(const char *data, size_t len, void *ud),
                                       void *ud);
/* Delivers bytes as a socket read would.  Returns how many were taken:
 * fewer than `len` while the connection is paused (feed the rest later,
 * after running the loop) and 0 once it is closed. */
size_t mesos__http_fake_conn_feed(mesos__http_fake_conn *fc, const char *data, size_t len);
/* True once the server closed the connection. */
int mesos__http_fake_conn_closed(const mesos__http_fake_conn *fc);
/* True while the server does not read (a response is outstanding). */
int mesos__http_fake_conn_paused(const mesos__http_fake_conn *fc);
/* The peer goes away (if the server has not closed yet) and the fake is
 * freed; abort callbacks run as for a real disconnect. */
void mesos__http_fake_conn_free(mesos__http_fake_conn *fc);

#endif
