/* Images from the local registry (OCI layout, docker-archive, legacy
 * layout) built with umoci and skopeo, provisioned with the overlay and
 * copy backends; digest lies; async provisioning; recovery; the launch
 * command rules. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "base/alloc.h"
#include "provisioner/image.h"
#include "provisioner/launch.h"
#include "provisioner/provisioner.h"
#include "provtest.h"

static const char *images[] = {"ocibox:latest", "ocitar:latest", "busybox:latest",
                               "legacy:latest"};
#define NIMAGES 4

static void check_config(const mesos__image_config *c) {
  ck_assert_ptr_nonnull(c->entrypoint);
  ck_assert_str_eq(c->entrypoint[0], "/bin/busybox");
  ck_assert_ptr_null(c->entrypoint[1]);
  ck_assert_ptr_nonnull(c->cmd);
  ck_assert_str_eq(c->cmd[0], "sh");
  ck_assert_str_eq(c->cmd[1], "-c");
  ck_assert_str_eq(c->cmd[2], "echo hi");
  ck_assert_ptr_null(c->cmd[3]);
  ck_assert_str_eq(c->env[0], "FOO=bar");
  ck_assert_str_eq(c->env[1], "PATH=/bin");
  ck_assert_str_eq(c->working_dir, "/etc");
  ck_assert_str_eq(c->user, "1000:1000");
}

START_TEST(test_image__every_layout_resolves_with_its_config_and_layers) {
  PROV_NEED_IMAGES();
  char reg[PATH_MAX];
  provtest_path(reg, "registry");
  mesos__image *img = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__image_open(reg, images[_i], &img, &err), &err);
  ck_assert_int_eq(img->nlayers, 3);
  check_config(&img->config);
  mesos__image_layout want[] = {MESOS__IMAGE_OCI, MESOS__IMAGE_OCI, MESOS__IMAGE_DOCKER,
                                MESOS__IMAGE_DOCKER_LEGACY};
  ck_assert_int_eq(img->layout, want[_i]);
  for (size_t i = 0; i < img->nlayers; i++)
    ck_assert_int_eq(img->layers[i].verify, _i == 3 ? MESOS__LAYER_VERIFY_NONE
                                            : _i == 2 ? MESOS__LAYER_VERIFY_PLAIN
                                                      : MESOS__LAYER_VERIFY_RAW);
  mesos__image_free(img);
}
END_TEST

START_TEST(test_image__missing_images_and_tags_are_not_found) {
  PROV_NEED_IMAGES();
  char reg[PATH_MAX];
  provtest_path(reg, "registry");
  mesos__image *img = NULL;
  mesos_error *err = NULL;
  const char *refs[] = {"nosuch", "nosuch:latest", "ocibox:v2", "busybox:v2"};
  for (int i = 0; i < 4; i++) {
    mesos_status st = mesos__image_open(reg, refs[i], &img, &err);
    ck_assert_msg(st == MESOS_ENOTFOUND, "%s: %s %s", refs[i], mesos_status_name(st),
                  mesos_test_errmsg(&err));
    mesos_error_free(err);
    err = NULL;
  }
  ck_assert_int_eq(mesos__image_open(reg, "../registry/ocibox", &img, &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST

static mesos__provisioner *new_prov(const char *backend, char work[PATH_MAX], char store[PATH_MAX]) {
  char scratch[PATH_MAX], reg[PATH_MAX];
  provtest_scratch(scratch);
  provtest_path(reg, "registry");
  snprintf(work, PATH_MAX, "%s/work", scratch);
  snprintf(store, PATH_MAX, "%s/store", scratch);
  mesos__provisioner_opts o = {0};
  o.registry_dir = reg;
  o.store_dir = store;
  o.work_dir = work;
  o.backend = backend;
  mesos__provisioner *p = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__provisioner_new(&o, &p, &err), &err);
  return p;
}

/* Runs /bin/busybox inside the rootfs (chroot) and returns its exit code:
 * the image is usable, not just present. */
