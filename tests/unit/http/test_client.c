/*
 * HTTP client tests against real sockets on loopback.  The peer is
 * tests/support/http_peer.py (Python's own sockets and ssl), started per
 * test on a free port and killed in teardown; PR_SET_PDEATHSIG kills it too
 * if a failed assertion ends the test process first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "http/client.h"
#include "http/server.h"
#include "http/tls.h"
#include "support/certs.h"
#include "support/testutil.h"

#define PEER_SCRIPT "tests/support/http_peer.py"
#define MAX_PEERS 3
/* Generous: every test waits for an event that should come in well under
 * a second, except the ones that wait for a timeout on purpose. */
#define WAIT_MS 10000

static mesos_loop *loop;
static mesos__http_client *client;
static int64_t live_before;
static pid_t peers[MAX_PEERS];
static int npeers;
/* Certificates are made once per program (openssl takes seconds), in the
 * TLS test case's unchecked fixture, which runs outside the forked tests. */
static char certdir[128];
static int have_certs;

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts the peer with `args` (NULL-terminated, may be empty) and returns
 * its port, or -1 when it did not come up (it is killed in teardown). */
static int try_start_peer_args(const char *const *extra) {
  ck_assert_msg(access(PEER_SCRIPT, R_OK) == 0, "%s not found (run from the repository root)",
                PEER_SCRIPT);
  ck_assert_int_lt(npeers, MAX_PEERS);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    /* Debian's interpreter first: a python3 found earlier in PATH may be
     * a version-manager shim that takes seconds to start. */
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    const char *argv[16] = {py, PEER_SCRIPT};
    int n = 2;
    for (int i = 0; extra && extra[i] && n < 15; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    execvp(py, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  peers[npeers++] = pid;
  char line[32] = {0};
  size_t got = 0;
  uint64_t end = mono_ms() + WAIT_MS;
  while (got < sizeof line - 1 && !memchr(line, '\n', got) && mono_ms() < end) {
    struct pollfd p = {fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = read(fds[0], line + got, sizeof line - 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fds[0]);
  int port = (int)strtol(line, NULL, 10);
  return port > 0 ? port : -1;
}

static int start_peer_args(const char *const *extra) {
  int port = try_start_peer_args(extra);
  ck_assert_msg(port > 0, "peer did not report its port (python3 missing?)");
  return port;
}

static int start_peer(void) { return start_peer_args(NULL); }

static void setup(void) {
  signal(SIGPIPE, SIG_IGN);
  live_before = mesos__alloc_live();
  npeers = 0;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
}

static void drain_loop(void) {
  for (int i = 0; i < 50 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
}

static void teardown(void) {
  mesos__http_client_free(client);
  client = NULL;
  drain_loop();
  mesos_loop_free(loop);
  loop = NULL;
  for (int i = 0; i < npeers; i++) {
    kill(peers[i], SIGKILL);
    waitpid(peers[i], NULL, 0);
  }
  npeers = 0;
  /* Every allocation the client made is back. */
  ck_assert_int_eq(mesos__alloc_live(), live_before);
}

/* ------------------------------------------------------------ a result */

struct result {
  int done;
  int done_calls;
  mesos_status status;
  int http;
  char body[256 * 1024];
  size_t body_len;
  char err[1024];
  char url[512];
  char conn_id[16], req_index[16], xauth[256], xua[256], xhost[300];
  int had_resp;
  int heads;
  int bodies;
  int bodies_after_cancel;
  uint64_t first_body_ms, done_ms;
  mesos__http_call *call;
  int cancel_after_bodies; /* cancel from inside on_body after this many */
  int cancelled;
  int cancel_done_inside;  /* on_done ran inside cancel (must not) */
  int in_cancel;
  int free_client_in_done;
  int free_client_after_bodies; /* free the client from inside on_body */
  int in_body;
  int done_inside_body;
  /* a follow-up request sent from inside on_done */
  const char *next_url;
  const char *next_method;
  struct result *next;
};

static void copy_header(char *dst, size_t cap, const mesos__http_response *resp, const char *n) {
  const char *v = mesos__http_headers_get(&resp->headers, n);
  snprintf(dst, cap, "%s", v ? v : "");
}

static void r_on_head(mesos__http_call *call, const mesos__http_response *resp, void *ud) {
  struct result *r = ud;
  r->heads++;
  r->http = resp->status;
  copy_header(r->conn_id, sizeof r->conn_id, resp, "X-Conn-Id");
}

static void r_on_body(mesos__http_call *call, const char *data, size_t len, void *ud) {
  struct result *r = ud;
  if (r->cancelled) r->bodies_after_cancel++;
  r->bodies++;
  if (r->free_client_after_bodies && r->bodies == r->free_client_after_bodies) {
    r->cancelled = 1; /* no on_body may follow */
    r->in_body = 1;
    mesos__http_client_free(client);
    client = NULL;
    r->in_body = 0;
  }
  if (r->bodies == 1) r->first_body_ms = mono_ms();
  if (r->body_len + len < sizeof r->body) {
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
  }
  if (r->cancel_after_bodies && r->bodies == r->cancel_after_bodies) {
    r->cancelled = 1;
    r->in_cancel = 1;
    mesos__http_call_cancel(call);
    mesos__http_call_cancel(call); /* twice is harmless */
    r->in_cancel = 0;
  }
}

static void send_req(struct result *r, const char *method, const char *url, const char *body,
                     int stream);

static void r_on_done(mesos__http_call *call, mesos_status st, const mesos__http_response *resp,
                      const mesos_error *err, void *ud) {
  struct result *r = ud;
  if (r->in_cancel) r->cancel_done_inside = 1;
  if (r->in_body) r->done_inside_body = 1;
  r->done = 1;
  r->done_calls++;
  r->done_ms = mono_ms();
  r->status = st;
  r->had_resp = resp != NULL;
  if (err) snprintf(r->err, sizeof r->err, "%s", mesos_error_message(err));
  ck_assert(st == MESOS_OK ? err == NULL : err != NULL);
  if (resp) {
    r->http = resp->status;
    snprintf(r->url, sizeof r->url, "%s", resp->url);
    copy_header(r->conn_id, sizeof r->conn_id, resp, "X-Conn-Id");
    copy_header(r->req_index, sizeof r->req_index, resp, "X-Req-Index");
    copy_header(r->xauth, sizeof r->xauth, resp, "X-Authorization");
    copy_header(r->xua, sizeof r->xua, resp, "X-User-Agent");
    copy_header(r->xhost, sizeof r->xhost, resp, "X-Host");
    if (resp->body) {
      ck_assert_uint_lt(resp->body_len, sizeof r->body);
      memcpy(r->body, resp->body, resp->body_len);
      r->body_len = resp->body_len;
      r->body[r->body_len] = '\0';
      ck_assert_int_eq(resp->body[resp->body_len], '\0');
    }
  }
  if (r->next) send_req(r->next, r->next_method, r->next_url, NULL, 0);
  if (r->free_client_in_done) {
    mesos__http_client_free(client);
    client = NULL;
  }
}

static const mesos__http_client_cbs rcbs = {r_on_head, r_on_body, r_on_done};

static void send_req_opts(struct result *r, mesos__http_client_request *req) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_client_send(client, req, &rcbs, r, &r->call, &err), &err);
}

static void send_req(struct result *r, const char *method, const char *url, const char *body,
                     int stream) {
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.method = method;
  req.url = url;
  req.body = body;
  req.body_len = body ? strlen(body) : 0;
  req.stream = stream;
  send_req_opts(r, &req);
}

static void wait_done(struct result *r) {
  ck_assert_msg(mesos_test_run_until(loop, &r->done, WAIT_MS), "request did not finish");
}

static const char *url_of(int port, const char *path) {
  static char bufs[4][512];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, 512, "http://127.0.0.1:%d%s", port, path);
  return b;
}

static struct result *new_result(void) {
  struct result *r = calloc(1, sizeof *r);
  ck_assert_ptr_nonnull(r);
  return r;
}

#define ck_assert_err_contains(r, needle)                                                   \
  ck_assert_msg(strstr((r)->err, (needle)) != NULL, "error '%s' lacks '%s'", (r)->err, (needle))

/* ------------------------------------------------------------ basics */

START_TEST(test_client__get_returns_status_headers_and_body) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, NULL, url_of(port, "/echo?x=1"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->http, 200);
  ck_assert_str_eq(r->body, "GET /echo?x=1\n");
  ck_assert_str_eq(r->url, url_of(port, "/echo?x=1"));
  ck_assert_str_eq(r->xua, "libmesos-core/" MESOS_VERSION_STRING);
  char host[64];
  snprintf(host, sizeof host, "127.0.0.1:%d", port);
  ck_assert_str_eq(r->xhost, host);
  ck_assert_int_eq(r->done_calls, 1);
  free(r);
}
END_TEST

START_TEST(test_client__post_sends_its_body_with_content_length) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "POST", url_of(port, "/echo"), "{\"type\":\"SUBSCRIBE\"}", 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_str_eq(r->body, "POST /echo\n{\"type\":\"SUBSCRIBE\"}");
  free(r);
}
END_TEST

