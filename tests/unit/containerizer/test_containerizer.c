/*
 * The unified containerizer on this machine: real namespaces, real
 * cgroups, a busybox rootfs.  Tests that need root or cgroups are SKIPPED
 * with the reason when the machine lacks them.  Every such test ends by
 * checking that nothing is left behind: no mount under its directory in
 * /proc/mounts, no cgroup under its own cgroups root, no runtime state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerizer/cgroups.h"
#include "containerizer/containerizer.h"
#include "containerizer/devices.h"
#include "base/alloc.h"
#include "containerizer/isolator_int.h"
#include "support/daemon.h"
#include "support/testutil.h"

/* ------------------------------------------------------------ fixtures */

typedef struct fx {
  char dir[256];      /* per-test temp dir */
  char rootfs[300];
  char sandbox[300];
  char runtime[300];
  char cgroot[64];
  mesos_loop *loop;
  mesos__containerizer *cz;
} fx;

/* Where the build put mesos-container-init (O/bin). */
static const char *launcher_dir(void) {
  static char dir[PATH_MAX];
  mesos_test_daemon_path("mesos-container-init", dir, sizeof dir);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  return dir;
}

static const char *const applets[] = {"sh", "cat", "hostname", "ls", "sleep", "true", "echo",
                                      "test", "id", "head", "grep", "ps", "wc", "mknod", NULL};

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) rc = -1;
  close(in);
  close(out);
  return n < 0 ? -1 : rc;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *path) {
  static char buf[8192];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL) return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void rm_rf(const char *path) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "rm -rf %s failed\n", path);
}

/* Why this machine cannot run the root tests, or NULL. */
static const char *cannot_run(void) {
  if (geteuid() != 0) return "needs root (namespaces, mounts, cgroups)";
  if (access("/usr/bin/busybox", X_OK) != 0 && access("/bin/busybox", X_OK) != 0)
    return "needs busybox-static for the test rootfs";
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) return "cannot read the cgroup layout";
  int ok = l.where[MESOS__CG_MEMORY] != MESOS__CG_NONE && l.where[MESOS__CG_CPU] != MESOS__CG_NONE &&
           l.where[MESOS__CG_PIDS] != MESOS__CG_NONE;
  int writable = 0;
  if (ok && l.v1_mount[MESOS__CG_MEMORY]) {
    char probe[1024];
    snprintf(probe, sizeof probe, "%s%s/mesos-probe-%d", l.v1_mount[MESOS__CG_MEMORY],
             strcmp(l.v1_self[MESOS__CG_MEMORY], "/") ? l.v1_self[MESOS__CG_MEMORY] : "",
             (int)getpid());
    writable = mkdir(probe, 0755) == 0 && rmdir(probe) == 0;
  } else if (ok && l.v2_mount) {
    char probe[1024];
    snprintf(probe, sizeof probe, "%s%s/mesos-probe-%d", l.v2_mount,
             strcmp(l.v2_self, "/") ? l.v2_self : "", (int)getpid());
    writable = mkdir(probe, 0755) == 0 && rmdir(probe) == 0;
  }
  mesos__cg_layout_free(&l);
  if (!ok) return "needs the cpu, memory and pids cgroup controllers";
  if (!writable) return "the cgroup hierarchy is not writable here (a container without cgroup delegation?)";
  /* A new mount + pid namespace must be allowed (not in every sandbox). */
  pid_t p = fork();
  if (p == 0) _exit(unshare(CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : 1);
  int ws = 0;
  if (p < 0 || waitpid(p, &ws, 0) != p || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
    return "creating mount and pid namespaces is not permitted here";
  return NULL;
}

/* A failed assertion ends a forked test before its teardown.  Every test
 * names its cgroups root and temp dir after the runner's pid (the parent
 * of the forked test), and the runner's own unchecked teardown, run after
 * the tests, kills and removes whatever such a test left. */
static void remove_cgroup_root(const char *root) {
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) return;
  for (int c = 0; c <= MESOS__CG_COUNT; c++) {
    char dir[1024];
    if (c == MESOS__CG_COUNT) {
      if (l.v2_mount == NULL) continue;
      snprintf(dir, sizeof dir, "%s%s/%s", l.v2_mount, strcmp(l.v2_self, "/") ? l.v2_self : "", root);
    } else {
      if (l.v1_mount[c] == NULL) continue;
      snprintf(dir, sizeof dir, "%s%s/%s", l.v1_mount[c], strcmp(l.v1_self[c], "/") ? l.v1_self[c] : "",
               root);
    }
    DIR *d = opendir(dir);
    if (d == NULL) continue;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.') continue;
      mesos__cgroup *cg = NULL;
      uint32_t bits = MESOS__CG_BIT(c);
      if (c == MESOS__CG_COUNT) {
        /* A v2 leaf is opened as its v2 devices cgroup (always v2 when
         * asked so), also on a hybrid host whose tracking is the v1
         * freezer: the device-program test leaves v2-only cgroups. */
        l.where[MESOS__CG_DEVICES] = MESOS__CG_V2;
        bits = MESOS__CG_BIT(MESOS__CG_DEVICES);
      }
      if (mesos__cg_create(&l, root, de->d_name, bits, 1, &cg, NULL) == MESOS_OK) {
        mesos__cg_destroy(cg, NULL);
        mesos__cg_free(cg);
      }
    }
    closedir(d);
    rmdir(dir);
  }
  mesos__cg_layout_free(&l);
}

/* Unchecked teardown, in the runner: roots and dirs of its tests. */
static void runner_cleanup(void) {
  if (geteuid() != 0) return;
  char prefix[64];
  int n = snprintf(prefix, sizeof prefix, "mesos-test-%d-", (int)getpid());
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) == MESOS_OK) {
    char *roots[64];
    int nr = 0;
    for (int c = 0; c <= MESOS__CG_COUNT && nr < 64; c++) {
      char dir[1024];
      if (c == MESOS__CG_COUNT) {
        if (l.v2_mount == NULL) continue;
        snprintf(dir, sizeof dir, "%s%s", l.v2_mount, strcmp(l.v2_self, "/") ? l.v2_self : "");
      } else {
        if (l.v1_mount[c] == NULL) continue;
        snprintf(dir, sizeof dir, "%s%s", l.v1_mount[c], strcmp(l.v1_self[c], "/") ? l.v1_self[c] : "");
      }
      DIR *d = opendir(dir);
      if (d == NULL) continue;
      struct dirent *de;
      while ((de = readdir(d)) != NULL && nr < 64) {
        if (strncmp(de->d_name, prefix, (size_t)n) != 0) continue;
        int dup = 0;
        for (int i = 0; i < nr; i++)
          if (strcmp(roots[i], de->d_name) == 0) dup = 1;
        if (!dup && (roots[nr] = strdup(de->d_name)) != NULL) nr++;
      }
      closedir(d);
    }
    mesos__cg_layout_free(&l);
    for (int i = 0; i < nr; i++) {
      remove_cgroup_root(roots[i]);
      free(roots[i]);
    }
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf /tmp/mesos-cz-test-%d-*", (int)getpid());
  if (system(cmd) != 0) fprintf(stderr, "runner cleanup: %s failed\n", cmd);
}

static void fx_setup(fx *f, const char *isolation) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/mesos-cz-test-%d-XXXXXX", (int)getppid());
  ck_assert_ptr_nonnull(mkdtemp(f->dir));
  snprintf(f->rootfs, sizeof f->rootfs, "%s/rootfs", f->dir);
  snprintf(f->sandbox, sizeof f->sandbox, "%s/sandbox", f->dir);
  snprintf(f->runtime, sizeof f->runtime, "%s/run", f->dir);
  snprintf(f->cgroot, sizeof f->cgroot, "mesos-test-%d-%d", (int)getppid(), (int)getpid());
  char p[512];
  ck_assert_int_eq(mkdir(f->rootfs, 0755), 0);
  ck_assert_int_eq(mkdir(f->sandbox, 0755), 0);
  snprintf(p, sizeof p, "%s/bin", f->rootfs);
  ck_assert_int_eq(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/etc", f->rootfs);
  ck_assert_int_eq(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/etc/passwd", f->rootfs);
  write_text(p, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  snprintf(p, sizeof p, "%s/etc/image-marker", f->rootfs);
  write_text(p, "from-the-image\n");
  snprintf(p, sizeof p, "%s/bin/busybox", f->rootfs);
  ck_assert_int_eq(copy_file(access("/usr/bin/busybox", X_OK) == 0 ? "/usr/bin/busybox" : "/bin/busybox", p), 0);
  for (int i = 0; applets[i]; i++) {
    snprintf(p, sizeof p, "%s/bin/%s", f->rootfs, applets[i]);
    ck_assert_int_eq(symlink("busybox", p), 0);
  }
  ck_assert_mesos_ok(mesos_loop_new(&f->loop, NULL, NULL), NULL);
  mesos__containerizer_options o = {0};
  o.launcher_dir = launcher_dir();
  o.runtime_dir = f->runtime;
  o.isolation = isolation;
  o.cgroups_root = f->cgroot;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_new(&f->cz, f->loop, &o, &err), &err);
}

static int cgroup_root_exists(const char *root) {
  static const char *const hier[] = {"cpu", "cpuacct", "memory", "pids", "devices", "freezer",
                                     "unified"};
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) return 0;
  int found = 0;
  for (int c = 0; c < MESOS__CG_COUNT; c++) {
    if (l.v1_mount[c] == NULL) continue;
    char p[1024];
    snprintf(p, sizeof p, "%s%s/%s", l.v1_mount[c], strcmp(l.v1_self[c], "/") ? l.v1_self[c] : "",
             root);
    if (access(p, F_OK) == 0) {
      fprintf(stderr, "left behind: %s\n", p);
      found = 1;
    }
  }
  if (l.v2_mount) {
    char p[1024];
    snprintf(p, sizeof p, "%s%s/%s", l.v2_mount, strcmp(l.v2_self, "/") ? l.v2_self : "", root);
    if (access(p, F_OK) == 0) found = 1;
  }
  (void)hier;
  mesos__cg_layout_free(&l);
  return found;
}

/* Asserts nothing is left, then removes the temp dir. */
static void fx_teardown(fx *f) {
  mesos__containerizer_free(f->cz);
  f->cz = NULL;
  mesos_loop_run_once(f->loop);
  mesos_loop_free(f->loop);
  const char *mounts = read_text("/proc/self/mounts");
  ck_assert_msg(strstr(mounts, f->dir) == NULL, "a mount under %s is left:\n%s", f->dir, mounts);
  ck_assert_msg(!cgroup_root_exists(f->cgroot), "cgroups under %s are left", f->cgroot);
  char p[512];
  snprintf(p, sizeof p, "%s/containers", f->runtime);
  DIR *d = opendir(p);
  if (d) {
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
      if (de->d_name[0] != '.') n++;
    closedir(d);
    ck_assert_msg(n == 0, "runtime state left in %s", p);
  }
  rm_rf(f->dir);
}

