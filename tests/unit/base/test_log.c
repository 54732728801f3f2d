#include <regex.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "support/testutil.h"

#define MAX_LINES 16

struct captured {
  int n;
  mesos_log_level level[MAX_LINES];
  char file[MAX_LINES][256];
  uint32_t line[MAX_LINES];
  char message[MAX_LINES][4096];
  void *ud[MAX_LINES];
};

static struct captured cap;

static void capture(mesos_log_level level, const char *file, uint32_t line, const char *message,
                    void *ud) {
  ck_assert_int_lt(cap.n, MAX_LINES);
  cap.level[cap.n] = level;
  snprintf(cap.file[cap.n], sizeof cap.file[0], "%s", file);
  cap.line[cap.n] = line;
  snprintf(cap.message[cap.n], sizeof cap.message[0], "%s", message);
  cap.ud[cap.n] = ud;
  cap.n++;
}

static void setup(void) {
  memset(&cap, 0, sizeof cap);
  mesos_log_set_handler(capture, &cap);
}

static void teardown(void) {
  mesos_log_set_handler(NULL, NULL);
  mesos_log_set_level(MESOS_LOG_INFO);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

START_TEST(test_log__handler_receives_level_file_line_message_and_ud) {
  uint32_t line = __LINE__ + 1;
  LOG_WARN("disk %s is %d%% full", "/var", 93);
  ck_assert_int_eq(cap.n, 1);
  ck_assert_int_eq(cap.level[0], MESOS_LOG_WARNING);
  ck_assert_msg(ends_with(cap.file[0], "test_log.c"), "file is %s", cap.file[0]);
  ck_assert_uint_eq(cap.line[0], line);
  ck_assert_str_eq(cap.message[0], "disk /var is 93% full"); /* no newline */
  ck_assert_ptr_eq(cap.ud[0], &cap);
}
END_TEST

START_TEST(test_log__default_level_is_info) {
  ck_assert_int_eq(mesos_log_get_level(), MESOS_LOG_INFO);
  LOG_INFO("shown");
  LOG_DEBUG("hidden");
  LOG_TRACE("hidden");
  ck_assert_int_eq(cap.n, 1);
  ck_assert_str_eq(cap.message[0], "shown");
}
END_TEST

START_TEST(test_log__lines_above_the_level_are_discarded) {
  ck_assert_int_eq(mesos_log_set_level(MESOS_LOG_WARNING), MESOS_OK);
  ck_assert_int_eq(mesos_log_get_level(), MESOS_LOG_WARNING);
  LOG_TRACE("t");
  LOG_DEBUG("d");
  LOG_INFO("i");
  LOG_WARN("w");
  LOG_ERROR("e");
  ck_assert_int_eq(cap.n, 2);
  ck_assert_str_eq(cap.message[0], "w");
  ck_assert_str_eq(cap.message[1], "e");
  ck_assert_int_eq(cap.level[1], MESOS_LOG_ERROR);

  ck_assert_int_eq(mesos_log_set_level(MESOS_LOG_TRACE), MESOS_OK);
  LOG_TRACE("t");
  ck_assert_int_eq(cap.n, 3);
  ck_assert_int_eq(cap.level[2], MESOS_LOG_TRACE);
}
END_TEST

START_TEST(test_log__a_level_outside_the_enum_is_refused) {
  ck_assert_int_eq(mesos_log_set_level(MESOS_LOG_DEBUG), MESOS_OK);
  ck_assert_int_eq(mesos_log_set_level((mesos_log_level)5), MESOS_EINVAL);
  ck_assert_int_eq(mesos_log_set_level((mesos_log_level)-1), MESOS_EINVAL);
  ck_assert_int_eq(mesos_log_set_level((mesos_log_level)1000), MESOS_EINVAL);
  ck_assert_int_eq(mesos_log_get_level(), MESOS_LOG_DEBUG); /* unchanged */
}
END_TEST

START_TEST(test_log__level_names_parse_in_any_case_and_as_digits) {
  static const struct {
    const char *in;
    mesos_log_level want;
  } ok[] = {
      {"ERROR", MESOS_LOG_ERROR}, {"error", MESOS_LOG_ERROR},     {"Warning", MESOS_LOG_WARNING},
      {"INFO", MESOS_LOG_INFO},   {"debug", MESOS_LOG_DEBUG},     {"TrAcE", MESOS_LOG_TRACE},
      {"0", MESOS_LOG_ERROR},     {"1", MESOS_LOG_WARNING},       {"2", MESOS_LOG_INFO},
      {"3", MESOS_LOG_DEBUG},     {"4", MESOS_LOG_TRACE},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    mesos_log_level l = (mesos_log_level)99;
    ck_assert_msg(mesos_log_level_parse(ok[i].in, &l) == MESOS_OK, "%s", ok[i].in);
    ck_assert_int_eq(l, ok[i].want);
  }
}
END_TEST

START_TEST(test_log__anything_else_fails_to_parse_and_leaves_out_alone) {
  static const char *const bad[] = {"", "5", "-1", "10", "00", " INFO", "INFO ", "INF",
                                    "INFOS", "WARN", "fatal", "2x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mesos_log_level l = (mesos_log_level)77;
    ck_assert_msg(mesos_log_level_parse(bad[i], &l) == MESOS_EINVAL, "'%s' parsed", bad[i]);
    ck_assert_int_eq(l, 77);
  }
  mesos_log_level l;
  ck_assert_int_eq(mesos_log_level_parse(NULL, &l), MESOS_EINVAL);
  ck_assert_int_eq(mesos_log_level_parse("INFO", NULL), MESOS_EINVAL);
}
END_TEST

START_TEST(test_log__level_names_round_trip) {
  for (int i = MESOS_LOG_ERROR; i <= MESOS_LOG_TRACE; i++) {
    const char *name = mesos_log_level_name((mesos_log_level)i);
    mesos_log_level l;
    ck_assert_int_eq(mesos_log_level_parse(name, &l), MESOS_OK);
    ck_assert_int_eq(l, i);
  }
  ck_assert_str_eq(mesos_log_level_name(MESOS_LOG_WARNING), "WARNING");
  ck_assert_str_eq(mesos_log_level_name((mesos_log_level)5), "UNKNOWN");
  ck_assert_str_eq(mesos_log_level_name((mesos_log_level)-1), "UNKNOWN");
}
END_TEST

START_TEST(test_log__long_messages_are_cut_not_overflowed) {
  char big[5000];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  LOG_ERROR("%s", big);
  ck_assert_int_eq(cap.n, 1);
  ck_assert_uint_eq(strlen(cap.message[0]), 2047);
}
END_TEST

START_TEST(test_log__logging_allocates_nothing) {
  /* Logging must work when memory is exhausted: that is when it matters. */
  mesos__alloc_fail_after(1);
  LOG_ERROR("out of memory while %s", "testing");
  uint64_t allocs = mesos__alloc_fail_after(0);
  ck_assert_int_eq(cap.n, 1);
  ck_assert_uint_eq(allocs, 0);
}
END_TEST

/* Runs `body` in a child whose stderr is a pipe and returns what it wrote
 * (at most cap - 1 bytes).  The default handler writes straight to fd 2,
 * so this is how to see its output without touching the test's own. */
static size_t child_stderr(void (*body)(void), char *out, size_t outcap, pid_t *pid) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    body();
    _exit(0);
  }
  close(fds[1]);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fds[0], out + n, outcap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
    if (n == outcap - 1) break;
  }
  out[n] = '\0';
  close(fds[0]);
  int status = 0;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  *pid = child;
  return n;
}

