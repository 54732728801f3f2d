/*
 * HTTP/1.1 server tests over real sockets on 127.0.0.1.  The server runs on
 * a mesos_loop in the test's own thread; the raw client in
 * tests/support/httptest.c drives that loop while it waits.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "http/server.h"
#include "http/tls.h"
#include "support/certs.h"
#include "support/httptest.h"
#include "support/testutil.h"

#define WAIT_MS 3000

typedef struct ctx {
  mesos_loop *loop;
  mesos__http_server *srv;
  int port;
  int64_t live_before;
  /* asynchronous handlers */
  mesos__http_request *slow_req;
  mesos_timer *slow_timer;
  mesos__http_request *stream_req;
  mesos_timer *stream_timer;
  int stream_sent;
  int aborted;
  int shutdown_done;
  int handled;
} ctx;

static ctx T;

/* ------------------------------------------------------------ handlers */

static void h_hello(mesos__http_request *req, void *ud) {
  (void)ud;
  T.handled++;
  mesos__http_header h = {(char *)"Content-Type", (char *)"text/plain"};
  mesos__http_headers extra = {&h, 1, 1};
  ck_assert_int_eq(mesos__http_respond(req, 200, &extra, "hello", 5), MESOS_OK);
}

static void h_echo(mesos__http_request *req, void *ud) {
  (void)ud;
  T.handled++;
  size_t len;
  const char *body = mesos__http_request_body(req, &len);
  char q[256];
  snprintf(q, sizeof q, "%s", mesos__http_request_query(req));
  mesos__http_header h[2] = {{(char *)"X-Method", (char *)mesos__http_request_method(req)},
                             {(char *)"X-Query", q}};
  mesos__http_headers extra = {h, 2, 2};
  ck_assert_int_eq(mesos__http_respond(req, 200, &extra, body, len), MESOS_OK);
}

static void h_files(mesos__http_request *req, void *ud) {
  (void)ud;
  const char *p = mesos__http_request_path(req);
  ck_assert_int_eq(mesos__http_respond(req, 200, NULL, p, strlen(p)), MESOS_OK);
}

static void slow_fire(mesos_timer *t, void *ud) {
  (void)t;
  (void)ud;
  mesos__http_request *req = T.slow_req;
  T.slow_req = NULL;
  if (req) ck_assert_int_eq(mesos__http_respond(req, 200, NULL, "slow", 4), MESOS_OK);
}

static void h_slow(mesos__http_request *req, void *ud) {
  (void)ud;
  T.slow_req = req;
  if (T.slow_timer == NULL) mesos_timer_new(&T.slow_timer, T.loop, slow_fire, NULL, NULL);
  mesos_timer_start(T.slow_timer, 100, 0);
}

static void stream_tick(mesos_timer *t, void *ud) {
  (void)t;
  (void)ud;
  if (T.stream_req == NULL) return;
  char line[64];
  int n = snprintf(line, sizeof line, "event %d\n", T.stream_sent++);
  mesos__http_stream_send(T.stream_req, line, (size_t)n);
}

static void stream_abort(mesos__http_request *req, void *ud) {
  (void)ud;
  ck_assert_ptr_eq(req, T.stream_req);
  T.aborted++;
  T.stream_req = NULL;
  mesos_timer_stop(T.stream_timer);
}

static void h_events(mesos__http_request *req, void *ud) {
  (void)ud;
  mesos__http_header h = {(char *)"Content-Type", (char *)"application/recordio"};
  mesos__http_headers extra = {&h, 1, 1};
  ck_assert_int_eq(mesos__http_stream_start(req, 200, &extra), MESOS_OK);
  mesos__http_request_on_abort(req, stream_abort, NULL);
  T.stream_req = req;
  ck_assert_int_eq(mesos__http_stream_send(req, "hello\n", 6), MESOS_OK);
  if (T.stream_timer == NULL) mesos_timer_new(&T.stream_timer, T.loop, stream_tick, NULL, NULL);
  mesos_timer_start(T.stream_timer, 10, 10);
}

/* ------------------------------------------------------------ fixture */

static void start_server(const mesos__http_server_options *o) {
  memset(&T, 0, sizeof T);
  T.live_before = mesos__alloc_live();
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&T.loop, NULL, &err), &err);
  mesos__http_server_options opts;
  memset(&opts, 0, sizeof opts);
  if (o) opts = *o;
  if (opts.listen == NULL) opts.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&T.srv, T.loop, &opts, &err), &err);
  T.port = mesos__http_server_port(T.srv);
  ck_assert_int_gt(T.port, 0);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/hello", 0, h_hello, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "POST", "/echo", 0, h_echo, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "PUT", "/echo", 0, h_echo, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/files/", 1, h_files, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/slow", 0, h_slow, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/events", 0, h_events, NULL),
                   MESOS_OK);
}

/* Frees everything and checks that nothing the library allocated is left. */
static void stop_server(void) {
  mesos__http_server_free(T.srv);
  T.srv = NULL;
  mesos_timer_free(T.slow_timer);
  mesos_timer_free(T.stream_timer);
  for (int i = 0; i < 20; i++) mesos_loop_run_once(T.loop);
  mesos_loop_free(T.loop);
  ck_assert_int_eq(mesos__alloc_live(), T.live_before);
}

static void connect_client(mesos_test_http_client *c) {
  ck_assert_int_eq(mesos_test_http_connect(c, T.port), 0);
}

/* Sends `request` and expects one response with `status`; returns it. */
static void roundtrip(mesos_test_http_client *c, const char *request, int status,
                      mesos_test_http_resp *r) {
  ck_assert_int_eq(mesos_test_http_sends(c, request), 0);
  ck_assert_msg(mesos_test_http_recv(T.loop, c, r, strncmp(request, "HEAD", 4) == 0, WAIT_MS),
                "no response to %s", request);
  ck_assert_int_eq(r->status, status);
}

