/*
 * A tiny raw-socket HTTP/1.1 test client for tests whose server runs on a
 * mesos_loop in the same thread.
 *
 * Every call that waits drives the loop itself (polling the loop's fd and
 * the client socket together), so the server makes progress while the test
 * waits and no second thread is needed: tests stay deterministic.  Waits
 * are bounded by a timeout; a test that times out fails instead of hanging.
 */
#ifndef MESOS_TEST_HTTPTEST_H
#define MESOS_TEST_HTTPTEST_H

#include <stddef.h>

#include "mesos/loop.h"

typedef struct mesos_test_http_client {
  int fd;
  char *buf; /* bytes received and not yet parsed */
  size_t len, cap;
  int eof;   /* the server closed (or reset) the connection */
} mesos_test_http_client;

typedef struct mesos_test_http_resp {
  int status;
  char *head;     /* status line and header block, NUL-terminated */
  char *body;     /* decoded body (chunked framing removed), NUL-terminated */
  size_t body_len;
  int chunked;
} mesos_test_http_resp;

/* Connects to 127.0.0.1:port.  0 on success, -1 on failure. */
int mesos_test_http_connect(mesos_test_http_client *c, int port);
/* Sends all bytes (blocking, with a 5 s bound).  0 / -1. */
int mesos_test_http_send(mesos_test_http_client *c, const char *data, size_t len);
int mesos_test_http_sends(mesos_test_http_client *c, const char *s);
/* Drives the loop until one whole response is buffered, then parses and
 * removes it.  `head_request`: the response has no body.  1 on success, 0
 * on time-out, EOF before a whole response, or a malformed response. */
int mesos_test_http_recv(mesos_loop *loop, mesos_test_http_client *c, mesos_test_http_resp *r,
                         int head_request, int timeout_ms);
/* Drives the loop until the received bytes contain `needle`.  1 / 0. */
int mesos_test_http_wait_for(mesos_loop *loop, mesos_test_http_client *c, const char *needle,
                             int timeout_ms);
/* Drives the loop until the server closes the connection.  1 / 0. */
int mesos_test_http_wait_eof(mesos_loop *loop, mesos_test_http_client *c, int timeout_ms);
/* Drives the loop for `ms` milliseconds, reading whatever arrives. */
void mesos_test_http_pump(mesos_loop *loop, mesos_test_http_client *c, int ms);
void mesos_test_http_close(mesos_test_http_client *c);

/* The first value of header `name` (case-insensitive) in a response, copied
 * into a static buffer, or NULL. */
const char *mesos_test_http_header(const mesos_test_http_resp *r, const char *name);
void mesos_test_http_resp_free(mesos_test_http_resp *r);

/* Runs argv (PATH search) with stdout+stderr captured into *out (malloc'd,
 * NUL-terminated), driving the loop until it exits or `timeout_ms` passes
 * (then it is killed).  Returns the exit status (0..255), or -1. */
int mesos_test_run_cmd(mesos_loop *loop, char *const argv[], const char *stdin_data,
                       char **out, int timeout_ms);

/* 1 when `prog` is found on PATH. */
int mesos_test_have_prog(const char *prog);

#endif
