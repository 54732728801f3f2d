/* The files service against hostile paths: "..", symlinks out of the root
 * (to /etc, upwards, loops), NUL bytes, very long paths, FIFOs; and its
 * HTTP endpoints with bad offsets and lengths. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "files/files.h"
#include "http/query.h"
#include "support/httptest.h"
#include "support/testutil.h"

extern int mesos__files_force_walk;

static char base[64];    /* made and removed by the runner process */
static char tmp[256];    /* the test's directory, inside base */
static char sandbox[300]; /* tmp/sb, attached at /sb */

static void write_file(const char *dir, const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *fp = fopen(p, "w");
  ck_assert_ptr_nonnull(fp);
  fputs(text, fp);
  fclose(fp);
}

static void link_at(const char *target, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", sandbox, name);
  ck_assert_int_eq(symlink(target, p), 0);
}

static void setup(void) {
  snprintf(tmp, sizeof tmp, "%s/t-XXXXXX", base);
  ck_assert_ptr_nonnull(mkdtemp(tmp));
  snprintf(sandbox, sizeof sandbox, "%s/sb", tmp);
  ck_assert_int_eq(mkdir(sandbox, 0755), 0);
  write_file(sandbox, "stdout", "hello\n");
  write_file(sandbox, "stderr", "");
  write_file(tmp, "secret", "top secret\n");
  char sub[400];
  snprintf(sub, sizeof sub, "%s/sub", sandbox);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  write_file(sub, "inner", "0123456789");
  link_at("stdout", "link_in");
  link_at("sub/inner", "link_in_sub");
  link_at("/etc/passwd", "link_etc");
  link_at("/etc", "link_etcdir");
  link_at("../secret", "link_up");
  link_at("loop_b", "loop_a");
  link_at("loop_a", "loop_b");
  char fifo[400];
  snprintf(fifo, sizeof fifo, "%s/fifo", sandbox);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  mesos__files_force_walk = 0;
}

static void rm_tree(const char *dir) {
  if (dir[0] == '\0') return;
  pid_t pid = fork();
  if (pid == 0) {
    execlp("rm", "rm", "-rf", dir, (char *)NULL);
    _exit(127);
  }
  int ws;
  if (pid > 0) waitpid(pid, &ws, 0);
}

static void teardown(void) { rm_tree(tmp); }

/* Unchecked fixtures run in the runner process, so a failed test (whose
 * checked teardown does not run) leaves nothing behind either. */
static void make_base(void) {
  snprintf(base, sizeof base, "/tmp/mesos-files-XXXXXX");
  if (mkdtemp(base) == NULL) base[0] = '\0';
}

static void remove_base(void) { rm_tree(base); }

static mesos__files *new_files(void) {
  mesos__files *f = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__files_new(&f, &err), &err);
  ck_assert_mesos_ok(mesos__files_attach(f, sandbox, "/sb", &err), &err);
  return f;
}

static mesos_status read_path(mesos__files *f, const char *path, int64_t off, int64_t len,
                              char **data, size_t *n, uint64_t *size) {
  mesos_error *err = NULL;
  mesos_status st = mesos__files_read(f, path, off, len, 1 << 20, data, n, size, &err);
  if (st != MESOS_OK) {
    ck_assert_ptr_nonnull(err);
    /* Errors name the path asked for, never the real one behind it. */
    ck_assert_msg(strstr(path, tmp) || strstr(mesos_error_message(err), tmp) == NULL, "leaks the real path: %s",
                  mesos_error_message(err));
    mesos_error_free(err);
  }
  return st;
}

