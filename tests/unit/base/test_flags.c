#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/flags.h"
#include "base/units.h"
#include "support/testutil.h"

static const mesos__flag_def defs[] = {
  {"port", MESOS__FLAG_INT, "5050", "port to listen on", NULL, NULL},
  {"work_dir", MESOS__FLAG_STRING, NULL, "registry directory", NULL, NULL},
  {"registry", MESOS__FLAG_STRING, "replicated_log", "registry", NULL, "replicated_log|in_memory"},
  {"agent_ping_timeout", MESOS__FLAG_DURATION, "15secs", "ping", "slave_ping_timeout", NULL},
  {"authenticate_agents", MESOS__FLAG_BOOL, "false", "auth", "authenticate_slaves", NULL},
  {"quiet", MESOS__FLAG_BOOL, "false", "quiet", NULL, NULL},
  {"fetcher_cache_size", MESOS__FLAG_BYTES, "2GB", "cache", NULL, NULL},
  {"gc_disk_headroom", MESOS__FLAG_DOUBLE, "0.1", "headroom", NULL, NULL},
  {"acls", MESOS__FLAG_TEXT, NULL, "ACL JSON", NULL, NULL},
};
#define NDEFS (sizeof defs / sizeof defs[0])

static mesos__flags *parse_ok(int argc, char **argv, char **envp) {
  mesos__flags *f = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__flags_parse(&f, defs, NDEFS, argc, argv, envp, &err), &err);
  return f;
}

static mesos_status parse_err(int argc, char **argv, char **envp, char *msg, size_t cap) {
  mesos__flags *f = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__flags_parse(&f, defs, NDEFS, argc, argv, envp, &err);
  ck_assert_ptr_null(f);
  ck_assert_ptr_nonnull(err);
  snprintf(msg, cap, "%s", mesos_error_message(err));
  mesos_error_free(err);
  return st;
}

START_TEST(test_flags__defaults_apply_when_nothing_is_given) {
  char *argv[] = {"mesos-master", NULL};
  mesos__flags *f = parse_ok(1, argv, NULL);
  ck_assert_int_eq(mesos__flags_int(f, "port"), 5050);
  ck_assert(!mesos__flags_is_set(f, "port"));
  ck_assert_ptr_null(mesos__flags_get(f, "work_dir"));
  ck_assert_str_eq(mesos__flags_get(f, "registry"), "replicated_log");
  ck_assert_uint_eq(mesos__flags_duration_ns(f, "agent_ping_timeout"), 15 * MESOS__NS_PER_SEC);
  ck_assert_uint_eq(mesos__flags_bytes(f, "fetcher_cache_size"), 2ull << 30);
  ck_assert(!mesos__flags_bool(f, "quiet"));
  ck_assert(mesos__flags_double(f, "gc_disk_headroom") > 0.09);
  mesos__flags_free(f);
}
END_TEST

START_TEST(test_flags__command_line_beats_environment) {
  char *argv[] = {"m", "--port=6060", "--work_dir=/tmp/x", "--quiet", NULL};
  char *envp[] = {"MESOS_PORT=7070", "MESOS_REGISTRY=in_memory", "PATH=/bin",
                  "MESOS_UNRELATED_THING=1", NULL};
  mesos__flags *f = parse_ok(4, argv, envp);
  ck_assert_int_eq(mesos__flags_int(f, "port"), 6060);
  ck_assert_str_eq(mesos__flags_get(f, "registry"), "in_memory");
  ck_assert(mesos__flags_is_set(f, "registry"));
  ck_assert_str_eq(mesos__flags_get(f, "work_dir"), "/tmp/x");
  ck_assert(mesos__flags_bool(f, "quiet"));
  mesos__flags_free(f);
}
END_TEST

START_TEST(test_flags__slave_aliases_and_negated_booleans_are_accepted) {
  char *argv[] = {"m", "--slave_ping_timeout=1mins", "--authenticate_slaves", "--no-quiet",
                  NULL};
  mesos__flags *f = parse_ok(4, argv, NULL);
  ck_assert_uint_eq(mesos__flags_duration_ns(f, "agent_ping_timeout"), 60 * MESOS__NS_PER_SEC);
  ck_assert(mesos__flags_bool(f, "authenticate_agents"));
  ck_assert(!mesos__flags_bool(f, "quiet"));
  ck_assert(mesos__flags_is_set(f, "quiet"));
  mesos__flags_free(f);
}
END_TEST

