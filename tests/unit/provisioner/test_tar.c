/* The safe tar extractor, the layer stream and the JSON/reference parsers
 * against well-formed and hostile input built by make_fixtures.sh. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base/alloc.h"
#include "provisioner/image.h"
#include "provisioner/pjson.h"
#include "provisioner/tar.h"
#include "provisioner/zin.h"
#include "provtest.h"

/* Extracts hostile/<name> into a fresh root; returns the status and
 * leaves the message in *msg (static). */
static mesos_status extract_fixture(const char *name, mesos__tar_whiteout wh, char root[PATH_MAX],
                                    char *msg, size_t msglen) {
  char scratch[PATH_MAX], file[PATH_MAX];
  provtest_scratch(scratch);
  snprintf(root, PATH_MAX, "%s/root", scratch);
  ck_assert_int_eq(mkdir(root, 0755), 0);
  snprintf(file, sizeof file, "%s/hostile/%s", prov_fix, name);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "open %s", file);
  int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(rfd, 0);
  mesos__zin *z = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__zin_open(fd, 0, UINT64_MAX, (uint64_t)1 << 30, &z, &err);
  if (st == MESOS_OK) {
    mesos__tar_opts o = {0};
    o.whiteouts = wh;
    o.preserve_owner = geteuid() == 0;
    o.max_file_size = (uint64_t)1 << 30;
    st = mesos__tar_extract_zin(rfd, z, &o, NULL, &err);
  }
  snprintf(msg, msglen, "%s", err ? mesos_error_message(err) : "");
  mesos_error_free(err);
  mesos__zin_free(z);
  close(rfd);
  close(fd);
  return st;
}

static void assert_canary_intact(void) {
  char p[PATH_MAX];
  struct stat sb;
  provtest_path(p, "canary/pwned");
  ck_assert_msg(lstat(p, &sb) != 0 && errno == ENOENT, "something was written into the canary");
  provtest_path(p, "canary/secret");
  ck_assert_int_eq(lstat(p, &sb), 0);
  ck_assert_msg(sb.st_nlink == 1, "the canary's secret got a hard link");
  ck_assert_int_eq(sb.st_size, 7);
}

typedef struct {
  const char *file;
  mesos_status want;
  const char *msg_part;
} hostile_case;

static const hostile_case hostile[] = {
    {"dotdot.tar", MESOS_EINVAL, "'..'"},
    {"absolute.tar", MESOS_EINVAL, "absolute path"},
    {"symlink_escape.tar", MESOS_EINVAL, "symbolic link"},
    {"symlink_rel_escape.tar", MESOS_EINVAL, "symbolic link"},
    {"hardlink_abs.tar", MESOS_EINVAL, "hard link target refused"},
    {"hardlink_canary.tar", MESOS_EINVAL, "hard link target refused"},
    {"hardlink_dotdot.tar", MESOS_EINVAL, "hard link target refused"},
    {"hardlink_via_symlink.tar", MESOS_EINVAL, "symbolic link"},
    {"device.tar", MESOS_EPERM, "device node refused"},
    {"blockdev.tar", MESOS_EPERM, "device node refused"},
    {"huge.tar", MESOS_ELIMIT, "over the"},
    {"truncated.tar.gz", MESOS_EPROTO, "truncated"},
    {"corrupt.tar.gz", MESOS_EPROTO, "corrupt gzip"},
    {"badsum.tar", MESOS_EPROTO, "checksum"},
    {"truncated.tar", MESOS_EPROTO, "truncated"},
};