START_TEST(test_files__normalize_drops_dots_and_slashes_and_refuses_dotdot) {
  char out[64];
  ck_assert_int_eq(mesos__files_normalize("//a/./b//c/", out, sizeof out, NULL), MESOS_OK);
  ck_assert_str_eq(out, "/a/b/c");
  ck_assert_int_eq(mesos__files_normalize("/", out, sizeof out, NULL), MESOS_OK);
  ck_assert_str_eq(out, "/");
  ck_assert_int_eq(mesos__files_normalize("/a/../b", out, sizeof out, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__files_normalize("/..", out, sizeof out, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__files_normalize("a/b", out, sizeof out, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__files_normalize("/a\nb", out, sizeof out, NULL), MESOS_EINVAL);
  /* "..." is an ordinary name. */
  ck_assert_int_eq(mesos__files_normalize("/a/...", out, sizeof out, NULL), MESOS_OK);
  ck_assert_str_eq(out, "/a/...");
}
END_TEST

START_TEST(test_files__browse_lists_a_sandbox_sorted_with_virtual_paths) {
  mesos__files *f = new_files();
  mesos__file_entry *v = NULL;
  size_t n = 0;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__files_browse(f, "/sb/", &v, &n, &err), &err);
  ck_assert_uint_eq(n, 11);
  ck_assert_str_eq(v[0].path, "/sb/fifo");
  int saw_stdout = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) ck_assert_int_lt(strcmp(v[i - 1].path, v[i].path), 0);
    if (strcmp(v[i].path, "/sb/stdout") == 0) {
      saw_stdout = 1;
      ck_assert_uint_eq(v[i].size, 6);
      ck_assert(S_ISREG(v[i].mode));
      ck_assert_uint_eq(v[i].nlink, 1);
      ck_assert_str_ne(v[i].uid, "");
    }
    if (strcmp(v[i].path, "/sb/link_etc") == 0) ck_assert(S_ISLNK(v[i].mode)); /* not followed */
  }
  ck_assert(saw_stdout);
  mesos__files_entries_free(v, n);
  /* A file lists as itself. */
  ck_assert_mesos_ok(mesos__files_browse(f, "/sb/sub/inner", &v, &n, &err), &err);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(v[0].path, "/sb/sub/inner");
  ck_assert_uint_eq(v[0].size, 10);
  mesos__files_entries_free(v, n);
  mesos__files_free(f);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_files__read_pages_through_a_file_and_reports_its_size) {
  mesos__files *f = new_files();
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/sb/sub/inner", 0, -1, &d, &n, &size), MESOS_OK);
  ck_assert_uint_eq(n, 10);
  ck_assert_str_eq(d, "0123456789");
  ck_assert_uint_eq(size, 10);
  mesos__free(d);
  ck_assert_int_eq(read_path(f, "/sb/sub/inner", 3, 4, &d, &n, &size), MESOS_OK);
  ck_assert_str_eq(d, "3456");
  mesos__free(d);
  /* Past the end: nothing, not an error. */
  ck_assert_int_eq(read_path(f, "/sb/sub/inner", 1000, 4, &d, &n, &size), MESOS_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(size, 10);
  mesos__free(d);
  /* The cap. */
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__files_read(f, "/sb/sub/inner", 0, -1, 3, &d, &n, &size, &err), &err);
  ck_assert_str_eq(d, "012");
  mesos__free(d);
  ck_assert_int_eq(read_path(f, "/sb/sub/inner", -5, 4, &d, &n, &size), MESOS_EINVAL);
  mesos__files_free(f);
}
END_TEST

/* Whether this kernel has openat2(2) (Linux 5.6+). */
static int have_openat2(void) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd < 0) return 0;
  close((int)fd);
  return 1;
}

START_TEST(test_files__symlinks_inside_the_sandbox_are_followed) {
  if (!have_openat2()) MESOS_TEST_SKIP("no openat2(2): the fallback walk refuses every symlink");
  mesos__files *f = new_files();
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/sb/link_in", 0, -1, &d, &n, &size), MESOS_OK);
  ck_assert_str_eq(d, "hello\n");
  mesos__free(d);
  ck_assert_int_eq(read_path(f, "/sb/link_in_sub", 0, -1, &d, &n, &size), MESOS_OK);
  ck_assert_str_eq(d, "0123456789");
  mesos__free(d);
  mesos__files_free(f);
}
END_TEST

