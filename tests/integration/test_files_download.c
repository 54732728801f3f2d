/*
 * /files/download streams: a real mesos-master with --log_dir serves its
 * log as /master/log; the test makes that file larger than the old 64 MiB
 * in-memory cap and downloads it whole, checking every byte against the
 * file and that the master's peak RSS grew by far less than the file.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/daemon.h"
#include "support/testutil.h"

/* Larger than the 64 MiB the download used to be capped at (and held in
 * memory for). */
#define BIG ((size_t)68 << 20)
/* What the master may grow by while sending it: its chunk and unsent
 * backlog (about 2.5 MiB) plus generous room for the allocator. */
#define RSS_SLACK_KB (24L * 1024)
/* How much the slow client reads before it hangs up: several times what
 * the kernel buffers on loopback, so the master waits on drains. */
#define SLOW_BYTES ((size_t)12 << 20)

static long status_kb(pid_t pid, const char *field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  long v = -1;
  size_t fl = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, fl) == 0 && line[fl] == ':') v = strtol(line + fl + 1, NULL, 10);
  fclose(f);
  return v;
}

static unsigned char pattern(size_t i) { return (unsigned char)((i * 2654435761u) >> 13); }

START_TEST(test_files_download__a_file_over_64_mib_streams_whole_with_bounded_memory) {
  char dir[] = "/tmp/mesos-download-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char logs[600], flag[700], path[4096], port_arg[64];
  snprintf(logs, sizeof logs, "%s/logs", dir);
  snprintf(flag, sizeof flag, "--log_dir=%s", logs);
  int port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", port);
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  /* A small ASan quarantine, so freed write buffers are reused instead of
   * held (the default would hide the bound under the sanitizer build). */
  const char *asan = getenv("ASAN_OPTIONS");
  char opts[512];
  snprintf(opts, sizeof opts, "%s%squarantine_size_mb=1", asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", opts, 1);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--logging_level=ERROR", flag,
                  "--registry=in_memory", NULL};
  pid_t pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(port, "/health", 5000), "master did not come up");

  /* Grow the master's log file past the old cap with known bytes. */
  char link[700];
  snprintf(link, sizeof link, "%s/mesos-master.INFO", logs);
  int fd = open(link, O_WRONLY | O_APPEND);
  ck_assert_int_ge(fd, 0);
  unsigned char *chunk = malloc(1 << 20);
  ck_assert_ptr_nonnull(chunk);
  for (size_t off = 0; off < BIG; off += 1 << 20) {
    for (size_t i = 0; i < (1 << 20); i++) chunk[i] = pattern(off + i);
    ck_assert_int_eq(write(fd, chunk, 1 << 20), 1 << 20);
  }
  close(fd);
  free(chunk);
  long rss_before = status_kb(pid, "VmRSS");
  ck_assert_int_gt(rss_before, 0);

  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, port), 0);
  ck_assert_int_eq(
      mesos_test_conn_request(&c, "GET", "/files/download?path=/master/log", NULL, NULL, NULL, 0),
      0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 1, 60000), 0);
  mesos_test_conn_close(&c);
  ck_assert_int_eq(r.status, 200);
  char v[128];
  ck_assert_str_eq(mesos_test_response_header(&r, "Content-Type", v, sizeof v),
                   "application/octet-stream");
  ck_assert_ptr_nonnull(strstr(mesos_test_response_header(&r, "Content-Disposition", v, sizeof v),
                               "attachment"));
  /* The size is known when the file is opened: a Content-Length, so a
   * client can tell a whole download from a cut one. */
  ck_assert_ptr_nonnull(mesos_test_response_header(&r, "Content-Length", v, sizeof v));
  long long clen = strtoll(v, NULL, 10);
  ck_assert_ptr_null(mesos_test_response_header(&r, "Transfer-Encoding", v, sizeof v));

  /* Every byte, as the file holds it now. */
  fd = open(link, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  off_t size = lseek(fd, 0, SEEK_END);
  ck_assert_uint_ge((size_t)size, BIG);
  ck_assert_uint_eq(r.body_len, (size_t)size);
  ck_assert_int_eq(clen, (long long)size);
  char *file = malloc((size_t)size);
  ck_assert_ptr_nonnull(file);
  ck_assert_int_eq(pread(fd, file, (size_t)size, 0), size);
  close(fd);
  ck_assert_msg(memcmp(file, r.body, (size_t)size) == 0, "downloaded bytes differ from the file");
  size_t head = (size_t)size - BIG;
  size_t bad = 0;
  for (size_t i = 0; i < BIG; i += 4099) bad += (unsigned char)r.body[head + i] != pattern(i);
  ck_assert_uint_eq(bad, 0);
  mesos_test_response_free(&r);

  /* A slow client: it reads in small bites with pauses, so the master's
   * socket fills and the download waits for the drain callback again and
   * again; what arrives is still the file's bytes in order.  Then it
   * closes mid-way with bytes still queued for it. */
  ck_assert_int_eq(mesos_test_conn_open(&c, port), 0);
  ck_assert_int_eq(
      mesos_test_conn_request(&c, "GET", "/files/download?path=/master/log", NULL, NULL, NULL, 0),
      0);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_free(&r);
  size_t got = c.len; /* body bytes read along with the headers */
  ck_assert_int_eq(memcmp(c.buf, file, got), 0);
  char *slow = malloc(SLOW_BYTES);
  ck_assert_ptr_nonnull(slow);
  while (got < SLOW_BYTES) {
    size_t want = SLOW_BYTES - got < (64u << 10) ? SLOW_BYTES - got : (64u << 10);
    ssize_t n = read(c.fd, slow + got, want);
    ck_assert_int_gt(n, 0);
    got += (size_t)n;
    if ((got >> 20) != ((got - (size_t)n) >> 20)) usleep(20 * 1000); /* each MiB */
  }
  memcpy(slow, c.buf, c.len);
  ck_assert_msg(memcmp(slow, file, SLOW_BYTES) == 0, "slowly read bytes differ from the file");
  free(slow);
  free(file);
  mesos_test_conn_close(&c);
  ck_assert_msg(mesos_test_wait_http_ok(port, "/health", 5000), "master stopped answering");

  long peak = status_kb(pid, "VmHWM");
  ck_assert_msg(peak - rss_before < RSS_SLACK_KB,
                "master peak RSS grew by %ld KiB sending an %zu MiB file", peak - rss_before,
                BIG >> 20);

  /* A client that goes away right after the headers costs nothing lasting
   * either (the master's exit status below includes LeakSanitizer's
   * verdict in the sanitizer build). */
  ck_assert_int_eq(mesos_test_conn_open(&c, port), 0);
  ck_assert_int_eq(
      mesos_test_conn_request(&c, "GET", "/files/download?path=/master/log", NULL, NULL, NULL, 0),
      0);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  ck_assert_msg(mesos_test_wait_http_ok(port, "/health", 5000), "master stopped answering");

  int st = mesos_test_stop(pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("files_download");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_files_download__a_file_over_64_mib_streams_whole_with_bounded_memory);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
