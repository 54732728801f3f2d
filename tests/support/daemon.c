#include "support/daemon.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *mesos_test_daemon_path(const char *name, char *buf, size_t cap) {
  const char *o = getenv("O");
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "%s/bin/%s", o && *o ? o : "build", name);
  if (realpath(rel, buf) == NULL) snprintf(buf, cap, "%s", rel);
  (void)cap;
  return buf;
}

pid_t mesos_test_spawn(char *const argv[], const char *log_path) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  if (log_path) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
      close(fd);
    }
  }
  execv(argv[0], argv);
  _exit(127);
}

int mesos_test_stop(pid_t pid, int grace_ms) {
  int status = 0;
  if (pid <= 0) return -1;
  kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mesos_test_conn_open(mesos_test_conn *c, int port) {
  memset(c, 0, sizeof *c);
  c->chunk_left = -1;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  return 0;
}

void mesos_test_conn_close(mesos_test_conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

int mesos_test_conn_request(mesos_test_conn *c, const char *method, const char *path,
                            const char *content_type, const char *extra_headers,
                            const char *body, size_t body_len) {
  char head[4096];
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%sContent-Length: %zu\r\n\r\n",
                   method, path, content_type ? "Content-Type: " : "",
                   content_type ? content_type : "", content_type ? "\r\n" : "",
                   extra_headers ? extra_headers : "", body_len);
  if (n < 0 || (size_t)n >= sizeof head) return -1;
  if (send(c->fd, head, (size_t)n, MSG_NOSIGNAL) != n) return -1;
  if (body_len && send(c->fd, body, body_len, MSG_NOSIGNAL) != (ssize_t)body_len) return -1;
  return 0;
}

/* Makes at least `need` bytes available in the buffer. */
static int fill(mesos_test_conn *c, size_t need, long long deadline) {
  while (c->len < need) {
    if (need > sizeof c->buf) return -1;
    long long left = deadline - now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0) return -1;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r <= 0) return -1;
    c->len += (size_t)r;
  }
  return 0;
}

static void consume(mesos_test_conn *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Position of "\r\n" from the start, reading more as needed; -1 on failure. */
static long find_crlf(mesos_test_conn *c, long long deadline) {
  for (;;) {
    for (size_t i = 0; i + 1 < c->len; i++)
      if (c->buf[i] == '\r' && c->buf[i + 1] == '\n') return (long)i;
    if (fill(c, c->len + 1, deadline) != 0) return -1;
  }
}

/* Reads up to `cap` body bytes of a chunked body; 0 at the end, -1 error. */
static long read_chunked(mesos_test_conn *c, char *out, size_t cap, long long deadline) {
  if (c->chunk_left <= 0) {
    if (c->chunk_left == 0) { /* CRLF after the previous chunk */
      if (fill(c, 2, deadline) != 0) return -1;
      consume(c, 2);
      c->chunk_left = -1; /* a time-out below must not consume it again */
    }
    long e = find_crlf(c, deadline);
    if (e < 0) return -1;
    char line[32];
    size_t l = (size_t)e < sizeof line - 1 ? (size_t)e : sizeof line - 1;
    memcpy(line, c->buf, l);
    line[l] = '\0';
    consume(c, (size_t)e + 2);
    c->chunk_left = strtoll(line, NULL, 16);
    if (c->chunk_left == 0) {
      fill(c, 2, deadline);
      if (c->len >= 2) consume(c, 2);
      c->chunk_left = -1;
      return 0;
    }
  }
  if (fill(c, 1, deadline) != 0) return -1;
  size_t n = c->len;
  if ((long long)n > c->chunk_left) n = (size_t)c->chunk_left;
  if (n > cap) n = cap;
  memcpy(out, c->buf, n);
  consume(c, n);
  c->chunk_left -= (long long)n;
  return (long)n;
}

int mesos_test_conn_response(mesos_test_conn *c, mesos_test_response *r, int read_body,
                             int timeout_ms) {
  memset(r, 0, sizeof *r);
  long long deadline = now_ms() + timeout_ms;
  size_t hlen = 0;
  for (;;) {
    char *end = NULL;
    for (size_t i = 0; i + 3 < c->len; i++)
      if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
        end = c->buf + i;
        break;
      }
    if (end) {
      hlen = (size_t)(end - c->buf) + 4;
      break;
    }
    if (fill(c, c->len + 1, deadline) != 0) return -1;
  }
  if (sscanf(c->buf, "HTTP/1.%*d %d", &r->status) != 1) return -1;
  char *first = memchr(c->buf, '\n', hlen);
  size_t off = first ? (size_t)(first - c->buf) + 1 : hlen;
  size_t copy = hlen - off < sizeof r->headers - 1 ? hlen - off : sizeof r->headers - 1;
  memcpy(r->headers, c->buf + off, copy);
  r->headers[copy] = '\0';
  consume(c, hlen);
  char v[64];
  const char *te = mesos_test_response_header(r, "Transfer-Encoding", v, sizeof v);
  c->chunked = te && strcasecmp(te, "chunked") == 0;
  c->chunk_left = -1;
  if (!read_body) return 0;
  size_t cap = 1 << 16, len = 0;
  r->body = malloc(cap + 1);
  if (r->body == NULL) return -1;
  if (c->chunked) {
    for (;;) {
      if (len == cap) {
        cap *= 2;
        char *nb = realloc(r->body, cap + 1);
        if (nb == NULL) return -1;
        r->body = nb;
      }
      long n = read_chunked(c, r->body + len, cap - len, deadline);
      if (n < 0) return -1;
      if (n == 0) break;
      len += (size_t)n;
    }
  } else {
    const char *cl = mesos_test_response_header(r, "Content-Length", v, sizeof v);
    size_t want = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
    if (want > cap) {
      char *nb = realloc(r->body, want + 1);
      if (nb == NULL) return -1;
      r->body = nb;
    }
    while (len < want) {
      if (fill(c, 1, deadline) != 0) return -1;
      size_t n = c->len < want - len ? c->len : want - len;
      memcpy(r->body + len, c->buf, n);
      consume(c, n);
      len += n;
    }
  }
  r->body[len] = '\0';
  r->body_len = len;
  return 0;
}