/* Expects an error response with `status`, then the connection closed. */
static void expect_error_and_close(mesos_test_http_client *c, int status) {
  mesos_test_http_resp r;
  ck_assert_msg(mesos_test_http_recv(T.loop, c, &r, 0, WAIT_MS), "no %d response", status);
  ck_assert_int_eq(r.status, status);
  ck_assert_str_eq(mesos_test_http_header(&r, "Connection"), "close");
  mesos_test_http_resp_free(&r);
  ck_assert_msg(mesos_test_http_wait_eof(T.loop, c, WAIT_MS), "connection not closed");
}

/* ------------------------------------------------------------ http.c helpers */

START_TEST(test_http__token_matching_is_case_insensitive_and_list_aware) {
  ck_assert(mesos__http_has_token("keep-alive, Upgrade", "upgrade"));
  ck_assert(mesos__http_has_token(" close ", "close"));
  ck_assert(!mesos__http_has_token("closed", "close"));
  ck_assert(!mesos__http_has_token("", "close"));
  ck_assert(!mesos__http_has_token(NULL, "close"));
  ck_assert_str_eq(mesos__http_status_text(404), "Not Found");
  ck_assert_str_eq(mesos__http_status_text(999), "Unknown");
}
END_TEST

START_TEST(test_http__header_set_replaces_every_occurrence) {
  int64_t before = mesos__alloc_live();
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  ck_assert_int_eq(mesos__http_headers_add(&h, "A", 1, "1", 1), MESOS_OK);
  ck_assert_int_eq(mesos__http_headers_add(&h, "b", 1, "2", 1), MESOS_OK);
  ck_assert_int_eq(mesos__http_headers_add(&h, "a", 1, "3", 1), MESOS_OK);
  ck_assert_int_eq(mesos__http_headers_set(&h, "a", "x"), MESOS_OK);
  ck_assert_uint_eq(h.count, 2);
  ck_assert_str_eq(mesos__http_headers_get(&h, "A"), "x");
  ck_assert_str_eq(h.items[0].name, "A");
  mesos__http_headers copy;
  mesos__http_headers_init(&copy);
  ck_assert_int_eq(mesos__http_headers_copy(&copy, &h), MESOS_OK);
  ck_assert_str_eq(mesos__http_headers_get(&copy, "B"), "2");
  ck_assert_ptr_null(mesos__http_headers_get(&copy, "C"));
  mesos__http_headers_free(&h);
  mesos__http_headers_free(&copy);
  ck_assert_int_eq(mesos__alloc_live(), before);
}
END_TEST

/* ------------------------------------------------------------ routing */

START_TEST(test_server__routes_by_method_and_path_with_404_and_405) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  ck_assert_str_eq(r.body, "hello");
  ck_assert_str_eq(mesos_test_http_header(&r, "Content-Length"), "5");
  ck_assert_str_eq(mesos_test_http_header(&r, "Content-Type"), "text/plain");
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, &r);
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n", 405, &r);
  ck_assert_str_eq(mesos_test_http_header(&r, "Allow"), "POST, PUT");
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /files/a/b.txt?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  ck_assert_str_eq(r.body, "/files/a/b.txt");
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET http://example.com/hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  ck_assert_str_eq(mesos_test_http_header(&r, "Content-Length"), "5");
  ck_assert_uint_eq(r.body_len, 0);
  mesos_test_http_resp_free(&r);
  /* Nothing of a HEAD body leaked into the stream: the next one parses. */
  roundtrip(&c, "POST /echo?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 200, &r);
  ck_assert_str_eq(r.body, "abc");
  ck_assert_str_eq(mesos_test_http_header(&r, "X-Query"), "a=b");
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__route_registration_refuses_duplicates_and_bad_paths) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/hello", 0, h_hello, NULL),
                   MESOS_EEXIST);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "hello", 0, h_hello, NULL),
                   MESOS_EINVAL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/x", 0, NULL, NULL), MESOS_EINVAL);
  stop_server();
}
END_TEST

START_TEST(test_server__listen_on_a_bad_address_fails_with_a_message) {
  mesos_loop *loop = NULL;
  int64_t before = mesos__alloc_live();
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos__http_server *srv = NULL;
  mesos_error *err = NULL;
  mesos__http_server_options o = {0};
  o.listen = "127.0.0.1";
  ck_assert_int_eq(mesos__http_server_new(&srv, loop, &o, &err), MESOS_EINVAL);
  ck_assert_ptr_null(srv);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "127.0.0.1"));
  mesos_error_free(err);
  err = NULL;
  /* A port in use. */
  o.listen = "127.0.0.1:0";
  ck_assert_int_eq(mesos__http_server_new(&srv, loop, &o, &err), MESOS_OK);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", mesos__http_server_port(srv));
  mesos__http_server *srv2 = NULL;
  o.listen = addr;
  ck_assert_int_eq(mesos__http_server_new(&srv2, loop, &o, &err), MESOS_EEXIST);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "listen"));
  mesos_error_free(err);
  mesos__http_server_free(srv);
  mesos_loop_free(loop);
  ck_assert_int_eq(mesos__alloc_live(), before);
}
END_TEST

/* ------------------------------------------------------------ keep-alive */