static void log_every_level(void) {
  mesos_log_set_handler(NULL, NULL); /* back to the default */
  mesos_log_set_level(MESOS_LOG_TRACE);
  LOG_ERROR("message %d", 0);
  LOG_WARN("message %d", 1);
  LOG_INFO("message %d", 2);
  LOG_DEBUG("message %d", 3);
  LOG_TRACE("message %d", 4);
}

START_TEST(test_log__default_handler_writes_the_documented_line_format) {
  char out[8192];
  pid_t pid;
  child_stderr(log_every_level, out, sizeof out, &pid);
  /* Lmmdd hh:mm:ss.uuuuuu  pid file:line] message (see libmesos-core(3)) */
  regex_t re;
  ck_assert_int_eq(regcomp(&re,
                           "^([EWIDT])(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]) "
                           "([01][0-9]|2[0-3]):[0-5][0-9]:[0-6][0-9]\\.[0-9]{6} "
                           "( *[0-9]+) test_log\\.c:([0-9]+)\\] message ([0-9])$",
                           REG_EXTENDED),
                   0);
  const char letters[] = "EWIDT";
  char *save = NULL;
  int n = 0;
  for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
    regmatch_t m[8];
    ck_assert_msg(regexec(&re, line, 8, m, 0) == 0, "line does not match the format: '%s'", line);
    ck_assert_int_lt(n, 5);
    ck_assert_int_eq(line[0], letters[n]);
    ck_assert_int_eq(line[m[7].rm_so], '0' + n);
    /* The pid field is right-aligned in five columns. */
    ck_assert_int_ge(m[5].rm_eo - m[5].rm_so, 5);
    ck_assert_int_eq(strtol(line + m[5].rm_so, NULL, 10), pid);
  }
  regfree(&re);
  ck_assert_int_eq(n, 5);
}
END_TEST

static void log_huge_line(void) {
  static char big[10000];
  memset(big, 'z', sizeof big - 1);
  mesos_log_set_handler(NULL, NULL);
  LOG_ERROR("%s", big);
}

START_TEST(test_log__default_handler_writes_one_bounded_line) {
  char out[16384];
  pid_t pid;
  size_t n = child_stderr(log_huge_line, out, sizeof out, &pid);
  ck_assert_uint_gt(n, 2047);
  ck_assert_uint_le(n, 4095);
  ck_assert_int_eq(out[n - 1], '\n');
  ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1); /* exactly one line */
}
END_TEST

static Suite *log_suite(void) {
  Suite *s = suite_create("log");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_log__handler_receives_level_file_line_message_and_ud);
  tcase_add_test(tc, test_log__default_level_is_info);
  tcase_add_test(tc, test_log__lines_above_the_level_are_discarded);
  tcase_add_test(tc, test_log__a_level_outside_the_enum_is_refused);
  tcase_add_test(tc, test_log__level_names_parse_in_any_case_and_as_digits);
  tcase_add_test(tc, test_log__anything_else_fails_to_parse_and_leaves_out_alone);
  tcase_add_test(tc, test_log__level_names_round_trip);
  tcase_add_test(tc, test_log__long_messages_are_cut_not_overflowed);
  tcase_add_test(tc, test_log__logging_allocates_nothing);
  tcase_add_test(tc, test_log__default_handler_writes_the_documented_line_format);
  tcase_add_test(tc, test_log__default_handler_writes_one_bounded_line);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(log_suite()); }
