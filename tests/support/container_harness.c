/* The host side of the container integration tests: see container_harness.h. */
#include "support/container_harness.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerizer/cgroups.h"
#include "support/daemon.h"

/* ------------------------------------------------------------ files */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

void mesos_test_rm_tree(const char *dir) {
  if (dir[0]) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *mesos_test_slurp(const char *path) {
  static char buf[1 << 16];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL) return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

int mesos_test_count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) n += de->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

/* ------------------------------------------------------------ host state */

/* Unmounts (lazily, deepest first) everything mounted under `prefix`. */
static void umount_under(const char *prefix) {
  char *mounts = strdup(mesos_test_slurp("/proc/self/mounts"));
  if (mounts == NULL) return;
  char *paths[256];
  int n = 0;
  char *save = NULL;
  for (char *line = strtok_r(mounts, "\n", &save); line && n < 256;
       line = strtok_r(NULL, "\n", &save)) {
    char dev[512], dir[1024];
    if (sscanf(line, "%511s %1023s", dev, dir) == 2 && strncmp(dir, prefix, strlen(prefix)) == 0)
      if ((paths[n] = strdup(dir)) != NULL) n++;
  }
  free(mounts);
  for (int i = n - 1; i >= 0; i--) {
    umount2(paths[i], MNT_DETACH);
    free(paths[i]);
  }
}

int mesos_test_cg_dirs(const char *root, char out[][1024], int cap) {
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) return 0;
  int n = 0;
  for (int c = 0; c <= MESOS__CG_COUNT && n < cap; c++) {
    const char *mnt = c == MESOS__CG_COUNT ? l.v2_mount : l.v1_mount[c];
    const char *self = c == MESOS__CG_COUNT ? l.v2_self : l.v1_self[c];
    if (mnt == NULL) continue;
    snprintf(out[n], 1024, "%s%s/%s", mnt, strcmp(self, "/") ? self : "", root);
    int dup = 0;
    for (int i = 0; i < n; i++) dup |= strcmp(out[i], out[n]) == 0;
    if (!dup) n++;
  }
  mesos__cg_layout_free(&l);
  return n;
}

int mesos_test_cg_leftovers(const char *root, int remove) {
  char dirs[16][1024];
  int nd = mesos_test_cg_dirs(root, dirs, 16), left = 0;
  for (int i = 0; i < nd; i++) {
    DIR *d = opendir(dirs[i]);
    if (d == NULL) continue;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.') continue;
      left++;
      fprintf(stderr, "cgroup left: %s/%s\n", dirs[i], de->d_name);
      if (!remove) continue;
      char cmd[5000];
      /* Processes first (and the v2 leaf), then the directories. */
      snprintf(cmd, sizeof cmd,
               "for f in $(find '%.1000s/%.200s' -name cgroup.procs); do for p in $(cat $f); do "
               "kill -9 $p; done; done 2>/dev/null; sleep 0.2; find '%.1000s/%.200s' -depth "
               "-type d -exec rmdir {} + 2>/dev/null",
               dirs[i], de->d_name, dirs[i], de->d_name);
      if (system(cmd) != 0) { /* what is left the caller's checks report */ }
    }
    closedir(d);
    if (remove) rmdir(dirs[i]);
  }
  return left;
}

/* Kills the inits of the containers in runtime dir `run` (a test that
 * failed before its agent destroyed them). */
static void kill_containers(const char *run) {
  char pattern[600];
  snprintf(pattern, sizeof pattern, "%s/containers/*/pid", run);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0) return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    long pid = strtol(mesos_test_slurp(g.gl_pathv[i]), NULL, 10);
    if (pid > 1) kill((pid_t)pid, SIGKILL);
  }
  globfree(&g);
}

/* ------------------------------------------------------------ the runner */

/* atexit takes no argument: the one harness of this program. */
static mesos_test_ctr *the_harness;

/* At the runner's exit: whatever its tests left (the test processes die
 * with PDEATHSIG; a failed test's agent with them, but not its executors
 * and containers). */