START_TEST(test_server__keep_alive_reuses_one_connection) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  for (int i = 0; i < 5; i++) {
    mesos_test_http_resp r;
    roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
    ck_assert_ptr_null(mesos_test_http_header(&r, "Connection"));
    mesos_test_http_resp_free(&r);
  }
  ck_assert_int_eq(T.handled, 5);
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), 1);
  ck_assert(!c.eof);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__hundreds_of_concurrent_connections_are_all_served) {
  start_server(NULL);
  enum { N = 300 };
  static mesos_test_http_client c[N];
  for (int i = 0; i < N; i++) connect_client(&c[i]);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(mesos_test_http_sends(&c[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  for (int i = N - 1; i >= 0; i--) {
    mesos_test_http_resp r;
    ck_assert_msg(mesos_test_http_recv(T.loop, &c[i], &r, 0, WAIT_MS), "client %d", i);
    ck_assert_str_eq(r.body, "hello");
    mesos_test_http_resp_free(&r);
  }
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), N);
  for (int i = 0; i < N; i++) mesos_test_http_close(&c[i]);
  for (int i = 0; i < 300 && mesos__http_server_connections(T.srv) > 0; i++)
    mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), 0);
  stop_server();
}
END_TEST

START_TEST(test_server__connection_close_and_http10_end_the_connection) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, &r);
  ck_assert_str_eq(mesos_test_http_header(&r, "Connection"), "close");
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  mesos_test_http_close(&c);

  connect_client(&c);
  roundtrip(&c, "GET /hello HTTP/1.0\r\n\r\n", 200, &r);
  ck_assert_str_eq(mesos_test_http_header(&r, "Connection"), "close");
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  mesos_test_http_close(&c);

  /* HTTP/1.0 with keep-alive stays open and says so. */
  connect_client(&c);
  roundtrip(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, &r);
  ck_assert_str_eq(mesos_test_http_header(&r, "Connection"), "keep-alive");
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  ck_assert(!c.eof);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__idle_keep_alive_connection_is_closed_after_the_timeout) {
  mesos__http_server_options o = {0};
  o.idle_timeout_ms = 100;
  start_server(&o);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  ck_assert_uint_eq(c.len, 0); /* closed without a response */
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ pipelining */

START_TEST(test_server__pipelined_requests_are_answered_in_order) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c,
                                         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                                         "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                                         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree"),
                   0);
  const char *want[] = {"one", "slow", "three"};
  for (int i = 0; i < 3; i++) {
    mesos_test_http_resp r;
    ck_assert_msg(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS), "response %d missing", i);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, want[i]);
    if (i == 0) {
      /* The slow handler holds the third request back. */
      ck_assert_int_eq(T.handled, 1);
    }
    mesos_test_http_resp_free(&r);
  }
  ck_assert_int_eq(T.handled, 2);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__pipelined_batch_split_at_every_byte_still_parses) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n";
  for (size_t i = 0; req[i]; i++) {
    ck_assert_int_eq(mesos_test_http_send(&c, req + i, 1), 0);
    mesos_test_http_pump(T.loop, &c, 1);
  }
  mesos_test_http_resp r;
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_str_eq(r.body, "hello");
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_str_eq(r.body, "abc");
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ bodies */

START_TEST(test_server__content_length_and_chunked_bodies_reach_the_handler) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", 200,
            &r);
  ck_assert_str_eq(r.body, "hello world");
  ck_assert_str_eq(mesos_test_http_header(&r, "X-Method"), "POST");
  mesos_test_http_resp_free(&r);
  roundtrip(&c,
            "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n",
            200, &r);
  ck_assert_str_eq(r.body, "hello world");
  ck_assert_str_eq(mesos_test_http_header(&r, "X-Method"), "PUT");
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__expect_100_continue_is_answered_before_the_body) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                                             "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n"),
                   0);
  mesos_test_http_resp r;
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_int_eq(r.status, 100);
  mesos_test_http_resp_free(&r);
  ck_assert_int_eq(mesos_test_http_sends(&c, "body"), 0);
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "body");
  mesos_test_http_resp_free(&r);
  /* An expectation we do not know: 417. */
  ck_assert_int_eq(mesos_test_http_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                                             "Expect: teapot\r\nContent-Length: 4\r\n\r\nbody"),
                   0);
  expect_error_and_close(&c, 417);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ limits */

START_TEST(test_server__oversized_headers_get_431_and_a_close) {
  mesos__http_server_options o = {0};
  o.max_header_bytes = 1024;
  start_server(&o);
  mesos_test_http_client c;
  connect_client(&c);
  char big[2048];
  memset(big, 'a', sizeof big);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /hello HTTP/1.1\r\nX-Big: "), 0);
  ck_assert_int_eq(mesos_test_http_sends(&c, big), 0);
  ck_assert_int_eq(mesos_test_http_sends(&c, "\r\n\r\n"), 0);
  expect_error_and_close(&c, 431);
  mesos_test_http_close(&c);
  /* Too many fields, each small. */
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /hello HTTP/1.1\r\n"), 0);
  for (int i = 0; i < 300; i++) mesos_test_http_sends(&c, "A: b\r\n");
  expect_error_and_close(&c, 431);
  mesos_test_http_close(&c);
  /* A request target alone too long: 414. */
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /"), 0);
  ck_assert_int_eq(mesos_test_http_sends(&c, big), 0);
  expect_error_and_close(&c, 414);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__oversized_bodies_get_413_by_length_and_by_chunks) {
  mesos__http_server_options o = {0};
  o.max_body_bytes = 100;
  start_server(&o);
  mesos_test_http_client c;
  connect_client(&c);
  /* Refused from the Content-Length alone, before any body byte. */
  ck_assert_int_eq(
      mesos_test_http_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"), 0);
  expect_error_and_close(&c, 413);
  mesos_test_http_close(&c);
  connect_client(&c);
  ck_assert_int_eq(
      mesos_test_http_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
      0);
  char chunk[64];
  memset(chunk, 'z', sizeof chunk);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(mesos_test_http_sends(&c, "40\r\n"), 0);
    ck_assert_int_eq(mesos_test_http_send(&c, chunk, sizeof chunk), 0);
    ck_assert_int_eq(mesos_test_http_sends(&c, "\r\n"), 0);
  }
  expect_error_and_close(&c, 413);
  mesos_test_http_close(&c);
  /* Exactly at the limit is fine. */
  connect_client(&c);
  char req[512], body[101];
  memset(body, 'q', 100);
  body[100] = '\0';
  snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n%s", body);
  mesos_test_http_resp r;
  roundtrip(&c, req, 200, &r);
  ck_assert_uint_eq(r.body_len, 100);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__stalled_request_gets_408_and_a_close) {
  mesos__http_server_options o = {0};
  o.request_timeout_ms = 150;
  start_server(&o);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n"), 0);
  expect_error_and_close(&c, 408);
  mesos_test_http_close(&c);
  /* Also in the middle of a body. */
  connect_client(&c);
  ck_assert_int_eq(
      mesos_test_http_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"), 0);
  expect_error_and_close(&c, 408);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__connections_over_the_limit_get_503_and_a_close) {
  mesos__http_server_options o = {0};
  o.max_connections = 1;
  start_server(&o);
  mesos_test_http_client a, b;
  connect_client(&a);
  mesos_test_http_resp r;
  roundtrip(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  connect_client(&b);
  expect_error_and_close(&b, 503);
  mesos_test_http_close(&b);
  /* The first connection still works, and once it is gone a new one is
   * served again. */
  roundtrip(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&a);
  mesos_test_http_pump(T.loop, NULL, 50);
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), 0);
  connect_client(&b);
  roundtrip(&b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&b);
  stop_server();
}
END_TEST