START_TEST(test_client__large_post_body_is_sent_whole) {
  int port = start_peer();
  size_t n = 200 * 1024;
  char *body = malloc(n + 1);
  for (size_t i = 0; i < n; i++) body[i] = (char)('a' + i % 26);
  body[n] = '\0';
  struct result *r = new_result();
  send_req(r, "PUT", url_of(port, "/echo"), body, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_uint_eq(r->body_len, strlen("PUT /echo\n") + n);
  ck_assert_int_eq(memcmp(r->body + strlen("PUT /echo\n"), body, n), 0);
  free(body);
  free(r);
}
END_TEST

START_TEST(test_client__extra_headers_are_sent_and_user_agent_can_be_replaced) {
  int port = start_peer();
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_add(&h, "Authorization", 13, "Basic Zm9vOmJhcg==", 18);
  mesos__http_headers_add(&h, "User-Agent", 10, "test-agent", 10);
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/echo");
  req.headers = &h;
  send_req_opts(r, &req);
  mesos__http_headers_free(&h); /* copied by send */
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_str_eq(r->xauth, "Basic Zm9vOmJhcg==");
  ck_assert_str_eq(r->xua, "test-agent");
  free(r);
}
END_TEST

START_TEST(test_client__head_response_has_no_body) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "HEAD", url_of(port, "/echo"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->http, 200);
  ck_assert_uint_eq(r->body_len, 0);
  /* and the connection is still usable: Content-Length was not read as a
   * body to wait for */
  struct result *r2 = new_result();
  send_req(r2, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(r2);
  ck_assert_int_eq(r2->status, MESOS_OK);
  ck_assert_str_eq(r2->conn_id, r->conn_id);
  free(r);
  free(r2);
}
END_TEST

START_TEST(test_client__interim_100_response_is_skipped) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/interim"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->http, 200);
  ck_assert_str_eq(r->body, "after interim");
  free(r);
}
END_TEST

START_TEST(test_client__non_2xx_status_is_a_response_not_an_error) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/nothing-here"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->http, 404);
  ck_assert_str_eq(r->body, "not found");
  free(r);
}
END_TEST

START_TEST(test_client__host_name_is_resolved) {
  int port = start_peer();
  struct result *r = new_result();
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%d/echo", port);
  send_req(r, "GET", url, NULL, 0);
  wait_done(r);
  /* localhost may map to ::1 first; the peer listens on 127.0.0.1 only,
   * so this also shows the next address is tried */
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_int_eq(r->http, 200);
  free(r);
}
END_TEST

START_TEST(test_client__ipv6_literal_url_connects_and_sends_a_bracketed_host) {
  const char *args[] = {"--bind", "::1", NULL};
  int port = try_start_peer_args(args);
  if (port < 0) MESOS_TEST_SKIP("cannot listen on ::1 (no IPv6 loopback here)");
  char url[128], host[64];
  snprintf(url, sizeof url, "http://[::1]:%d/echo", port);
  snprintf(host, sizeof host, "[::1]:%d", port);
  struct result *r = new_result();
  send_req(r, "GET", url, NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_str_eq(r->xhost, host);
  free(r);
}
END_TEST

/* ------------------------------------------------------------ keep-alive */

START_TEST(test_client__keep_alive_reuses_one_connection_for_sequential_requests) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  send_req(a, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 1);
  send_req(b, "POST", url_of(port, "/echo"), "x", 0);
  wait_done(b);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_int_eq(b->status, MESOS_OK);
  ck_assert_str_eq(a->conn_id, b->conn_id);
  ck_assert_str_eq(a->req_index, "1");
  ck_assert_str_eq(b->req_index, "2");
  ck_assert_int_eq(mesos__http_client_connections(client), 1);
  /* the peer saw exactly one TCP connection */
  struct result *c = new_result();
  send_req(c, "GET", url_of(port, "/conns"), NULL, 0);
  wait_done(c);
  ck_assert_str_eq(c->body, "1");
  free(a);
  free(b);
  free(c);
}
END_TEST

START_TEST(test_client__request_sent_from_on_done_reuses_the_connection) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  a->next = b;
  a->next_method = "GET";
  a->next_url = url_of(port, "/echo?second");
  send_req(a, "GET", url_of(port, "/echo?first"), NULL, 0);
  wait_done(a);
  wait_done(b);
  ck_assert_int_eq(b->status, MESOS_OK);
  ck_assert_str_eq(b->body, "GET /echo?second\n");
  ck_assert_str_eq(a->conn_id, b->conn_id);
  ck_assert_str_eq(b->req_index, "2");
  free(a);
  free(b);
}
END_TEST

START_TEST(test_client__concurrent_requests_use_separate_connections) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  send_req(a, "GET", url_of(port, "/slow?delay=0.2"), NULL, 0);
  send_req(b, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(a);
  wait_done(b);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_int_eq(b->status, MESOS_OK);
  ck_assert_str_ne(a->conn_id, b->conn_id);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 2);
  free(a);
  free(b);
}
END_TEST

