/* mesos__agent_spawn (lib/agent/spawn.c): what an executor or a command
 * started by the agent gets, and failures that leave no child. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/spawn.h"
#include "base/error.h"
#include "support/testutil.h"

static char dir[64];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/test-spawn-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/stdout", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/stderr", dir);
  unlink(path);
  rmdir(dir);
}

static void read_text(const char *name, char *buf, size_t cap) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Runs `script` under /bin/sh in `dir` (new session or group) and returns
 * its wait status. */
static int run_sh(const char *script, int new_session, int32_t *pid_out) {
  char out[128], errp[128];
  snprintf(out, sizeof out, "%s/stdout", dir);
  snprintf(errp, sizeof errp, "%s/stderr", dir);
  char *argv[] = {"sh", "-c", (char *)script, NULL};
  char *envp[] = {"SPAWN_TEST=yes", NULL};
  mesos__agent_spawn_opts o = {.path = "/bin/sh",
                               .argv = argv,
                               .envp = envp,
                               .dir = dir,
                               .stdout_path = out,
                               .stderr_path = errp,
                               .new_session = new_session};
  int32_t pid = -1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_spawn(&o, &pid, &err), &err);
  ck_assert_int_gt(pid, 0);
  if (pid_out) *pid_out = pid;
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

START_TEST(test_spawn__child_gets_its_directory_environment_and_output_files) {
  make_dir();
  int st = run_sh("pwd; echo \"env=$SPAWN_TEST\"; echo oops >&2; read x; echo \"stdin=[$x]\"", 1,
                  NULL);
  ck_assert(WIFEXITED(st));
  char text[512], expect[256];
  read_text("stdout", text, sizeof text);
  snprintf(expect, sizeof expect, "%s\nenv=yes\nstdin=[]\n", dir);
  ck_assert_str_eq(text, expect);
  read_text("stderr", text, sizeof text);
  ck_assert_str_eq(text, "oops\n");
  /* Appended to, not truncated. */
  run_sh("echo again", 1, NULL);
  read_text("stdout", text, sizeof text);
  ck_assert_ptr_nonnull(strstr(text, "stdin=[]\nagain\n"));
  remove_dir();
}
END_TEST

START_TEST(test_spawn__session_or_group_of_its_own) {
  make_dir();
  int32_t pid = 0;
  /* $$ is the shell's pid: its session and group ids, from ps-free /proc. */
  run_sh("cut -d' ' -f5,6 /proc/$$/stat", 1, &pid);
  char text[128], expect[64];
  read_text("stdout", text, sizeof text);
  snprintf(expect, sizeof expect, "%d %d\n", (int)pid, (int)pid); /* pgrp, session */
  ck_assert_str_eq(text, expect);
  remove_dir();
  make_dir();
  run_sh("cut -d' ' -f5,6 /proc/$$/stat", 0, &pid);
  read_text("stdout", text, sizeof text);
  snprintf(expect, sizeof expect, "%d %d\n", (int)pid, (int)getsid(0)); /* own group, our session */
  ck_assert_str_eq(text, expect);
  remove_dir();
}
END_TEST

START_TEST(test_spawn__no_descriptor_blocked_or_ignored_signal_leaks_in) {
  make_dir();
  int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still not reach the child */
  ck_assert_int_ge(fd, 3);
  signal(SIGPIPE, SIG_IGN);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, NULL);
  char script[256];
  snprintf(script, sizeof script,
           "if [ -e /proc/$$/fd/%d ]; then echo fd-leaked; fi; "
           "grep -E '^Sig(Blk|Ign):' /proc/$$/status",
           fd);
  run_sh(script, 0, NULL);
  char text[512];
  read_text("stdout", text, sizeof text);
  ck_assert_msg(strstr(text, "fd-leaked") == NULL, "%s", text);
  ck_assert_msg(strstr(text, "SigBlk:\t0000000000000000\n") != NULL, "%s", text);
  /* glibc's posix_spawn leaves its two internal real-time signals (32 and
   * 33, below SIGRTMIN, which no program may use) ignored; nothing else. */
  const char *ign = strstr(text, "SigIgn:\t");
  ck_assert_ptr_nonnull(ign);
  unsigned long long mask = strtoull(ign + 8, NULL, 16);
  ck_assert_msg((mask & ~(3ULL << 31)) == 0, "%s", text);
  close(fd);
  remove_dir();
}
END_TEST

START_TEST(test_spawn__a_program_that_cannot_run_is_an_error_and_leaves_no_child) {
  make_dir();
  char out[128];
  snprintf(out, sizeof out, "%s/stdout", dir);
  char *argv[] = {"nope", NULL};
  char *envp[] = {NULL};
  mesos__agent_spawn_opts o = {.path = "/nonexistent/program",
                               .argv = argv,
                               .envp = envp,
                               .dir = dir,
                               .stdout_path = out,
                               .stderr_path = out,
                               .new_session = 1};
  int32_t pid = -1;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__agent_spawn(&o, &pid, &err), MESOS_EIO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "/nonexistent/program"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(pid, -1);
  /* A working directory that does not exist, and an output file that
   * cannot be created: the same. */
  o.path = "/bin/sh";
  o.dir = "/nonexistent/dir";
  ck_assert_int_eq(mesos__agent_spawn(&o, &pid, &err), MESOS_EIO);
  mesos_error_free(err);
  err = NULL;
  o.dir = dir;
  o.stdout_path = "/nonexistent/dir/stdout";
  ck_assert_int_eq(mesos__agent_spawn(&o, &pid, &err), MESOS_EIO);
  mesos_error_free(err);
  /* posix_spawn reaped the failed children: none is left to wait for. */
  errno = 0;
  ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
  ck_assert_int_eq(errno, ECHILD);
  remove_dir();
}
END_TEST

START_TEST(test_spawn__path_search_only_when_asked) {
  make_dir();
  char out[128];
  snprintf(out, sizeof out, "%s/stdout", dir);
  char *argv[] = {"true", NULL};
  char *envp[] = {NULL};
  mesos__agent_spawn_opts o = {.path = "true",
                               .argv = argv,
                               .envp = envp,
                               .stdout_path = out,
                               .stderr_path = out,
                               .search = 1};
  int32_t pid = -1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_spawn(&o, &pid, &err), &err);
  int status = -1;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  o.search = 0; /* "true" relative to the working directory: not there */
  o.dir = dir;
  ck_assert_int_eq(mesos__agent_spawn(&o, &pid, &err), MESOS_EIO);
  mesos_error_free(err);
  remove_dir();
}
END_TEST

static Suite *spawn_suite(void) {
  Suite *s = suite_create("agent_spawn");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_spawn__child_gets_its_directory_environment_and_output_files);
  tcase_add_test(tc, test_spawn__session_or_group_of_its_own);
  tcase_add_test(tc, test_spawn__no_descriptor_blocked_or_ignored_signal_leaks_in);
  tcase_add_test(tc, test_spawn__a_program_that_cannot_run_is_an_error_and_leaves_no_child);
  tcase_add_test(tc, test_spawn__path_search_only_when_asked);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(spawn_suite()); }