START_TEST(test_server__garbage_and_malformed_requests_get_400_and_a_close) {
  start_server(NULL);
  const char *bad[] = {
      "HELLO WORLD\r\n\r\n",
      "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /hello HTTP/1.1\r\nBad Header: x\r\n\r\n",
      "GET hello HTTP/1.1\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mesos_test_http_client c;
    connect_client(&c);
    ck_assert_int_eq(mesos_test_http_sends(&c, bad[i]), 0);
    expect_error_and_close(&c, 400);
    mesos_test_http_close(&c);
  }
  /* HTTP/2.0 request line: 505. */
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /hello HTTP/2.0\r\n\r\n"), 0);
  mesos_test_http_resp r;
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_int_ge(r.status, 400);
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__upgrade_requests_are_answered_as_plain_http) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            200, &r);
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ responses */

static mesos_status bad_header_status;
static void h_bad_header(mesos__http_request *req, void *ud) {
  (void)ud;
  mesos__http_header h = {(char *)"X-Evil", (char *)"a\r\nSet-Cookie: x"};
  mesos__http_headers extra = {&h, 1, 1};
  bad_header_status = mesos__http_respond(req, 200, &extra, "", 0);
  mesos__http_header cl = {(char *)"Content-Length", (char *)"5"};
  mesos__http_headers extra2 = {&cl, 1, 1};
  ck_assert_int_eq(mesos__http_respond(req, 200, &extra2, "", 0), MESOS_EINVAL);
  ck_assert_int_eq(mesos__http_respond(req, 99, NULL, "", 0), MESOS_EINVAL);
  ck_assert_int_eq(mesos__http_stream_send(req, "x", 1), MESOS_EINVAL);
  ck_assert_int_eq(mesos__http_respond(req, 204, NULL, "ignored", 7), MESOS_OK);
  /* Answered: a second answer is refused. */
  ck_assert_int_eq(mesos__http_respond(req, 200, NULL, "", 0), MESOS_EINVAL);
}

START_TEST(test_server__header_injection_and_double_answers_are_refused) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, NULL, "/bad", 0, h_bad_header, NULL),
                   MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  mesos_test_http_resp r;
  roundtrip(&c, "GET /bad HTTP/1.1\r\nHost: x\r\n\r\n", 204, &r);
  ck_assert_int_eq(bad_header_status, MESOS_EINVAL);
  ck_assert_ptr_null(mesos_test_http_header(&r, "Set-Cookie"));
  ck_assert_ptr_null(mesos_test_http_header(&r, "Content-Length"));
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

static void h_big(mesos__http_request *req, void *ud) {
  (void)ud;
  size_t n = 3u << 20;
  char *b = malloc(n);
  for (size_t i = 0; i < n; i++) b[i] = (char)('a' + i % 26);
  ck_assert_int_eq(mesos__http_respond(req, 200, NULL, b, n), MESOS_OK);
  free(b);
}

START_TEST(test_server__large_responses_arrive_whole) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/big", 0, h_big, NULL), MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                                             "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"),
                   0);
  mesos_test_http_resp r;
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, 10000));
  ck_assert_uint_eq(r.body_len, 3u << 20);
  ck_assert_int_eq(r.body[(3u << 20) - 1], 'a' + ((3u << 20) - 1) % 26);
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_str_eq(r.body, "hello");
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

static void h_8k(mesos__http_request *req, void *ud) {
  (void)ud;
  static char b[32768];
  memset(b, 'k', sizeof b);
  T.handled++;
  ck_assert_int_eq(mesos__http_respond(req, 200, NULL, b, sizeof b), MESOS_OK);
}

START_TEST(test_server__client_that_does_not_read_stalls_only_itself) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/8k", 0, h_8k, NULL), MESOS_OK);
  mesos_test_http_client c, other;
  connect_client(&c);
  /* 1000 pipelined requests = 32 MiB of responses the client does not read
   * yet (more than loopback socket buffers hold): the server must stop
   * parsing instead of queueing them all. */
  static char batch[1000 * 40];
  size_t n = 0;
  for (int i = 0; i < 1000; i++) n += (size_t)snprintf(batch + n, sizeof batch - n, "GET /8k HTTP/1.1\r\nHost: x\r\n\r\n");
  ck_assert_int_eq(mesos_test_http_send(&c, batch, n), 0);
  int fd = c.fd;
  c.fd = -1; /* pump without reading */
  mesos_test_http_pump(T.loop, NULL, 300);
  c.fd = fd;
  /* Bounded: what waits in the server is about the high-water mark. */
  ck_assert_int_gt(T.handled, 0);
  ck_assert_int_lt(T.handled, 1000);
  /* Others are served meanwhile. */
  connect_client(&other);
  mesos_test_http_resp r;
  roundtrip(&other, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&other);
  for (int i = 0; i < 1000; i++) {
    ck_assert_msg(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS), "response %d missing", i);
    ck_assert_uint_eq(r.body_len, 32768);
    mesos_test_http_resp_free(&r);
  }
  ck_assert_int_eq(T.handled, 1000 + 1);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ streaming */