START_TEST(test_tar__hostile_layers_are_refused_and_write_nothing_outside) {
  const hostile_case *c = &hostile[_i];
  char root[PATH_MAX], msg[1024];
  mesos_status st = extract_fixture(c->file, MESOS__TAR_WHITEOUT_KEEP, root, msg, sizeof msg);
  ck_assert_msg(st == c->want, "%s: got %s (%s), want %s", c->file, mesos_status_name(st), msg,
                mesos_status_name(c->want));
  ck_assert_msg(strstr(msg, c->msg_part) != NULL, "%s: message '%s' lacks '%s'", c->file, msg,
                c->msg_part);
  assert_canary_intact();
  struct stat sb;
  ck_assert_msg(lstat("/etc/passwd", &sb) == 0 && sb.st_nlink == 1, "/etc/passwd got a link");
}
END_TEST

static void check_good_tree(const char *root, bool overlay) {
  char p[PATH_MAX], buf[64];
  struct stat sb;
  snprintf(p, sizeof p, "%s/etc/hosts", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  ino_t hosts_ino = sb.st_ino;
  ck_assert(S_ISREG(sb.st_mode));
  ck_assert_int_eq(sb.st_size, 20);
  snprintf(p, sizeof p, "%s/etc/hosts2", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  ck_assert_msg(sb.st_ino == hosts_ino, "hard link is not the same inode");
  snprintf(p, sizeof p, "%s/etc/link", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  ck_assert(S_ISLNK(sb.st_mode));
  ssize_t n = readlink(p, buf, sizeof buf - 1);
  ck_assert_int_eq(n, 10);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "/etc/hosts");
  snprintf(p, sizeof p, "%s/bin/tool", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 07777, 04755);
  snprintf(p, sizeof p, "%s/%s/%s", root,
           "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
           "dddddddddddddddddddddddddddddddddddddddddddd",
           "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
           "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
           "ff");
  ck_assert_msg(lstat(p, &sb) == 0 && sb.st_size == 5, "long name entry missing");
  snprintf(p, sizeof p, "%s/fifo", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  ck_assert(S_ISFIFO(sb.st_mode));
  snprintf(p, sizeof p, "%s/opq/new", root);
  ck_assert_int_eq(lstat(p, &sb), 0);
  if (overlay) {
    snprintf(p, sizeof p, "%s/etc/gone", root);
    ck_assert_int_eq(lstat(p, &sb), 0);
    ck_assert(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0));
    snprintf(p, sizeof p, "%s/etc/.wh.gone", root);
    ck_assert(lstat(p, &sb) != 0);
    snprintf(p, sizeof p, "%s/opq", root);
    char v[4] = "";
    ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
    ck_assert_int_eq(v[0], 'y');
    snprintf(p, sizeof p, "%s/opq/.wh..wh..opq", root);
    ck_assert(lstat(p, &sb) != 0);
  } else {
    snprintf(p, sizeof p, "%s/etc/.wh.gone", root);
    ck_assert_int_eq(lstat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/opq/.wh..wh..opq", root);
    ck_assert_int_eq(lstat(p, &sb), 0);
  }
}

START_TEST(test_tar__pax_gnu_and_gzip_layers_extract_with_links_modes_and_long_names) {
  static const char *files[] = {"good_pax.tar", "good_gnu.tar", "good.tar.gz"};
  for (int i = 0; i < 3; i++) {
    char root[PATH_MAX], msg[1024];
    mesos_status st = extract_fixture(files[i], MESOS__TAR_WHITEOUT_KEEP, root, msg, sizeof msg);
    ck_assert_msg(st == MESOS_OK, "%s: %s", files[i], msg);
    check_good_tree(root, false);
  }
  assert_canary_intact();
}
END_TEST

START_TEST(test_tar__overlay_mode_converts_whiteouts) {
  PROV_NEED_ROOT(); /* mknod and trusted.* xattrs */
  char root[PATH_MAX], msg[1024];
  mesos_status st = extract_fixture("good_pax.tar", MESOS__TAR_WHITEOUT_OVERLAY, root, msg,
                                    sizeof msg);
  ck_assert_msg(st == MESOS_OK, "%s", msg);
  check_good_tree(root, true);
}
END_TEST

START_TEST(test_tar__user_xattrs_are_applied_and_trusted_ones_dropped) {
  char root[PATH_MAX], msg[1024], p[PATH_MAX], v[16] = "";
  mesos_status st = extract_fixture("xattrs.tar", MESOS__TAR_WHITEOUT_OVERLAY, root, msg,
                                    sizeof msg);
  ck_assert_msg(st == MESOS_OK, "%s", msg);
  snprintf(p, sizeof p, "%s/xa", root);
  ssize_t n = getxattr(p, "user.test", v, sizeof v - 1);
  if (n < 0 && errno == ENOTSUP) MESOS_TEST_SKIP("no user xattrs on this file system");
  ck_assert_int_eq(n, 2);
  ck_assert_str_eq(v, "v1");
  ck_assert_int_lt(getxattr(p, "trusted.overlay.redirect", v, sizeof v), 0);
}
END_TEST

START_TEST(test_tar__limits_on_file_size_total_and_entries_are_enforced) {
  char scratch[PATH_MAX], file[PATH_MAX];
  provtest_scratch(scratch);
  provtest_path(file, "hostile/good_pax.tar");
  mesos__tar_opts variants[3] = {{0}, {0}, {0}};
  variants[0].max_file_size = 10;
  variants[1].max_total_size = 25;
  variants[2].max_entries = 3;
  for (int i = 0; i < 3; i++) {
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/r%d", scratch, i);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    int fd = open(file, O_RDONLY), rfd = open(root, O_RDONLY | O_DIRECTORY);
    mesos__zin *z = NULL;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__zin_open(fd, 0, UINT64_MAX, 1 << 20, &z, &err), &err);
    ck_assert_int_eq(mesos__tar_extract_zin(rfd, z, &variants[i], NULL, &err), MESOS_ELIMIT);
    mesos_error_free(err);
    mesos__zin_free(z);
    close(fd);
    close(rfd);
  }
}
END_TEST

START_TEST(test_tar__gzip_bomb_stops_at_the_decompressed_limit) {
  char file[PATH_MAX];
  provtest_path(file, "hostile/good.tar.gz");
  int fd = open(file, O_RDONLY);
  mesos__zin *z = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__zin_open(fd, 0, UINT64_MAX, 4096, &z, &err), &err);
  ck_assert_int_eq(mesos__zin_drain(z, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  mesos__zin_free(z);
  close(fd);
}
END_TEST

START_TEST(test_tar__clean_path_refuses_escapes_and_normalises) {
  char *o = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tar_clean_path("./a//b/./c/", &o, &err), &err);
  ck_assert_str_eq(o, "a/b/c");
  mesos__free(o);
  ck_assert_mesos_ok(mesos__tar_clean_path("./", &o, &err), &err);
  ck_assert_str_eq(o, "");
  mesos__free(o);
  const char *bad[] = {"/etc/passwd", "../x", "a/../../x", "a/.."};
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(mesos__tar_clean_path(bad[i], &o, &err), MESOS_EINVAL);
    mesos_error_free(err);
    err = NULL;
  }
}
END_TEST

START_TEST(test_pjson__parses_nesting_escapes_and_refuses_bad_or_deep_input) {
  const char *doc = "{\"a\":[1,2,{\"b\":\"x\\u00e9\\ud83d\\ude00\\n\"}],\"c\":null,\"d\":true,"
                    "\"a\":[-3.5e2]}";
  mesos__pj *v = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__pj_parse(doc, strlen(doc), &v, &err), &err);
  const mesos__pj *a = mesos__pj_get(v, "a");
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(a->n, 1); /* last duplicate wins */
  ck_assert_str_eq(a->items[0]->s, "-3.5e2");
  ck_assert_int_eq(mesos__pj_get(v, "d")->b, 1);
  mesos__pj_free(v);
  const char *inner = "[{\"b\":\"x\\u00e9\\ud83d\\ude00\\n\"}]";
  ck_assert_mesos_ok(mesos__pj_parse(inner, strlen(inner), &v, &err), &err);
  ck_assert_str_eq(mesos__pj_str(mesos__pj_get(v->items[0], "b")), "x\xc3\xa9\xf0\x9f\x98\x80\n");
  mesos__pj_free(v);
  const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "01", "[1] x", "{\"a\":tru}",
                       "\"a\nb\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(mesos__pj_parse(bad[i], strlen(bad[i]), &v, &err) == MESOS_EINVAL, "%s", bad[i]);
    mesos_error_free(err);
    err = NULL;
  }
  char deep[200];
  memset(deep, '[', sizeof deep);
  ck_assert_int_eq(mesos__pj_parse(deep, sizeof deep, &v, &err), MESOS_ELIMIT);
  mesos_error_free(err);
}
END_TEST

