/* Helpers for integration tests that run the real daemons as processes and
 * talk to them over loopback with a small blocking HTTP/1.1 client. */
#ifndef MESOS_TEST_DAEMON_H
#define MESOS_TEST_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/* Path of a built daemon ("mesos-master"): $O/bin/<name> (O defaults to
 * "build"), as an absolute path in `buf`. */
const char *mesos_test_daemon_path(const char *name, char *buf, size_t cap);

/* Starts `argv` (argv[0] is the program path) with stderr to `log_path`
 * (NULL: inherit).  The child gets SIGKILL if the test process dies, so a
 * failing test never leaves a daemon behind.  Returns the pid or -1. */
pid_t mesos_test_spawn(char *const argv[], const char *log_path);

/* SIGTERM, then SIGKILL after `grace_ms`; reaps.  Returns the wait status. */
int mesos_test_stop(pid_t pid, int grace_ms);

/* SIGKILLs, by pid, every process whose working directory lies under
 * `dir` (an absolute path: a test's work directory).  Executors and their
 * tasks run in their own session with the sandbox as their cwd, so
 * PDEATHSIG on the agent never reaches them: a failing test's teardown
 * calls this so no task outlives it.  Returns how many were killed. */
int mesos_test_kill_under(const char *dir);

/* Polls GET <path> on 127.0.0.1:port until it answers 200 or `timeout_ms`
 * passes.  1 on success. */
int mesos_test_wait_http_ok(int port, const char *path, int timeout_ms);

/* A blocking HTTP/1.1 connection to 127.0.0.1:port. */
typedef struct mesos_test_conn {
  int fd;
  char buf[1 << 16];
  size_t len;            /* unread bytes in buf */
  int chunked;           /* current response body is chunked */
  long long chunk_left;  /* bytes left in the current chunk, -1 between chunks */
} mesos_test_conn;

typedef struct mesos_test_response {
  int status;
  char headers[8192];    /* raw header block, "Name: value\r\n" lines */
  char *body;            /* NUL-terminated (malloc'd), for non-streaming reads */
  size_t body_len;
} mesos_test_response;

int mesos_test_conn_open(mesos_test_conn *c, int port);
void mesos_test_conn_close(mesos_test_conn *c);
/* Sends a request; `content_type` and `extra_headers` ("A: b\r\n..." or
 * NULL) are optional. */
int mesos_test_conn_request(mesos_test_conn *c, const char *method, const char *path,
                            const char *content_type, const char *extra_headers,
                            const char *body, size_t body_len);
/* Reads the status line and headers (timeout in ms).  For a complete
 * response, also reads the body (Content-Length or chunked to the end) when
 * `read_body` is set.  0 on success. */
int mesos_test_conn_response(mesos_test_conn *c, mesos_test_response *r, int read_body,
                             int timeout_ms);
/* The value of a header in `r` (case-insensitive) copied to buf, or NULL. */
const char *mesos_test_response_header(const mesos_test_response *r, const char *name,
                                       char *buf, size_t cap);
void mesos_test_response_free(mesos_test_response *r);
/* Reads the next RecordIO record from a chunked streaming body into a new
 * malloc'd NUL-terminated buffer.  Returns its length, or -1 on EOF, error
 * or time-out. */
long mesos_test_conn_next_record(mesos_test_conn *c, char **out, int timeout_ms);

/* One complete request/response on a fresh connection. */
int mesos_test_http(int port, const char *method, const char *path, const char *content_type,
                    const char *extra_headers, const char *body, mesos_test_response *r);

#endif