START_TEST(test_server__streamed_chunks_arrive_and_a_disconnect_runs_abort) {
  start_server(NULL);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  ck_assert(mesos_test_http_wait_for(T.loop, &c, "event 3\n", WAIT_MS));
  ck_assert_ptr_nonnull(strstr(c.buf, "Transfer-Encoding: chunked\r\n"));
  ck_assert_ptr_nonnull(strstr(c.buf, "\r\n6\r\nhello\n\r\n"));
  ck_assert_ptr_nonnull(strstr(c.buf, "\r\n8\r\nevent 0\n\r\n"));
  ck_assert_int_eq(T.aborted, 0);
  mesos_test_http_close(&c);
  /* The server notices on its next read or write. */
  for (int i = 0; i < 300 && T.aborted == 0; i++) mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_int_eq(T.aborted, 1);
  ck_assert_ptr_null(T.stream_req);
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), 0);
  stop_server();
}
END_TEST

static void h_stream_http10(mesos__http_request *req, void *ud) {
  (void)ud;
  ck_assert_int_eq(mesos__http_stream_start(req, 200, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_stream_send(req, "raw ", 4), MESOS_OK);
  ck_assert_int_eq(mesos__http_stream_send(req, "bytes", 5), MESOS_OK);
  ck_assert_int_eq(mesos__http_stream_end(req), MESOS_OK);
}

/* A streaming answer to a request with a body (an agent's REREGISTER
 * report): the handler reads the body, then the stream lives on without
 * it. */
static void h_upload_stream(mesos__http_request *req, void *ud) {
  (void)ud;
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  ck_assert_uint_eq(len, 100000);
  ck_assert_int_eq(body[0], 'x');
  ck_assert_uint_gt(mesos__http_request_held_bytes(req), 100000);
  ck_assert_int_eq(mesos__http_stream_start(req, 200, NULL), MESOS_OK);
  mesos__http_request_on_abort(req, stream_abort, NULL);
  T.stream_req = req;
  ck_assert_int_eq(mesos__http_stream_send(req, "ok\n", 3), MESOS_OK);
}

START_TEST(test_server__a_streaming_request_does_not_keep_its_body) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "POST", "/up", 0, h_upload_stream, NULL),
                   MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  char head[256];
  snprintf(head, sizeof head,
           "POST /up HTTP/1.1\r\nHost: x\r\nX-Agent: agent-7\r\nContent-Length: %d\r\n\r\n",
           100000);
  ck_assert_int_eq(mesos_test_http_sends(&c, head), 0);
  char *body = mesos__malloc(100000);
  ck_assert_ptr_nonnull(body);
  memset(body, 'x', 100000);
  ck_assert_int_eq(mesos_test_http_send(&c, body, 100000), 0);
  mesos__free(body);
  ck_assert(mesos_test_http_wait_for(T.loop, &c, "ok\n", WAIT_MS));
  ck_assert_ptr_nonnull(T.stream_req);
  /* The request line and headers stay readable; the body is gone. */
  ck_assert_uint_lt(mesos__http_request_held_bytes(T.stream_req), 1024);
  size_t len = 1;
  mesos__http_request_body(T.stream_req, &len);
  ck_assert_uint_eq(len, 0);
  ck_assert_str_eq(mesos__http_request_header(T.stream_req, "X-Agent"), "agent-7");
  ck_assert_str_eq(mesos__http_request_path(T.stream_req), "/up");
  /* Still a working stream. */
  ck_assert_int_eq(mesos__http_stream_send(T.stream_req, "more\n", 5), MESOS_OK);
  ck_assert(mesos_test_http_wait_for(T.loop, &c, "more\n", WAIT_MS));
  mesos_test_http_close(&c);
  for (int i = 0; i < 300 && T.aborted == 0; i++) mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_int_eq(T.aborted, 1);
  stop_server();
}
END_TEST

START_TEST(test_server__streams_to_http10_clients_end_with_a_close) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/s", 0, h_stream_http10, NULL),
                   MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /s HTTP/1.0\r\n\r\n"), 0);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  mesos_test_http_resp r;
  ck_assert(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS));
  ck_assert_str_eq(r.body, "raw bytes");
  ck_assert_ptr_null(mesos_test_http_header(&r, "Transfer-Encoding"));
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  /* And on HTTP/1.1 the same handler is chunked and keeps the connection. */
  connect_client(&c);
  roundtrip(&c, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  ck_assert(r.chunked);
  ck_assert_str_eq(r.body, "raw bytes");
  mesos_test_http_resp_free(&r);
  roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

static void h_slow_no_abort(mesos__http_request *req, void *ud) {
  (void)ud;
  T.slow_req = req; /* answered later, no abort callback */
}

START_TEST(test_server__late_answer_to_a_vanished_client_fails_cleanly) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/later", 0, h_slow_no_abort, NULL),
                   MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  for (int i = 0; i < 300 && T.slow_req == NULL; i++) mesos_test_http_pump(T.loop, &c, 10);
  ck_assert_ptr_nonnull(T.slow_req);
  mesos_test_http_close(&c);
  for (int i = 0; i < 300 && mesos__http_server_connections(T.srv) > 0; i++)
    mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_uint_eq(mesos__http_server_connections(T.srv), 0);
  ck_assert(!mesos__http_request_connected(T.slow_req));
  ck_assert_int_eq(mesos__http_respond(T.slow_req, 200, NULL, "late", 4), MESOS_ECLOSED);
  T.slow_req = NULL;
  stop_server();
}
END_TEST

