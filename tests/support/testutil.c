#include "support/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void mesos_test_record_skip(const char *test, const char *fmt, ...) {
  const char *path = getenv("MESOS_TEST_SKIP_FILE");
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  fprintf(stderr, "SKIPPED: %s: %s\n", test, reason);
  if (path == NULL) return;
  FILE *f = fopen(path, "a");
  if (f == NULL) return;
  fprintf(f, "%s: %s\n", test, reason);
  fclose(f);
}

const char *mesos_test_errmsg(mesos_error **errp) {
  return errp && *errp ? mesos_error_message(*errp) : "";
}

int mesos_test_main(Suite *suite) {
  /* Writes to peers that went away must fail with EPIPE, not kill us. */
  signal(SIGPIPE, SIG_IGN);
  SRunner *sr = srunner_create(suite);
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void deadline_cb(mesos_timer *t, void *ud) {
  (void)t;
  *(int *)ud = 1;
}

int mesos_test_run_until(mesos_loop *loop, volatile int *flag, int timeout_ms) {
  int expired = 0;
  mesos_timer *t = NULL;
  if (mesos_timer_new(&t, loop, deadline_cb, &expired, NULL) != MESOS_OK) return 0;
  mesos_timer_start(t, (uint64_t)timeout_ms, 0);
  uint64_t end = now_ms() + (uint64_t)timeout_ms + 1000;
  /* Drive the loop the way an embedding host does: poll its fd. */
  while (!*flag && !expired && now_ms() < end) {
    int to = mesos_loop_timeout_ms(loop);
    if (to < 0 || to > 50) to = 50;
    struct pollfd p = {mesos_loop_fd(loop), POLLIN, 0};
    poll(&p, 1, to);
    if (mesos_loop_run_once(loop) < 0) break;
  }
  mesos_timer_free(t);
  mesos_loop_run_once(loop); /* let the deferred close finish */
  return *flag ? 1 : 0;
}

int mesos_test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  /* Free on every address, not only on 127.0.0.1: a daemon listening on
   * 0.0.0.0 (the netns test's master) cannot take a port some socket holds
   * on another address, and benchmarks bind thousands of client sockets
   * to 127.0.0.2..100 with ports from the same allocator (more than half
   * the ports a loopback-only probe found were taken there). */
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}