static mesos__container_config cfg_of(fx *f, const char *const *argv) {
  mesos__container_config c;
  memset(&c, 0, sizeof c);
  static const char *const env[] = {"PATH=/bin", NULL};
  c.argv = argv;
  c.env = env;
  c.rootfs = f->rootfs;
  c.sandbox = f->sandbox;
  return c;
}

static char *sandbox_file(fx *f, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", f->sandbox, name);
  return read_text(p);
}

#define SKIP_UNLESS_CAPABLE()                 \
  do {                                        \
    const char *why_ = cannot_run();          \
    if (why_) MESOS_TEST_SKIP("%s", why_);    \
  } while (0)

/* ------------------------------------------------------------ pure tests */

static const char hybrid_mountinfo[] =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
    "38 35 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
    "39 35 0:34 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n"
    "40 35 0:35 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids\n"
    "41 35 0:36 / /sys/fs/cgroup/freezer rw,nosuid shared:16 - cgroup cgroup rw,freezer\n"
    "42 35 0:37 / /sys/fs/my\\040dir rw,nosuid shared:17 - cgroup cgroup rw,devices\n";

static const char hybrid_cgroup[] =
    "5:devices:/\n4:freezer:/\n3:pids:/agent\n2:memory:/agent/x\n1:cpu,cpuacct:/\n0::/init.scope\n";

START_TEST(test_cgroups__hybrid_layout_is_detected_with_our_own_cgroup_per_hierarchy) {
  mesos__cg_layout l;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__cg_layout_parse(&l, hybrid_mountinfo, hybrid_cgroup, "hugetlb\n", &err), &err);
  ck_assert_int_eq(l.mode, MESOS__CG_MODE_HYBRID);
  ck_assert_int_eq(l.where[MESOS__CG_CPU], MESOS__CG_V1);
  ck_assert_str_eq(l.v1_mount[MESOS__CG_CPU], "/sys/fs/cgroup/cpu,cpuacct");
  ck_assert_str_eq(l.v1_mount[MESOS__CG_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
  ck_assert_str_eq(l.v1_self[MESOS__CG_MEMORY], "/agent/x");
  ck_assert_str_eq(l.v1_self[MESOS__CG_PIDS], "/agent");
  ck_assert_str_eq(l.v1_mount[MESOS__CG_DEVICES], "/sys/fs/my dir");
  ck_assert_str_eq(l.v2_mount, "/sys/fs/cgroup/unified");
  ck_assert_str_eq(l.v2_self, "/init.scope");
  mesos__cg_layout_free(&l);
}
END_TEST

START_TEST(test_cgroups__pure_v2_layout_takes_controllers_from_cgroup_controllers) {
  const char *mi = "30 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                   "31 30 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_parse(&l, mi, "0::/system.slice/agent.service\n",
                                            "cpuset cpu io memory pids\n", NULL), NULL);
  ck_assert_int_eq(l.mode, MESOS__CG_MODE_V2);
  ck_assert_int_eq(l.where[MESOS__CG_CPU], MESOS__CG_V2);
  ck_assert_int_eq(l.where[MESOS__CG_CPUACCT], MESOS__CG_V2);
  ck_assert_int_eq(l.where[MESOS__CG_MEMORY], MESOS__CG_V2);
  ck_assert_int_eq(l.where[MESOS__CG_PIDS], MESOS__CG_V2);
  /* v2 lists no devices controller: device control is a BPF program on
   * any v2 cgroup. */
  ck_assert_int_eq(l.where[MESOS__CG_DEVICES], MESOS__CG_V2);
  ck_assert_int_eq(l.where[MESOS__CG_FREEZER], MESOS__CG_NONE);
  ck_assert_str_eq(l.v2_self, "/system.slice/agent.service");
  /* a controller the host lacks is refused with a clear message */
  l.where[MESOS__CG_PIDS] = MESOS__CG_NONE;
  mesos__cgroup *cg = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__cg_create(&l, "mesos", "c1", MESOS__CG_BIT(MESOS__CG_PIDS), 0, &cg, &err),
                   MESOS_EUNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "not available"));
  mesos_error_free(err);
  mesos__cg_layout_free(&l);
}
END_TEST

START_TEST(test_cgroups__pure_v1_and_cgroup_namespace_roots) {
  /* A mount whose root is our own cgroup (cgroup namespace / bind of a
   * subtree): paths are relative to it. */
  const char *mi = "39 35 0:34 /agent /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_parse(&l, mi, "2:memory:/agent/x\n", NULL, NULL), NULL);
  ck_assert_int_eq(l.mode, MESOS__CG_MODE_V1);
  ck_assert_str_eq(l.v1_self[MESOS__CG_MEMORY], "/x");
  mesos__cg_layout_free(&l);
}
END_TEST

START_TEST(test_cgroups__malformed_proc_files_are_refused) {
  mesos__cg_layout l;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__cg_layout_parse(&l, "1 2 3\n", "0::/\n", NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "mountinfo"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__cg_layout_parse(&l, "", "garbage\n", NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST


/* ------------------------------------------------------------ vendor isolator */

typedef struct counts {
  int prepare, isolate, cleanup, destroy, usage;
} counts;

static void v_prepare(void *ud, const mesos_isolator_container *c, mesos_isolator_launch_info *i,
                      mesos_isolator_pending *p) {
  counts *n = ud;
  n->prepare++;
  if (strcmp(c->id, "refused") == 0) {
    mesos_isolator_pending_done(p, MESOS_EPERM, "vendor says no");
    return;
  }
  i->namespaces |= MESOS_NS_UTS;
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}
static void v_isolate(void *ud, const char *id, int32_t pid, mesos_isolator_pending *p) {
  ck_assert_int_gt(pid, 0);
  ((counts *)ud)->isolate++;
  if (strcmp(id, "noisolate") == 0) {
    mesos_isolator_pending_done(p, MESOS_EIO, "cannot isolate");
    return;
  }
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}
static void v_cleanup(void *ud, const char *id, mesos_isolator_pending *p) {
  (void)id;
  ((counts *)ud)->cleanup++;
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}
static mesos_status v_usage(void *ud, const char *id, mesos_container_usage *u, mesos_error **err) {
  (void)id;
  (void)err;
  ((counts *)ud)->usage++;
  u->threads = 4242;
  return MESOS_OK;
}
static void v_destroy(void *ud) { ((counts *)ud)->destroy++; }

START_TEST(test_cgroups__v2_tracking_cgroup_kills_every_process_and_is_removed) {
  if (geteuid() != 0) MESOS_TEST_SKIP("needs root (cgroups)");
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  if (l.v2_mount == NULL) {
    mesos__cg_layout_free(&l);
    MESOS_TEST_SKIP("no cgroup2 mount on this host");
  }
  /* Pretend the host has no v1 freezer: tracking falls to cgroup v2
   * (cgroup.kill), the path pure v2 hosts take. */
  l.where[MESOS__CG_FREEZER] = MESOS__CG_NONE;
  char root[64];
  snprintf(root, sizeof root, "mesos-test-%d-v2-%d", (int)getppid(), (int)getpid());
  mesos__cgroup *cg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__cg_create(&l, root, "c1", 0, 0, &cg, &err), &err);
  ck_assert_ptr_nonnull(cg->v2);
  /* A process that forks a child once it is in the cgroup: both die. */
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    char b;
    close(go[1]);
    if (read(go[0], &b, 1) != 1) _exit(1);
    if (fork() == 0) {
      pause();
      _exit(0);
    }
    pause();
    _exit(0);
  }
  close(go[0]);
  mesos_status ast = mesos__cg_attach(cg, pid, &err);
  ck_assert_int_eq(write(go[1], "g", 1), 1);
  close(go[1]);
  ck_assert_mesos_ok(ast, &err);
  pid_t pids[8];
  for (int i = 0; i < 300 && mesos__cg_pids(cg, pids, 8) < 2; i++) usleep(10000);
  ck_assert_int_eq(mesos__cg_pids(cg, pids, 8), 2);
  pid_t grandchild = pids[0] == pid ? pids[1] : pids[0];
  ck_assert_mesos_ok(mesos__cg_destroy(cg, &err), &err);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
  for (int i = 0; i < 300 && kill(grandchild, 0) == 0; i++) usleep(10000);
  ck_assert_int_eq(kill(grandchild, 0), -1);
  ck_assert_int_ne(access(cg->v2, F_OK), 0);
  mesos__cg_free(cg);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s%s/%s", l.v2_mount, strcmp(l.v2_self, "/") ? l.v2_self : "", root);
  ck_assert_int_eq(rmdir(dir), 0);
  mesos__cg_layout_free(&l);
}
END_TEST

START_TEST(test_isolator__registration_checks_name_version_and_required_members) {
  counts n = {0};
  mesos_isolator_ops ops = {MESOS_ISOLATOR_OPS_VERSION, v_destroy, NULL, v_prepare, v_isolate,
                            NULL, NULL, v_usage, NULL, v_cleanup};
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_isolator_register("Bad Name", &ops, &n, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_isolator_register("cgroups/mem", &ops, &n, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  mesos_isolator_ops bad = ops;
  bad.version = 99;
  ck_assert_int_eq(mesos_isolator_register("vendor/x", &bad, &n, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;
  bad = ops;
  bad.cleanup = NULL;
  ck_assert_int_eq(mesos_isolator_register("vendor/x", &bad, &n, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "cleanup"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_mesos_ok(mesos_isolator_register("vendor/x", &ops, &n, &err), &err);
  ck_assert_int_eq(mesos_isolator_register("vendor/x", &ops, &n, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_isolator_unregister("vendor/none", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  ck_assert_mesos_ok(mesos_isolator_unregister("vendor/x", NULL), NULL);
  ck_assert_int_eq(n.destroy, 1);
  ck_assert_int_eq(n.prepare, 0);
}
END_TEST

START_TEST(test_isolator__vendor_isolator_is_selected_by_name_and_called_in_order) {
  SKIP_UNLESS_CAPABLE();
  counts n = {0};
  mesos_isolator_ops ops = {MESOS_ISOLATOR_OPS_VERSION, v_destroy, NULL, v_prepare, v_isolate,
                            NULL, NULL, v_usage, NULL, v_cleanup};
  ck_assert_mesos_ok(mesos_isolator_register("vendor/count", &ops, &n, NULL), NULL);
  fx f;
  fx_setup(&f, "filesystem/linux,vendor/count");
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_isolator_unregister("vendor/count", &err), MESOS_EBUSY);
  mesos_error_free(err);
  err = NULL;
  const char *argv[] = {"sleep", "30", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  pid_t pid;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "c1", &c, &pid, &err), &err);
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "c1", &u, &err), &err);
  ck_assert_int_eq(u.threads, 4242);
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "c1", &err), &err);
  ck_assert_int_eq(n.prepare, 1);
  ck_assert_int_eq(n.isolate, 1);
  ck_assert_int_eq(n.cleanup, 1);
  /* A failing prepare fails the launch and cleans up. */
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "refused", &c, &pid, &err), MESOS_EPERM);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "vendor says no"));
  mesos_error_free(err);
  ck_assert_int_eq(n.cleanup, 2);
  /* A failing isolate kills the waiting init and cleans up. */
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "noisolate", &c, &pid, &err), MESOS_EIO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "cannot isolate"));
  mesos_error_free(err);
  ck_assert_int_eq(n.cleanup, 3);
  ck_assert_int_eq(mesos__containerizer_pid(f.cz, "noisolate"), -1);
  fx_teardown(&f);
  ck_assert_mesos_ok(mesos_isolator_unregister("vendor/count", NULL), NULL);
}
END_TEST

