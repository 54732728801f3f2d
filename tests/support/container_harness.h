/*
 * The host side of the container integration tests (test_agent_containers*,
 * test_agent_recovery2): whether this host can run containers at all (the
 * probe), the busybox images built once per run, a directory and a cgroups
 * root per test, the check that a test left nothing behind, and the
 * runner's clean-up at exit of whatever a failed test left: its processes,
 * container inits, mounts, directories and cgroups.
 *
 * Everything a program makes is named after its `tag` and the runner's
 * pid, so the clean-up finds it and two programs never share it:
 *   /tmp/mesos-<tag>-<runner>-XXXXXX   a test's directory (make_base)
 *   /tmp/mesos-<tag>-fix-XXXXXX        the images (registry/ under it)
 *   mesos-<tag>-<runner>-<k>           test k's cgroups root (k < 32), in
 *                                      every hierarchy
 *
 * Use: a static mesos_test_ctr, mesos_test_ctr_init in main() before
 * mesos_test_main, MESOS_TEST_NEED_CONTAINERS first in every container
 * test, make_base(k) with a number of its own per test, and at the end
 * (after the agent stopped) assert_clean and remove_base.
 */
#ifndef MESOS_TEST_CONTAINER_HARNESS_H
#define MESOS_TEST_CONTAINER_HARNESS_H

#include <sys/types.h>

#include "support/testutil.h"

/* Test numbers make_base accepts (the clean-up walks them all). */
#define MESOS_TEST_CTR_MAX_TESTS 32

typedef struct mesos_test_ctr {
  char tag[32];
  pid_t runner_pid;
  char why_not[512];  /* "": containers run here; else why every container test
                       * skips, or "!why" for a broken fixture, which fails them */
  char fix_dir[256];  /* the images ("" when not built) */
  int have_overlay;   /* the kernel mounts overlayfs here */
  char base_dir[256]; /* the current test's directory */
  char cg_root[96];   /* the current test's --cgroups_root */
} mesos_test_ctr;

/* In main(): probes the host (root, the cpu and memory cgroup controllers,
 * a writable cgroup hierarchy, mount and pid namespaces) and, with
 * `images`, builds the images with tests/support/container_images.bash
 * (run from the repository root); registers the runner's clean-up with
 * atexit.  `h` must live until exit (a static). */
void mesos_test_ctr_init(mesos_test_ctr *h, const char *tag, int images);

/* Skips the test when containers cannot run here, fails it when the
 * fixture is broken. */
#define MESOS_TEST_NEED_CONTAINERS(h)                           \
  do {                                                          \
    if ((h)->why_not[0] == '!') ck_abort_msg("%s", (h)->why_not + 1); \
    if ((h)->why_not[0]) MESOS_TEST_SKIP("%s", (h)->why_not);   \
  } while (0)

/* A new directory and cgroups root for test number `k` (in the test's
 * process: named after the runner, its parent). */
void mesos_test_ctr_make_base(mesos_test_ctr *h, int k);

/* Asserts nothing of the test's containers is left, after its agent
 * stopped or destroyed them: no mount under its directory, no container
 * cgroup under its root, no runtime state in <base>/run/containers, no
 * root filesystem in <base>/agent/provisioner/containers. */
void mesos_test_ctr_assert_clean(const mesos_test_ctr *h);

/* Removes the test's directory (MESOS_TEST_KEEP=1 keeps it, saying where). */
void mesos_test_ctr_remove_base(const mesos_test_ctr *h);

/* Helpers the container tests share. */

/* The contents of `path` (at most 64 KiB) in a static buffer, "" when it
 * cannot be read.  The next call overwrites it. */
char *mesos_test_slurp(const char *path);
/* Entries of directory `dir` but . and .. (0 when it does not exist). */
int mesos_test_count_entries(const char *dir);
/* Removes the tree at `dir` (nothing for ""). */
void mesos_test_rm_tree(const char *dir);
/* The directories of cgroups root `root` in every hierarchy (at most
 * `cap`, each once); their number. */
int mesos_test_cg_dirs(const char *root, char out[][1024], int cap);
/* Container cgroups (sub-directories) left under cgroups root `root`, in
 * every hierarchy, each named on stderr; with `remove`, their processes
 * are SIGKILLed and the directories, `root` included, removed. */
int mesos_test_cg_leftovers(const char *root, int remove);

#endif