START_TEST(test_client__server_closing_an_idle_pooled_connection_is_noticed) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  send_req(a, "GET", url_of(port, "/idle-close?after=0.05"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 1);
  /* the peer closes it after 50 ms; the pool drops it */
  uint64_t end = mono_ms() + WAIT_MS;
  while (mesos__http_client_connections(client) > 0 && mono_ms() < end) {
    int never = 0;
    mesos_test_run_until(loop, &never, 20);
  }
  ck_assert_int_eq(mesos__http_client_connections(client), 0);
  send_req(b, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(b);
  ck_assert_int_eq(b->status, MESOS_OK);
  ck_assert_str_ne(a->conn_id, b->conn_id);
  free(a);
  free(b);
}
END_TEST

/* The race the retry rule exists for: the server closes right after the
 * response, and the next request goes out (from on_done) before the close
 * is seen.  A GET is retried on a fresh connection and succeeds. */
START_TEST(test_client__idempotent_request_on_a_connection_closed_under_it_is_retried) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  a->next = b;
  a->next_method = "GET";
  a->next_url = url_of(port, "/echo");
  send_req(a, "GET", url_of(port, "/close-after"), NULL, 0);
  wait_done(a);
  wait_done(b);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_msg(b->status == MESOS_OK, "%s", b->err);
  ck_assert_str_ne(a->conn_id, b->conn_id);
  free(a);
  free(b);
}
END_TEST

/* A POST that already went out on a connection the server then closed is
 * not repeated: the server may have acted on it. */
START_TEST(test_client__post_on_a_connection_closed_under_it_is_not_retried) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  a->next = b;
  a->next_method = "POST";
  a->next_url = url_of(port, "/echo");
  send_req(a, "GET", url_of(port, "/close-after"), NULL, 0);
  wait_done(a);
  wait_done(b);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_msg(b->status == MESOS_EPROTO || b->status == MESOS_EIO, "%s: %s",
                mesos_status_name(b->status), b->err);
  ck_assert_err_contains(b, url_of(port, "/echo"));
  free(a);
  free(b);
}
END_TEST

START_TEST(test_client__bytes_after_a_response_keep_the_connection_out_of_the_pool) {
  int port = start_peer();
  struct result *a = new_result();
  send_req(a, "GET", url_of(port, "/extra"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_str_eq(a->body, "ok");
  int never = 0;
  mesos_test_run_until(loop, &never, 50);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 0);
  free(a);
}
END_TEST

START_TEST(test_client__bytes_on_an_idle_connection_close_it) {
  int port = start_peer();
  struct result *a = new_result();
  send_req(a, "GET", url_of(port, "/late-junk"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 1);
  uint64_t end = mono_ms() + WAIT_MS;
  while (mesos__http_client_connections(client) > 0 && mono_ms() < end) {
    int never = 0;
    mesos_test_run_until(loop, &never, 20);
  }
  ck_assert_int_eq(mesos__http_client_connections(client), 0);
  free(a);
}
END_TEST

START_TEST(test_client__connection_close_request_header_keeps_it_out_of_the_pool) {
  int port = start_peer();
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_add(&h, "Connection", 10, "close", 5);
  struct result *a = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/echo");
  req.headers = &h;
  send_req_opts(a, &req);
  mesos__http_headers_free(&h);
  wait_done(a);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 0);
  free(a);
}
END_TEST

START_TEST(test_client__idle_connections_expire_after_idle_timeout) {
  mesos__http_client_free(client);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.idle_timeout_ms = 50;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  int port = start_peer();
  struct result *a = new_result();
  send_req(a, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 1);
  int never = 0;
  mesos_test_run_until(loop, &never, 200);
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 0);
  free(a);
}
END_TEST

/* ------------------------------------------------------------ streaming */

START_TEST(test_client__streamed_chunks_arrive_in_several_on_body_calls_before_the_end) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/chunks?n=5&delay=0.1"), NULL, 1);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->heads, 1);
  /* pushed 100 ms apart: delivered as they come, not at the end (a loaded
   * machine may merge a couple, never most) */
  ck_assert_int_ge(r->bodies, 3);
  ck_assert_uint_ge(r->done_ms - r->first_body_ms, 300);
  r->body[r->body_len] = '\0';
  ck_assert_str_eq(r->body, "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
  ck_assert_int_eq(r->http, 200);
  free(r);
}
END_TEST

START_TEST(test_client__content_length_body_can_be_streamed) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/bigbody?n=200000"), NULL, 1);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_uint_eq(r->body_len, 200000);
  ck_assert_int_ge(r->bodies, 1);
  free(r);
}
END_TEST

START_TEST(test_client__body_delimited_by_close_is_read_until_eof) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result();
  send_req(a, "GET", url_of(port, "/eof-body"), NULL, 0);
  wait_done(a);
  ck_assert_msg(a->status == MESOS_OK, "%s", a->err);
  ck_assert_str_eq(a->body, "read until close");
  send_req(b, "GET", url_of(port, "/eof-body"), NULL, 1);
  wait_done(b);
  ck_assert_int_eq(b->status, MESOS_OK);
  b->body[b->body_len] = '\0';
  ck_assert_str_eq(b->body, "read until close");
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 0);
  free(a);
  free(b);
}
END_TEST

START_TEST(test_client__cancel_inside_on_body_stops_a_stream_and_reports_once) {
  int port = start_peer();
  struct result *r = new_result();
  r->cancel_after_bodies = 3;
  send_req(r, "GET", url_of(port, "/forever?delay=0.01"), NULL, 1);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ECLOSED);
  ck_assert_err_contains(r, "cancelled");
  ck_assert_int_eq(r->cancel_done_inside, 0);
  ck_assert_int_eq(r->bodies_after_cancel, 0);
  ck_assert_int_eq(r->had_resp, 1);
  int never = 0;
  mesos_test_run_until(loop, &never, 100);
  ck_assert_int_eq(r->done_calls, 1);
  ck_assert_int_eq(mesos__http_client_connections(client), 0);
  free(r);
}
END_TEST

START_TEST(test_client__cancel_before_connecting_reports_eclosed_from_the_loop) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/echo"), NULL, 0);
  r->in_cancel = 1;
  mesos__http_call_cancel(r->call);
  r->in_cancel = 0;
  ck_assert_int_eq(r->done, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ECLOSED);
  ck_assert_int_eq(r->had_resp, 0);
  ck_assert_int_eq(r->cancel_done_inside, 0);
  free(r);
}
END_TEST

START_TEST(test_client__read_timeout_ends_a_silent_stream) {
  int port = start_peer();
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/silent-after-head?delay=5");
  req.stream = 1;
  req.read_timeout_ms = 150;
  send_req_opts(r, &req);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ETIMEDOUT);
  ck_assert_int_eq(r->heads, 1);
  ck_assert_err_contains(r, "no data from the server for 150 ms");
  ck_assert_err_contains(r, req.url);
  free(r);
}
END_TEST

/* A stream lives longer than the request timeout once its head is in. */
START_TEST(test_client__request_timeout_stops_applying_to_a_stream_after_its_head) {
  int port = start_peer();
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/chunks?n=6&delay=0.15");
  req.stream = 1;
  req.timeout_ms = 400;
  req.read_timeout_ms = 1000;
  send_req_opts(r, &req);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_int_ge(r->bodies, 3);
  free(r);
}
END_TEST