START_TEST(test_flags__file_values_are_read_for_text_flags) {
  char path[] = "/tmp/mesos-flags-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "{\"permissive\": true}", 20), 20);
  close(fd);
  char arg[128];
  snprintf(arg, sizeof arg, "--acls=file://%s", path);
  char *argv[] = {"m", arg, NULL};
  mesos__flags *f = parse_ok(2, argv, NULL);
  ck_assert_str_eq(mesos__flags_get(f, "acls"), "{\"permissive\": true}");
  mesos__flags_free(f);
  unlink(path);
  char msg[256];
  ck_assert_int_eq(parse_err(2, argv, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(msg, "--acls"));
}
END_TEST

START_TEST(test_flags__bad_input_is_refused_with_the_flag_named) {
  char msg[256];
  struct {
    char *arg;
    const char *expect;
  } cases[] = {
    {"--bogus=1", "unknown flag '--bogus'"},
    {"--port=50x", "port"},
    {"--port", "needs a value"},
    {"--registry=zookeeper", "not one of"},
    {"--agent_ping_timeout=15 parsecs", "agent_ping_timeout"},
    {"--agent_ping_timeout=10furlongs", "unknown unit"},
    {"--fetcher_cache_size=2XB", "unknown unit"},
    {"--no-port", "only for boolean"},
    {"--quiet=maybe", "true or false"},
    {"positional", "unexpected argument"},
    {"--", "unexpected argument"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *argv[] = {"m", cases[i].arg, NULL};
    ck_assert_int_eq(parse_err(2, argv, NULL, msg, sizeof msg), MESOS_EINVAL);
    ck_assert_msg(strstr(msg, cases[i].expect) != NULL, "%s: message '%s' lacks '%s'",
                  cases[i].arg, msg, cases[i].expect);
  }
  char *twice[] = {"m", "--port=1", "--port=2", NULL};
  ck_assert_int_eq(parse_err(3, twice, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(msg, "more than once"));
  char *envbad[] = {"MESOS_PORT=abc", NULL};
  char *argv0[] = {"m", NULL};
  ck_assert_int_eq(parse_err(1, argv0, envbad, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_flags__every_flag_is_listed_for_the_flags_endpoint) {
  char *argv[] = {"m", "--work_dir=/w", NULL};
  mesos__flags *f = parse_ok(2, argv, NULL);
  size_t i = 0;
  const char *name, *value;
  int saw_work_dir = 0;
  while (mesos__flags_at(f, i, &name, &value)) {
    if (strcmp(name, "work_dir") == 0) saw_work_dir = value && strcmp(value, "/w") == 0;
    i++;
  }
  ck_assert_uint_eq(i, NDEFS);
  ck_assert(saw_work_dir);
  mesos__flags_free(f);
  mesos__buf usage = MESOS__BUF_INIT(1 << 20);
  ck_assert_int_eq(mesos__flags_usage(defs, NDEFS, "mesos-master", &usage), MESOS_OK);
  ck_assert_ptr_nonnull(strstr(usage.data, "--[no-]quiet"));
  ck_assert_ptr_nonnull(strstr(usage.data, "--work_dir=VALUE"));
  ck_assert_ptr_nonnull(strstr(usage.data, "slave_ping_timeout"));
  mesos__buf_free(&usage);
}
END_TEST

START_TEST(test_units__durations_parse_and_print_as_mesos_does) {
  uint64_t ns;
  struct {
    const char *in;
    uint64_t ns;
    const char *out;
  } cases[] = {
    {"15secs", 15 * MESOS__NS_PER_SEC, "15secs"},
    {"1mins", 60 * MESOS__NS_PER_SEC, "1mins"},
    {"10mins", 600 * MESOS__NS_PER_SEC, "10mins"},
    {"2weeks", 2 * 604800 * MESOS__NS_PER_SEC, "2weeks"},
    {"100ms", 100 * MESOS__NS_PER_MS, "100ms"},
    {"1.5secs", 1500 * MESOS__NS_PER_MS, "1.5secs"},
    {"0ns", 0, "0ns"},
    {"90secs", 90 * MESOS__NS_PER_SEC, "1.5mins"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_int_eq(mesos__parse_duration(cases[i].in, &ns, NULL), MESOS_OK);
    ck_assert_uint_eq(ns, cases[i].ns);
    char buf[64];
    mesos__format_duration(ns, buf, sizeof buf);
    ck_assert_str_eq(buf, cases[i].out);
  }
  ck_assert_int_eq(mesos__parse_duration("", &ns, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__parse_duration("secs", &ns, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__parse_duration("-1secs", &ns, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__parse_duration("99999999999weeks", &ns, NULL), MESOS_EINVAL);
}
END_TEST

START_TEST(test_units__byte_sizes_parse_and_print_as_mesos_does) {
  uint64_t b;
  ck_assert_int_eq(mesos__parse_bytes("2GB", &b, NULL), MESOS_OK);
  ck_assert_uint_eq(b, 2ull << 30);
  char buf[64];
  mesos__format_bytes(b, buf, sizeof buf);
  ck_assert_str_eq(buf, "2GB");
  mesos__format_bytes(1536ull << 20, buf, sizeof buf);
  ck_assert_str_eq(buf, "1536MB");
  mesos__format_bytes(100, buf, sizeof buf);
  ck_assert_str_eq(buf, "100B");
  mesos__format_bytes(0, buf, sizeof buf);
  ck_assert_str_eq(buf, "0B");
  ck_assert_int_eq(mesos__parse_bytes("1.5GB", &b, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__parse_bytes("99999999999TB", &b, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__parse_bytes("-1MB", &b, NULL), MESOS_EINVAL);
}
END_TEST

START_TEST(test_flags__a_copy_keeps_set_values_and_file_contents_without_rereading) {
  char path[] = "/tmp/mesos-flags-copy-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "file://not-a-path", 17), 17);
  close(fd);
  char arg[128];
  snprintf(arg, sizeof arg, "--acls=file://%s", path);
  char *argv[] = {"m", "--port=6061", "--quiet", arg, NULL};
  char *envp[] = {"MESOS_WORK_DIR=/w", NULL};
  mesos__flags *src = parse_ok(4, argv, envp);
  unlink(path);
  mesos__flags *copy = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__flags_copy(&copy, defs, NDEFS, src, &err), &err);
  ck_assert_int_eq(mesos__flags_int(copy, "port"), 6061);
  ck_assert(mesos__flags_bool(copy, "quiet"));
  ck_assert(mesos__flags_is_set(copy, "work_dir"));
  ck_assert_str_eq(mesos__flags_get(copy, "work_dir"), "/w");
  ck_assert_str_eq(mesos__flags_get(copy, "acls"), "file://not-a-path");
  ck_assert(!mesos__flags_is_set(copy, "registry"));
  ck_assert_str_eq(mesos__flags_get(copy, "registry"), "replicated_log");
  mesos__flags_free(copy);
  mesos__flags_free(src);
  char *usage = NULL;
  ck_assert_int_eq(mesos__flags_usage_string(defs, NDEFS, "prog", &usage, NULL), MESOS_OK);
  ck_assert_ptr_nonnull(strstr(usage, "Usage: prog"));
  mesos__free(usage);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static Suite *flags_suite(void) {
  Suite *s = suite_create("flags");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_flags__defaults_apply_when_nothing_is_given);
  tcase_add_test(tc, test_flags__command_line_beats_environment);
  tcase_add_test(tc, test_flags__slave_aliases_and_negated_booleans_are_accepted);
  tcase_add_test(tc, test_flags__file_values_are_read_for_text_flags);
  tcase_add_test(tc, test_flags__bad_input_is_refused_with_the_flag_named);
  tcase_add_test(tc, test_flags__every_flag_is_listed_for_the_flags_endpoint);
  tcase_add_test(tc, test_flags__a_copy_keeps_set_values_and_file_contents_without_rereading);
  tcase_add_test(tc, test_units__durations_parse_and_print_as_mesos_does);
  tcase_add_test(tc, test_units__byte_sizes_parse_and_print_as_mesos_does);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(flags_suite()); }