/* ------------------------------------------------------------ shutdown */

static void shutdown_done(void *ud) {
  (void)ud;
  T.shutdown_done = 1;
}

START_TEST(test_server__graceful_shutdown_finishes_slow_responses_and_ends_streams) {
  start_server(NULL);
  mesos_test_http_client idle, slow, events;
  connect_client(&idle);
  connect_client(&slow);
  connect_client(&events);
  mesos_test_http_resp r;
  roundtrip(&idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, &r);
  mesos_test_http_resp_free(&r);
  ck_assert_int_eq(mesos_test_http_sends(&events, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  ck_assert(mesos_test_http_wait_for(T.loop, &events, "event 1\n", WAIT_MS));
  ck_assert_int_eq(mesos_test_http_sends(&slow, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  for (int i = 0; i < 300 && T.slow_req == NULL; i++) mesos_test_http_pump(T.loop, &slow, 5);
  ck_assert_ptr_nonnull(T.slow_req);

  mesos__http_server_shutdown(T.srv, 5000, shutdown_done, NULL);
  ck_assert_int_eq(T.shutdown_done, 0); /* never inside the call */
  ck_assert_int_eq(T.aborted, 1);       /* the stream's handler was told */
  ck_assert(mesos_test_http_wait_eof(T.loop, &idle, WAIT_MS));
  ck_assert_uint_eq(idle.len, 0);
  ck_assert(mesos_test_http_wait_eof(T.loop, &events, WAIT_MS));
  ck_assert_ptr_nonnull(strstr(events.buf, "\r\n0\r\n\r\n"));
  ck_assert(mesos_test_http_recv(T.loop, &slow, &r, 0, WAIT_MS));
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "slow");
  ck_assert_str_eq(mesos_test_http_header(&r, "Connection"), "close");
  mesos_test_http_resp_free(&r);
  ck_assert(mesos_test_http_wait_eof(T.loop, &slow, WAIT_MS));
  for (int i = 0; i < 300 && !T.shutdown_done; i++) mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_int_eq(T.shutdown_done, 1);
  /* Not listening anymore. */
  mesos_test_http_client late;
  ck_assert_int_eq(mesos_test_http_connect(&late, T.port), -1);
  mesos_test_http_close(&idle);
  mesos_test_http_close(&slow);
  mesos_test_http_close(&events);
  stop_server();
}
END_TEST

START_TEST(test_server__shutdown_grace_period_force_closes_what_is_left) {
  start_server(NULL);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/later", 0, h_slow_no_abort, NULL),
                   MESOS_OK);
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  for (int i = 0; i < 300 && T.slow_req == NULL; i++) mesos_test_http_pump(T.loop, &c, 5);
  /* Enough pipelined input behind the held request that the server stops
   * reading: then nothing but the grace timer is active on the loop. */
  static char more[100 * 1024];
  for (size_t i = 0; i + 33 <= sizeof more; i += 33)
    memcpy(more + i, "GET /hello HTTP/1.1\r\nHost: xx\r\n\r\n", 33);
  ck_assert_int_eq(mesos_test_http_send(&c, more, sizeof more), 0);
  mesos_test_http_pump(T.loop, &c, 50);
  mesos__http_server_shutdown(T.srv, 100, shutdown_done, NULL);
  ck_assert(mesos_test_http_wait_eof(T.loop, &c, WAIT_MS));
  for (int i = 0; i < 300 && !T.shutdown_done; i++) mesos_test_http_pump(T.loop, NULL, 10);
  ck_assert_int_eq(T.shutdown_done, 1);
  ck_assert_int_eq(mesos__http_respond(T.slow_req, 200, NULL, "", 0), MESOS_ECLOSED);
  T.slow_req = NULL;
  mesos_test_http_close(&c);
  stop_server();
}
END_TEST

START_TEST(test_server__free_with_open_connections_runs_aborts_and_leaks_nothing) {
  start_server(NULL);
  mesos_test_http_client a, b;
  connect_client(&a);
  connect_client(&b);
  ck_assert_int_eq(mesos_test_http_sends(&a, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  ck_assert(mesos_test_http_wait_for(T.loop, &a, "hello", WAIT_MS));
  ck_assert_int_eq(mesos_test_http_sends(&b, "GET /hello HTTP/1.1\r\nHost: x\r\n"), 0);
  mesos_test_http_pump(T.loop, &b, 20);
  mesos__http_server_free(T.srv);
  T.srv = NULL;
  ck_assert_int_eq(T.aborted, 1);
  stop_server();
  mesos_test_http_close(&a);
  mesos_test_http_close(&b);
}
END_TEST

/* ------------------------------------------------------------ real clients */

START_TEST(test_server__curl_keep_alive_post_and_chunked_upload) {
  if (!mesos_test_have_prog("curl")) MESOS_TEST_SKIP("curl is not installed");
  start_server(NULL);
  char u1[128], u2[128], u3[128];
  snprintf(u1, sizeof u1, "http://127.0.0.1:%d/hello", T.port);
  snprintf(u2, sizeof u2, "http://127.0.0.1:%d/files/x", T.port);
  snprintf(u3, sizeof u3, "http://127.0.0.1:%d/echo", T.port);
  char *out = NULL;
  /* Two URLs, one connection: %{num_connects} is 0 for the reused one. */
  char *const argv1[] = {"curl", "-sS", "--max-time", "5", "-w", " [%{http_code} %{num_connects}]\n",
                         u1, u2, NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv1, NULL, &out, 10000), 0);
  ck_assert_msg(strstr(out, "hello [200 1]") != NULL, "curl said: %s", out);
  ck_assert_msg(strstr(out, "/files/x [200 0]") != NULL, "curl said: %s", out);
  free(out);
  char *const argv2[] = {"curl", "-sS", "--max-time", "5", "--data", "a=1&b=2", u3, NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv2, NULL, &out, 10000), 0);
  ck_assert_str_eq(out, "a=1&b=2");
  free(out);
  char *const argv3[] = {"curl", "-sS", "--max-time", "5", "-H", "Transfer-Encoding: chunked",
                         "--data-binary", "@-", u3, NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv3, "streamed upload body", &out, 10000), 0);
  ck_assert_str_eq(out, "streamed upload body");
  free(out);
  stop_server();
}
END_TEST

static char certdir[128];

START_TEST(test_server__tls_serves_curl_and_openssl_s_client) {
  if (!mesos_test_have_openssl()) MESOS_TEST_SKIP("openssl is not installed");
  if (!mesos_test_have_prog("curl")) MESOS_TEST_SKIP("curl is not installed");
  ck_assert_int_eq(mesos_test_certs_dir(certdir, sizeof certdir), 0);
  ck_assert_int_eq(mesos_test_make_certs(certdir), 0);
  int64_t before = mesos__alloc_live();
  mesos__tls_config_options to = {0};
  to.is_server = 1;
  to.cert_file = mesos_test_cert(certdir, "server.crt");
  to.key_file = mesos_test_cert(certdir, "server.key");
  mesos__tls_config *tls = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&tls, &to, &err), &err);
  mesos__http_server_options o = {0};
  o.tls = tls;
  start_server(&o);
  T.live_before = before;
  mesos__tls_config_unref(tls); /* the server holds its own reference */

  char u1[128], u2[128];
  snprintf(u1, sizeof u1, "https://127.0.0.1:%d/hello", T.port);
  snprintf(u2, sizeof u2, "https://localhost:%d/echo", T.port);
  char *out = NULL;
  char cacert[256];
  snprintf(cacert, sizeof cacert, "%s", mesos_test_cert(certdir, "ca.crt"));
  char resolve[64];
  snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", T.port);
  char *const argv1[] = {"curl", "-sS", "--max-time", "5", "--cacert", cacert, "--resolve",
                         resolve, "-w", " [%{http_code} %{num_connects}]\n", u1, u1, NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv1, NULL, &out, 10000), 0);
  ck_assert_msg(strstr(out, "hello [200 1]") && strstr(out, "hello [200 0]"), "curl: %s", out);
  free(out);
  char *const argv2[] = {"curl", "-sS", "--max-time", "5", "--cacert", cacert, "--resolve",
                         resolve, "--data", "over tls", u2, NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv2, NULL, &out, 10000), 0);
  ck_assert_str_eq(out, "over tls");
  free(out);
  char connect_to[64];
  snprintf(connect_to, sizeof connect_to, "127.0.0.1:%d", T.port);
  char *const argv3[] = {"openssl", "s_client", "-connect", connect_to, "-CAfile", cacert,
                         "-verify_return_error", "-quiet", "-ign_eof", NULL};
  ck_assert_int_eq(mesos_test_run_cmd(T.loop, argv3,
                                      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                      &out, 10000),
                   0);
  ck_assert_msg(strstr(out, "HTTP/1.1 200 OK\r\n") && strstr(out, "\r\n\r\nhello"),
                "s_client: %s", out);
  free(out);
  /* Plain HTTP to the TLS port: the connection is dropped, nothing leaks. */
  mesos_test_http_client c;
  connect_client(&c);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  mesos_test_http_wait_eof(T.loop, &c, WAIT_MS);
  ck_assert(c.eof);
  mesos_test_http_close(&c);
  stop_server();
  mesos_test_rmtree(certdir);
}
END_TEST