START_TEST(test_client__paused_stream_is_resumed_without_losing_data) {
  int port = start_peer();
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/chunks?n=4&delay=0.02");
  req.stream = 1;
  req.read_timeout_ms = 100;
  send_req_opts(r, &req);
  /* pause until the head is in, then hold the stream for longer than the
   * read timeout: paused streams do not time out */
  ck_assert(mesos_test_run_until(loop, &r->heads, WAIT_MS));
  mesos__http_call_pause(r->call);
  int never = 0;
  mesos_test_run_until(loop, &never, 250);
  ck_assert_int_eq(r->done, 0);
  mesos__http_call_resume(r->call);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  r->body[r->body_len] = '\0';
  ck_assert_str_eq(r->body, "chunk-0\nchunk-1\nchunk-2\nchunk-3\n");
  /* the connection went back to the pool reading again: it is reused */
  ck_assert_int_eq(mesos__http_client_idle_connections(client), 1);
  struct result *r2 = new_result();
  send_req(r2, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(r2);
  ck_assert_int_eq(r2->status, MESOS_OK);
  ck_assert_str_eq(r2->conn_id, r->conn_id);
  free(r);
  free(r2);
}
END_TEST

/* ------------------------------------------------------------ redirects */

START_TEST(test_client__307_to_another_port_resends_the_post_body) {
  int a = start_peer(), b = start_peer();
  char to[256], url[512];
  snprintf(to, sizeof to, "http://127.0.0.1:%d/echo", b);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?code=307&to=%s", a, to);
  struct result *r = new_result();
  send_req(r, "POST", url, "call-body", 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_int_eq(r->http, 200);
  ck_assert_str_eq(r->body, "POST /echo\ncall-body");
  ck_assert_str_eq(r->url, to);
  free(r);
}
END_TEST

START_TEST(test_client__308_with_relative_location_is_followed_on_the_same_connection) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "PUT", url_of(port, "/redirect?code=308&to=echo%3Fmoved"), "data", 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_str_eq(r->body, "PUT /echo?moved\ndata");
  ck_assert_str_eq(r->req_index, "2");
  free(r);
}
END_TEST

START_TEST(test_client__redirected_stream_reports_only_the_final_head) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/redirect?code=307&to=/chunks%3Fn%3D2%26delay%3D0"), NULL, 1);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  ck_assert_int_eq(r->heads, 1);
  r->body[r->body_len] = '\0';
  ck_assert_str_eq(r->body, "chunk-0\nchunk-1\n");
  free(r);
}
END_TEST

START_TEST(test_client__redirect_loop_fails_with_elimit_after_max_redirects) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/loop"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ELIMIT);
  ck_assert_err_contains(r, "more than 5 redirects");
  ck_assert_err_contains(r, url_of(port, "/loop"));
  free(r);
}
END_TEST

START_TEST(test_client__redirects_are_returned_when_following_is_off) {
  int port = start_peer();
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/loop");
  req.max_redirects = -1;
  send_req_opts(r, &req);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_int_eq(r->http, 307);
  free(r);
}
END_TEST

START_TEST(test_client__302_and_303_are_returned_to_the_caller) {
  int port = start_peer();
  int codes[] = {301, 302, 303};
  for (int i = 0; i < 3; i++) {
    struct result *r = new_result();
    char path[128];
    snprintf(path, sizeof path, "/redirect?code=%d&to=/echo", codes[i]);
    send_req(r, "POST", url_of(port, path), "x", 0);
    wait_done(r);
    ck_assert_int_eq(r->status, MESOS_OK);
    ck_assert_int_eq(r->http, codes[i]);
    free(r);
  }
}
END_TEST

START_TEST(test_client__redirect_to_another_origin_drops_authorization) {
  int a = start_peer(), b = start_peer();
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_add(&h, "Authorization", 13, "Basic c2VjcmV0", 14);
  char url[512];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=http://127.0.0.1:%d/echo", a, b);
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url;
  req.headers = &h;
  send_req_opts(r, &req);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  ck_assert_str_eq(r->xauth, "-");
  /* same origin keeps it */
  struct result *r2 = new_result();
  snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=/echo", a);
  req.url = url;
  send_req_opts(r2, &req);
  wait_done(r2);
  ck_assert_str_eq(r2->xauth, "Basic c2VjcmV0");
  mesos__http_headers_free(&h);
  free(r);
  free(r2);
}
END_TEST

START_TEST(test_client__bad_redirect_location_fails_with_eproto) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/redirect?to=ftp://x/"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_EPROTO);
  ck_assert_err_contains(r, "bad redirect");
  ck_assert_err_contains(r, "ftp");
  free(r);
}
END_TEST

/* ------------------------------------------------------------ failures */

START_TEST(test_client__connect_refused_fails_with_eio_naming_the_address) {
  int port = mesos_test_free_port();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_EIO);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  ck_assert_err_contains(r, addr);
  ck_assert_err_contains(r, "refused");
  ck_assert_int_eq(r->had_resp, 0);
  free(r);
}
END_TEST

/* A listener whose accept queue is full drops further SYNs: the connect
 * hangs, which is what a dead host looks like. */
START_TEST(test_client__connect_timeout_fails_with_etimedout) {
  mesos__http_client_free(client);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.connect_timeout_ms = 200;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(ls, 0), 0);
  ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
  int fillers[8], nf = 0;
  for (; nf < 8; nf++) {
    fillers[nf] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fillers[nf], (struct sockaddr *)&a, sizeof a);
  }
  usleep(50000);
  struct result *r = new_result();
  send_req(r, "GET", url_of(ntohs(a.sin_port), "/"), NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_ETIMEDOUT, "%s: %s", mesos_status_name(r->status), r->err);
  ck_assert_err_contains(r, "timed out after 200 ms");
  ck_assert_err_contains(r, url_of(ntohs(a.sin_port), "/"));
  for (int i = 0; i < nf; i++) close(fillers[i]);
  close(ls);
  free(r);
}
END_TEST

START_TEST(test_client__request_timeout_fails_with_etimedout_naming_the_url) {
  int port = start_peer();
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url_of(port, "/slow?delay=3");
  req.timeout_ms = 150;
  uint64_t t0 = mono_ms();
  send_req_opts(r, &req);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ETIMEDOUT);
  ck_assert_err_contains(r, "no complete response within 150 ms");
  ck_assert_err_contains(r, req.url);
  ck_assert_uint_lt(mono_ms() - t0, 2000);
  ck_assert_int_eq(mesos__http_client_connections(client), 0);
  free(r);
}
END_TEST