static void runner_cleanup(void) {
  mesos_test_ctr *h = the_harness;
  if (h == NULL || getpid() != h->runner_pid) return;
  char pattern[128];
  snprintf(pattern, sizeof pattern, "/tmp/mesos-%s-%d-*", h->tag, (int)h->runner_pid);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      char run[400];
      snprintf(run, sizeof run, "%s/run", g.gl_pathv[i]);
      /* Executors and tasks run in their own session (PDEATHSIG on the
       * agent never reaches them) with their sandbox as their cwd. */
      mesos_test_kill_under(g.gl_pathv[i]);
      kill_containers(run);
    }
    usleep(100000); /* the SIGKILLed inits let go of their mounts */
    for (size_t i = 0; i < g.gl_pathc; i++) {
      umount_under(g.gl_pathv[i]);
      if (getenv("MESOS_TEST_KEEP") == NULL) mesos_test_rm_tree(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  for (int k = 0; k < MESOS_TEST_CTR_MAX_TESTS; k++) {
    char root[96];
    snprintf(root, sizeof root, "mesos-%s-%d-%d", h->tag, (int)h->runner_pid, k);
    mesos_test_cg_leftovers(root, 1);
  }
  if (h->fix_dir[0]) mesos_test_rm_tree(h->fix_dir);
}

/* Why containers cannot run here ("" when they can). */
static void probe_host(mesos_test_ctr *h) {
  if (geteuid() != 0) {
    snprintf(h->why_not, sizeof h->why_not, "needs root (namespaces, mounts, cgroups)");
    return;
  }
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) {
    snprintf(h->why_not, sizeof h->why_not, "cannot read the cgroup layout");
    return;
  }
  int ok = l.where[MESOS__CG_MEMORY] != MESOS__CG_NONE && l.where[MESOS__CG_CPU] != MESOS__CG_NONE;
  mesos__cg_layout_free(&l);
  if (!ok) {
    snprintf(h->why_not, sizeof h->why_not, "needs the cpu and memory cgroup controllers");
    return;
  }
  char dirs[16][1024], probe_root[96];
  snprintf(probe_root, sizeof probe_root, "mesos-%s-probe-%d", h->tag, (int)getpid());
  int nd = mesos_test_cg_dirs(probe_root, dirs, 16);
  for (int i = 0; i < nd; i++) {
    if (mkdir(dirs[i], 0755) != 0 || rmdir(dirs[i]) != 0) {
      snprintf(h->why_not, sizeof h->why_not, "the cgroup hierarchy is not writable here (%.400s)",
               dirs[i]);
      return;
    }
  }
  pid_t p = fork();
  if (p == 0) _exit(unshare(CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : 1);
  int ws = 0;
  if (p < 0 || waitpid(p, &ws, 0) != p || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
    snprintf(h->why_not, sizeof h->why_not,
             "creating mount and pid namespaces is not permitted here");
}

/* Builds the images into a new fix_dir; a missing tool is a reason to
 * skip, a failing build a broken fixture ("!..."). */
static void build_images(mesos_test_ctr *h) {
  snprintf(h->fix_dir, sizeof h->fix_dir, "/tmp/mesos-%s-fix-XXXXXX", h->tag);
  if (mkdtemp(h->fix_dir) == NULL) {
    snprintf(h->why_not, sizeof h->why_not, "cannot create a temporary directory");
    h->fix_dir[0] = '\0';
    return;
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "bash tests/support/container_images.bash '%s' 2>&1", h->fix_dir);
  FILE *f = popen(cmd, "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "tools-missing: ", 15) == 0) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(h->why_not, sizeof h->why_not, "image tools missing: %.400s", line + 15);
    } else if (strncmp(line, "overlay: yes", 12) == 0) {
      h->have_overlay = 1;
    } else if (strncmp(line, "overlay: no", 11) != 0) {
      fputs(line, stderr);
    }
  }
  if ((f == NULL || pclose(f) != 0) && !h->why_not[0])
    snprintf(h->why_not, sizeof h->why_not, "!container_images.bash failed");
}

void mesos_test_ctr_init(mesos_test_ctr *h, const char *tag, int images) {
  memset(h, 0, sizeof *h);
  snprintf(h->tag, sizeof h->tag, "%s", tag);
  h->runner_pid = getpid();
  the_harness = h;
  atexit(runner_cleanup);
  probe_host(h);
  if (images && !h->why_not[0]) build_images(h);
}

/* ------------------------------------------------------------ per test */

void mesos_test_ctr_make_base(mesos_test_ctr *h, int k) {
  ck_assert_msg(k >= 0 && k < MESOS_TEST_CTR_MAX_TESTS, "test number %d", k);
  snprintf(h->base_dir, sizeof h->base_dir, "/tmp/mesos-%s-%d-XXXXXX", h->tag, (int)getppid());
  ck_assert_ptr_nonnull(mkdtemp(h->base_dir));
  /* One cgroups root per test (numbered by the test's order in the run,
   * which the runner's clean-up walks). */
  snprintf(h->cg_root, sizeof h->cg_root, "mesos-%s-%d-%d", h->tag, (int)getppid(), k);
}

void mesos_test_ctr_assert_clean(const mesos_test_ctr *h) {
  const char *mounts = mesos_test_slurp("/proc/self/mounts");
  ck_assert_msg(strstr(mounts, h->base_dir) == NULL, "a mount under %s is left:\n%s",
                h->base_dir, mounts);
  ck_assert_msg(mesos_test_cg_leftovers(h->cg_root, 0) == 0,
                "container cgroups under %s are left", h->cg_root);
  char p[600];
  snprintf(p, sizeof p, "%s/run/containers", h->base_dir);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "runtime state left in %s", p);
  snprintf(p, sizeof p, "%s/agent/provisioner/containers", h->base_dir);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "container root filesystems left in %s", p);
}

void mesos_test_ctr_remove_base(const mesos_test_ctr *h) {
  if (getenv("MESOS_TEST_KEEP")) {
    fprintf(stderr, "kept %s\n", h->base_dir);
    return;
  }
  mesos_test_rm_tree(h->base_dir);
}