/* ------------------------------------------------------------ containers */

START_TEST(test_containerizer__task_sees_its_pid_1_hostname_and_the_image_not_the_host) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,namespaces/ipc,cgroups/cpu,cgroups/mem");
  const char *argv[] = {
      "sh", "-c",
      "echo pid=$$; echo host=$(hostname); cat /etc/image-marker; "
      "test -e /usr/bin/busybox && echo host-visible; echo sandbox=$MESOS_SANDBOX; "
      "echo in-sandbox > $MESOS_SANDBOX/written; ls /proc | grep -c '^[0-9]' ; "
      "test -c /dev/null && echo devnull; test -d /dev/shm && echo shm; "
      "echo net=$(ls /sys/class/net) lo=$(cat /sys/class/net/lo/flags); exit 3",
      NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.hostname = "box1";
  c.isolate_network = 1;
  c.cpus = 0.5;
  c.mem_bytes = 64ull << 20;
  mesos_error *err = NULL;
  pid_t pid;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "c1", &c, &pid, &err), &err);
  ck_assert_int_gt(pid, 0);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "c1", 10000, &t, &err), &err);
  ck_assert(t.has_status);
  ck_assert(WIFEXITED(t.status));
  ck_assert_int_eq(WEXITSTATUS(t.status), 3);
  ck_assert(!t.limited);
  const char *out = sandbox_file(&f, "stdout");
  ck_assert_msg(strstr(out, "pid=2\n") != NULL, "stdout: %s", out); /* the init is 1 */
  ck_assert_msg(strstr(out, "host=box1\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "from-the-image\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "host-visible") == NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "sandbox=/mnt/mesos/sandbox\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "devnull\nshm\n") != NULL, "stdout: %s", out);
  /* own network namespace: only lo, and it is up (IFF_UP|IFF_LOOPBACK) */
  ck_assert_msg(strstr(out, "net=lo lo=0x9\n") != NULL, "stdout: %s", out);
  /* Processes visible: the init, sh, ls (and grep) only. */
  ck_assert_msg(strstr(out, "\n3\n") || strstr(out, "\n4\n"), "stdout: %s", out);
  ck_assert_str_eq(sandbox_file(&f, "written"), "in-sandbox\n");
  ck_assert_int_eq(kill(pid, 0), -1);
  fx_teardown(&f);
}
END_TEST

typedef struct kv {
  char mem[512];
  char cpu[512];
} kv;

static void collect(const char *key, const char *value, void *ud) {
  kv *k = ud;
  if (strcmp(key, "cgroup.memory") == 0) snprintf(k->mem, sizeof k->mem, "%s", value);
  if (strcmp(key, "cgroup.cpu") == 0) snprintf(k->cpu, sizeof k->cpu, "%s", value);
}

START_TEST(test_containerizer__limits_are_set_and_usage_is_reported) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,namespaces/ipc,cgroups/cpu,cgroups/mem,cgroups/pids");
  const char *argv[] = {"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; sleep 30", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.cpus = 1.5;
  c.mem_bytes = 100ull << 20;
  c.pids_max = 50;
  mesos_error *err = NULL;
  pid_t pid;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "c2", &c, &pid, &err), &err);
  /* Its own mount, pid and ipc namespaces; the host's uts and net. */
  static const char *const ns[] = {"mnt", "pid", "ipc", "uts", "net"};
  for (int i = 0; i < 5; i++) {
    char a[64], b[64], la[128] = {0}, lb[128] = {0};
    snprintf(a, sizeof a, "/proc/%d/ns/%s", (int)pid, ns[i]);
    snprintf(b, sizeof b, "/proc/self/ns/%s", ns[i]);
    ck_assert_int_gt(readlink(a, la, sizeof la - 1), 0);
    ck_assert_int_gt(readlink(b, lb, sizeof lb - 1), 0);
    if (i < 3)
      ck_assert_msg(strcmp(la, lb) != 0, "%s namespace shared with the host", ns[i]);
    else
      ck_assert_msg(strcmp(la, lb) == 0, "%s namespace not shared with the host", ns[i]);
  }
  kv k = {{0}, {0}};
  ck_assert_mesos_ok(mesos__containerizer_status(f.cz, "c2", collect, &k, &err), &err);
  ck_assert(k.mem[0] && k.cpu[0]);
  char p[700];
  snprintf(p, sizeof p, "%s/memory.limit_in_bytes", k.mem);
  if (access(p, F_OK) != 0) snprintf(p, sizeof p, "%s/memory.max", k.mem);
  ck_assert_str_eq(read_text(p), "104857600\n");
  snprintf(p, sizeof p, "%s/cpu.shares", k.cpu);
  if (access(p, F_OK) == 0) ck_assert_str_eq(read_text(p), "1536\n");
  /* Wait for the busy loop to finish, then read the statistics. */
  for (int i = 0; i < 500 && strstr(sandbox_file(&f, "stdout"), "done") == NULL; i++) usleep(10000);
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "c2", &u, &err), &err);
  ck_assert(u.fields & MESOS_USAGE_CPU_TIMES);
  ck_assert_msg(u.cpus_user_time_secs + u.cpus_system_time_secs > 0, "no cpu time");
  ck_assert(u.fields & MESOS_USAGE_MEM);
  ck_assert_uint_gt(u.mem_total_bytes, 0);
  ck_assert_uint_eq(u.mem_limit_bytes, 100ull << 20);
  ck_assert_uint_ge(u.processes, 2); /* init + sleep */
  /* the asynchronous kill: the termination arrives through the loop */
  ck_assert_mesos_ok(mesos__containerizer_kill(f.cz, "c2", &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "c2", 5000, &t, &err), &err);
  ck_assert(!t.limited);
  ck_assert(t.has_status && WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL);
  ck_assert_int_eq(mesos__containerizer_kill(f.cz, "c2", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__cfs_quota_and_updates_change_the_limits_of_a_running_container) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  memset(&f, 0, sizeof f);
  fx_setup(&f, "filesystem/linux,cgroups/cpu,cgroups/mem");
  /* a second containerizer on the same state, with CFS quotas */
  mesos__containerizer_free(f.cz);
  mesos__containerizer_options o = {0};
  o.launcher_dir = launcher_dir();
  o.runtime_dir = f.runtime;
  o.isolation = "filesystem/linux,cgroups/cpu,cgroups/mem";
  o.cgroups_root = f.cgroot;
  o.cgroups_enable_cfs = 1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_new(&f.cz, f.loop, &o, &err), &err);
  const char *argv[] = {"sleep", "30", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.cpus = 1.5;
  c.mem_bytes = 10ull << 20; /* below Mesos's 32 MB floor */
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "u1", &c, NULL, &err), &err);
  kv k = {{0}, {0}};
  ck_assert_mesos_ok(mesos__containerizer_status(f.cz, "u1", collect, &k, &err), &err);
  char p[700];
  snprintf(p, sizeof p, "%s/cpu.cfs_quota_us", k.cpu);
  if (access(p, F_OK) == 0) {
    ck_assert_str_eq(read_text(p), "150000\n");
    snprintf(p, sizeof p, "%s/memory.limit_in_bytes", k.mem);
    ck_assert_str_eq(read_text(p), "33554432\n");
  } else {
    snprintf(p, sizeof p, "%s/cpu.max", k.cpu);
    ck_assert_str_eq(read_text(p), "150000 100000\n");
  }
  mesos_container_limits l = {MESOS_CONTAINER_LIMITS_VERSION, 0.25, 200ull << 20, 0};
  ck_assert_mesos_ok(mesos__containerizer_update(f.cz, "u1", &l, &err), &err);
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "u1", &u, &err), &err);
  ck_assert_uint_eq(u.mem_limit_bytes, 200ull << 20);
  snprintf(p, sizeof p, "%s/cpu.cfs_quota_us", k.cpu);
  if (access(p, F_OK) == 0) ck_assert_str_eq(read_text(p), "25000\n");
  /* Smaller memory (a task of an executor ended): as Mesos, the hard
   * limit stays (lowering it could OOM-kill the container), the soft
   * limit follows. */
  l.mem_bytes = 64ull << 20;
  ck_assert_mesos_ok(mesos__containerizer_update(f.cz, "u1", &l, &err), &err);
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "u1", &u, &err), &err);
  ck_assert_uint_eq(u.mem_limit_bytes, 200ull << 20);
  snprintf(p, sizeof p, "%s/memory.soft_limit_in_bytes", k.mem);
  if (access(p, F_OK) == 0) ck_assert_str_eq(read_text(p), "67108864\n");
  l.version = 7;
  ck_assert_int_eq(mesos__containerizer_update(f.cz, "u1", &l, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__containerizer_update(f.cz, "nope", &l, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "u1", &err), &err);
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "u1", 5000, NULL, &err), &err);
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__memory_hog_is_oom_killed_and_reported_as_a_limitation) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/mem");
  /* Doubling a shell string: 32 MiB is reached in ~25 rounds. */
  const char *argv[] = {"sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.mem_bytes = 32ull << 20;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "hog", &c, NULL, &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "hog", 20000, &t, &err), &err);
  ck_assert_msg(t.limited, "no limitation reported");
  ck_assert_int_eq(t.reason, MESOS_LIMITATION_MEMORY);
  ck_assert_ptr_nonnull(strstr(t.message, "Memory limit exceeded"));
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__pids_limit_stops_a_fork_loop) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/pids");
  const char *argv[] = {"sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo all-started", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.pids_max = 6;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "forky", &c, NULL, &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "forky", 10000, &t, &err), &err);
  ck_assert(t.has_status);
  ck_assert_msg(strstr(sandbox_file(&f, "stdout"), "all-started") == NULL, "20 forks under pids.max 6");
  ck_assert_msg(strstr(sandbox_file(&f, "stderr"), "fork") != NULL, "stderr: %s", sandbox_file(&f, "stderr"));
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__devices_cgroup_allows_only_the_default_devices) {
  SKIP_UNLESS_CAPABLE();
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  int where = l.where[MESOS__CG_DEVICES];
  mesos__cg_layout_free(&l);
  fx f;
  if (where == MESOS__CG_NONE) MESOS_TEST_SKIP("no devices cgroup and no cgroup2 mount");
  /* v1 devices.allow here, or on a pure v2 host the device program. */
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/devices");
  const char *argv[] = {"sh", "-c",
                        "head -c 4 /dev/zero | wc -c; mknod /tmp/disk b 7 0 && echo made; "
                        "head -c 1 /tmp/disk || echo denied",
                        NULL};
  mesos__container_config c = cfg_of(&f, argv);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "dev", &c, NULL, &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "dev", 10000, &t, &err), &err);
  const char *out = sandbox_file(&f, "stdout");
  ck_assert_msg(strstr(out, "4\nmade\ndenied\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(sandbox_file(&f, "stderr"), "not permitted") != NULL, "stderr: %s",
                sandbox_file(&f, "stderr"));
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__task_runs_as_its_user_with_host_and_sandbox_volumes) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,volume/host_path,volume/sandbox_path");
  char hostdir[400];
  snprintf(hostdir, sizeof hostdir, "%s/hostvol", f.dir);
  ck_assert_int_eq(mkdir(hostdir, 0755), 0);
  char marker[450];
  snprintf(marker, sizeof marker, "%s/file", hostdir);
  write_text(marker, "host-volume\n");
  mesos__volume vols[2] = {
      {MESOS__VOLUME_HOST_PATH, hostdir, "/data", 1},
      {MESOS__VOLUME_SANDBOX_PATH, "shared", "/shared", 0},
  };
  const char *argv[] = {"sh", "-c",
                        "id -u; cat /data/file; echo x > /data/new || echo ro; "
                        "echo y > /shared/f && echo rw",
                        NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.user = "nobody";
  c.volumes = vols;
  c.nvolumes = 2;
  mesos_error *err = NULL;
  ck_assert_int_eq(chmod(f.sandbox, 0777), 0);
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "vol", &c, NULL, &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "vol", 10000, &t, &err), &err);
  const char *out = sandbox_file(&f, "stdout");
  ck_assert_msg(strstr(out, "65534\nhost-volume\nro\n") != NULL, "stdout: %s", out);
  /* the sandbox_path volume's source lives in the sandbox */
  char sp[450];
  snprintf(sp, sizeof sp, "%s/shared", f.sandbox);
  ck_assert_int_eq(chmod(sp, 0777), 0);
  fx_teardown(&f);
}
END_TEST