static void check_hostile(int walk) {
  mesos__files *f = new_files();
  mesos__files_force_walk = walk;
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/sb/link_etc", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/link_etcdir/passwd", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/link_up", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/loop_a", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/loop_b/x", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/../secret", 0, -1, &d, &n, &size), MESOS_EINVAL);
  ck_assert_int_eq(read_path(f, "/sb/sub/../../secret", 0, -1, &d, &n, &size), MESOS_EINVAL);
  ck_assert_int_eq(read_path(f, "sb/stdout", 0, -1, &d, &n, &size), MESOS_EINVAL);
  /* The real path of the file outside is not attached. */
  char outside[400];
  snprintf(outside, sizeof outside, "%s/secret", tmp);
  ck_assert_int_eq(read_path(f, outside, 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  ck_assert_int_eq(read_path(f, "/etc/passwd", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  ck_assert_int_eq(read_path(f, "/sb/nope", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  ck_assert_int_eq(read_path(f, "/sb/stdout/x", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  /* A FIFO is refused without blocking; a directory is not read. */
  ck_assert_int_eq(read_path(f, "/sb/fifo", 0, -1, &d, &n, &size), MESOS_EINVAL);
  ck_assert_int_eq(read_path(f, "/sb/sub", 0, -1, &d, &n, &size), MESOS_EINVAL);
  /* Listing through a symlink that leaves is refused too. */
  mesos__file_entry *v = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__files_browse(f, "/sb/link_etcdir", &v, &n, &err), MESOS_EPERM);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__files_browse(f, "/sb/link_up", &v, &n, &err), MESOS_EPERM);
  mesos_error_free(err);
  /* A very long path. */
  size_t big = 10000;
  char *lp = malloc(big + 1);
  ck_assert_ptr_nonnull(lp);
  memcpy(lp, "/sb/", 4);
  memset(lp + 4, 'a', big - 4);
  lp[big] = '\0';
  ck_assert_int_eq(read_path(f, lp, 0, -1, &d, &n, &size), MESOS_EINVAL);
  for (size_t i = 4; i + 2 < big; i += 2) lp[i] = '/'; /* many short components */
  ck_assert_int_eq(read_path(f, lp, 0, -1, &d, &n, &size), MESOS_EINVAL);
  lp[3000] = '\0'; /* short enough to parse, far too deep to exist */
  ck_assert_int_eq(read_path(f, lp, 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  free(lp);
  mesos__files_free(f);
  mesos__files_force_walk = 0;
  ck_assert_int_eq(mesos__alloc_live(), 0);
}

START_TEST(test_files__hostile_paths_are_refused_with_openat2) { check_hostile(0); }
END_TEST

START_TEST(test_files__hostile_paths_are_refused_by_the_nofollow_walk) { check_hostile(1); }
END_TEST

START_TEST(test_files__the_walk_refuses_even_symlinks_inside) {
  mesos__files *f = new_files();
  mesos__files_force_walk = 1;
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/sb/link_in", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/sub/inner", 0, -1, &d, &n, &size), MESOS_OK);
  mesos__free(d);
  mesos__files_free(f);
  mesos__files_force_walk = 0;
}
END_TEST

START_TEST(test_files__longest_attached_prefix_wins_and_detach_removes_it) {
  mesos__files *f = new_files();
  mesos_error *err = NULL;
  char sub[400];
  snprintf(sub, sizeof sub, "%s/sub", sandbox);
  ck_assert_mesos_ok(mesos__files_attach(f, sub, "/sb/deeper/", &err), &err);
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/sb/deeper/inner", 0, -1, &d, &n, &size), MESOS_OK);
  mesos__free(d);
  /* "/sbx" is not under "/sb". */
  ck_assert_int_eq(read_path(f, "/sbx/stdout", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  mesos__files_detach(f, "/sb/deeper");
  ck_assert_int_eq(read_path(f, "/sb/deeper/inner", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  ck_assert_int_eq(mesos__files_attach(f, sub, "/x/../y", &err), MESOS_EINVAL);
  mesos_error_free(err);
  /* A file root: the log-file case. */
  char secret[400];
  err = NULL;
  snprintf(secret, sizeof secret, "%s/secret", tmp);
  ck_assert_mesos_ok(mesos__files_attach(f, secret, "/master/log", &err), &err);
  ck_assert_int_eq(read_path(f, "/master/log", 0, -1, &d, &n, &size), MESOS_OK);
  ck_assert_str_eq(d, "top secret\n");
  mesos__free(d);
  ck_assert_int_eq(read_path(f, "/master/log/x", 0, -1, &d, &n, &size), MESOS_ENOTFOUND);
  mesos__files_free(f);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static mesos_status test_resolve(void *ud, const char *path, char **root, size_t *consumed,
                                 mesos_error **err) {
  (void)err;
  if (strncmp(path, "/dyn/", 5) != 0) return MESOS_ENOTFOUND;
  *root = mesos__strdup((const char *)ud);
  *consumed = 4;
  return MESOS_OK;
}

START_TEST(test_files__a_resolver_maps_paths_before_the_table) {
  mesos__files *f = new_files();
  mesos__files_resolver r = {test_resolve, NULL, sandbox};
  mesos__files_set_resolver(f, &r);
  char *d = NULL;
  size_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(read_path(f, "/dyn/stdout", 0, -1, &d, &n, &size), MESOS_OK);
  ck_assert_str_eq(d, "hello\n");
  mesos__free(d);
  ck_assert_int_eq(read_path(f, "/dyn/link_etc", 0, -1, &d, &n, &size), MESOS_EPERM);
  ck_assert_int_eq(read_path(f, "/sb/stdout", 0, -1, &d, &n, &size), MESOS_OK);
  mesos__free(d);
  mesos__files_free(f);
}
END_TEST

START_TEST(test_query__values_are_percent_decoded_and_nul_is_refused) {
  char *v = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__query_get("a=1&path=%2Fsb%2Fa+b&x", "path", 100, &v, &err), &err);
  ck_assert_str_eq(v, "/sb/a b");
  mesos__free(v);
  ck_assert_mesos_ok(mesos__query_get("a=1&x", "x", 100, &v, &err), &err);
  ck_assert_str_eq(v, "");
  mesos__free(v);
  ck_assert_int_eq(mesos__query_get("pathx=1", "path", 100, &v, NULL), MESOS_ENOTFOUND);
  ck_assert_int_eq(mesos__query_get("path=%2", "path", 100, &v, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__query_get("path=%zz", "path", 100, &v, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos__query_get("path=/a%00/b", "path", 100, &v, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "NUL"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos__query_get("path=abcdef", "path", 3, &v, NULL), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* ---- over HTTP */

static struct {
  mesos_loop *loop;
  mesos__http_server *srv;
  mesos__files *f;
  int port;
} H;

static void http_up(void) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&H.loop, NULL, &err), &err);
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  o.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&H.srv, H.loop, &o, &err), &err);
  H.port = mesos__http_server_port(H.srv);
  H.f = new_files();
  ck_assert_mesos_ok(mesos__files_routes(H.f, H.srv, "/slave(1)", &err), &err);
}

static void http_down(void) {
  mesos__http_server_free(H.srv);
  mesos__files_free(H.f);
  mesos_loop_free(H.loop);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}

/* GETs `target`, returns the status; the body into `body` (cap). */
static int get(const char *target, char *body, size_t cap) {
  mesos_test_http_client c;
  ck_assert_int_eq(mesos_test_http_connect(&c, H.port), 0);
  char req[12000];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
  ck_assert_int_eq(mesos_test_http_sends(&c, req), 0);
  mesos_test_http_resp r;
  ck_assert_int_eq(mesos_test_http_recv(H.loop, &c, &r, 0, 5000), 1);
  int status = r.status;
  snprintf(body, cap, "%s", r.body ? r.body : "");
  /* Nothing outside the sandbox is ever in an answer. */
  ck_assert_msg(strstr(r.body ? r.body : "", "top secret") == NULL, "leaked: %s", r.body);
  ck_assert_msg(strstr(r.body ? r.body : "", "root:x:0") == NULL, "leaked: %s", r.body);
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  return status;
}

START_TEST(test_files_http__read_answers_data_and_offset_like_mesos) {
  http_up();
  char body[70000];
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=0", body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"hello\\n\",\"offset\":0}");
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=-1", body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"\",\"offset\":6}");
  ck_assert_int_eq(get("/files/read?path=/sb/stdout", body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"\",\"offset\":6}");
  ck_assert_int_eq(get("/slave(1)/files/read.json?path=%2Fsb%2Fsub%2Finner&offset=2&length=3",
                       body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"234\",\"offset\":2}");
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=99", body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"\",\"offset\":6}");
  http_down();
}
END_TEST

START_TEST(test_files_http__bad_input_gets_a_4xx_with_a_message) {
  http_up();
  char body[70000];
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=-2", body, sizeof body), 400);
  ck_assert_ptr_nonnull(strstr(body, "Negative offset"));
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=abc", body, sizeof body), 400);
  ck_assert_ptr_nonnull(strstr(body, "offset"));
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=99999999999999999999999", body,
                       sizeof body), 400);
  ck_assert_int_eq(get("/files/read?path=/sb/stdout&offset=0&length=-7", body, sizeof body), 400);
  ck_assert_ptr_nonnull(strstr(body, "length"));
  ck_assert_int_eq(get("/files/read?offset=0", body, sizeof body), 400);
  ck_assert_int_eq(get("/files/read?path=/sb/../secret&offset=0", body, sizeof body), 400);
  ck_assert_ptr_nonnull(strstr(body, ".."));
  ck_assert_int_eq(get("/files/read?path=/sb/%2E%2E/secret&offset=0", body, sizeof body), 400);
  ck_assert_int_eq(get("/files/read?path=/sb/stdout%00x&offset=0", body, sizeof body), 400);
  ck_assert_int_eq(get("/files/read?path=/sb/link_up&offset=0", body, sizeof body), 403);
  ck_assert_int_eq(get("/files/read?path=/sb/link_etc&offset=0", body, sizeof body), 403);
  ck_assert_int_eq(get("/files/download?path=/sb/link_etcdir/passwd", body, sizeof body), 403);
  ck_assert_int_eq(get("/files/browse?path=/sb/link_etcdir", body, sizeof body), 403);
  ck_assert_int_eq(get("/files/read?path=/etc/passwd&offset=0", body, sizeof body), 404);
  ck_assert_int_eq(get("/files/read?path=/sb/sub&offset=0", body, sizeof body), 400);
  ck_assert_int_eq(get("/files/read?path=/sb/fifo&offset=0", body, sizeof body), 400);
  http_down();
}
END_TEST

START_TEST(test_files_http__browse_download_and_debug) {
  http_up();
  char body[70000];
  ck_assert_int_eq(get("/files/browse?path=/sb/sub", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"path\":\"/sb/sub/inner\""));
  ck_assert_ptr_nonnull(strstr(body, "\"size\":10"));
  ck_assert_ptr_nonnull(strstr(body, "\"mode\":\"-rw-"));
  ck_assert_int_eq(body[0], '[');
  ck_assert_int_eq(get("/files/browse?path=/sb", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"mode\":\"drwx------\""));
  ck_assert_ptr_nonnull(strstr(body, "\"mode\":\"lrwxrwxrwx\""));
  ck_assert_int_eq(get("/files/download?path=/sb/sub/inner", body, sizeof body), 200);
  ck_assert_str_eq(body, "0123456789");
  ck_assert_int_eq(get("/files/debug", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"/sb\":"));
  http_down();
}
END_TEST

START_TEST(test_files_http__binary_data_becomes_valid_json) {
  http_up();
  write_file(sandbox, "bin", "a\xff\x01\xc3\xa9\"\\z");
  char body[70000];
  ck_assert_int_eq(get("/files/read?path=/sb/bin&offset=0", body, sizeof body), 200);
  ck_assert_str_eq(body, "{\"data\":\"a\\u00ff\\u0001\xc3\xa9\\\"\\\\z\",\"offset\":0}");
  http_down();
}
END_TEST

static Suite *files_suite(void) {
  Suite *s = suite_create("files");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_files__normalize_drops_dots_and_slashes_and_refuses_dotdot);
  tcase_add_test(tc, test_files__browse_lists_a_sandbox_sorted_with_virtual_paths);
  tcase_add_test(tc, test_files__read_pages_through_a_file_and_reports_its_size);
  tcase_add_test(tc, test_files__symlinks_inside_the_sandbox_are_followed);
  tcase_add_test(tc, test_files__hostile_paths_are_refused_with_openat2);
  tcase_add_test(tc, test_files__hostile_paths_are_refused_by_the_nofollow_walk);
  tcase_add_test(tc, test_files__the_walk_refuses_even_symlinks_inside);
  tcase_add_test(tc, test_files__longest_attached_prefix_wins_and_detach_removes_it);
  tcase_add_test(tc, test_files__a_resolver_maps_paths_before_the_table);
  tcase_add_test(tc, test_query__values_are_percent_decoded_and_nul_is_refused);
  tcase_add_test(tc, test_files_http__read_answers_data_and_offset_like_mesos);
  tcase_add_test(tc, test_files_http__bad_input_gets_a_4xx_with_a_message);
  tcase_add_test(tc, test_files_http__browse_download_and_debug);
  tcase_add_test(tc, test_files_http__binary_data_becomes_valid_json);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(files_suite()); }