static int run_in_rootfs(const char *rootfs, const char *script) {
  pid_t pid = fork();
  if (pid == 0) {
    if (chroot(rootfs) != 0 || chdir("/") != 0) _exit(100);
    execl("/bin/busybox", "sh", "-c", script, (char *)NULL);
    _exit(101);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

/* Whether the fixture's source file system could not hold the xattr. */
static int provtest_fixture_lacks_xattr(void) {
  char probe[PATH_MAX];
  provtest_path(probe, "canary/secret");
  return setxattr(probe, "user.probe", "1", 1, 0) != 0;
}

static void check_rootfs(const char *rootfs) {
  char p[PATH_MAX];
  struct stat sb;
  snprintf(p, sizeof p, "%s/bin/busybox", rootfs);
  ck_assert_msg(stat(p, &sb) == 0 && (sb.st_mode & 0111), "no bin/busybox in %s", rootfs);
  ino_t bb = sb.st_ino;
  /* bin/bb2 is a hard link to bin/busybox in the layer, and stays one. */
  snprintf(p, sizeof p, "%s/bin/bb2", rootfs);
  ck_assert_int_eq(stat(p, &sb), 0);
  ck_assert_msg(sb.st_ino == bb, "bin/bb2 is no longer a hard link of bin/busybox");
  snprintf(p, sizeof p, "%s/etc/hello", rootfs);
  ck_assert_int_eq(stat(p, &sb), 0);
  snprintf(p, sizeof p, "%s/etc/gone", rootfs);
  ck_assert_msg(lstat(p, &sb) != 0 && errno == ENOENT, "the whiteout did not hide etc/gone");
  snprintf(p, sizeof p, "%s/etc/.wh.gone", rootfs);
  ck_assert_msg(lstat(p, &sb) != 0, "a whiteout marker is visible in the rootfs");
  /* The image's user.* xattr survives extraction and the copy backend. */
  snprintf(p, sizeof p, "%s/etc/hello", rootfs);
  char xv[16] = "";
  if (getxattr(p, "user.test", xv, sizeof xv - 1) < 0)
    ck_assert_msg(errno == ENOTSUP || provtest_fixture_lacks_xattr(),
                  "user.test lost on etc/hello: %s", strerror(errno));
  else
    ck_assert_str_eq(xv, "img");
  /* The opaque /opt of the top layer hides the base layer's opt/old. */
  snprintf(p, sizeof p, "%s/opt/new", rootfs);
  ck_assert_int_eq(stat(p, &sb), 0);
  snprintf(p, sizeof p, "%s/opt/old", rootfs);
  ck_assert_msg(lstat(p, &sb) != 0, "the opaque directory did not hide opt/old");
  ck_assert_int_eq(run_in_rootfs(rootfs, "test -f /etc/hello && ! test -e /etc/gone && "
                                         "test -f /opt/new && ! test -e /opt/old"),
                   0);
}

START_TEST(test_provision__each_layout_and_backend_gives_a_working_rootfs_reused_from_the_store) {
  PROV_NEED_IMAGES();
  PROV_NEED_ROOT();
  const char *backend = _i % 2 ? "copy" : "overlay";
  const char *image = images[_i / 2];
  if (!(_i % 2)) PROV_NEED_OVERLAY();
  char work[PATH_MAX], store[PATH_MAX];
  mesos__provisioner *p = new_prov(backend, work, store);
  mesos__provision_info *a = NULL, *b = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__provisioner_provision_sync(p, "c1", image, false, &a, &err), &err);
  ck_assert_int_eq(a->extracted, 3);
  check_rootfs(a->rootfs);
  check_config(&a->config);
  ck_assert_msg(strstr(a->rootfs, "/provisioner/containers/c1/backends/") != NULL, "%s", a->rootfs);
  /* A second container reuses the store: no extraction. */
  ck_assert_mesos_ok(mesos__provisioner_provision_sync(p, "c2", image, false, &b, &err), &err);
  ck_assert_int_eq(b->extracted, 0);
  ck_assert_uint_eq(mesos__provisioner_extractions(p), 3);
  check_rootfs(b->rootfs);
  ck_assert_str_ne(a->rootfs, b->rootfs);
  /* The containers are separate: a write in one is not seen in the other. */
  ck_assert_int_eq(run_in_rootfs(a->rootfs, "echo x > /etc/mine"), 0);
  ck_assert_int_eq(run_in_rootfs(b->rootfs, "! test -e /etc/mine"), 0);
  ck_assert_mesos_ok(mesos__provisioner_destroy(p, "c1", &err), &err);
  ck_assert_mesos_ok(mesos__provisioner_destroy(p, "c2", &err), &err);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 0);
  struct stat sb;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/provisioner/containers/c1", work);
  ck_assert(stat(dir, &sb) != 0 && errno == ENOENT);
  /* The store stays for the next container. */
  snprintf(dir, sizeof dir, "%s/layers/%s/%s", store, a->layers[0],
           _i % 2 ? "rootfs" : "rootfs.overlay");
  ck_assert_int_eq(stat(dir, &sb), 0);
  ck_assert_mesos_ok(mesos__provisioner_destroy(p, "never-existed", &err), &err);
  /* The store's image index names the image and its layers. */
  snprintf(dir, sizeof dir, "%s/storedImages", store);
  FILE *idx = fopen(dir, "r");
  ck_assert_ptr_nonnull(idx);
  char text[4096] = "";
  size_t tl = fread(text, 1, sizeof text - 1, idx);
  fclose(idx);
  text[tl] = '\0';
  ck_assert_msg(strstr(text, image) && strstr(text, a->layers[0]) && strstr(text, a->layers[2]),
                "storedImages: %s", text);
  mesos__provision_info_free(a);
  mesos__provision_info_free(b);
  mesos__provisioner_free(p);
}
END_TEST