START_TEST(test_image_ref__parses_and_reprints_as_mesos_does) {
  struct {
    const char *in, *reg, *repo, *tag, *out;
  } ok[] = {
      {"busybox", NULL, "busybox", NULL, "busybox"},
      {"busybox:latest", NULL, "busybox", "latest", "busybox:latest"},
      {"library/busybox:1.35", NULL, "library/busybox", "1.35", "library/busybox:1.35"},
      {"localhost:5000/a/b:t", "localhost:5000", "a/b", "t", "localhost:5000/a/b:t"},
      {"registry.example.com/x", "registry.example.com", "x", NULL, "registry.example.com/x"},
      {"localhost/x", "localhost", "x", NULL, "localhost/x"},
  };
  mesos_error *err = NULL;
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    mesos__image_ref r;
    ck_assert_mesos_ok(mesos__image_ref_parse(ok[i].in, &r, &err), &err);
    if (ok[i].reg) ck_assert_str_eq(r.registry, ok[i].reg);
    else ck_assert_ptr_null(r.registry);
    ck_assert_str_eq(r.repository, ok[i].repo);
    if (ok[i].tag) ck_assert_str_eq(r.tag, ok[i].tag);
    else ck_assert_ptr_null(r.tag);
    char *s = mesos__image_ref_str(&r);
    ck_assert_str_eq(s, ok[i].out);
    mesos__free(s);
    mesos__image_ref_clear(&r);
  }
  mesos__image_ref r;
  const char *dg = "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  ck_assert_mesos_ok(mesos__image_ref_parse(dg, &r, &err), &err);
  ck_assert_str_eq(r.digest + 7, dg + 15);
  mesos__image_ref_clear(&r);
  const char *bad[] = {"", "Busybox", "../etc", "a/../b", "a//b", "a:", "a:.x", "a@sha256:12",
                       "a@md5:0123", "-a", "a/.b", "a:b/c"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(mesos__image_ref_parse(bad[i], &r, &err) == MESOS_EINVAL, "%s", bad[i]);
    mesos_error_free(err);
    err = NULL;
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("provisioner_tar");
  TCase *tc = tcase_create("tar");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_tar__hostile_layers_are_refused_and_write_nothing_outside, 0,
                      (int)(sizeof hostile / sizeof *hostile));
  tcase_add_test(tc, test_tar__pax_gnu_and_gzip_layers_extract_with_links_modes_and_long_names);
  tcase_add_test(tc, test_tar__overlay_mode_converts_whiteouts);
  tcase_add_test(tc, test_tar__user_xattrs_are_applied_and_trusted_ones_dropped);
  tcase_add_test(tc, test_tar__limits_on_file_size_total_and_entries_are_enforced);
  tcase_add_test(tc, test_tar__gzip_bomb_stops_at_the_decompressed_limit);
  tcase_add_test(tc, test_tar__clean_path_refuses_escapes_and_normalises);
  tcase_add_test(tc, test_pjson__parses_nesting_escapes_and_refuses_bad_or_deep_input);
  tcase_add_test(tc, test_image_ref__parses_and_reprints_as_mesos_does);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  provtest_setup_mode("tars-only");
  return mesos_test_main(make_suite());
}