/* An image's symbolic link (/evil -> an absolute host path) or one a task
 * left in its sandbox must not make the launcher create a mount point on
 * the host: both resolve inside their root, as the container sees them. */
START_TEST(test_containerizer__symlinks_in_the_image_or_sandbox_do_not_reach_the_host) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,volume/host_path");
  char hostdir[400], outside[400], outside2[400], link[450], probe[1000];
  snprintf(hostdir, sizeof hostdir, "%s/hostvol", f.dir);
  ck_assert_int_eq(mkdir(hostdir, 0755), 0);
  snprintf(probe, sizeof probe, "%s/file", hostdir);
  write_text(probe, "through-the-link\n");
  snprintf(outside, sizeof outside, "%s/outside", f.dir);
  snprintf(outside2, sizeof outside2, "%s/outside2", f.dir);
  ck_assert_int_eq(mkdir(outside, 0755), 0);
  ck_assert_int_eq(mkdir(outside2, 0755), 0);
  snprintf(link, sizeof link, "%s/evil", f.rootfs);
  ck_assert_int_eq(symlink(outside, link), 0);
  snprintf(link, sizeof link, "%s/left", f.sandbox);
  ck_assert_int_eq(symlink(outside2, link), 0);
  /* Where the links lead inside their roots. */
  char cmd[2200];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s%s' '%s%s'", f.rootfs, outside, f.sandbox, outside2);
  ck_assert_int_eq(system(cmd), 0);
  mesos__volume vols[2] = {
      {MESOS__VOLUME_HOST_PATH, hostdir, "/evil/sub", 1},
      {MESOS__VOLUME_HOST_PATH, hostdir, "left/sub", 1},
  };
  /* A link left in the sandbox is resolved with the sandbox as its root:
   * the volume is where that leads below the sandbox. */
  char script[1200];
  snprintf(script, sizeof script, "cat /evil/sub/file; cat $MESOS_SANDBOX%s/sub/file", outside2);
  const char *argv[] = {"sh", "-c", script, NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.volumes = vols;
  c.nvolumes = 2;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "links", &c, NULL, &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "links", 10000, &t, &err), &err);
  const char *out = sandbox_file(&f, "stdout");
  ck_assert_msg(strcmp(out, "through-the-link\nthrough-the-link\n") == 0, "stdout: %s", out);
  /* Nothing was made in the host directories the links name... */
  snprintf(probe, sizeof probe, "%s/sub", outside);
  ck_assert_msg(access(probe, F_OK) != 0, "%s was created on the host", probe);
  snprintf(probe, sizeof probe, "%s/sub", outside2);
  ck_assert_msg(access(probe, F_OK) != 0, "%s was created on the host", probe);
  /* ...but inside the image and the sandbox, where the links lead there. */
  snprintf(probe, sizeof probe, "%s%s/sub", f.rootfs, outside);
  ck_assert_msg(access(probe, F_OK) == 0, "%s missing", probe);
  snprintf(probe, sizeof probe, "%s%s/sub", f.sandbox, outside2);
  ck_assert_msg(access(probe, F_OK) == 0, "%s missing", probe);
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__bad_launches_fail_cleanly) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/mem");
  mesos_error *err = NULL;
  const char *missing[] = {"no-such-command", NULL};
  mesos__container_config c = cfg_of(&f, missing);
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "c1", &c, NULL, &err), MESOS_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "no-such-command"));
  mesos_error_free(err);
  err = NULL;
  /* found by name in the rootfs but not executable: the child's exec fails */
  char p[400];
  snprintf(p, sizeof p, "%s/bin/notexec", f.rootfs);
  write_text(p, "data\n");
  const char *notexec[] = {"/bin/notexec", NULL};
  c = cfg_of(&f, notexec);
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "c2", &c, NULL, &err), MESOS_EIO);
  ck_assert_msg(strstr(mesos_error_message(err), "exec") != NULL, "%s", mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  const char *ok[] = {"true", NULL};
  c = cfg_of(&f, ok);
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "../x", &c, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  c.user = "no-such-user";
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "c3", &c, NULL, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  c.user = NULL;
  c.rootfs = "/nonexistent/rootfs";
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "c4", &c, NULL, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  mesos__volume v = {MESOS__VOLUME_HOST_PATH, "/etc", "/x", 1};
  c = cfg_of(&f, ok);
  c.volumes = &v;
  c.nvolumes = 1;
  ck_assert_int_eq(mesos__containerizer_launch(f.cz, "c5", &c, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "volume/host_path"));
  mesos_error_free(err);
  err = NULL;
  /* unknown isolator names are refused */
  mesos__containerizer *cz2 = NULL;
  mesos__containerizer_options o = {0};
  o.launcher_dir = launcher_dir();
  o.runtime_dir = f.runtime;
  o.isolation = "filesystem/linux,cgroups/nope";
  ck_assert_int_eq(mesos__containerizer_new(&cz2, f.loop, &o, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "cgroups/nope"));
  mesos_error_free(err);
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__restarted_agent_recovers_and_destroys_a_running_container) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  const char *iso = "filesystem/linux,namespaces/pid,cgroups/cpu,cgroups/mem";
  fx_setup(&f, iso);
  /* The "old agent": a child process that launches and exits without
   * destroying, so the container is no longer our child either. */
  int pfd[2];
  ck_assert_int_eq(pipe(pfd), 0);
  pid_t agent = fork();
  ck_assert_int_ge(agent, 0);
  if (agent == 0) {
    close(pfd[0]);
    mesos__containerizer_free(f.cz); /* the copy inherited from the test */
    mesos_loop *loop = NULL;
    if (mesos_loop_new(&loop, NULL, NULL) != MESOS_OK) _exit(2);
    mesos__containerizer_options o = {0};
  o.launcher_dir = launcher_dir();
    o.runtime_dir = f.runtime;
    o.isolation = iso;
    o.cgroups_root = f.cgroot;
    mesos__containerizer *cz = NULL;
    if (mesos__containerizer_new(&cz, loop, &o, NULL) != MESOS_OK) _exit(3);
    const char *argv[] = {"sh", "-c", "echo started; exec sleep 60", NULL};
    mesos__container_config c = cfg_of(&f, argv);
    c.mem_bytes = 64ull << 20;
    pid_t pid;
    if (mesos__containerizer_launch(cz, "survivor", &c, &pid, NULL) != MESOS_OK) _exit(4);
    if (write(pfd[1], &pid, sizeof pid) != sizeof pid) _exit(5);
    _exit(0);
  }
  close(pfd[1]);
  pid_t cpid = -1;
  ck_assert_int_eq(read(pfd[0], &cpid, sizeof cpid), (ssize_t)sizeof cpid);
  close(pfd[0]);
  int ws;
  ck_assert_int_eq(waitpid(agent, &ws, 0), agent);
  ck_assert_int_eq(WEXITSTATUS(ws), 0);
  ck_assert_int_eq(kill(cpid, 0), 0); /* still running */

  char **ids = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_recover(f.cz, &ids, &err), &err);
  ck_assert_ptr_nonnull(ids);
  ck_assert_str_eq(ids[0], "survivor");
  ck_assert_ptr_null(ids[1]);
  mesos__containerizer_ids_free(ids);
  ck_assert_int_eq(mesos__containerizer_pid(f.cz, "survivor"), cpid);
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "survivor", &u, &err), &err);
  ck_assert_uint_eq(u.mem_limit_bytes, 64ull << 20);
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "survivor", &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "survivor", 5000, &t, &err), &err);
  for (int i = 0; i < 200 && kill(cpid, 0) == 0; i++) usleep(10000);
  ck_assert_int_eq(kill(cpid, 0), -1);
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__recover_destroys_orphans_the_checkpoint_does_not_know) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  const char *iso = "filesystem/linux,namespaces/pid,cgroups/mem";
  fx_setup(&f, iso);
  const char *argv[] = {"sleep", "60", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  mesos_error *err = NULL;
  pid_t pid;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "orphan", &c, &pid, &err), &err);
  /* Forget it: the agent state is gone, the cgroup and process are not. */
  mesos__containerizer_free(f.cz);
  char p[512];
  snprintf(p, sizeof p, "%s/containers/orphan", f.runtime);
  rm_rf(p);
  mesos__containerizer_options o = {0};
  o.launcher_dir = launcher_dir();
  o.runtime_dir = f.runtime;
  o.isolation = iso;
  o.cgroups_root = f.cgroot;
  ck_assert_mesos_ok(mesos__containerizer_new(&f.cz, f.loop, &o, &err), &err);
  char **ids = NULL;
  ck_assert_mesos_ok(mesos__containerizer_recover(f.cz, &ids, &err), &err);
  ck_assert_ptr_nonnull(ids);
  ck_assert_ptr_null(ids[0]);
  mesos__containerizer_ids_free(ids);
  /* The orphan's processes were killed: the init is a zombie child of
   * ours now, reap it. */
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  ck_assert(WIFSIGNALED(ws));
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__every_failed_allocation_in_launch_leaves_nothing_behind) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/cpu,cgroups/mem");
  const char *argv[] = {"true", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.mem_bytes = 64ull << 20;
  char cgdir[600] = "";
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  if (l.v1_mount[MESOS__CG_MEMORY])
    snprintf(cgdir, sizeof cgdir, "%s%s/%s/t", l.v1_mount[MESOS__CG_MEMORY],
             strcmp(l.v1_self[MESOS__CG_MEMORY], "/") ? l.v1_self[MESOS__CG_MEMORY] : "", f.cgroot);
  mesos__cg_layout_free(&l);
  char rt[512];
  snprintf(rt, sizeof rt, "%s/containers/t", f.runtime);
  /* One launch first: the containerizer's maps keep their tables. */
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "warm", &c, NULL, NULL), NULL);
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "warm", 10000, NULL, NULL), NULL);
  int64_t live = mesos__alloc_live();
  for (uint64_t fail = 1;; fail++) {
    mesos_error *err = NULL;
    mesos__alloc_fail_after(fail);
    mesos_status st = mesos__containerizer_launch(f.cz, "t", &c, NULL, &err);
    uint64_t made = mesos__alloc_fail_after(0);
    if (st == MESOS_OK) {
      mesos__container_termination t;
      ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "t", 10000, &t, &err), &err);
      ck_assert_uint_lt(made, fail);
      break;
    }
    ck_assert_msg(st == MESOS_ENOMEM, "allocation %llu: %s: %s", (unsigned long long)fail,
                  mesos_status_name(st), mesos_test_errmsg(&err));
    mesos_error_free(err);
    ck_assert_msg(access(rt, F_OK) != 0, "allocation %llu: runtime dir left", (unsigned long long)fail);
    ck_assert_msg(cgdir[0] == '\0' || access(cgdir, F_OK) != 0, "allocation %llu: cgroup left",
                  (unsigned long long)fail);
    ck_assert_int_eq(mesos__containerizer_pid(f.cz, "t"), -1);
    mesos_loop_run_once(f.loop); /* closed watch handles are freed on the loop */
    ck_assert_msg(mesos__alloc_live() == live, "allocation %llu: %lld allocations leaked",
                  (unsigned long long)fail, (long long)(mesos__alloc_live() - live));
  }
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__posix_isolators_report_usage_without_cgroups) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "posix/cpu,posix/mem");
  /* path and argv[0] differ: busybox picks the applet from argv[0] */
  const char *argv[] = {"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; exec sleep 30", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.path = access("/usr/bin/busybox", X_OK) == 0 ? "/usr/bin/busybox" : "/bin/busybox";
  c.rootfs = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "px", &c, NULL, &err), &err);
  for (int i = 0; i < 500 && strstr(sandbox_file(&f, "stdout"), "done") == NULL; i++) usleep(10000);
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  ck_assert_mesos_ok(mesos__containerizer_usage(f.cz, "px", &u, &err), &err);
  ck_assert_uint_gt(u.mem_rss_bytes, 0);
  ck_assert_uint_ge(u.processes, 2);
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "px", &err), &err);
  mesos__container_termination t;
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "px", 5000, &t, &err), &err);
  ck_assert(t.has_status);
  fx_teardown(&f);
}
END_TEST

