/*
 * A pipelined HTTP/1.1 channel: POSTs to one URL over one persistent
 * connection, written back to back without waiting for the answers, which
 * are matched to the requests in order (an HTTP/1.1 server answers
 * pipelined requests in the order they came; our server does).
 *
 * What it is for: the agent's calls to the master (status updates, PONGs,
 * executor and framework messages).  Through the pooled client
 * (client.h: one request per connection at a time) a burst of n calls in
 * flight opened up to n connections, and calls sent on different
 * connections could overtake each other.  Here every call goes out on the
 * same connection, in the order posted, and costs one write.
 *
 * Failures: when the connection breaks (or its oldest unanswered request
 * waits longer than answer_timeout_ms, or the server closes after an
 * answer) every request not answered yet is written again, in order, on a
 * new connection: each at most max_attempts times, after which it is
 * answered with the failure.  So a request may reach the server twice (its
 * answer was lost): callers send only calls that tolerate that.  A new
 * connection follows at once when the broken one had been answering, else
 * after a delay doubling from 50 ms to 2 s (a server that is down is not
 * hammered).  The connection is made when there is something to send.
 *
 * Callbacks: `done` runs once per request, from the loop, never inside
 * mesos__http_pipe_post; it may post and reset, not free the pipe.
 *
 * Threads: a pipe belongs to its loop's thread.
 */
#ifndef MESOS_HTTP_PIPE_H
#define MESOS_HTTP_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "mesos/loop.h"

typedef struct mesos__http_pipe mesos__http_pipe;
typedef struct mesos__tls_config mesos__tls_config;

/* A request's outcome: MESOS_OK with the HTTP status and up to
 * MESOS__HTTP_PIPE_MAX_BODY bytes of the answer's body (borrowed, valid
 * during the call; an answer's longer body is cut), or the failure of its
 * last attempt (MESOS_EIO, MESOS_ETIMEDOUT, MESOS_EPROTO, MESOS_ENOTFOUND,
 * MESOS_ETLS) with http_status 0 and `message` saying why. */
typedef void (*mesos__http_pipe_done_fn)(mesos__http_pipe *p, mesos_status status,
                                         int http_status, const char *body, size_t body_len,
                                         const char *message, void *ud);

/* Answers' bodies kept for `done`: the master's answers to agent calls are
 * empty or a line of text. */
#define MESOS__HTTP_PIPE_MAX_BODY ((size_t)4096)

/* Zero in any field means its default. */
typedef struct mesos__http_pipe_options {
  /* For https:// URLs (required there); the pipe takes a reference. */
  mesos__tls_config *tls;
  uint32_t connect_timeout_ms; /* resolve + TCP + TLS; default 5 s */
  /* The oldest written request unanswered this long: the connection is
   * taken for broken.  Default 30 s. */
  uint32_t answer_timeout_ms;
  uint32_t max_attempts;       /* writes of one request; default 3 */
  size_t max_requests;         /* unanswered requests; default 65536 */
  size_t max_bytes;            /* their bytes; default 256 MiB */
  const char *content_type;    /* default "application/x-protobuf" */
} mesos__http_pipe_options;

/* A pipe POSTing to `url` (http:// or https://; copied).  Nothing is
 * connected yet.  MESOS_EINVAL (bad URL, https without tls), MESOS_ENOMEM. */
mesos_status mesos__http_pipe_new(mesos__http_pipe **out, mesos_loop *loop, const char *url,
                                  const mesos__http_pipe_options *opts,
                                  mesos__http_pipe_done_fn done, void *ud, mesos_error **err);

/* Queues a POST of `body` with the extra header fields `headers` (may be
 * NULL; copied into the request; Host, Content-Type, Content-Length are
 * the pipe's) and writes it now when connected.  `seq` (may be NULL) gets
 * the request's number: 1, 2, ... in post order, for
 * mesos__http_pipe_unanswered.  MESOS_ELIMIT (too many or too many bytes
 * unanswered), MESOS_EINVAL (a header with CR/LF), MESOS_ENOMEM.  On
 * failure nothing is queued and no callback runs. */
mesos_status mesos__http_pipe_post(mesos__http_pipe *p, const mesos__http_headers *headers,
                                   const void *body, size_t len, uint64_t *seq,
                                   mesos_error **err);

/* Drops every unanswered request (no callback runs for them) and closes
 * the connection: what was queued for a peer that is gone. */
void mesos__http_pipe_reset(mesos__http_pipe *p);

/* As reset, then frees the pipe.  NULL is accepted.  Not from `done`. */
void mesos__http_pipe_free(mesos__http_pipe *p);

/* Requests posted and not answered yet. */
size_t mesos__http_pipe_pending(const mesos__http_pipe *p);

/* 1 while request number `seq` waits for its answer (queued, written or
 * to be written again), 0 once `done` ran for it or a reset dropped it.
 * What a caller asks before posting a call again on its own retry: a copy
 * still queued would reach the server twice. */
int mesos__http_pipe_unanswered(const mesos__http_pipe *p, uint64_t seq);

/* Connections opened so far (for tests and metrics). */
uint64_t mesos__http_pipe_connects(const mesos__http_pipe *p);

#endif