START_TEST(test_client__response_head_too_big_fails_with_elimit) {
  int port = start_peer();
  struct result *r = new_result(), *r2 = new_result();
  send_req(r, "GET", url_of(port, "/bighead?n=100000"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ELIMIT);
  ck_assert_err_contains(r, "response head larger than 65536 bytes");
  send_req(r2, "GET", url_of(port, "/manyheaders?n=300"), NULL, 0);
  wait_done(r2);
  ck_assert_int_eq(r2->status, MESOS_ELIMIT);
  ck_assert_err_contains(r2, "more than 256 header fields");
  free(r);
  free(r2);
}
END_TEST

START_TEST(test_client__buffered_body_too_big_fails_with_elimit_but_a_stream_may_be_longer) {
  mesos__http_client_free(client);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.max_body_bytes = 1000;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  int port = start_peer();
  struct result *r = new_result(), *r2 = new_result(), *r3 = new_result();
  send_req(r, "GET", url_of(port, "/bigbody?n=1000"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_OK);
  send_req(r2, "GET", url_of(port, "/bigbody?n=1001"), NULL, 0);
  wait_done(r2);
  ck_assert_int_eq(r2->status, MESOS_ELIMIT);
  ck_assert_err_contains(r2, "response body larger than 1000 bytes (Content-Length: 1001)");
  ck_assert_int_eq(r2->had_resp, 1);
  ck_assert_int_eq(r2->http, 200);
  send_req(r3, "GET", url_of(port, "/bigbody?n=5000"), NULL, 1);
  wait_done(r3);
  ck_assert_int_eq(r3->status, MESOS_OK);
  ck_assert_uint_eq(r3->body_len, 5000);
  /* without Content-Length (chunked) the limit applies as bytes arrive */
  struct result *r4 = new_result();
  send_req(r4, "GET", url_of(port, "/chunks?n=200&delay=0"), NULL, 0);
  wait_done(r4);
  ck_assert_int_eq(r4->status, MESOS_ELIMIT);
  ck_assert_err_contains(r4, "response body larger than 1000 bytes");
  ck_assert_ptr_null(strstr(r4->err, "Content-Length"));
  free(r);
  free(r2);
  free(r3);
  free(r4);
}
END_TEST

START_TEST(test_client__malformed_status_line_fails_with_eproto) {
  int port = start_peer();
  struct result *r = new_result(), *r2 = new_result();
  send_req(r, "GET", url_of(port, "/malformed"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_EPROTO);
  ck_assert_err_contains(r, "malformed response");
  ck_assert_err_contains(r, url_of(port, "/malformed"));
  send_req(r2, "GET", url_of(port, "/garbage"), NULL, 0);
  wait_done(r2);
  ck_assert_int_eq(r2->status, MESOS_EPROTO);
  free(r);
  free(r2);
}
END_TEST

START_TEST(test_client__truncated_body_fails_with_eproto) {
  int port = start_peer();
  struct result *r = new_result();
  send_req(r, "GET", url_of(port, "/truncated"), NULL, 0);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_EPROTO);
  ck_assert_err_contains(r, "before the response was complete");
  ck_assert_int_eq(r->had_resp, 1);
  free(r);
}
END_TEST

START_TEST(test_client__bad_requests_are_refused_at_once_without_callbacks) {
  struct result *r = new_result();
  mesos__http_client_request req;
  mesos_error *err = NULL;
  mesos__http_call *call = (mesos__http_call *)1;
  memset(&req, 0, sizeof req);
  req.url = "ftp://x/";
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, &call, &err), MESOS_EINVAL);
  ck_assert_ptr_null(call);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "ftp"));
  mesos_error_free(err);
  err = NULL;

  req.url = "http://127.0.0.1:1/";
  req.method = "GE T";
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "bad method"));
  mesos_error_free(err);
  err = NULL;
  req.method = "CONNECT";
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  req.method = NULL;

  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_add(&h, "X-Evil", 6, "a\r\nInjected: 1", 14);
  req.headers = &h;
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "control character"));
  mesos_error_free(err);
  err = NULL;
  mesos__http_headers_free(&h);
  mesos__http_headers_add(&h, "Content-Length", 14, "5", 1);
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "set by the client"));
  mesos_error_free(err);
  err = NULL;
  mesos__http_headers_free(&h);
  mesos__http_headers_add(&h, "Bad Name", 8, "v", 1);
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  mesos__http_headers_free(&h);
  req.headers = NULL;

  req.body = "x";
  req.body_len = (size_t)UINT32_MAX + 1; /* refused before it is read */
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "too big"));
  mesos_error_free(err);
  err = NULL;
  req.body = NULL;
  req.body_len = 3;
  ck_assert_int_eq(mesos__http_client_send(client, &req, &rcbs, r, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  req.body_len = 0;

  mesos__http_client_cbs none = {NULL, NULL, NULL};
  ck_assert_int_eq(mesos__http_client_send(client, &req, &none, r, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);

  int never = 0;
  mesos_test_run_until(loop, &never, 20);
  ck_assert_int_eq(r->done_calls, 0);
  free(r);
}
END_TEST

START_TEST(test_client__unknown_host_fails_with_a_message_naming_it) {
  /* Without a reachable DNS server the lookup may hang: the connect
   * timeout (which covers resolving) ends it well inside the wait. */
  mesos__http_client_free(client);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.connect_timeout_ms = 2000;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  struct result *r = new_result();
  send_req(r, "GET", "http://no-such-host.invalid:80/", NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_ENOTFOUND || r->status == MESOS_EIO ||
                    r->status == MESOS_ETIMEDOUT,
                "%s: %s", mesos_status_name(r->status), r->err);
  ck_assert_err_contains(r, "no-such-host.invalid");
  free(r);
}
END_TEST

/* ------------------------------------------------------------ lifetime */

START_TEST(test_client__free_with_calls_in_flight_reports_eclosed_to_each) {
  int port = start_peer();
  struct result *a = new_result(), *b = new_result(), *c = new_result();
  send_req(a, "GET", url_of(port, "/slow?delay=2"), NULL, 0);
  send_req(b, "GET", url_of(port, "/forever"), NULL, 1);
  send_req(c, "GET", "http://localhost:1/", NULL, 0); /* still resolving */
  ck_assert(mesos_test_run_until(loop, &b->heads, WAIT_MS));
  mesos__http_client_free(client);
  client = NULL;
  ck_assert_int_eq(a->done_calls, 1);
  ck_assert_int_eq(b->done_calls, 1);
  ck_assert_int_eq(c->done_calls, 1);
  ck_assert_int_eq(a->status, MESOS_ECLOSED);
  ck_assert_int_eq(b->status, MESOS_ECLOSED);
  ck_assert_err_contains(a, "freed");
  free(a);
  free(b);
  free(c);
}
END_TEST

START_TEST(test_client__client_freed_inside_on_body_ends_the_call_there) {
  int port = start_peer();
  struct result *r = new_result();
  r->free_client_after_bodies = 2;
  send_req(r, "GET", url_of(port, "/forever?delay=0.01"), NULL, 1);
  wait_done(r);
  ck_assert_ptr_null(client);
  ck_assert_int_eq(r->status, MESOS_ECLOSED);
  ck_assert_int_eq(r->done_inside_body, 1); /* documented: inside free */
  int never = 0;
  mesos_test_run_until(loop, &never, 100);
  ck_assert_int_eq(r->done_calls, 1);
  ck_assert_int_eq(r->bodies_after_cancel, 0);
  free(r);
}
END_TEST

START_TEST(test_client__client_freed_inside_on_done_is_safe) {
  int port = start_peer();
  struct result *a = new_result();
  a->free_client_in_done = 1;
  send_req(a, "GET", url_of(port, "/echo"), NULL, 0);
  wait_done(a);
  ck_assert_int_eq(a->status, MESOS_OK);
  ck_assert_ptr_null(client);
  free(a);
}
END_TEST

/* ------------------------------------------------------------ OOM */

/* Drives the loop until *flag is set, without allocating (the helper in
 * testutil makes a timer, which fails while allocations are failing). */
static int drive_until(volatile int *flag, int timeout_ms) {
  uint64_t end = mono_ms() + (uint64_t)timeout_ms;
  while (!*flag && mono_ms() < end) {
    struct pollfd p = {mesos_loop_fd(loop), POLLIN, 0};
    int to = mesos_loop_timeout_ms(loop);
    poll(&p, 1, to < 0 || to > 20 ? 20 : to);
    mesos_loop_run_once(loop);
  }
  return *flag;
}

/* Fails the Nth allocation (and every later one) for each N a redirected
 * POST makes: every run ends with a refused send or exactly one on_done,
 * and nothing leaks. */
static void torture(const char *url, mesos__tls_config *tls, int stream);

START_TEST(test_client__allocation_failures_end_every_request_cleanly) {
  int port = start_peer();
  torture(url_of(port, "/redirect?to=/echo"), NULL, 0);
}
END_TEST

static void torture(const char *url, mesos__tls_config *tls, int stream) {
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.tls = tls;
  mesos__http_client_free(client);
  client = NULL;
  drain_loop();
  int64_t live = mesos__alloc_live();
  uint64_t total = 0;
  for (uint64_t n = 0;; n++) {
    ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
    struct result *r = new_result();
    mesos__http_client_request req;
    memset(&req, 0, sizeof req);
    req.stream = stream;
    req.method = "POST";
    req.url = url;
    req.body = "body";
    req.body_len = 4;
    mesos__alloc_fail_after(n); /* n == 0: a clean run that counts */
    mesos_status st = mesos__http_client_send(client, &req, &rcbs, r, NULL, NULL);
    if (st == MESOS_OK) ck_assert_msg(drive_until(&r->done, WAIT_MS), "n=%llu: no on_done",
                                      (unsigned long long)n);
    uint64_t made = mesos__alloc_fail_after(0);
    if (n == 0) {
      ck_assert_int_eq(st, MESOS_OK);
      ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
      total = made;
    } else if (st == MESOS_OK) {
      ck_assert_int_eq(r->done_calls, 1);
    } else {
      ck_assert_msg(st == MESOS_ENOMEM || st == MESOS_EIO, "n=%llu: %s",
                    (unsigned long long)n, mesos_status_name(st));
      ck_assert_int_eq(r->done_calls, 0);
    }
    mesos__http_client_free(client);
    client = NULL;
    drain_loop();
    free(r);
    ck_assert_msg(mesos__alloc_live() == live, "n=%llu: %lld allocations leaked",
                  (unsigned long long)n, (long long)(mesos__alloc_live() - live));
    if (n > total) break;
  }
  ck_assert_uint_gt(total, 10);
  ck_assert_int_eq(mesos__http_client_new(&client, loop, NULL, NULL), MESOS_OK);
}

/* ------------------------------------------------------------ our server */

/* The same loop runs our server and our client: the two halves of the
 * library must agree on keep-alive, chunked streams and TLS. */
struct srv_state {
  mesos__http_server *srv;
  mesos_timer *timer;
  mesos__http_request *stream_req;
  int sent;
  int aborted;
};

static void srv_echo(mesos__http_request *req, void *ud) {
  (void)ud;
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  char out[1024];
  int n = snprintf(out, sizeof out, "%s %s %.*s", mesos__http_request_method(req),
                   mesos__http_request_target(req), (int)len, body);
  mesos__http_respond(req, 200, NULL, out, (size_t)n);
}

static void srv_tick(mesos_timer *t, void *ud) {
  struct srv_state *st = ud;
  char ev[32];
  int n = snprintf(ev, sizeof ev, "event-%d\n", st->sent++);
  mesos__http_stream_send(st->stream_req, ev, (size_t)n);
}

static void srv_abort(mesos__http_request *req, void *ud) {
  struct srv_state *st = ud;
  st->aborted = 1;
  st->stream_req = NULL;
  mesos_timer_stop(st->timer);
}

static void srv_events(mesos__http_request *req, void *ud) {
  struct srv_state *st = ud;
  st->stream_req = req;
  mesos__http_request_on_abort(req, srv_abort, st);
  ck_assert_int_eq(mesos__http_stream_start(req, 200, NULL), MESOS_OK);
  mesos_timer_start(st->timer, 5, 5);
}

static struct srv_state *start_our_server(mesos__tls_config *tls) {
  struct srv_state *st = calloc(1, sizeof *st);
  mesos__http_server_options so;
  memset(&so, 0, sizeof so);
  so.listen = "127.0.0.1:0";
  so.tls = tls;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_server_new(&st->srv, loop, &so, &err), &err);
  ck_assert_int_eq(mesos__http_server_route(st->srv, "POST", "/echo", 0, srv_echo, st), MESOS_OK);
  ck_assert_int_eq(mesos__http_server_route(st->srv, "GET", "/events", 0, srv_events, st),
                   MESOS_OK);
  ck_assert_int_eq(mesos_timer_new(&st->timer, loop, srv_tick, st, NULL), MESOS_OK);
  return st;
}

static void stop_our_server(struct srv_state *st) {
  mesos_timer_free(st->timer);
  mesos__http_server_free(st->srv);
  free(st);
}

START_TEST(test_client__our_server_serves_sequential_requests_on_one_connection) {
  struct srv_state *st = start_our_server(NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", mesos__http_server_port(st->srv));
  for (int i = 0; i < 5; i++) {
    struct result *r = new_result();
    char body[16];
    snprintf(body, sizeof body, "n=%d", i);
    send_req(r, "POST", url, body, 0);
    wait_done(r);
    ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
    char want[64];
    snprintf(want, sizeof want, "POST /echo n=%d", i);
    ck_assert_str_eq(r->body, want);
    free(r);
  }
  ck_assert_uint_eq(mesos__http_server_connections(st->srv), 1);
  ck_assert_uint_eq(mesos__http_client_connections(client), 1);
  stop_our_server(st);
}
END_TEST

/* Many calls at once each get a connection; afterwards the pool keeps
 * only max_idle_per_host of them. */
START_TEST(test_client__concurrent_calls_all_finish_and_the_pool_keeps_its_cap) {
  struct srv_state *st = start_our_server(NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", mesos__http_server_port(st->srv));
  enum { N = 64 };
  struct result *r[N];
  for (int i = 0; i < N; i++) {
    r[i] = new_result();
    send_req(r[i], "POST", url, "x", 0);
  }
  ck_assert_uint_eq(mesos__http_client_connections(client), N);
  for (int i = 0; i < N; i++) {
    wait_done(r[i]);
    ck_assert_msg(r[i]->status == MESOS_OK, "%s", r[i]->err);
    ck_assert_str_eq(r[i]->body, "POST /echo x");
  }
  ck_assert_uint_eq(mesos__http_client_idle_connections(client),
                    MESOS__HTTP_CLIENT_DEFAULT_MAX_IDLE_PER_HOST);
  int never = 0;
  mesos_test_run_until(loop, &never, 50);
  ck_assert_uint_eq(mesos__http_client_connections(client),
                    MESOS__HTTP_CLIENT_DEFAULT_MAX_IDLE_PER_HOST);
  for (int i = 0; i < N; i++) free(r[i]);
  stop_our_server(st);
}
END_TEST

START_TEST(test_client__cancelling_a_stream_from_our_server_aborts_it_there) {
  struct srv_state *st = start_our_server(NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/events", mesos__http_server_port(st->srv));
  struct result *r = new_result();
  r->cancel_after_bodies = 4;
  send_req(r, "GET", url, NULL, 1);
  wait_done(r);
  ck_assert_int_eq(r->status, MESOS_ECLOSED);
  ck_assert_int_eq(r->heads, 1);
  ck_assert_int_ge(r->bodies, 4);
  ck_assert_int_eq(r->bodies_after_cancel, 0);
  ck_assert_msg(strncmp(r->body, "event-0\nevent-1\n", 16) == 0, "%s", r->body);
  /* the server sees the connection go and runs its abort callback */
  ck_assert(mesos_test_run_until(loop, &st->aborted, WAIT_MS));
  stop_our_server(st);
  free(r);
}
END_TEST

/* ------------------------------------------------------------ TLS */

static void certs_setup(void) {
  certdir[0] = '\0';
  have_certs = 0;
  if (!mesos_test_have_openssl()) return;
  if (mesos_test_certs_dir(certdir, sizeof certdir) != 0) return;
  have_certs = mesos_test_make_certs(certdir) == 0;
}

static void certs_teardown(void) {
  if (certdir[0]) mesos_test_rmtree(certdir);
  certdir[0] = '\0';
}

/* Skips only when the openssl tool is missing; certificates that could
 * not be made with it present fail the test. */
static int make_certs(void) {
  if (!mesos_test_have_openssl()) return 0;
  ck_assert_msg(have_certs, "could not make test certificates (see stderr)");
  return 1;
}

static mesos__tls_config *client_tls_config(const char *ca) {
  mesos__tls_config_options to;
  memset(&to, 0, sizeof to);
  to.ca_file = mesos_test_cert(certdir, ca);
  to.verify_peer = 1;
  mesos__tls_config *cfg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&cfg, &to, &err), &err);
  return cfg;
}

static void use_tls_client(const char *ca) {
  mesos__http_client_free(client);
  mesos__tls_config *cfg = client_tls_config(ca);
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.tls = cfg;
  o.connect_timeout_ms = 3000;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  mesos__tls_config_unref(cfg); /* the client holds its own reference */
}

START_TEST(test_client__https_request_verifies_the_server_with_a_ca_file) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  char crt[256], key[256];
  snprintf(crt, sizeof crt, "%s", mesos_test_cert(certdir, "server.crt"));
  snprintf(key, sizeof key, "%s", mesos_test_cert(certdir, "server.key"));
  const char *args[] = {"--tls", crt, key, NULL};
  int port = start_peer_args(args);
  use_tls_client("ca.crt");
  char url[128];
  struct result *a = new_result(), *b = new_result();
  snprintf(url, sizeof url, "https://localhost:%d/echo", port);
  send_req(a, "POST", url, "secret", 0);
  wait_done(a);
  ck_assert_msg(a->status == MESOS_OK, "%s", a->err);
  ck_assert_str_eq(a->body, "POST /echo\nsecret");
  /* keep-alive works over TLS too */
  send_req(b, "GET", url, NULL, 1);
  wait_done(b);
  ck_assert_int_eq(b->status, MESOS_OK);
  ck_assert_str_eq(a->conn_id, b->conn_id);
  free(a);
  free(b);
}
END_TEST

START_TEST(test_client__https_to_a_host_name_the_certificate_lacks_fails_with_etls) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  char crt[256], key[256];
  snprintf(crt, sizeof crt, "%s", mesos_test_cert(certdir, "server.crt"));
  snprintf(key, sizeof key, "%s", mesos_test_cert(certdir, "server.key"));
  /* the certificate names localhost, 127.0.0.1 and ::1, not 127.0.0.2 */
  const char *args[] = {"--bind", "127.0.0.2", "--tls", crt, key, NULL};
  int port = start_peer_args(args);
  use_tls_client("ca.crt");
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.2:%d/echo", port);
  struct result *r = new_result();
  send_req(r, "GET", url, NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_ETLS, "%s: %s", mesos_status_name(r->status), r->err);
  ck_assert_err_contains(r, url);
  free(r);
}
END_TEST

