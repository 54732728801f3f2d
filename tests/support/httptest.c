#include "support/httptest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A response larger than this is a test bug, not something to buffer. */
#define CLIENT_MAX (64u << 20)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mesos_test_http_connect(mesos_test_http_client *c, int port) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* The kernel completes the handshake from the listen backlog, so a
   * blocking connect returns without the loop running. */
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  return 0;
}

void mesos_test_http_close(mesos_test_http_client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
  c->len = c->cap = 0;
}

/* Reads what the socket has. */
static void client_read(mesos_test_http_client *c) {
  while (!c->eof && c->fd >= 0) {
    if (c->cap - c->len < 4096) {
      size_t cap = c->cap ? c->cap * 2 : 16384;
      if (cap > CLIENT_MAX) {
        c->eof = 1;
        return;
      }
      char *n = realloc(c->buf, cap + 1);
      if (n == NULL) return;
      c->buf = n;
      c->cap = cap;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0) {
      c->len += (size_t)n;
      c->buf[c->len] = '\0';
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c->eof = 1;
    return;
  }
}

/* One round: wait for the loop or the socket, run the loop once, read. */
static void pump_once(mesos_loop *loop, mesos_test_http_client *c, int max_wait) {
  int to = mesos_loop_timeout_ms(loop);
  if (to < 0 || to > max_wait) to = max_wait;
  struct pollfd p[2] = {{mesos_loop_fd(loop), POLLIN, 0}, {c ? c->fd : -1, POLLIN, 0}};
  poll(p, c && c->fd >= 0 && !c->eof ? 2 : 1, to);
  mesos_loop_run_once(loop);
  if (c) client_read(c);
}

void mesos_test_http_pump(mesos_loop *loop, mesos_test_http_client *c, int ms) {
  long long end = now_ms() + ms;
  while (now_ms() < end) pump_once(loop, c, 10);
}

int mesos_test_http_send(mesos_test_http_client *c, const char *data, size_t len) {
  long long end = now_ms() + 5000;
  while (len > 0) {
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    if (now_ms() > end) return -1;
    struct pollfd p = {c->fd, POLLOUT, 0};
    poll(&p, 1, 10);
  }
  return 0;
}

int mesos_test_http_sends(mesos_test_http_client *c, const char *s) {
  return mesos_test_http_send(c, s, strlen(s));
}

static const char *find_header(const char *head, const char *name, size_t *vlen) {
  size_t nlen = strlen(name);
  const char *p = strstr(head, "\r\n");
  while (p && p[2] != '\0' && p[2] != '\r') {
    const char *line = p + 2;
    const char *eol = strstr(line, "\r\n");
    if (eol == NULL) break;
    if ((size_t)(eol - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen + 1;
      while (*v == ' ' || *v == '\t') v++;
      *vlen = (size_t)(eol - v);
      return v;
    }
    p = eol;
  }
  return NULL;
}

const char *mesos_test_http_header(const mesos_test_http_resp *r, const char *name) {
  static char value[1024];
  size_t vlen = 0;
  const char *v = r->head ? find_header(r->head, name, &vlen) : NULL;
  if (v == NULL) return NULL;
  if (vlen >= sizeof value) vlen = sizeof value - 1;
  memcpy(value, v, vlen);
  value[vlen] = '\0';
  return value;
}

void mesos_test_http_resp_free(mesos_test_http_resp *r) {
  free(r->head);
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* Parses one response from the front of c->buf: 1 done, 0 incomplete,
 * -1 malformed. */
static int parse_response(mesos_test_http_client *c, mesos_test_http_resp *r, int head_req) {
  if (c->len == 0) return 0;
  char *end = strstr(c->buf, "\r\n\r\n");
  if (end == NULL) return 0;
  size_t hlen = (size_t)(end - c->buf) + 4;
  int major, minor, status;
  if (sscanf(c->buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3) return -1;
  char *head = malloc(hlen + 1);
  memcpy(head, c->buf, hlen);
  head[hlen] = '\0';
  size_t vlen;
  const char *cl = find_header(head, "Content-Length", &vlen);
  const char *te = find_header(head, "Transfer-Encoding", &vlen);
  int chunked = te && strncasecmp(te, "chunked", 7) == 0;
  char *body = NULL;
  size_t blen = 0, used = hlen;
  if (head_req || status < 200 || status == 204 || status == 304) {
    body = calloc(1, 1);
  } else if (chunked) {
    body = malloc(c->len + 1);
    size_t pos = hlen;
    for (;;) {
      char *eol = memmem(c->buf + pos, c->len - pos, "\r\n", 2);
      if (eol == NULL) goto incomplete;
      size_t size = strtoul(c->buf + pos, NULL, 16);
      pos = (size_t)(eol - c->buf) + 2;
      if (size == 0) {
        if (c->len - pos < 2) goto incomplete;
        pos += 2;
        break;
      }
      if (c->len - pos < size + 2) goto incomplete;
      memcpy(body + blen, c->buf + pos, size);
      blen += size;
      pos += size + 2;
    }
    body[blen] = '\0';
    used = pos;
  } else if (cl) {
    size_t n = strtoul(cl, NULL, 10);
    if (c->len - hlen < n) goto incomplete;
    body = malloc(n + 1);
    memcpy(body, c->buf + hlen, n);
    body[n] = '\0';
    blen = n;
    used = hlen + n;
  } else {
    /* Delimited by the close. */
    if (!c->eof) goto incomplete;
    blen = c->len - hlen;
    body = malloc(blen + 1);
    memcpy(body, c->buf + hlen, blen);
    body[blen] = '\0';
    used = c->len;
  }
  r->status = status;
  r->head = head;
  r->body = body;
  r->body_len = blen;
  r->chunked = chunked;
  memmove(c->buf, c->buf + used, c->len - used);
  c->len -= used;
  c->buf[c->len] = '\0';
  return 1;
incomplete:
  free(head);
  free(body);
  return 0;
}

int mesos_test_http_recv(mesos_loop *loop, mesos_test_http_client *c, mesos_test_http_resp *r,
                         int head_request, int timeout_ms) {
  memset(r, 0, sizeof *r);
  long long end = now_ms() + timeout_ms;
  for (;;) {
    int p = parse_response(c, r, head_request);
    if (p != 0) return p == 1;
    if (c->eof || now_ms() > end) return 0;
    pump_once(loop, c, 10);
  }
}

int mesos_test_http_wait_for(mesos_loop *loop, mesos_test_http_client *c, const char *needle,
                             int timeout_ms) {
  long long end = now_ms() + timeout_ms;
  for (;;) {
    if (c->buf && memmem(c->buf, c->len, needle, strlen(needle))) return 1;
    if (c->eof || now_ms() > end) return 0;
    pump_once(loop, c, 10);
  }
}

int mesos_test_http_wait_eof(mesos_loop *loop, mesos_test_http_client *c, int timeout_ms) {
  long long end = now_ms() + timeout_ms;
  while (!c->eof) {
    if (now_ms() > end) return 0;
    pump_once(loop, c, 10);
  }
  return 1;
}

int mesos_test_have_prog(const char *prog) {
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/bin:/bin";
  char buf[4096];
  const char *p = path;
  while (*p) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
    if (access(buf, X_OK) == 0) return 1;
    if (!colon) break;
    p = colon + 1;
  }
  return 0;
}

int mesos_test_run_cmd(mesos_loop *loop, char *const argv[], const char *stdin_data,
                       char **out, int timeout_ms) {
  int opipe[2], ipipe[2];
  *out = NULL;
  if (pipe(opipe) != 0) return -1;
  if (pipe(ipipe) != 0) {
    close(opipe[0]);
    close(opipe[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(ipipe[0], 0);
    dup2(opipe[1], 1);
    dup2(opipe[1], 2);
    close(ipipe[0]);
    close(ipipe[1]);
    close(opipe[0]);
    close(opipe[1]);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(ipipe[0]);
  close(opipe[1]);
  if (stdin_data) {
    size_t len = strlen(stdin_data);
    if (write(ipipe[1], stdin_data, len) != (ssize_t)len) { /* the child reads what it got */
    }
  }
  close(ipipe[1]);
  fcntl(opipe[0], F_SETFL, fcntl(opipe[0], F_GETFL) | O_NONBLOCK);
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap + 1);
  long long end = now_ms() + timeout_ms;
  int status = -1, exited = 0, out_open = 1;
  while (!exited || out_open) {
    if (out_open) {
      ssize_t n;
      while ((n = read(opipe[0], buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
          cap *= 2;
          buf = realloc(buf, cap + 1);
        }
      }
      if (n == 0) out_open = 0;
    }
    if (!exited) {
      int ws;
      if (waitpid(pid, &ws, WNOHANG) == pid) {
        exited = 1;
        status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
      }
    }
    if (exited && !out_open) break;
    if (now_ms() > end) {
      if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
      }
      status = -1;
      break;
    }
    int to = mesos_loop_timeout_ms(loop);
    if (to < 0 || to > 5) to = 5;
    struct pollfd p[2] = {{mesos_loop_fd(loop), POLLIN, 0}, {opipe[0], POLLIN, 0}};
    poll(p, out_open ? 2 : 1, to);
    mesos_loop_run_once(loop);
  }
  close(opipe[0]);
  buf[len] = '\0';
  *out = buf;
  return status;
}