/* ------------------------------------------------------------ devices */

START_TEST(test_devices__rules_parse_and_the_program_allows_exactly_the_whitelist) {
  mesos__dev_rule rules[MESOS__DEV_RULES_MAX];
  size_t n = 0;
  mesos_error *err = NULL;
  for (size_t i = 0; i < mesos__dev_default_nrules; i++)
    ck_assert_mesos_ok(mesos__dev_rule_parse(mesos__dev_default_rules[i], &rules[n++], &err), &err);
  ck_assert_int_eq(rules[0].type, 'c');
  ck_assert_int_eq(rules[0].major, -1);
  ck_assert_uint_eq(rules[0].access, MESOS__DEV_MKNOD);
  static const char *const bad[] = {"x 1:3 rwm", "c 1:3", "c 1:3 rwx", "c 5000:1 r", "c 1:3 rr",
                                    "c 1-3 r", "c :3 r", "", "c 1:3 r ", NULL};
  for (int i = 0; bad[i]; i++) {
    mesos__dev_rule r;
    ck_assert_msg(mesos__dev_rule_parse(bad[i], &r, &err) == MESOS_EINVAL, "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "device rule"));
    mesos_error_free(err);
    err = NULL;
  }
  void *prog;
  size_t len;
  ck_assert_mesos_ok(mesos__dev_program(rules, n, &prog, &len, &err), &err);
  ck_assert_uint_gt(len, 8);
  static const struct {
    char type;
    uint32_t major, minor;
    unsigned access;
    int allowed;
  } cases[] = {
    {'c', 1, 3, MESOS__DEV_READ, 1},   {'c', 1, 3, MESOS__DEV_WRITE, 1}, /* null */
    {'c', 1, 9, MESOS__DEV_READ, 1},   {'c', 5, 2, MESOS__DEV_WRITE, 1}, /* urandom, ptmx */
    {'c', 136, 7, MESOS__DEV_READ, 1}, {'c', 10, 200, MESOS__DEV_READ, 1},
    {'c', 1, 1, MESOS__DEV_READ, 0},   {'c', 1, 1, MESOS__DEV_WRITE, 0}, /* mem */
    {'c', 1, 1, MESOS__DEV_MKNOD, 1},  {'b', 8, 0, MESOS__DEV_READ, 0},  /* sda */
    {'b', 8, 0, MESOS__DEV_MKNOD, 1},  {'c', 4, 2, MESOS__DEV_READ, 0},
    {'b', 1, 3, MESOS__DEV_READ, 0}, /* the type matters */
    {'c', 10, 201, MESOS__DEV_READ, 0},
    {'c', 1, 3, MESOS__DEV_READ | MESOS__DEV_WRITE, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    ck_assert_msg(mesos__dev_program_eval(prog, len, cases[i].type, cases[i].major, cases[i].minor,
                                          cases[i].access) == cases[i].allowed,
                  "case %zu: %c %u:%u access %u", i, cases[i].type, cases[i].major, cases[i].minor,
                  cases[i].access);
  mesos__free(prog);
  /* read-only on one device, and "a" for everything */
  mesos__dev_rule two[2];
  ck_assert_mesos_ok(mesos__dev_rule_parse("b 7:* r", &two[0], &err), &err);
  ck_assert_mesos_ok(mesos__dev_rule_parse("c 1:5 rw", &two[1], &err), &err);
  ck_assert_mesos_ok(mesos__dev_program(two, 2, &prog, &len, &err), &err);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'b', 7, 3, MESOS__DEV_READ), 1);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'b', 7, 3, MESOS__DEV_WRITE), 0);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'c', 1, 5, MESOS__DEV_MKNOD), 0);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'c', 1, 5, MESOS__DEV_WRITE), 1);
  mesos__free(prog);
  ck_assert_mesos_ok(mesos__dev_rule_parse("a", &two[0], &err), &err);
  ck_assert_mesos_ok(mesos__dev_program(two, 1, &prog, &len, &err), &err);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'b', 8, 0, MESOS__DEV_WRITE), 1);
  mesos__free(prog);
  ck_assert_mesos_ok(mesos__dev_program(two, 0, &prog, &len, &err), &err);
  ck_assert_int_eq(mesos__dev_program_eval(prog, len, 'c', 1, 3, MESOS__DEV_READ), 0);
  mesos__free(prog);
  ck_assert_int_eq(mesos__dev_program(two, MESOS__DEV_RULES_MAX + 1, &prog, &len, &err), MESOS_ELIMIT);
  mesos_error_free(err);
}
END_TEST

/* Removes `root` in the v2 hierarchy and, for the tracking freezer, v1. */
static void remove_test_root(const mesos__cg_layout *l, const char *root) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s%s/%s", l->v2_mount, strcmp(l->v2_self, "/") ? l->v2_self : "", root);
  rmdir(dir);
  for (int c = 0; c < MESOS__CG_COUNT; c++) {
    if (l->where[c] != MESOS__CG_V1) continue;
    snprintf(dir, sizeof dir, "%s%s/%s", l->v1_mount[c], strcmp(l->v1_self[c], "/") ? l->v1_self[c] : "",
             root);
    rmdir(dir);
  }
}

