/* Shared helpers of the provisioner tests: fixtures built once per program
 * (tests/unit/provisioner/make_fixtures.sh) into a temporary directory the
 * parent process removes at exit, unmounting anything a crashed test left. */
#ifndef MESOS_TEST_PROVTEST_H
#define MESOS_TEST_PROVTEST_H

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/testutil.h"

/* Test paths are short temporary names; truncation cannot happen. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char prov_fix[PATH_MAX];      /* fixture root */
static char prov_missing[256];       /* tools the image fixtures lacked */
static int prov_seq;
static pid_t prov_parent; /* Check forks each test; only the parent cleans up */

static inline int provtest_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(p);
}

/* Mount points at or below `dir`, unmounted deepest first. */
static inline int provtest_mounts_below(const char *dir, int unmount) {
  int count = 0;
  for (int round = 0; round < 64; round++) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) return -1;
    char line[8192], best[PATH_MAX] = "";
    int n = 0;
    size_t dl = strlen(dir);
    while (fgets(line, sizeof line, f)) {
      char mp[PATH_MAX];
      if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
      if (strncmp(mp, dir, dl) == 0 && (mp[dl] == '\0' || mp[dl] == '/')) {
        n++;
        if (strlen(mp) > strlen(best)) snprintf(best, sizeof best, "%s", mp);
      }
    }
    fclose(f);
    if (!unmount || n == 0) return n;
    count++;
    umount2(best, MNT_DETACH);
  }
  return count;
}

static inline void provtest_rm_rf(const char *path) {
  provtest_mounts_below(path, 1);
  nftw(path, provtest_rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static inline void provtest_cleanup(void) {
  if (prov_fix[0] && getpid() == prov_parent) provtest_rm_rf(prov_fix);
}

/* Builds the fixtures; aborts the program when the script fails. */
static inline void provtest_setup_mode(const char *mode) {
  char tmpl[] = "/tmp/mesos-prov-test-XXXXXX";
  if (mkdtemp(tmpl) == NULL) abort();
  snprintf(prov_fix, sizeof prov_fix, "%s", tmpl);
  prov_parent = getpid();
  atexit(provtest_cleanup);
  char cmd[PATH_MAX + 128];
  snprintf(cmd, sizeof cmd, "bash tests/unit/provisioner/make_fixtures.sh '%s' %s 2>&1", prov_fix,
           mode);
  FILE *p = popen(cmd, "r");
  if (p == NULL) abort();
  char line[512];
  while (fgets(line, sizeof line, p)) {
    if (strncmp(line, "tools-missing: ", 15) == 0) {
      snprintf(prov_missing, sizeof prov_missing, "%s", line + 15);
      prov_missing[strcspn(prov_missing, "\n")] = '\0';
    }
    fputs(line, stderr);
  }
  if (pclose(p) != 0) {
    fprintf(stderr, "make_fixtures.sh failed\n");
    exit(1);
  }
}

static inline void provtest_setup(void) { provtest_setup_mode(""); }

/* A fresh scratch directory below the fixtures (removed with them). */
static inline void provtest_scratch(char out[PATH_MAX]) {
  snprintf(out, PATH_MAX, "%s/t%d-%d", prov_fix, (int)getpid(), prov_seq++);
  if (mkdir(out, 0755) != 0) abort();
}

/* Entries of a directory, "." and ".." not counted; -1 when unreadable. */
static inline int count_dir(const char *dir) {
  char cmd[PATH_MAX + 64];
  snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", dir);
  FILE *f = popen(cmd, "r");
  int n = -1;
  if (f && fscanf(f, "%d", &n) != 1) n = -1;
  if (f) pclose(f);
  return n;
}

static inline void provtest_path(char out[PATH_MAX], const char *rel) {
  snprintf(out, PATH_MAX, "%s/%s", prov_fix, rel);
}

#define PROV_NEED_IMAGES()                                                            \
  do {                                                                                \
    if (prov_missing[0]) MESOS_TEST_SKIP("image tools missing: %s", prov_missing);    \
  } while (0)
/* Whether overlayfs mounts work below the fixtures (not when /tmp is
 * itself on overlayfs or the kernel lacks it); "" or the reason. */
static inline const char *provtest_overlay_unusable(void) {
  static char why[256];
  static int checked;
  if (checked) return why;
  checked = 1;
  char base[PATH_MAX], opts[4 * PATH_MAX], m[PATH_MAX];
  snprintf(base, sizeof base, "%s/ovl-probe-%d", prov_fix, (int)getpid());
  const char *sub[] = {"l", "u", "w", "m"};
  mkdir(base, 0755);
  for (int i = 0; i < 4; i++) {
    snprintf(m, sizeof m, "%s/%s", base, sub[i]);
    mkdir(m, 0755);
  }
  snprintf(opts, sizeof opts, "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", base, base, base);
  snprintf(m, sizeof m, "%s/m", base);
  if (mount("overlay", m, "overlay", 0, opts) != 0)
    snprintf(why, sizeof why, "overlayfs mount fails here: %s", strerror(errno));
  else
    umount2(m, MNT_DETACH);
  return why;
}

#define PROV_NEED_OVERLAY()                                                           \
  do {                                                                                \
    if (geteuid() == 0 && provtest_overlay_unusable()[0])                             \
      MESOS_TEST_SKIP("%s", provtest_overlay_unusable());                             \
  } while (0)
#define PROV_NEED_ROOT()                                                              \
  do {                                                                                \
    if (geteuid() != 0) MESOS_TEST_SKIP("needs root (mount, mknod, chown)");         \
  } while (0)

#endif