static int count_entries(const char *dir) {
  char cmd[PATH_MAX + 64];
  snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", dir);
  FILE *f = popen(cmd, "r");
  int n = -1;
  if (f && fscanf(f, "%d", &n) != 1) n = -1;
  if (f) pclose(f);
  return n;
}

START_TEST(test_provision__images_that_lie_about_digests_are_refused_and_leave_no_layer) {
  PROV_NEED_IMAGES();
  PROV_NEED_ROOT();
  PROV_NEED_OVERLAY();
  const char *liars[] = {"liar:latest", "lieoci:latest"};
  char work[PATH_MAX], store[PATH_MAX], dir[PATH_MAX];
  mesos__provisioner *p = new_prov(NULL, work, store);
  mesos__provision_info *a = NULL;
  for (int i = 0; i < 2; i++) {
    mesos_error *err = NULL;
    mesos_status st = mesos__provisioner_provision_sync(p, "liar", liars[i], false, &a, &err);
    ck_assert_msg(st == MESOS_EPROTO, "%s: %s %s", liars[i], mesos_status_name(st),
                  mesos_test_errmsg(&err));
    ck_assert_msg(strstr(mesos_error_message(err), "digest") != NULL, "%s",
                  mesos_error_message(err));
    mesos_error_free(err);
  }
  /* The honest base layer may be in the store; the lying top layer is not,
   * staging is empty, and the container got nothing. */
  snprintf(dir, sizeof dir, "%s/layers", store);
  ck_assert_int_le(count_entries(dir), 4);
  snprintf(dir, sizeof dir, "%s/layers/%s", store, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_int_eq(count_entries(dir), 0);
  snprintf(dir, sizeof dir, "%s/staging", store);
  ck_assert_int_eq(count_entries(dir), 0);
  snprintf(dir, sizeof dir, "%s/provisioner/containers", work);
  ck_assert_int_eq(count_entries(dir), 0);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 0);
  mesos__provisioner_free(p);
}
END_TEST