START_TEST(test_devices__v2_device_program_denies_what_the_whitelist_does_not_allow) {
  if (geteuid() != 0) MESOS_TEST_SKIP("needs root (cgroups, bpf)");
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  if (l.v2_mount == NULL) {
    mesos__cg_layout_free(&l);
    MESOS_TEST_SKIP("no cgroup2 mount on this host");
  }
  /* Pretend the host has no v1 devices hierarchy: device control falls
   * to a BPF program on the container's v2 cgroup, as on a pure v2 host.
   * (A process's v1 devices cgroup stays the root one, which allows all,
   * so what is denied below is denied by our program.) */
  l.where[MESOS__CG_DEVICES] = MESOS__CG_V2;
  char root[64], dir[256], node[300];
  snprintf(root, sizeof root, "mesos-test-%d-bpf-%d", (int)getppid(), (int)getpid());
  snprintf(dir, sizeof dir, "/tmp/mesos-cz-test-%d-bpf-%d", (int)getppid(), (int)getpid());
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  snprintf(node, sizeof node, "%s/kmsg", dir);
  mesos__cgroup *cg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__cg_create(&l, root, "d1", MESOS__CG_BIT(MESOS__CG_DEVICES), 0, &cg, &err),
                     &err);
  ck_assert_ptr_nonnull(cg->v2);
  mesos_status st = mesos__cg_set_devices(cg, &err);
  if (st != MESOS_OK) {
    char why[600];
    snprintf(why, sizeof why, "device programs cannot be attached on %s here: %s", l.v2_mount,
             mesos_error_message(err));
    mesos_error_free(err);
    mesos__cg_destroy(cg, NULL);
    mesos__cg_free(cg);
    remove_test_root(&l, root);
    mesos__cg_layout_free(&l);
    rmdir(dir);
    MESOS_TEST_SKIP("%s", why);
  }
  /* /dev/kmsg's numbers, not on the whitelist.  Outside the cgroup the
   * node opens: whatever fails inside is our program's doing. */
  ck_assert_int_eq(mknod(node, S_IFCHR | 0600, makedev(1, 11)), 0);
  int probe = open(node, O_RDONLY | O_CLOEXEC);
  ck_assert_msg(probe >= 0, "open %s outside the cgroup: %s", node, strerror(errno));
  close(probe);
  unlink(node);
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    char b;
    close(go[1]);
    if (read(go[0], &b, 1) != 1) _exit(100);
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);  /* allowed: rw */
    if (fd < 0) _exit(1);
    close(fd);
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) _exit(2);
    close(fd);
    if (mknod(node, S_IFCHR | 0600, makedev(1, 11)) != 0) _exit(3); /* m on anything */
    fd = open(node, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) _exit(4);
    if (errno != EPERM) _exit(5);
    _exit(0);
  }
  close(go[0]);
  st = mesos__cg_attach(cg, pid, &err);
  ck_assert_int_eq(write(go[1], "g", 1), 1);
  close(go[1]);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  unlink(node);
  ck_assert_mesos_ok(st, &err);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
                "child: 1 /dev/null denied, 2 urandom denied, 3 mknod denied, 4 disallowed device "
                "opened, 5 not EPERM; got status %d", ws);
  ck_assert_mesos_ok(mesos__cg_destroy(cg, &err), &err);
  ck_assert_int_ne(access(cg->v2, F_OK), 0);
  mesos__cg_free(cg);
  remove_test_root(&l, root);
  mesos__cg_layout_free(&l);
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The v2 code paths against a fake cgroup2 tree (a plain directory named
 * as the cgroup2 mount in a mountinfo fixture, control files created as
 * the kernel would): this hybrid host binds cpu, memory and pids to v1, so
 * the real-v2 test below is SKIPPED here and this is what exercises
 * enabling controllers down from our own cgroup, the limits' file formats
 * (cpu.weight/cpu.max, memory.max/high/swap.max, pids.max), usage and OOM
 * counts from cpu.stat/memory.*, the process list, and re-opening an
 * existing cgroup.  Needs no root. */
static void fake_file(const char *dir, const char *name, const char *text) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  write_text(p, text);
}

static const char *fake_read(const char *dir, const char *name) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return read_text(p);
}

START_TEST(test_cgroups__v2_paths_write_and_read_the_unified_files_of_a_fake_cgroup2_tree) {
  char root[] = "/tmp/mesos-fakecg2-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(root));
  char mi[512], self[128], mesos[160];
  snprintf(mi, sizeof mi,
           "30 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
           "31 30 0:26 / %s rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
           root);
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_parse(&l, mi, "0::/agent.slice\n",
                                            "cpuset cpu io memory pids\n", NULL), NULL);
  ck_assert_int_eq(l.mode, MESOS__CG_MODE_V2);
  /* Our own cgroup has cpu and memory enabled for its children, not pids;
   * the mesos root below it has them all already. */
  snprintf(self, sizeof self, "%s/agent.slice", root);
  snprintf(mesos, sizeof mesos, "%s/mesos", self);
  ck_assert_int_eq(mkdir(self, 0755), 0);
  ck_assert_int_eq(mkdir(mesos, 0755), 0);
  fake_file(self, "cgroup.subtree_control", "cpu memory\n");
  fake_file(mesos, "cgroup.subtree_control", "cpu memory pids\n");
  uint32_t bits = MESOS__CG_BIT(MESOS__CG_CPU) | MESOS__CG_BIT(MESOS__CG_MEMORY) |
                  MESOS__CG_BIT(MESOS__CG_PIDS);
  mesos__cgroup *cg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__cg_create(&l, "mesos", "c1", bits, 0, &cg, &err), &err);
  char want[200];
  snprintf(want, sizeof want, "%s/c1", mesos);
  ck_assert_str_eq(cg->v2, want);
  for (int c = 0; c < MESOS__CG_COUNT; c++) ck_assert_ptr_null(cg->v1[c]);
  /* Only the missing controller was enabled, where it was missing (one
   * write at offset 0, as into a real cgroup file: "+pids" over "cpu m"). */
  ck_assert_str_eq(fake_read(self, "cgroup.subtree_control"), "+pidsemory\n");
  ck_assert_str_eq(fake_read(mesos, "cgroup.subtree_control"), "cpu memory pids\n");
  /* A second container with the same name is refused, not shared. */
  mesos__cgroup *dup = NULL;
  ck_assert_int_eq(mesos__cg_create(&l, "mesos", "c1", bits, 0, &dup, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  /* The kernel's files of the new cgroup (empty: each write below is
   * then exactly what the file holds). */
  static const char *const ctl[] = {"cpu.weight", "cpu.max", "memory.max", "memory.high",
                                    "memory.swap.max", "pids.max", "cgroup.procs"};
  for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++) fake_file(cg->v2, ctl[i], "");
  ck_assert_mesos_ok(mesos__cg_set_cpu(cg, 1.5, 1, &err), &err);
  ck_assert_str_eq(fake_read(cg->v2, "cpu.weight"), "59"); /* 1536 shares -> weight */
  ck_assert_str_eq(fake_read(cg->v2, "cpu.max"), "150000 100000");
  fake_file(cg->v2, "cpu.weight", "");
  fake_file(cg->v2, "cpu.max", "");
  ck_assert_mesos_ok(mesos__cg_set_cpu(cg, 0.5, 0, &err), &err); /* an update, no CFS */
  ck_assert_str_eq(fake_read(cg->v2, "cpu.weight"), "20");
  ck_assert_str_eq(fake_read(cg->v2, "cpu.max"), "max 100000");
  ck_assert_mesos_ok(mesos__cg_set_mem(cg, 64ull << 20, 0, &err), &err);
  ck_assert_str_eq(fake_read(cg->v2, "memory.max"), "67108864");
  ck_assert_str_eq(fake_read(cg->v2, "memory.high"), "max");
  ck_assert_str_eq(fake_read(cg->v2, "memory.swap.max"), "0"); /* no swap without limit_swap */
  ck_assert_mesos_ok(mesos__cg_set_pids(cg, 33, &err), &err);
  ck_assert_str_eq(fake_read(cg->v2, "pids.max"), "33");
  fake_file(cg->v2, "pids.max", "");
  ck_assert_mesos_ok(mesos__cg_set_pids(cg, 0, &err), &err);
  ck_assert_str_eq(fake_read(cg->v2, "pids.max"), "max");
  /* Usage and OOM kills from the unified files. */
  fake_file(cg->v2, "cpu.stat",
            "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 10\n"
            "nr_throttled 4\nthrottled_usec 500000\n");
  fake_file(cg->v2, "memory.current", "1048576\n");
  fake_file(cg->v2, "memory.stat", "anon 524288\nfile 262144\nkernel 4096\n");
  fake_file(cg->v2, "memory.swap.current", "8192\n");
  fake_file(cg->v2, "memory.max", "67108864\n");
  fake_file(cg->v2, "memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
  fake_file(cg->v2, "pids.current", "5\n");
  fake_file(cg->v2, "cgroup.procs", "1234567\n2345678\n");
  mesos_container_usage u;
  memset(&u, 0, sizeof u);
  ck_assert_mesos_ok(mesos__cg_usage(cg, &u, &err), &err);
  ck_assert(u.cpus_user_time_secs > 1.99 && u.cpus_user_time_secs < 2.01);
  ck_assert(u.cpus_system_time_secs > 0.99 && u.cpus_system_time_secs < 1.01);
  ck_assert_uint_eq(u.cpus_nr_periods, 10);
  ck_assert_uint_eq(u.cpus_nr_throttled, 4);
  ck_assert(u.cpus_throttled_time_secs > 0.49 && u.cpus_throttled_time_secs < 0.51);
  ck_assert_uint_eq(u.mem_total_bytes, 1048576);
  ck_assert_uint_eq(u.mem_rss_bytes, 524288);
  ck_assert_uint_eq(u.mem_cache_bytes, 262144);
  ck_assert_uint_eq(u.mem_swap_bytes, 8192);
  ck_assert_uint_eq(u.mem_limit_bytes, 67108864);
  ck_assert_uint_eq(u.mem_oom_events, 2);
  ck_assert_uint_eq(u.processes, 2);
  ck_assert_uint_eq(u.threads, 5);
  ck_assert_uint_eq(mesos__cg_oom_kills(cg), 2);
  pid_t pids[8];
  ck_assert_int_eq(mesos__cg_pids(cg, pids, 8), 2);
  ck_assert_int_eq(pids[0], 1234567);
  ck_assert_int_eq(pids[1], 2345678);
  /* Recovery re-opens it; a container without a cgroup is not found. */
  mesos__cgroup *again = NULL;
  ck_assert_mesos_ok(mesos__cg_create(&l, "mesos", "c1", bits, 1, &again, &err), &err);
  ck_assert_str_eq(again->v2, cg->v2);
  ck_assert_int_eq(mesos__cg_create(&l, "mesos", "c2", bits, 1, &dup, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  /* (Not mesos__cg_destroy: it would signal the fake pids.) */
  mesos__cg_free(again);
  mesos__cg_free(cg);
  mesos__cg_layout_free(&l);
  rm_rf(root);
}
END_TEST

START_TEST(test_cgroups__v2_controllers_set_the_limits_when_the_unified_mount_has_them) {
  if (geteuid() != 0) MESOS_TEST_SKIP("needs root (cgroups)");
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  if (l.v2_mount == NULL) {
    mesos__cg_layout_free(&l);
    MESOS_TEST_SKIP("no cgroup2 mount on this host");
  }
  if (l.where[MESOS__CG_CPU] != MESOS__CG_V2 || l.where[MESOS__CG_MEMORY] != MESOS__CG_V2 ||
      l.where[MESOS__CG_PIDS] != MESOS__CG_V2) {
    char ctl[600], listed[256] = "";
    snprintf(ctl, sizeof ctl, "%s%s/cgroup.controllers", l.v2_mount,
             strcmp(l.v2_self, "/") ? l.v2_self : "");
    snprintf(listed, sizeof listed, "%s", read_text(ctl));
    listed[strcspn(listed, "\n")] = '\0';
    char why[1024];
    snprintf(why, sizeof why,
             "the cgroup2 mount %s offers only '%s': cpu, memory and pids are bound to cgroup v1 "
             "on this hybrid host, and a controller lives in one hierarchy at a time, so no v2 "
             "cgroup (not even a private cgroup2 mount) can have them here",
             l.v2_mount, listed);
    mesos__cg_layout_free(&l);
    MESOS_TEST_SKIP("%s", why);
  }
  char root[64];
  snprintf(root, sizeof root, "mesos-test-%d-v2c-%d", (int)getppid(), (int)getpid());
  uint32_t bits = MESOS__CG_BIT(MESOS__CG_CPU) | MESOS__CG_BIT(MESOS__CG_MEMORY) |
                  MESOS__CG_BIT(MESOS__CG_PIDS);
  mesos__cgroup *cg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__cg_create(&l, root, "v", bits, 0, &cg, &err), &err);
  ck_assert_mesos_ok(mesos__cg_set_cpu(cg, 1.5, 1, &err), &err);
  ck_assert_mesos_ok(mesos__cg_set_mem(cg, 64ull << 20, 0, &err), &err);
  ck_assert_mesos_ok(mesos__cg_set_pids(cg, 33, &err), &err);
  char p[700];
  snprintf(p, sizeof p, "%s/cpu.max", cg->v2);
  ck_assert_str_eq(read_text(p), "150000 100000\n");
  snprintf(p, sizeof p, "%s/memory.max", cg->v2);
  ck_assert_str_eq(read_text(p), "67108864\n");
  snprintf(p, sizeof p, "%s/pids.max", cg->v2);
  ck_assert_str_eq(read_text(p), "33\n");
  mesos_container_usage u;
  memset(&u, 0, sizeof u);
  ck_assert_mesos_ok(mesos__cg_usage(cg, &u, &err), &err);
  ck_assert_uint_eq(u.mem_limit_bytes, 64ull << 20);
  ck_assert_mesos_ok(mesos__cg_destroy(cg, &err), &err);
  mesos__cg_free(cg);
  remove_test_root(&l, root);
  mesos__cg_layout_free(&l);
}
END_TEST

/* ------------------------------------------------------------ async launch */

/* The init is the small exec'ed helper, not a copy of this (multi-
 * threaded) process: its executable is mesos-container-init and it holds
 * only its own descriptors, not one this process left inheritable. */
START_TEST(test_containerizer__init_is_the_exec_ed_helper_holding_only_its_own_descriptors) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/cpu,cgroups/mem");
  int leak[2];
  ck_assert_int_eq(pipe(leak), 0); /* not close-on-exec on purpose */
  const char *argv[] = {"sleep", "30", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  mesos_error *err = NULL;
  pid_t pid;
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "h1", &c, &pid, &err), &err);
  char p[64], exe[PATH_MAX];
  snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
  ssize_t n = readlink(p, exe, sizeof exe - 1);
  ck_assert_int_gt(n, 0);
  exe[n] = '\0';
  const char *base = strrchr(exe, '/');
  ck_assert_str_eq(base ? base + 1 : exe, "mesos-container-init");
  snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(p);
  ck_assert_ptr_nonnull(d);
  char fds[64] = "";
  struct dirent *de;
  int nfd = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    int fd = (int)strtol(de->d_name, NULL, 10);
    if (fd >= 0 && fd < 64) fds[fd] = 1;
    nfd++;
  }
  closedir(d);
  /* stdin/stdout/stderr and the status file; the sync socket and the
   * error pipe are closed once the task runs. */
  ck_assert_msg(nfd == 4 && fds[0] && fds[1] && fds[2] && fds[5], "init holds %d descriptors", nfd);
  close(leak[0]);
  close(leak[1]);
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "h1", &err), &err);
  fx_teardown(&f);
}
END_TEST