START_TEST(test_client__https_server_from_an_unknown_ca_fails_with_etls) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  char crt[256], key[256];
  snprintf(crt, sizeof crt, "%s", mesos_test_cert(certdir, "other-server.crt"));
  snprintf(key, sizeof key, "%s", mesos_test_cert(certdir, "other-server.key"));
  const char *args[] = {"--tls", crt, key, NULL};
  int port = start_peer_args(args);
  use_tls_client("ca.crt");
  char url[128];
  snprintf(url, sizeof url, "https://localhost:%d/echo", port);
  struct result *r = new_result();
  send_req(r, "GET", url, NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_ETLS, "%s: %s", mesos_status_name(r->status), r->err);
  free(r);
}
END_TEST

START_TEST(test_client__https_to_our_tls_server_streams_and_reuses_the_connection) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  mesos__tls_config_options to;
  memset(&to, 0, sizeof to);
  to.is_server = 1;
  to.cert_file = mesos_test_cert(certdir, "server.crt");
  to.key_file = mesos_test_cert(certdir, "server.key");
  mesos__tls_config *stls = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&stls, &to, &err), &err);
  struct srv_state *st = start_our_server(stls);
  mesos__tls_config_unref(stls);
  use_tls_client("ca.crt");
  char url[128];
  snprintf(url, sizeof url, "https://localhost:%u/echo", mesos__http_server_port(st->srv));
  struct result *a = new_result(), *b = new_result();
  send_req(a, "POST", url, "over tls", 0);
  wait_done(a);
  ck_assert_msg(a->status == MESOS_OK, "%s", a->err);
  ck_assert_str_eq(a->body, "POST /echo over tls");
  snprintf(url, sizeof url, "https://localhost:%u/events", mesos__http_server_port(st->srv));
  b->cancel_after_bodies = 3;
  send_req(b, "GET", url, NULL, 1);
  wait_done(b);
  ck_assert_int_eq(b->status, MESOS_ECLOSED);
  ck_assert_int_ge(b->bodies, 3);
  ck_assert(mesos_test_run_until(loop, &st->aborted, WAIT_MS));
  stop_our_server(st);
  free(a);
  free(b);
}
END_TEST

