/* Helpers shared by the registry module's test programs: one scratch
 * directory per test case, created and removed by the Check runner's parent
 * process (an unchecked fixture) so it goes away even when a test fails or
 * crashes in its forked child. */
#ifndef MESOS_TEST_REGTEST_H
#define MESOS_TEST_REGTEST_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "support/testutil.h"

static char regtest_base[PATH_MAX];
static int regtest_seq;

static inline int regtest_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(p);
}

static inline void regtest_rm_rf(const char *path) {
  nftw(path, regtest_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void regtest_setup_in(const char *root) {
  snprintf(regtest_base, sizeof regtest_base, "%s/mesos-registry-test-XXXXXX", root);
  if (mkdtemp(regtest_base) == NULL) {
    perror("mkdtemp");
    abort();
  }
}

/* Unchecked fixture: runs in the runner's process around each TCase.  The
 * scratch directory is on the disk (/tmp), so fsync does real work. */
static inline void regtest_setup(void) { regtest_setup_in("/tmp"); }

/* The same on tmpfs where there is one, for tests about something other
 * than durability that would otherwise spend their time in fsync. */
static inline void regtest_setup_fast(void) {
  regtest_setup_in(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
}

static inline void regtest_teardown(void) {
  regtest_rm_rf(regtest_base);
}

/* A fresh, not yet existing path under the scratch directory. */
static inline void regtest_path(char *out, size_t n, const char *name) {
  ck_assert_int_lt(snprintf(out, n, "%s/%s-%d-%d", regtest_base, name, (int)getpid(),
                           regtest_seq++), (int)n);
}

/* A fresh, existing directory under the scratch directory. */
static inline void regtest_dir(char *out, size_t n, const char *name) {
  regtest_path(out, n, name);
  ck_assert_int_eq(mkdir(out, 0700), 0);
}

static inline size_t regtest_file_size(const char *path) {
  struct stat st;
  ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
  return (size_t)st.st_size;
}

static inline int regtest_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Reads a whole (small) file; caller frees with free(). */
static inline unsigned char *regtest_read(const char *path, size_t *len) {
  size_t n = regtest_file_size(path);
  unsigned char *p = malloc(n + 1);
  ck_assert_ptr_nonnull(p);
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(read(fd, p, n), (ssize_t)n);
  close(fd);
  *len = n;
  return p;
}

static inline void regtest_write(const char *path, const void *p, size_t n, int flags) {
  int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
  close(fd);
}

static inline void regtest_flip(const char *path, size_t off) {
  int fd = open(path, O_RDWR);
  ck_assert_int_ge(fd, 0);
  unsigned char c;
  ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
  c ^= 0x40;
  ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
  close(fd);
}

#define REGTEST_TCASE_WITH(s, tc, timeout, setup)               \
  do {                                                          \
    tcase_add_unchecked_fixture((tc), (setup), regtest_teardown); \
    tcase_set_timeout((tc), (timeout));                         \
    suite_add_tcase((s), (tc));                                 \
  } while (0)

#define REGTEST_TCASE(s, tc, timeout) REGTEST_TCASE_WITH(s, tc, timeout, regtest_setup)

#endif