/* A containerizer without its helper refuses to start, naming it; the
 * helper run by hand, or fed a malformed plan, exits with a clear error
 * and does nothing. */
START_TEST(test_containerizer__missing_helper_and_malformed_plans_are_refused) {
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, NULL), NULL);
  char dir[] = "/tmp/mesos-cz-nohelper-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  mesos__containerizer_options o = {0};
  o.runtime_dir = dir;
  o.launcher_dir = dir; /* no helper there */
  mesos__containerizer *cz = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__containerizer_new(&cz, loop, &o, &err), MESOS_ENOTFOUND);
  ck_assert_ptr_null(cz);
  ck_assert_msg(strstr(mesos_error_message(err), "mesos-container-init") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  mesos_loop_free(loop);
  rm_rf(dir);

  char helper[PATH_MAX];
  mesos_test_daemon_path("mesos-container-init", helper, sizeof helper);
  /* By hand: no descriptors 3..5. */
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 1);
    dup2(null, 2);
    for (int fd = 3; fd < 64; fd++) close(fd);
    execl(helper, "mesos-container-init", (char *)NULL);
    _exit(99);
  }
  int ws;
  ck_assert_int_eq(waitpid(p, &ws, 0), p);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 2, "by hand: status %d", ws);

  /* Malformed plans: a bad magic, a lying length, a string without its
   * NUL, trailing garbage. */
  static const unsigned char bad_magic[] = {1, 2, 3, 4, 0, 0, 0, 0};
  static const unsigned char short_body[] = {0x4d, 0x49, 0x4e, 0x31, 100, 0, 0, 0, 1, 2};
  static const unsigned char no_nul[] = {0x4d, 0x49, 0x4e, 0x31, 9, 0, 0, 0, 0, 0, 0, 0,
                                         1, 0, 0, 0, 'x'};
  static const unsigned char huge[] = {0x4d, 0x49, 0x4e, 0x31, 0xff, 0xff, 0xff, 0x7f};
  const struct {
    const unsigned char *b;
    size_t n;
  } plans[] = {{bad_magic, sizeof bad_magic}, {short_body, sizeof short_body},
               {no_nul, sizeof no_nul}, {huge, sizeof huge}};
  for (size_t i = 0; i < sizeof plans / sizeof *plans; i++) {
    int sp[2], ep[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    ck_assert_int_eq(pipe2(ep, O_CLOEXEC), 0);
    p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
      int null = open("/dev/null", O_RDWR);
      int a = fcntl(sp[1], F_DUPFD, 10), b = fcntl(ep[1], F_DUPFD, 10),
          c = fcntl(null, F_DUPFD, 10);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      dup2(a, 3);
      dup2(b, 4);
      dup2(c, 5);
      execl(helper, "mesos-container-init", (char *)NULL);
      _exit(99);
    }
    close(sp[1]);
    close(ep[1]);
    ck_assert_int_eq(write(sp[0], plans[i].b, plans[i].n), (ssize_t)plans[i].n);
    shutdown(sp[0], SHUT_WR);
    char msg[512];
    ssize_t n = read(ep[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    ck_assert_int_eq(waitpid(p, &ws, 0), p);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 127, "plan %zu: status %d", i, ws);
    ck_assert_msg(strstr(msg, "read plan") != NULL, "plan %zu: '%s'", i, msg);
    close(sp[0]);
    close(ep[0]);
  }
}
END_TEST

/* An image's User as Docker reads it: "uid:gid", "uid", "name:group"
 * resolved in the image's /etc/passwd and /etc/group, an unknown numeric
 * uid with gid 0; unknown names and malformed values are refused. */
START_TEST(test_containerizer__image_user_numeric_and_named_forms_resolve_in_the_image) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux");
  char p[400];
  snprintf(p, sizeof p, "%s/etc/passwd", f.rootfs);
  write_text(p, "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  snprintf(p, sizeof p, "%s/etc/group", f.rootfs);
  write_text(p, "root:x:0:\napp:x:1000:\nstaff:x:50:\nextra:x:2000:other,app\n");
  const struct {
    const char *user, *want;
  } ok[] = {{"1000:1000", "1000 1000 1000 2000\n"},
            {"1000", "1000 1000 1000 2000\n"},
            {"app:staff", "1000 50 50 2000\n"},
            {"app:2000", "1000 2000 2000\n"},
            {"4242", "4242 0 0\n"},
            {"4242:77", "4242 77 77\n"}};
  const char *argv[] = {"sh", "-c", "echo $(id -u) $(id -g) $(id -G)", NULL};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    snprintf(p, sizeof p, "%s/stdout", f.sandbox);
    unlink(p);
    mesos__container_config c = cfg_of(&f, argv);
    c.user = ok[i].user;
    c.working_dir = "/";
    char id[16];
    snprintf(id, sizeof id, "u%zu", i);
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, id, &c, NULL, &err), &err);
    mesos__container_termination t;
    ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, id, 10000, &t, &err), &err);
    ck_assert(t.has_status && WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
    const char *out = sandbox_file(&f, "stdout");
    ck_assert_msg(strcmp(out, ok[i].want) == 0, "user %s: got '%s', want '%s'", ok[i].user, out,
                  ok[i].want);
  }
  const struct {
    const char *user;
    mesos_status st;
    const char *says;
  } bad[] = {{"ghost", MESOS_ENOTFOUND, "user 'ghost' not found"},
             {"app:nogroup", MESOS_ENOTFOUND, "group 'nogroup' not found"},
             {"1000:", MESOS_EINVAL, "bad user"},
             {":1000", MESOS_EINVAL, "bad user"},
             {"1:2:3", MESOS_EINVAL, "bad user"},
             {"99999999999", MESOS_ENOTFOUND, "not found"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    mesos__container_config c = cfg_of(&f, argv);
    c.user = bad[i].user;
    mesos_error *err = NULL;
    ck_assert_int_eq(mesos__containerizer_launch(f.cz, "ubad", &c, NULL, &err), bad[i].st);
    ck_assert_msg(strstr(mesos_error_message(err), bad[i].says) != NULL, "user %s: %s",
                  bad[i].user, mesos_error_message(err));
    mesos_error_free(err);
  }
  fx_teardown(&f);
}
END_TEST

typedef struct launched {
  int calls;
  int ok;
  mesos_status last;
  char message[512];
  pid_t pid;
} launched;

static void on_launched(const char *id, mesos_status st, const char *message, pid_t pid, void *ud) {
  (void)id;
  launched *l = ud;
  l->calls++;
  l->last = st;
  if (st == MESOS_OK) {
    l->ok++;
    ck_assert_int_gt(pid, 0);
    ck_assert_ptr_null(message);
    l->pid = pid;
  } else {
    ck_assert_int_eq(pid, -1);
    ck_assert_ptr_nonnull(message);
    snprintf(l->message, sizeof l->message, "%s", message);
  }
}