/* Pausing right after send must not stall the TLS handshake or the
 * request; only the response waits. */
START_TEST(test_client__call_paused_before_connecting_still_sends_its_request) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  char crt[256], key[256];
  snprintf(crt, sizeof crt, "%s", mesos_test_cert(certdir, "server.crt"));
  snprintf(key, sizeof key, "%s", mesos_test_cert(certdir, "server.key"));
  const char *args[] = {"--tls", crt, key, NULL};
  int port = start_peer_args(args);
  use_tls_client("ca.crt");
  char url[128];
  snprintf(url, sizeof url, "https://localhost:%d/chunks?n=2&delay=0", port);
  struct result *r = new_result();
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url;
  req.stream = 1;
  req.timeout_ms = 2000;
  send_req_opts(r, &req);
  mesos__http_call_pause(r->call);
  int never = 0;
  mesos_test_run_until(loop, &never, 300);
  ck_assert_int_eq(r->heads, 0);
  ck_assert_int_eq(r->done, 0);
  mesos__http_call_resume(r->call);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_OK, "%s", r->err);
  r->body[r->body_len] = '\0';
  ck_assert_str_eq(r->body, "chunk-0\nchunk-1\n");
  free(r);
}
END_TEST

/* The allocation-failure torture again, over TLS and streaming: the TLS
 * engine and the stream's TLS paths fail at every allocation too. */
START_TEST(test_client__allocation_failures_over_tls_end_every_request_cleanly) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  char crt[256], key[256];
  snprintf(crt, sizeof crt, "%s", mesos_test_cert(certdir, "server.crt"));
  snprintf(key, sizeof key, "%s", mesos_test_cert(certdir, "server.key"));
  const char *args[] = {"--tls", crt, key, NULL};
  int port = start_peer_args(args);
  mesos__tls_config *cfg = client_tls_config("ca.crt");
  char url[128];
  snprintf(url, sizeof url, "https://localhost:%d/chunks?n=3&delay=0", port);
  torture(url, cfg, 1);
  mesos__tls_config_unref(cfg);
}
END_TEST

