/*
 * Fuzz target for the HTTP client's response path: the input is what a
 * server answers, sent over a real loopback connection into the same
 * llhttp glue, limits, redirects, keep-alive and retry code every request
 * uses.
 *
 * Input: byte 0 chooses the request (GET / HEAD / POST, buffered or
 * streaming, and whether on_body cancels after one or two pieces); byte 1
 * chooses where the answer is split into two writes; the rest is the
 * answer.  Every connection the client opens (redirects, the retry) gets
 * the same answer followed by the end of the stream.
 *
 * Checked: no crash or sanitizer report; on_done runs exactly once, with
 * an error message exactly when the status is not MESOS_OK; every
 * allocation is released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "http/client.h"
#include "mesos/mesos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A redirect chain (5) plus one retry per hop is all the client opens. */
#define MAX_CONNS 16

static int listener = -1;
static int port;

struct peer {
  int fd;
  int stage; /* 0: first piece sent, 1: all sent and write side shut */
};

struct state {
  int done;
  int bodies;
  int cancel_after;
};

static void on_body(mesos__http_call *call, const char *d, size_t len, void *ud) {
  (void)d;
  (void)len;
  struct state *st = ud;
  if (++st->bodies == st->cancel_after) mesos__http_call_cancel(call);
}

static void on_done(mesos__http_call *call, mesos_status status, const mesos__http_response *resp,
                    const mesos_error *err, void *ud) {
  (void)call;
  struct state *st = ud;
  if (st->done++) abort(); /* exactly once */
  if ((status == MESOS_OK) != (err == NULL)) abort();
  if (status == MESOS_OK && resp == NULL) abort();
  if (resp && resp->body && resp->body[resp->body_len] != '\0') abort();
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void open_listener(void) {
  signal(SIGPIPE, SIG_IGN);
  listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(listener, MAX_CONNS) != 0 || getsockname(listener, (struct sockaddr *)&a, &len) != 0) {
    perror("fuzz_http_response: listener");
    abort();
  }
  port = ntohs(a.sin_port);
}

static void send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pf = {fd, POLLOUT, 0};
      poll(&pf, 1, 100);
      continue;
    }
    if (w <= 0) return; /* the client closed: fine */
    p += w;
    n -= (size_t)w;
  }
}

static void discard_input(int fd) {
  char buf[4096];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  if (listener < 0) open_listener();
  /* Connections a previous input's client made but never got served. */
  for (int fd; (fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0;) close(fd);
  uint8_t mode = data[0];
  const char *in = (const char *)data + 2;
  size_t n = size - 2;
  size_t cut = n ? data[1] % (n + 1) : 0;

  int64_t live = mesos__alloc_live();
  mesos_loop *loop = NULL;
  if (mesos_loop_new(&loop, NULL, NULL) != MESOS_OK) abort();
  mesos__http_client_options o;
  memset(&o, 0, sizeof o);
  o.max_header_bytes = 2048;
  o.max_body_bytes = 4096;
  o.request_timeout_ms = 2000;
  o.read_timeout_ms = 2000;
  mesos__http_client *c = NULL;
  if (mesos__http_client_new(&c, loop, &o, NULL) != MESOS_OK) abort();

  struct state st = {0, 0, (mode >> 3) & 3};
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/f", port);
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.url = url;
  req.method = (mode & 3) == 1 ? "HEAD" : (mode & 3) == 2 ? "POST" : "GET";
  if ((mode & 3) == 2) {
    req.body = "call";
    req.body_len = 4;
  }
  req.stream = (mode & 4) != 0;
  mesos__http_client_cbs cbs = {NULL, on_body, on_done};
  if (mesos__http_client_send(c, &req, &cbs, &st, NULL, NULL) != MESOS_OK) abort();

  struct peer peers[MAX_CONNS];
  int npeers = 0;
  uint64_t end = mono_ms() + 5000;
  while (!st.done && mono_ms() < end) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (npeers == MAX_CONNS) {
        close(fd);
      } else {
        peers[npeers].fd = fd;
        peers[npeers].stage = 0;
        send_all(fd, in, cut);
        npeers++;
      }
    }
    for (int i = 0; i < npeers; i++) {
      discard_input(peers[i].fd);
      if (peers[i].stage == 0) {
        send_all(peers[i].fd, in + cut, n - cut);
        shutdown(peers[i].fd, SHUT_WR);
        peers[i].stage = 1;
      }
    }
    struct pollfd p[2] = {{mesos_loop_fd(loop), POLLIN, 0}, {listener, POLLIN, 0}};
    poll(p, 2, 1);
    mesos_loop_run_once(loop);
  }
  if (!st.done) {
    fprintf(stderr, "fuzz_http_response: on_done never ran\n");
    abort();
  }
  mesos__http_client_free(c);
  mesos_loop_free(loop);
  for (int i = 0; i < npeers; i++) close(peers[i].fd);
  if (mesos__alloc_live() != live) {
    fprintf(stderr, "fuzz_http_response: %lld allocations leaked\n",
            (long long)(mesos__alloc_live() - live));
    abort();
  }
  return 0;
}