/* Runs the loop until *counter reaches `want` (10 s at most). */
static void run_until(fx *f, const int *counter, int want) {
  for (int i = 0; i < 10000 && *counter < want; i++) {
    mesos_loop_run_once(f->loop);
    if (*counter < want) usleep(1000);
  }
  ck_assert_int_eq(*counter, want);
}

START_TEST(test_containerizer__async_launch_reports_on_the_loop_and_can_be_destroyed_midway) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/cpu,cgroups/mem");
  const char *argv[] = {"sh", "-c", "echo started-$0 >> $MESOS_SANDBOX/out", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.mem_bytes = 64ull << 20;
  mesos_error *err = NULL;
  /* Eight at once: each call returns with its container still starting,
   * and the outcomes arrive on the loop, not inside the calls. */
  launched a = {0};
  for (int i = 0; i < 8; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    ck_assert_mesos_ok(mesos__containerizer_launch_async(f.cz, id, &c, on_launched, &a, &err), &err);
    ck_assert_int_gt(mesos__containerizer_pid(f.cz, id), 0);
  }
  ck_assert_int_eq(a.calls, 0);
  ck_assert_int_eq(mesos__containerizer_launch_async(f.cz, "a0", &c, on_launched, &a, &err),
                   MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  run_until(&f, &a.calls, 8);
  ck_assert_int_eq(a.ok, 8);
  for (int i = 0; i < 8; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    mesos__container_termination t;
    ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, id, 10000, &t, &err), &err);
    ck_assert_msg(t.has_status && WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0,
                  "%s: has_status %d status %d message '%s' stderr '%s'", id, t.has_status,
                  t.status, t.message, sandbox_file(&f, "stderr"));
  }
  ck_assert_int_eq((int)strlen(sandbox_file(&f, "out")), 8 * (int)strlen("started-sh\n"));

  /* A step of the init that fails (exec of a non-executable file): the
   * callback gets the child's message, and the container is gone. */
  char p[400];
  snprintf(p, sizeof p, "%s/bin/notexec", f.rootfs);
  write_text(p, "data\n");
  const char *notexec[] = {"/bin/notexec", NULL};
  mesos__container_config bad = cfg_of(&f, notexec);
  launched b = {0};
  ck_assert_mesos_ok(mesos__containerizer_launch_async(f.cz, "b", &bad, on_launched, &b, &err), &err);
  run_until(&f, &b.calls, 1);
  ck_assert_int_eq(b.last, MESOS_EIO);
  /* The helper reports the errno as a number; the launcher spells it. */
  ck_assert_msg(strstr(b.message, "exec /bin/notexec: Permission denied") != NULL, "%s", b.message);
  ck_assert_int_eq(mesos__containerizer_pid(f.cz, "b"), -1);

  /* destroy right after the call, and kill: both end the launch with
   * MESOS_ECLOSED and leave nothing (the teardown checks). */
  const char *sleeper[] = {"sleep", "30", NULL};
  mesos__container_config s = cfg_of(&f, sleeper);
  launched d = {0}, k = {0};
  ck_assert_mesos_ok(mesos__containerizer_launch_async(f.cz, "d", &s, on_launched, &d, &err), &err);
  ck_assert_mesos_ok(mesos__containerizer_destroy(f.cz, "d", &err), &err);
  ck_assert_int_eq(d.calls, 0);
  ck_assert_int_eq(mesos__containerizer_pid(f.cz, "d"), -1);
  ck_assert_mesos_ok(mesos__containerizer_launch_async(f.cz, "k", &s, on_launched, &k, &err), &err);
  pid_t kpid = mesos__containerizer_pid(f.cz, "k");
  ck_assert_mesos_ok(mesos__containerizer_kill(f.cz, "k", &err), &err);
  run_until(&f, &d.calls, 1);
  run_until(&f, &k.calls, 1);
  ck_assert_int_eq(d.last, MESOS_ECLOSED);
  ck_assert_int_eq(k.last, MESOS_ECLOSED);
  ck_assert_ptr_nonnull(strstr(k.message, "destroyed while it was starting"));
  ck_assert_int_eq(kill(kpid, 0), -1);
  ck_assert_int_eq(mesos__containerizer_launch_async(f.cz, "n", &s, NULL, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  fx_teardown(&f);
}
END_TEST

START_TEST(test_containerizer__every_failed_allocation_in_launch_async_leaves_nothing_behind) {
  SKIP_UNLESS_CAPABLE();
  fx f;
  fx_setup(&f, "filesystem/linux,namespaces/pid,cgroups/cpu,cgroups/mem");
  const char *argv[] = {"true", NULL};
  mesos__container_config c = cfg_of(&f, argv);
  c.mem_bytes = 64ull << 20;
  char cgdir[600] = "";
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  if (l.v1_mount[MESOS__CG_MEMORY])
    snprintf(cgdir, sizeof cgdir, "%s%s/%s/t", l.v1_mount[MESOS__CG_MEMORY],
             strcmp(l.v1_self[MESOS__CG_MEMORY], "/") ? l.v1_self[MESOS__CG_MEMORY] : "", f.cgroot);
  mesos__cg_layout_free(&l);
  char rt[512];
  snprintf(rt, sizeof rt, "%s/containers/t", f.runtime);
  ck_assert_mesos_ok(mesos__containerizer_launch(f.cz, "warm", &c, NULL, NULL), NULL);
  ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "warm", 10000, NULL, NULL), NULL);
  int64_t live = mesos__alloc_live();
  for (uint64_t fail = 1;; fail++) {
    mesos_error *err = NULL;
    launched r = {0};
    /* Failures stay armed while the loop delivers the outcome: the
     * allocations after the exec (the pid watch) are covered too. */
    mesos__alloc_fail_after(fail);
    mesos_status st = mesos__containerizer_launch_async(f.cz, "t", &c, on_launched, &r, &err);
    if (st == MESOS_OK) run_until(&f, &r.calls, 1);
    uint64_t made = mesos__alloc_fail_after(0);
    if (st == MESOS_OK && r.last == MESOS_OK) {
      mesos__container_termination t;
      ck_assert_mesos_ok(mesos__containerizer_wait_sync(f.cz, "t", 10000, &t, &err), &err);
      ck_assert_uint_lt(made, fail);
      break;
    }
    mesos_status got = st != MESOS_OK ? st : r.last;
    ck_assert_msg(got == MESOS_ENOMEM, "allocation %llu: %s: %s", (unsigned long long)fail,
                  mesos_status_name(got), st != MESOS_OK ? mesos_test_errmsg(&err) : r.message);
    mesos_error_free(err);
    ck_assert_msg(access(rt, F_OK) != 0, "allocation %llu: runtime dir left", (unsigned long long)fail);
    ck_assert_msg(cgdir[0] == '\0' || access(cgdir, F_OK) != 0, "allocation %llu: cgroup left",
                  (unsigned long long)fail);
    ck_assert_int_eq(mesos__containerizer_pid(f.cz, "t"), -1);
    mesos_loop_run_once(f.loop);
    ck_assert_msg(mesos__alloc_live() == live, "allocation %llu: %lld allocations leaked",
                  (unsigned long long)fail, (long long)(mesos__alloc_live() - live));
  }
  fx_teardown(&f);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("containerizer");
  TCase *tc = tcase_create("containerizer");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, NULL, runner_cleanup);
  tcase_add_test(tc, test_cgroups__hybrid_layout_is_detected_with_our_own_cgroup_per_hierarchy);
  tcase_add_test(tc, test_cgroups__pure_v2_layout_takes_controllers_from_cgroup_controllers);
  tcase_add_test(tc, test_cgroups__pure_v1_and_cgroup_namespace_roots);
  tcase_add_test(tc, test_cgroups__malformed_proc_files_are_refused);
  tcase_add_test(tc, test_cgroups__v2_tracking_cgroup_kills_every_process_and_is_removed);
  tcase_add_test(tc, test_isolator__registration_checks_name_version_and_required_members);
  tcase_add_test(tc, test_isolator__vendor_isolator_is_selected_by_name_and_called_in_order);
  tcase_add_test(tc, test_containerizer__task_sees_its_pid_1_hostname_and_the_image_not_the_host);
  tcase_add_test(tc, test_containerizer__limits_are_set_and_usage_is_reported);
  tcase_add_test(tc, test_containerizer__cfs_quota_and_updates_change_the_limits_of_a_running_container);
  tcase_add_test(tc, test_containerizer__memory_hog_is_oom_killed_and_reported_as_a_limitation);
  tcase_add_test(tc, test_containerizer__pids_limit_stops_a_fork_loop);
  tcase_add_test(tc, test_containerizer__devices_cgroup_allows_only_the_default_devices);
  tcase_add_test(tc, test_containerizer__task_runs_as_its_user_with_host_and_sandbox_volumes);
  tcase_add_test(tc, test_containerizer__symlinks_in_the_image_or_sandbox_do_not_reach_the_host);
  tcase_add_test(tc, test_containerizer__bad_launches_fail_cleanly);
  tcase_add_test(tc, test_containerizer__restarted_agent_recovers_and_destroys_a_running_container);
  tcase_add_test(tc, test_containerizer__recover_destroys_orphans_the_checkpoint_does_not_know);
  tcase_add_test(tc, test_containerizer__every_failed_allocation_in_launch_leaves_nothing_behind);
  tcase_add_test(tc, test_containerizer__posix_isolators_report_usage_without_cgroups);
  tcase_add_test(tc, test_devices__rules_parse_and_the_program_allows_exactly_the_whitelist);
  tcase_add_test(tc, test_devices__v2_device_program_denies_what_the_whitelist_does_not_allow);
  tcase_add_test(tc, test_cgroups__v2_controllers_set_the_limits_when_the_unified_mount_has_them);
  tcase_add_test(tc, test_cgroups__v2_paths_write_and_read_the_unified_files_of_a_fake_cgroup2_tree);
  tcase_add_test(tc, test_containerizer__async_launch_reports_on_the_loop_and_can_be_destroyed_midway);
  tcase_add_test(tc, test_containerizer__every_failed_allocation_in_launch_async_leaves_nothing_behind);
  tcase_add_test(tc, test_containerizer__init_is_the_exec_ed_helper_holding_only_its_own_descriptors);
  tcase_add_test(tc, test_containerizer__missing_helper_and_malformed_plans_are_refused);
  tcase_add_test(tc, test_containerizer__image_user_numeric_and_named_forms_resolve_in_the_image);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