const char *mesos_test_response_header(const mesos_test_response *r, const char *name,
                                       char *buf, size_t cap) {
  size_t nlen = strlen(name);
  const char *p = r->headers;
  while (*p) {
    const char *eol = strstr(p, "\r\n");
    if (!eol) break;
    if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
      const char *v = p + nlen + 1;
      while (*v == ' ') v++;
      size_t l = (size_t)(eol - v) < cap - 1 ? (size_t)(eol - v) : cap - 1;
      memcpy(buf, v, l);
      buf[l] = '\0';
      return buf;
    }
    p = eol + 2;
  }
  return NULL;
}

void mesos_test_response_free(mesos_test_response *r) {
  free(r->body);
  r->body = NULL;
}

/* Reads exactly n body bytes from the (chunked) stream. */
static int read_body_exact(mesos_test_conn *c, char *out, size_t n, long long deadline) {
  size_t got = 0;
  while (got < n) {
    long r = read_chunked(c, out + got, n - got, deadline);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

long mesos_test_conn_next_record(mesos_test_conn *c, char **out, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  char digits[24];
  size_t nd = 0;
  for (;;) {
    char ch;
    if (read_body_exact(c, &ch, 1, deadline) != 0) return -1;
    if (ch == '\n') break;
    if (ch < '0' || ch > '9' || nd >= sizeof digits - 1) return -1;
    digits[nd++] = ch;
  }
  digits[nd] = '\0';
  size_t len = (size_t)strtoull(digits, NULL, 10);
  if (len == 0 || len > (64u << 20)) return -1;
  char *rec = malloc(len + 1);
  if (rec == NULL) return -1;
  if (read_body_exact(c, rec, len, deadline) != 0) {
    free(rec);
    return -1;
  }
  rec[len] = '\0';
  *out = rec;
  return (long)len;
}

int mesos_test_http(int port, const char *method, const char *path, const char *content_type,
                    const char *extra_headers, const char *body, mesos_test_response *r) {
  mesos_test_conn c;
  if (mesos_test_conn_open(&c, port) != 0) return -1;
  int rc = mesos_test_conn_request(&c, method, path, content_type, extra_headers, body,
                                   body ? strlen(body) : 0);
  if (rc == 0) rc = mesos_test_conn_response(&c, r, 1, 5000);
  mesos_test_conn_close(&c);
  return rc;
}

int mesos_test_wait_http_ok(int port, const char *path, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    mesos_test_response r;
    if (mesos_test_http(port, "GET", path, NULL, NULL, NULL, &r) == 0) {
      int ok = r.status == 200;
      mesos_test_response_free(&r);
      if (ok) return 1;
    }
    usleep(20000);
  }
  return 0;
}

int mesos_test_kill_under(const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  DIR *d = opendir("/proc");
  if (d == NULL) return 0;
  int killed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == (long)getpid()) continue;
    char link[64], cwd[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t len = readlink(link, cwd, sizeof cwd - 1);
    if (len < (ssize_t)n) continue;
    cwd[len] = '\0';
    if (strncmp(cwd, dir, n) != 0 || (cwd[n] != '\0' && cwd[n] != '/')) continue;
    if (kill((pid_t)pid, SIGKILL) == 0) killed++;
  }
  closedir(d);
  return killed;
}
