/*
 * The pipelined POST channel (lib/http/pipe.h) on loopback: against our
 * own server (answers in order, one connection, even when a handler
 * answers late), and against a scripted peer on a thread (blocking
 * sockets) that breaks the connection after some answers, to see the
 * unanswered requests written again, in order, and given up after
 * max_attempts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "http/pipe.h"
#include "http/server.h"
#include "support/testutil.h"

#define N_ORDER 300
#define WAIT_MS 10000

typedef struct answers {
  int n;            /* callbacks so far */
  int ok;           /* ... with MESOS_OK */
  int bodies[1024]; /* body of each OK answer, as a number */
  int failed;
  int out_of_order;
} answers;

static void done_cb(mesos__http_pipe *p, mesos_status st, int http_status, const char *body,
                    size_t len, const char *message, void *ud) {
  (void)p, (void)len, (void)message;
  answers *a = ud;
  a->n++;
  if (st != MESOS_OK) {
    a->failed++;
    return;
  }
  ck_assert_int_eq(http_status, 202);
  int v = (int)strtol(body, NULL, 10);
  if (a->ok < 1024) a->bodies[a->ok] = v;
  if (v != a->ok) a->out_of_order++;
  a->ok++;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run_until(mesos_loop *loop, const answers *a, int n) {
  uint64_t end = mono_ms() + WAIT_MS;
  while (a->n < n && mono_ms() < end) {
    mesos_loop_run_once(loop);
    usleep(200);
  }
}

/* Returns the request's number. */
static uint64_t post_num(mesos__http_pipe *p, int i) {
  char body[32];
  int len = snprintf(body, sizeof body, "%d", i);
  mesos_error *err = NULL;
  uint64_t seq = 0;
  ck_assert_mesos_ok(mesos__http_pipe_post(p, NULL, body, (size_t)len, &seq, &err), &err);
  ck_assert(mesos__http_pipe_unanswered(p, seq));
  return seq;
}

/* ------------------------------------------------------------ our server */

typedef struct late {
  mesos__http_request *req;
  mesos_timer *t;
} late;

static late lates[N_ORDER];
static int nlate;
static int handled;

static void late_cb(mesos_timer *t, void *ud) {
  (void)t;
  late *l = ud;
  size_t len = 0;
  const char *body = mesos__http_request_body(l->req, &len);
  mesos__http_respond(l->req, 202, NULL, body, len);
}

/* Echoes the body; every 7th request is answered 3 ms later, after the
 * ones behind it were read. */
static void echo(mesos__http_request *req, void *ud) {
  mesos_loop *loop = ud;
  if (handled++ % 7 == 3 && nlate < N_ORDER) {
    late *l = &lates[nlate++];
    l->req = req;
    ck_assert_int_eq(mesos_timer_new(&l->t, loop, late_cb, l, NULL), MESOS_OK);
    mesos_timer_start(l->t, 3, 0);
    return;
  }
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  mesos__http_respond(req, 202, NULL, body, len);
}

START_TEST(test_pipe__answers_come_back_in_order_on_one_connection) {
  int64_t live = mesos__alloc_live();
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos__http_server *srv = NULL;
  mesos__http_server_options so;
  memset(&so, 0, sizeof so);
  so.listen = "127.0.0.1:0";
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_server_new(&srv, loop, &so, &err), &err);
  ck_assert_int_eq(mesos__http_server_route(srv, "POST", "/api", 0, echo, loop), MESOS_OK);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/api", (unsigned)mesos__http_server_port(srv));
  answers a;
  memset(&a, 0, sizeof a);
  mesos__http_pipe *p = NULL;
  ck_assert_mesos_ok(mesos__http_pipe_new(&p, loop, url, NULL, done_cb, &a, &err), &err);
  /* A first burst before the connection is up, a second while answers
   * are coming back. */
  for (int i = 0; i < N_ORDER / 2; i++) post_num(p, i);
  ck_assert_int_eq(a.n, 0); /* never from inside post */
  run_until(loop, &a, 10);
  for (int i = N_ORDER / 2; i < N_ORDER; i++) post_num(p, i);
  run_until(loop, &a, N_ORDER);
  ck_assert_int_eq(a.ok, N_ORDER);
  ck_assert_int_eq(a.out_of_order, 0);
  ck_assert_int_eq(a.failed, 0);
  ck_assert_int_gt(nlate, 10);
  ck_assert_uint_eq(mesos__http_pipe_connects(p), 1);
  ck_assert_uint_eq(mesos__http_server_connections(srv), 1);
  ck_assert_uint_eq(mesos__http_pipe_pending(p), 0);
  mesos__http_pipe_free(p);
  for (int i = 0; i < nlate; i++) mesos_timer_free(lates[i].t);
  mesos__http_server_free(srv);
  for (int i = 0; i < 50 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
  mesos_loop_free(loop);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* ------------------------------------------------------------ scripted peer */

typedef struct peer {
  int lfd;
  int port;
  /* Per connection: how many requests to answer before closing (-1: all,
   * until the client closes). */
  int script[8];
  int nconns;
  int seen[64]; /* times each request number arrived */
  pthread_t th;
} peer;

/* Reads one request (head + Content-Length body) from `fd` into the
 * number it carries; -1 on EOF or error. */
static int read_request(int fd, char *buf, size_t cap, size_t *have) {
  for (;;) {
    char *end = memmem(buf, *have, "\r\n\r\n", 4);
    if (end) {
      size_t head = (size_t)(end - buf) + 4;
      char *cl = memmem(buf, head, "Content-Length: ", 16);
      size_t blen = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
      if (*have >= head + blen) {
        char num[32];
        size_t n = blen < sizeof num - 1 ? blen : sizeof num - 1;
        memcpy(num, buf + head, n);
        num[n] = '\0';
        memmove(buf, buf + head + blen, *have - head - blen);
        *have -= head + blen;
        return (int)strtol(num, NULL, 10);
      }
    }
    if (*have == cap) return -1;
    ssize_t r = read(fd, buf + *have, cap - *have);
    if (r <= 0) return -1;
    *have += (size_t)r;
  }
}

static void *peer_main(void *arg) {
  peer *pe = arg;
  for (int c = 0; c < 8 && pe->script[c] != 0; c++) {
    int fd = accept(pe->lfd, NULL, NULL);
    if (fd < 0) break;
    pe->nconns++;
    char buf[8192];
    size_t have = 0;
    int answered = 0;
    for (;;) {
      if (pe->script[c] >= 0 && answered == pe->script[c]) break;
      int v = read_request(fd, buf, sizeof buf, &have);
      if (v < 0) break;
      if (v >= 0 && v < 64) pe->seen[v]++;
      char resp[128];
      int len = snprintf(resp, sizeof resp,
                         "HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n%d",
                         snprintf(NULL, 0, "%d", v), v);
      if (write(fd, resp, (size_t)len) != len) break;
      answered++;
    }
    /* End our side (the client reads the answers, then EOF), and read
     * until the client closes: closing with unread requests would send a
     * reset, which may destroy answers the client has not read yet. */
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }
  return NULL;
}

static void peer_start(peer *pe) {
  pe->lfd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(pe->lfd, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  ck_assert_int_eq(bind(pe->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(pe->lfd, 8), 0);
  ck_assert_int_eq(getsockname(pe->lfd, (struct sockaddr *)&sa, &len), 0);
  pe->port = ntohs(sa.sin_port);
  ck_assert_int_eq(pthread_create(&pe->th, NULL, peer_main, pe), 0);
}

static void peer_stop(peer *pe) {
  shutdown(pe->lfd, SHUT_RDWR);
  close(pe->lfd);
  pthread_join(pe->th, NULL);
}

START_TEST(test_pipe__a_broken_connection_writes_the_unanswered_again_in_order) {
  signal(SIGPIPE, SIG_IGN);
  int64_t live = mesos__alloc_live();
  peer pe;
  memset(&pe, 0, sizeof pe);
  pe.script[0] = 3;  /* answers 0, 1, 2, then closes with 3..9 unanswered */
  pe.script[1] = -1; /* answers the rest */
  peer_start(&pe);
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api", pe.port);
  answers a;
  memset(&a, 0, sizeof a);
  mesos__http_pipe *p = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_pipe_new(&p, loop, url, NULL, done_cb, &a, &err), &err);
  for (int i = 0; i < 10; i++) post_num(p, i);
  run_until(loop, &a, 10);
  ck_assert_int_eq(a.ok, 10);
  ck_assert_int_eq(a.out_of_order, 0);
  ck_assert_uint_eq(mesos__http_pipe_connects(p), 2);
  mesos__http_pipe_free(p);
  for (int i = 0; i < 20 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
  peer_stop(&pe);
  /* Each answered once: 0-2 on the first connection, 3-9 (written there
   * too, unanswered) on the second. */
  for (int i = 0; i < 10; i++) ck_assert_int_eq(pe.seen[i], 1);
  ck_assert_int_eq(pe.nconns, 2);
  mesos_loop_free(loop);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_pipe__a_request_is_given_up_after_max_attempts) {
  signal(SIGPIPE, SIG_IGN);
  int64_t live = mesos__alloc_live();
  peer pe;
  memset(&pe, 0, sizeof pe);
  pe.script[0] = pe.script[1] = 1; /* answers one request, closes */
  for (int i = 2; i < 8; i++) pe.script[i] = -1;
  peer_start(&pe);
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api", pe.port);
  answers a;
  memset(&a, 0, sizeof a);
  mesos__http_pipe *p = NULL;
  mesos__http_pipe_options o;
  memset(&o, 0, sizeof o);
  o.max_attempts = 2;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_pipe_new(&p, loop, url, &o, done_cb, &a, &err), &err);
  /* The first connection answers 0; 1-3 go again on the second, which
   * answers 1; 2 and 3 were written twice and never answered: given up.
   * The peer then has nothing more to answer (a third connection would
   * find it answering everything). */
  for (int i = 0; i < 4; i++) post_num(p, i);
  run_until(loop, &a, 4);
  ck_assert_int_eq(a.n, 4);
  ck_assert_int_eq(a.ok, 2);     /* 0 and 1 */
  ck_assert_int_eq(a.failed, 2); /* 2 and 3: written twice, never answered */
  ck_assert_int_eq(a.bodies[0], 0);
  ck_assert_int_eq(a.bodies[1], 1);
  ck_assert_uint_eq(mesos__http_pipe_pending(p), 0);
  for (uint64_t seq = 0; seq <= 5; seq++) ck_assert(!mesos__http_pipe_unanswered(p, seq));
  mesos__http_pipe_free(p);
  for (int i = 0; i < 20 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
  peer_stop(&pe);
  mesos_loop_free(loop);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_pipe__reset_drops_the_queue_without_callbacks) {
  int64_t live = mesos__alloc_live();
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  /* A port nobody listens on (bound, not listening). */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api", ntohs(sa.sin_port));
  answers a;
  memset(&a, 0, sizeof a);
  mesos__http_pipe *p = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_pipe_new(&p, loop, url, NULL, done_cb, &a, &err), &err);
  for (int i = 0; i < 5; i++) ck_assert_uint_eq(post_num(p, i), (uint64_t)i + 1);
  for (int i = 0; i < 30; i++) {
    mesos_loop_run_once(loop);
    usleep(2000);
  }
  /* Refused connections are retried, never counted as attempts. */
  ck_assert_int_eq(a.n, 0);
  ck_assert_uint_eq(mesos__http_pipe_pending(p), 5);
  for (uint64_t seq = 1; seq <= 5; seq++) ck_assert(mesos__http_pipe_unanswered(p, seq));
  ck_assert(!mesos__http_pipe_unanswered(p, 0));
  ck_assert(!mesos__http_pipe_unanswered(p, 6)); /* not posted yet */
  mesos__http_pipe_reset(p);
  ck_assert_uint_eq(mesos__http_pipe_pending(p), 0);
  ck_assert(!mesos__http_pipe_unanswered(p, 5)); /* dropped */
  ck_assert_int_eq(a.n, 0);
  /* Bad input is refused whole. */
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  ck_assert_int_eq(mesos__http_headers_set(&h, "X-Bad", "a\r\nInjected: 1"), MESOS_OK);
  ck_assert_int_eq(mesos__http_pipe_post(p, &h, "x", 1, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(err);
  mesos_error_free(err);
  mesos__http_headers_free(&h);
  ck_assert_uint_eq(mesos__http_pipe_pending(p), 0);
  mesos__http_pipe_free(p);
  close(fd);
  for (int i = 0; i < 20 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
  mesos_loop_free(loop);
  ck_assert_int_eq(a.n, 0);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *pipe_suite(void) {
  Suite *s = suite_create("pipe");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, test_pipe__answers_come_back_in_order_on_one_connection);
  tcase_add_test(tc, test_pipe__a_broken_connection_writes_the_unanswered_again_in_order);
  tcase_add_test(tc, test_pipe__a_request_is_given_up_after_max_attempts);
  tcase_add_test(tc, test_pipe__reset_drops_the_queue_without_callbacks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(pipe_suite()); }