/* ------------------------------------------------------------ fake connections */

static char fake_out[4096];
static size_t fake_len;
static void fake_sink(const char *d, size_t n, void *ud) {
  (void)ud;
  if (n > sizeof fake_out - 1 - fake_len) n = sizeof fake_out - 1 - fake_len;
  memcpy(fake_out + fake_len, d, n);
  fake_len += n;
  fake_out[fake_len] = '\0';
}

START_TEST(test_server__fake_connection_runs_the_same_request_path) {
  memset(&T, 0, sizeof T);
  int64_t before = mesos__alloc_live();
  ck_assert_int_eq(mesos_loop_new(&T.loop, NULL, NULL), MESOS_OK);
  mesos__http_server_options o = {0};
  ck_assert_int_eq(mesos__http_server_new(&T.srv, T.loop, &o, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_port(T.srv), 0);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/hello", 0, h_hello, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(T.srv, "GET", "/slow", 0, h_slow, NULL), MESOS_OK);
  mesos__http_fake_conn *fc = NULL;
  ck_assert_int_eq(mesos__http_fake_conn_new(&fc, T.srv, fake_sink, NULL), MESOS_OK);
  const char *in = "GET /slow HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n";
  ck_assert_uint_eq(mesos__http_fake_conn_feed(fc, in, strlen(in)), strlen(in));
  ck_assert(mesos__http_fake_conn_paused(fc));
  ck_assert_uint_eq(mesos__http_fake_conn_feed(fc, "x", 1), 0);
  for (int i = 0; i < 300 && strstr(fake_out, "hello") == NULL; i++)
    mesos_test_http_pump(T.loop, NULL, 5);
  ck_assert_msg(strstr(fake_out, "slow") < strstr(fake_out, "hello"), "%s", fake_out);
  ck_assert(!mesos__http_fake_conn_closed(fc));
  mesos__http_fake_conn_free(fc);
  mesos_timer_free(T.slow_timer);
  mesos__http_server_free(T.srv);
  mesos_loop_free(T.loop);
  ck_assert_int_eq(mesos__alloc_live(), before);
}
END_TEST

/* Answers without asserting: under allocation failure the answer may fail,
 * and then the request is left unanswered (the server must still clean up). */
static void h_lax(mesos__http_request *req, void *ud) {
  (void)ud;
  size_t len;
  const char *body = mesos__http_request_body(req, &len);
  mesos__http_header h = {(char *)"X-A", (char *)"1"};
  mesos__http_headers extra = {&h, 1, 1};
  (void)mesos__http_respond(req, 200, &extra, body, len);
}

/* One pass of a request set through a fake connection; every step may
 * fail for lack of memory and must then clean up. */
static void fake_pass(void) {
  mesos_loop *loop = NULL;
  if (mesos_loop_new(&loop, NULL, NULL) != MESOS_OK) return;
  mesos__http_server *srv = NULL;
  mesos__http_server_options o = {0};
  if (mesos__http_server_new(&srv, loop, &o, NULL) == MESOS_OK) {
    mesos__http_server_route(srv, NULL, "/echo", 0, h_lax, NULL);
    mesos__http_server_route(srv, "GET", "/hello", 0, h_lax, NULL);
    mesos__http_fake_conn *fc = NULL;
    if (mesos__http_fake_conn_new(&fc, srv, fake_sink, NULL) == MESOS_OK) {
      const char *in = "POST /echo HTTP/1.1\r\nHost: x\r\nA: b\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n0\r\n\r\nGET /hello HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n";
      mesos__http_fake_conn_feed(fc, in, strlen(in));
      for (int i = 0; i < 5; i++) mesos_loop_run_once(loop);
      mesos__http_fake_conn_free(fc);
    }
    mesos__http_server_free(srv);
  }
  mesos_loop_free(loop);
}

START_TEST(test_server__every_failed_allocation_is_handled_without_leaks) {
  memset(&T, 0, sizeof T);
  int64_t before = mesos__alloc_live();
  mesos__alloc_fail_after(0);
  fake_pass();
  uint64_t total = mesos__alloc_fail_after(0);
  ck_assert_uint_gt(total, 5);
  ck_assert_int_eq(mesos__alloc_live(), before);
  for (uint64_t n = 1; n <= total + 1; n++) {
    fake_len = 0;
    mesos__alloc_fail_after(n);
    fake_pass();
    mesos__alloc_fail_after(0);
    ck_assert_msg(mesos__alloc_live() == before, "leak when allocation %llu fails",
                  (unsigned long long)n);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("http_server");
  TCase *tc = tcase_create("server");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_http__token_matching_is_case_insensitive_and_list_aware);
  tcase_add_test(tc, test_http__header_set_replaces_every_occurrence);
  tcase_add_test(tc, test_server__routes_by_method_and_path_with_404_and_405);
  tcase_add_test(tc, test_server__route_registration_refuses_duplicates_and_bad_paths);
  tcase_add_test(tc, test_server__listen_on_a_bad_address_fails_with_a_message);
  tcase_add_test(tc, test_server__keep_alive_reuses_one_connection);
  tcase_add_test(tc, test_server__hundreds_of_concurrent_connections_are_all_served);
  tcase_add_test(tc, test_server__connection_close_and_http10_end_the_connection);
  tcase_add_test(tc, test_server__idle_keep_alive_connection_is_closed_after_the_timeout);
  tcase_add_test(tc, test_server__pipelined_requests_are_answered_in_order);
  tcase_add_test(tc, test_server__pipelined_batch_split_at_every_byte_still_parses);
  tcase_add_test(tc, test_server__content_length_and_chunked_bodies_reach_the_handler);
  tcase_add_test(tc, test_server__expect_100_continue_is_answered_before_the_body);
  tcase_add_test(tc, test_server__oversized_headers_get_431_and_a_close);
  tcase_add_test(tc, test_server__oversized_bodies_get_413_by_length_and_by_chunks);
  tcase_add_test(tc, test_server__stalled_request_gets_408_and_a_close);
  tcase_add_test(tc, test_server__connections_over_the_limit_get_503_and_a_close);
  tcase_add_test(tc, test_server__garbage_and_malformed_requests_get_400_and_a_close);
  tcase_add_test(tc, test_server__upgrade_requests_are_answered_as_plain_http);
  tcase_add_test(tc, test_server__header_injection_and_double_answers_are_refused);
  tcase_add_test(tc, test_server__large_responses_arrive_whole);
  tcase_add_test(tc, test_server__client_that_does_not_read_stalls_only_itself);
  tcase_add_test(tc, test_server__streamed_chunks_arrive_and_a_disconnect_runs_abort);
  tcase_add_test(tc, test_server__streams_to_http10_clients_end_with_a_close);
  tcase_add_test(tc, test_server__a_streaming_request_does_not_keep_its_body);
  tcase_add_test(tc, test_server__late_answer_to_a_vanished_client_fails_cleanly);
  tcase_add_test(tc, test_server__graceful_shutdown_finishes_slow_responses_and_ends_streams);
  tcase_add_test(tc, test_server__shutdown_grace_period_force_closes_what_is_left);
  tcase_add_test(tc, test_server__free_with_open_connections_runs_aborts_and_leaks_nothing);
  tcase_add_test(tc, test_server__curl_keep_alive_post_and_chunked_upload);
  tcase_add_test(tc, test_server__tls_serves_curl_and_openssl_s_client);
  tcase_add_test(tc, test_server__fake_connection_runs_the_same_request_path);
  tcase_add_test(tc, test_server__every_failed_allocation_is_handled_without_leaks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