START_TEST(test_provision__bad_arguments_are_refused) {
  char work[PATH_MAX], store[PATH_MAX];
  mesos__provisioner *p = new_prov("copy", work, store);
  mesos__provision_info *a = NULL;
  mesos_error *err = NULL;
  const char *ids[] = {"", "..", "a/b", "x y"};
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(mesos__provisioner_provision_sync(p, ids[i], "busybox", false, &a, &err),
                     MESOS_EINVAL);
    mesos_error_free(err);
    err = NULL;
  }
  ck_assert_int_eq(mesos__provisioner_destroy(p, "../x", &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  mesos__provisioner_free(p);
  mesos__provisioner_opts o = {0};
  o.registry_dir = "/nonexistent";
  o.work_dir = work;
  o.store_dir = store;
  o.backend = "aufs";
  ck_assert_int_eq(mesos__provisioner_new(&o, &p, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  o.backend = NULL;
  o.store_dir = "/tmp/a:b";
  ck_assert_int_eq(mesos__provisioner_new(&o, &p, &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST

typedef struct {
  int done;
  mesos_status st;
  uint64_t extracted;
} async_res;

static void on_provisioned(mesos_status st, mesos__provision_info *info, mesos_error *err,
                           void *ud) {
  async_res *r = ud;
  r->st = st;
  r->extracted = info ? info->extracted : 0;
  if (st != MESOS_OK) fprintf(stderr, "async provision: %s\n", mesos_error_message(err));
  mesos__provision_info_free(info);
  mesos_error_free(err);
  r->done = 1;
}

static void on_destroyed(mesos_status st, mesos_error *err, void *ud) {
  async_res *r = ud;
  r->st = st;
  if (st != MESOS_OK) fprintf(stderr, "async destroy: %s\n", mesos_error_message(err));
  mesos_error_free(err);
  r->done = 1;
}

START_TEST(test_provision__concurrent_async_provisions_extract_each_layer_once) {
  PROV_NEED_IMAGES();
  PROV_NEED_ROOT();
  PROV_NEED_OVERLAY();
  char work[PATH_MAX], store[PATH_MAX];
  mesos__provisioner *p = new_prov(NULL, work, store);
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  async_res r[4] = {{0}};
  char id[16];
  for (int i = 0; i < 4; i++) {
    snprintf(id, sizeof id, "a%d", i);
    ck_assert_mesos_ok(
        mesos__provisioner_provision(p, loop, id, "ocibox:latest", false, on_provisioned, &r[i], &err),
        &err);
  }
  for (int i = 0; i < 4; i++) {
    ck_assert(mesos_test_run_until(loop, &r[i].done, 20000));
    ck_assert_int_eq(r[i].st, MESOS_OK);
  }
  ck_assert_uint_eq(mesos__provisioner_extractions(p), 3);
  ck_assert_uint_eq(r[0].extracted + r[1].extracted + r[2].extracted + r[3].extracted, 3);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 4);
  /* An asynchronous destroy. */
  async_res d = {0};
  ck_assert_mesos_ok(mesos__provisioner_destroy_async(p, loop, "a0", on_destroyed, &d, &err), &err);
  ck_assert(mesos_test_run_until(loop, &d.done, 20000));
  ck_assert_int_eq(d.st, MESOS_OK);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 3);
  ck_assert_int_eq(mesos__provisioner_destroy_async(p, loop, "../x", on_destroyed, &d, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  /* Recovery keeps the known containers and removes the others. */
  const char *known[] = {"a1", "a3"};
  ck_assert_mesos_ok(mesos__provisioner_recover(p, known, 2, &err), &err);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 2);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/provisioner/containers", work);
  ck_assert_int_eq(count_entries(dir), 2);
  ck_assert_mesos_ok(mesos__provisioner_recover(p, NULL, 0, &err), &err);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 0);
  ck_assert_int_eq(count_entries(dir), 0);
  mesos__provisioner_free(p);
  mesos_loop_free(loop);
}
END_TEST

/* Image.cached: true serves what the last read of the same reference
 * found (no registry read while its layers are in the store); false reads
 * the registry every time and refreshes what is remembered. */
START_TEST(test_provision__cached_images_skip_the_registry_and_uncached_ones_read_it) {
  PROV_NEED_IMAGES();
  PROV_NEED_ROOT();
  char work[PATH_MAX], store[PATH_MAX];
  mesos__provisioner *p = new_prov("copy", work, store);
  mesos__provision_info *a = NULL;
  mesos_error *err = NULL;
  /* Nothing remembered yet: cached=true reads the registry. */
  ck_assert_mesos_ok(mesos__provisioner_provision_sync(p, "k1", "ocibox:latest", true, &a, &err), &err);
  ck_assert_uint_eq(mesos__provisioner_registry_reads(p), 1);
  ck_assert_int_eq(a->extracted, 3);
  mesos__provision_info_free(a);
  const struct {
    const char *id;
    bool cached;
    uint64_t reads;
  } steps[] = {{"k2", true, 1}, {"k3", true, 1}, {"k4", false, 2}, {"k5", true, 2}};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    a = NULL;
    ck_assert_mesos_ok(
        mesos__provisioner_provision_sync(p, steps[i].id, "ocibox:latest", steps[i].cached, &a, &err),
        &err);
    ck_assert_msg(mesos__provisioner_registry_reads(p) == steps[i].reads, "%s: %llu reads",
                  steps[i].id, (unsigned long long)mesos__provisioner_registry_reads(p));
    ck_assert_int_eq(a->extracted, 0);
    check_rootfs(a->rootfs);
    check_config(&a->config);
    ck_assert_ptr_nonnull(a->layers[2]);
    ck_assert_ptr_null(a->layers[3]);
    mesos__provision_info_free(a);
  }
  /* Another reference is not served from the first one's memory. */
  a = NULL;
  ck_assert_mesos_ok(mesos__provisioner_provision_sync(p, "k6", "busybox:latest", true, &a, &err), &err);
  ck_assert_uint_eq(mesos__provisioner_registry_reads(p), 3);
  mesos__provision_info_free(a);
  const char *ids[] = {"k1", "k2", "k3", "k4", "k5", "k6"};
  for (size_t i = 0; i < 6; i++) ck_assert_mesos_ok(mesos__provisioner_destroy(p, ids[i], &err), &err);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 0);
  mesos__provisioner_free(p);
}
END_TEST

START_TEST(test_provision__a_restarted_provisioner_cleans_orphans_and_staging) {
  PROV_NEED_IMAGES();
  PROV_NEED_ROOT();
  PROV_NEED_OVERLAY();
  char work[PATH_MAX], store[PATH_MAX], reg[PATH_MAX], dir[PATH_MAX];
  mesos__provisioner *p = new_prov(NULL, work, store);
  mesos__provision_info *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__provisioner_provision_sync(p, "orphan", "busybox:latest", false, &a, &err), &err);
  mesos__provision_info_free(a);
  mesos__provisioner_free(p); /* the agent dies; the mount stays */
  snprintf(dir, sizeof dir, "%s/staging/half-layer/rootfs", store);
  char cmd[PATH_MAX + 32];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && touch '%s/x'", dir, dir);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 1);
  provtest_path(reg, "registry");
  mesos__provisioner_opts o = {0};
  o.registry_dir = reg;
  o.store_dir = store;
  o.work_dir = work;
  ck_assert_mesos_ok(mesos__provisioner_new(&o, &p, &err), &err);
  snprintf(dir, sizeof dir, "%s/staging", store);
  ck_assert_int_eq(count_entries(dir), 0);
  ck_assert_mesos_ok(mesos__provisioner_recover(p, NULL, 0, &err), &err);
  ck_assert_int_eq(provtest_mounts_below(work, 0), 0);
  mesos__provisioner_free(p);
}
END_TEST

/* ------------------------------------------------------------ launch */

static char *E1[] = {"/bin/busybox", NULL};
static char *C2[] = {"sh", "-c", NULL};
static char *ENV[] = {"FOO=image", "PATH=/bin", NULL};

static void argv_eq(char **got, const char *const *want) {
  size_t i = 0;
  for (; want[i]; i++) {
    ck_assert_ptr_nonnull(got[i]);
    ck_assert_str_eq(got[i], want[i]);
  }
  ck_assert_ptr_null(got[i]);
}

START_TEST(test_launch__command_info_and_image_merge_as_mesos_does) {
  mesos__image_config cfg = {E1, C2, ENV, NULL, "nobody"};
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  mesos__launch_cmd lc;
  mesos_error *err = NULL;

  /* shell=true (default), value set: /bin/sh -c value; E and C ignored. */
  cmd.value = "echo hi";
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, &cmd, "/mnt/mesos/sandbox", &lc, &err), &err);
  argv_eq(lc.argv, (const char *[]){"/bin/sh", "-c", "echo hi", NULL});
  ck_assert_str_eq(lc.path, "/bin/sh");
  ck_assert_str_eq(lc.working_dir, "/mnt/mesos/sandbox");
  ck_assert_str_eq(lc.user, "nobody");
  mesos__launch_cmd_clear(&lc);

  /* shell=true without a value: error. */
  cmd.value = NULL;
  ck_assert_int_eq(mesos__image_launch_command(&cfg, &cmd, "/s", &lc, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;

  /* shell=false, value set: exec value with arguments. */
  cmd.has_shell = 1;
  cmd.shell = 0;
  cmd.value = "/bin/ls";
  char *args[] = {"ls", "-l"};
  cmd.arguments = args;
  cmd.n_arguments = 2;
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, &cmd, "/s", &lc, &err), &err);
  ck_assert_str_eq(lc.path, "/bin/ls");
  argv_eq(lc.argv, (const char *[]){"ls", "-l", NULL});
  mesos__launch_cmd_clear(&lc);

  /* shell=false, no value, no arguments: E + C. */
  cmd.value = NULL;
  cmd.n_arguments = 0;
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, &cmd, "/s", &lc, &err), &err);
  argv_eq(lc.argv, (const char *[]){"/bin/busybox", "sh", "-c", NULL});
  ck_assert_str_eq(lc.path, "/bin/busybox");
  mesos__launch_cmd_clear(&lc);

  /* shell=false, no value, arguments: E + arguments. */
  cmd.n_arguments = 2;
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, &cmd, "/s", &lc, &err), &err);
  argv_eq(lc.argv, (const char *[]){"/bin/busybox", "ls", "-l", NULL});
  mesos__launch_cmd_clear(&lc);

  /* ... without E: C[0] + arguments. */
  mesos__image_config noe = {NULL, C2, ENV, "/work", NULL};
  ck_assert_mesos_ok(mesos__image_launch_command(&noe, &cmd, "/s", &lc, &err), &err);
  argv_eq(lc.argv, (const char *[]){"sh", "ls", "-l", NULL});
  ck_assert_str_eq(lc.working_dir, "/work");
  ck_assert_ptr_null(lc.user);
  mesos__launch_cmd_clear(&lc);

  /* ... with neither: error, with or without arguments. */
  mesos__image_config none = {NULL, NULL, ENV, NULL, NULL};
  ck_assert_int_eq(mesos__image_launch_command(&none, &cmd, "/s", &lc, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  cmd.n_arguments = 0;
  ck_assert_int_eq(mesos__image_launch_command(&none, &cmd, "/s", &lc, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;

  /* Env: image first, the command's overrides; user from the command. */
  Mesos__V1__Environment env = MESOS__V1__ENVIRONMENT__INIT;
  Mesos__V1__Environment__Variable v1 = MESOS__V1__ENVIRONMENT__VARIABLE__INIT,
                                   v2 = MESOS__V1__ENVIRONMENT__VARIABLE__INIT;
  v1.name = "FOO";
  v1.value = "task";
  v2.name = "MESOS_SANDBOX";
  v2.value = "/mnt/mesos/sandbox";
  Mesos__V1__Environment__Variable *vars[] = {&v1, &v2};
  env.variables = vars;
  env.n_variables = 2;
  cmd.environment = &env;
  cmd.user = "alice";
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, &cmd, "/s", &lc, &err), &err);
  argv_eq(lc.env, (const char *[]){"FOO=task", "PATH=/bin", "MESOS_SANDBOX=/mnt/mesos/sandbox",
                                   NULL});
  ck_assert_str_eq(lc.user, "alice");
  mesos__launch_cmd_clear(&lc);

  /* No CommandInfo at all: the image decides. */
  ck_assert_mesos_ok(mesos__image_launch_command(&cfg, NULL, "/s", &lc, &err), &err);
  argv_eq(lc.argv, (const char *[]){"/bin/busybox", "sh", "-c", NULL});
  mesos__launch_cmd_clear(&lc);
}
END_TEST

START_TEST(test_image_config__malformed_configs_are_refused) {
  const char *bad[] = {"[]", "{\"config\":{\"Cmd\":[1]}}", "{\"config\":{\"Env\":{}}}",
                       "{\"config\":{\"User\":5}}", "{\"config\":7}"};
  mesos__image_config c;
  mesos_error *err = NULL;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(mesos__image_config_parse(bad[i], strlen(bad[i]), &c, &err) == MESOS_EPROTO, "%s",
                  bad[i]);
    mesos_error_free(err);
    err = NULL;
  }
  const char *old = "{\"container_config\":{\"Cmd\":\"/bin/true\",\"Env\":null}}";
  ck_assert_mesos_ok(mesos__image_config_parse(old, strlen(old), &c, &err), &err);
  ck_assert_str_eq(c.cmd[0], "/bin/true");
  ck_assert_ptr_null(c.env[0]);
  mesos__image_config_clear(&c);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("provisioner");
  TCase *tc = tcase_create("provisioner");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_image__every_layout_resolves_with_its_config_and_layers, 0, NIMAGES);
  tcase_add_test(tc, test_image__missing_images_and_tags_are_not_found);
  tcase_add_loop_test(
      tc, test_provision__each_layout_and_backend_gives_a_working_rootfs_reused_from_the_store, 0,
      NIMAGES * 2);
  tcase_add_test(tc, test_provision__images_that_lie_about_digests_are_refused_and_leave_no_layer);
  tcase_add_test(tc, test_provision__bad_arguments_are_refused);
  tcase_add_test(tc, test_provision__concurrent_async_provisions_extract_each_layer_once);
  tcase_add_test(tc, test_provision__cached_images_skip_the_registry_and_uncached_ones_read_it);
  tcase_add_test(tc, test_provision__a_restarted_provisioner_cleans_orphans_and_staging);
  tcase_add_test(tc, test_launch__command_info_and_image_merge_as_mesos_does);
  tcase_add_test(tc, test_image_config__malformed_configs_are_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  provtest_setup();
  return mesos_test_main(make_suite());
}