/* A server that accepts TCP but never answers the TLS handshake: the
 * connect timeout covers the handshake. */
START_TEST(test_client__stalled_tls_handshake_fails_with_etimedout) {
  if (!make_certs()) MESOS_TEST_SKIP("openssl command not available");
  mesos__http_client_free(client);
  mesos__tls_config *cfg = client_tls_config("ca.crt");
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.tls = cfg;
  o.connect_timeout_ms = 200;
  ck_assert_int_eq(mesos__http_client_new(&client, loop, &o, NULL), MESOS_OK);
  mesos__tls_config_unref(cfg);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(ls, 8), 0);
  ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/", ntohs(a.sin_port));
  struct result *r = new_result();
  send_req(r, "GET", url, NULL, 0);
  wait_done(r);
  ck_assert_msg(r->status == MESOS_ETIMEDOUT, "%s: %s", mesos_status_name(r->status), r->err);
  close(ls);
  free(r);
}
END_TEST

/* MESOS_TEST_ONLY=<substring> runs only the tests whose names contain it
 * (for debugging one case; the runner never sets it). */
#define ADD_TEST(tc, t)                                \
  do {                                                 \
    const char *only_ = getenv("MESOS_TEST_ONLY");     \
    if (only_ == NULL || strstr(#t, only_) != NULL)    \
      tcase_add_test(tc, t);                           \
  } while (0)

static Suite *make_suite(void) {
  if (getenv("MESOS_TEST_LOG")) mesos_log_set_level(MESOS_LOG_TRACE);
  Suite *s = suite_create("http_client");
  TCase *tc = tcase_create("client");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  ADD_TEST(tc, test_client__get_returns_status_headers_and_body);
  ADD_TEST(tc, test_client__post_sends_its_body_with_content_length);
  ADD_TEST(tc, test_client__large_post_body_is_sent_whole);
  ADD_TEST(tc, test_client__extra_headers_are_sent_and_user_agent_can_be_replaced);
  ADD_TEST(tc, test_client__head_response_has_no_body);
  ADD_TEST(tc, test_client__interim_100_response_is_skipped);
  ADD_TEST(tc, test_client__non_2xx_status_is_a_response_not_an_error);
  ADD_TEST(tc, test_client__host_name_is_resolved);
  ADD_TEST(tc, test_client__ipv6_literal_url_connects_and_sends_a_bracketed_host);
  ADD_TEST(tc, test_client__keep_alive_reuses_one_connection_for_sequential_requests);
  ADD_TEST(tc, test_client__request_sent_from_on_done_reuses_the_connection);
  ADD_TEST(tc, test_client__concurrent_requests_use_separate_connections);
  ADD_TEST(tc, test_client__server_closing_an_idle_pooled_connection_is_noticed);
  ADD_TEST(tc, test_client__idempotent_request_on_a_connection_closed_under_it_is_retried);
  ADD_TEST(tc, test_client__post_on_a_connection_closed_under_it_is_not_retried);
  ADD_TEST(tc, test_client__bytes_after_a_response_keep_the_connection_out_of_the_pool);
  ADD_TEST(tc, test_client__idle_connections_expire_after_idle_timeout);
  ADD_TEST(tc, test_client__bytes_on_an_idle_connection_close_it);
  ADD_TEST(tc, test_client__connection_close_request_header_keeps_it_out_of_the_pool);
  ADD_TEST(tc, test_client__streamed_chunks_arrive_in_several_on_body_calls_before_the_end);
  ADD_TEST(tc, test_client__content_length_body_can_be_streamed);
  ADD_TEST(tc, test_client__body_delimited_by_close_is_read_until_eof);
  ADD_TEST(tc, test_client__cancel_inside_on_body_stops_a_stream_and_reports_once);
  ADD_TEST(tc, test_client__cancel_before_connecting_reports_eclosed_from_the_loop);
  ADD_TEST(tc, test_client__read_timeout_ends_a_silent_stream);
  ADD_TEST(tc, test_client__request_timeout_stops_applying_to_a_stream_after_its_head);
  ADD_TEST(tc, test_client__paused_stream_is_resumed_without_losing_data);
  ADD_TEST(tc, test_client__307_to_another_port_resends_the_post_body);
  ADD_TEST(tc, test_client__308_with_relative_location_is_followed_on_the_same_connection);
  ADD_TEST(tc, test_client__redirected_stream_reports_only_the_final_head);
  ADD_TEST(tc, test_client__redirect_loop_fails_with_elimit_after_max_redirects);
  ADD_TEST(tc, test_client__redirects_are_returned_when_following_is_off);
  ADD_TEST(tc, test_client__302_and_303_are_returned_to_the_caller);
  ADD_TEST(tc, test_client__redirect_to_another_origin_drops_authorization);
  ADD_TEST(tc, test_client__bad_redirect_location_fails_with_eproto);
  ADD_TEST(tc, test_client__connect_refused_fails_with_eio_naming_the_address);
  ADD_TEST(tc, test_client__connect_timeout_fails_with_etimedout);
  ADD_TEST(tc, test_client__request_timeout_fails_with_etimedout_naming_the_url);
  ADD_TEST(tc, test_client__response_head_too_big_fails_with_elimit);
  ADD_TEST(tc, test_client__buffered_body_too_big_fails_with_elimit_but_a_stream_may_be_longer);
  ADD_TEST(tc, test_client__malformed_status_line_fails_with_eproto);
  ADD_TEST(tc, test_client__truncated_body_fails_with_eproto);
  ADD_TEST(tc, test_client__bad_requests_are_refused_at_once_without_callbacks);
  ADD_TEST(tc, test_client__unknown_host_fails_with_a_message_naming_it);
  ADD_TEST(tc, test_client__free_with_calls_in_flight_reports_eclosed_to_each);
  ADD_TEST(tc, test_client__client_freed_inside_on_done_is_safe);
  ADD_TEST(tc, test_client__client_freed_inside_on_body_ends_the_call_there);
  ADD_TEST(tc, test_client__allocation_failures_end_every_request_cleanly);
  ADD_TEST(tc, test_client__our_server_serves_sequential_requests_on_one_connection);
  ADD_TEST(tc, test_client__cancelling_a_stream_from_our_server_aborts_it_there);
  ADD_TEST(tc, test_client__concurrent_calls_all_finish_and_the_pool_keeps_its_cap);
  suite_add_tcase(s, tc);

  tc = tcase_create("tls");
  tcase_set_timeout(tc, 30);
  tcase_add_unchecked_fixture(tc, certs_setup, certs_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  ADD_TEST(tc, test_client__https_request_verifies_the_server_with_a_ca_file);
  ADD_TEST(tc, test_client__https_to_a_host_name_the_certificate_lacks_fails_with_etls);
  ADD_TEST(tc, test_client__https_server_from_an_unknown_ca_fails_with_etls);
  ADD_TEST(tc, test_client__stalled_tls_handshake_fails_with_etimedout);
  ADD_TEST(tc, test_client__https_to_our_tls_server_streams_and_reuses_the_connection);
  ADD_TEST(tc, test_client__call_paused_before_connecting_still_sends_its_request);
  ADD_TEST(tc, test_client__allocation_failures_over_tls_end_every_request_cleanly);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
