/*
 * Fuzz target for the HTTP server's request path: raw bytes go through a
 * fake connection (no sockets) into the same llhttp glue, limits, routing,
 * pipelining pauses and response code a real connection uses.
 *
 * The first two input bytes choose where the rest is split into three
 * reads, so request boundaries fall at arbitrary places.  Routes cover a
 * synchronous answer, an echo of the body, an answer from a timer (the
 * parser pauses and resumes) and a streamed response.
 *
 * Checked: no crash or sanitizer report, every connection's output starts
 * with a status line, and every allocation is released (the library's own
 * allocation counter returns to where it started).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "http/server.h"
#include "mesos/mesos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mesos__http_request *pending;
static mesos_timer *timer;
static int out_started, out_bad;

static void sink(const char *data, size_t len, void *ud) {
  (void)ud;
  if (!out_started) {
    out_started = 1;
    if (len < 9 || memcmp(data, "HTTP/1.1 ", 9) != 0) out_bad = 1;
  }
}

static void h_sync(mesos__http_request *req, void *ud) {
  (void)ud;
  const mesos__http_headers *h = mesos__http_request_headers(req);
  size_t total = strlen(mesos__http_request_path(req)) + strlen(mesos__http_request_query(req));
  for (size_t i = 0; i < h->count; i++) total += strlen(h->items[i].name) + strlen(h->items[i].value);
  (void)mesos__http_request_header(req, "host");
  char body[32];
  int n = snprintf(body, sizeof body, "%zu", total);
  mesos__http_respond(req, 200, NULL, body, (size_t)n);
}

static void h_echo(mesos__http_request *req, void *ud) {
  (void)ud;
  size_t len;
  const char *b = mesos__http_request_body(req, &len);
  mesos__http_respond(req, 200, NULL, b, len);
}

static void on_abort(mesos__http_request *req, void *ud) {
  (void)ud;
  if (req == pending) pending = NULL;
}

static void fire(mesos_timer *t, void *ud) {
  (void)t;
  (void)ud;
  mesos__http_request *req = pending;
  pending = NULL;
  if (req == NULL) return;
  if (mesos__http_request_path(req)[1] == 's') {
    mesos__http_stream_send(req, "chunk", 5);
    mesos__http_stream_end(req);
  } else {
    mesos__http_respond(req, 202, NULL, "later", 5);
  }
}

static void h_async(mesos__http_request *req, void *ud) {
  (void)ud;
  pending = req;
  mesos__http_request_on_abort(req, on_abort, NULL);
  mesos_timer_start(timer, 0, 0);
}

static void h_stream(mesos__http_request *req, void *ud) {
  (void)ud;
  if (mesos__http_stream_start(req, 200, NULL) != MESOS_OK) {
    mesos__http_respond(req, 500, NULL, "", 0);
    return;
  }
  mesos__http_stream_send(req, "first", 5);
  h_async(req, ud);
}

static void run_loop(mesos_loop *loop, int rounds) {
  for (int i = 0; i < rounds; i++) mesos_loop_run_once(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t cut1 = data[0] % (size - 1), cut2 = data[1] % (size - 1);
  if (cut1 > cut2) {
    size_t t = cut1;
    cut1 = cut2;
    cut2 = t;
  }
  const char *in = (const char *)data + 2;
  size_t n = size - 2;
  if (cut2 > n) cut2 = n;
  if (cut1 > cut2) cut1 = cut2;

  int64_t live = mesos__alloc_live();
  mesos_loop *loop = NULL;
  if (mesos_loop_new(&loop, NULL, NULL) != MESOS_OK) abort();
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  o.max_header_bytes = 2048;
  o.max_body_bytes = 4096;
  mesos__http_server *srv = NULL;
  if (mesos__http_server_new(&srv, loop, &o, NULL) != MESOS_OK) abort();
  mesos__http_server_route(srv, "GET", "/", 0, h_sync, NULL);
  mesos__http_server_route(srv, NULL, "/e", 0, h_echo, NULL);
  mesos__http_server_route(srv, "GET", "/a", 0, h_async, NULL);
  mesos__http_server_route(srv, "POST", "/a", 0, h_sync, NULL);
  mesos__http_server_route(srv, "GET", "/s", 0, h_stream, NULL);
  mesos__http_server_route(srv, "GET", "/p/", 1, h_sync, NULL);
  mesos_timer_new(&timer, loop, fire, NULL, NULL);
  pending = NULL;
  out_started = out_bad = 0;

  mesos__http_fake_conn *fc = NULL;
  if (mesos__http_fake_conn_new(&fc, srv, sink, NULL) != MESOS_OK) abort();
  size_t cuts[4] = {0, cut1, cut2, n};
  for (int piece = 0; piece < 3 && !mesos__http_fake_conn_closed(fc); piece++) {
    size_t at = cuts[piece], end = cuts[piece + 1];
    int stalls = 0;
    while (at < end && !mesos__http_fake_conn_closed(fc)) {
      size_t took = mesos__http_fake_conn_feed(fc, in + at, end - at);
      at += took;
      if (took == 0) {
        /* Paused behind an asynchronous answer: let the loop deliver it. */
        run_loop(loop, 1);
        if (++stalls > 1000) abort(); /* a pause that never ends is a bug */
      }
    }
  }
  run_loop(loop, 4);
  mesos__http_fake_conn_free(fc);
  mesos_timer_free(timer);
  timer = NULL;
  mesos__http_server_free(srv);
  mesos_loop_free(loop);
  if (out_bad) {
    fprintf(stderr, "fuzz_http_request: output does not start with a status line\n");
    abort();
  }
  if (mesos__alloc_live() != live) {
    fprintf(stderr, "fuzz_http_request: %lld allocations leaked\n",
            (long long)(mesos__alloc_live() - live));
    abort();
  }
  return 0;
}
