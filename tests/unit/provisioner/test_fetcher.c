/* The fetcher against our HTTP server in-process on loopback and local
 * files: names, executable bit, extraction, cache and its bound, and the
 * refusals. */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "http/server.h"
#include "http/tls.h"
#include "provisioner/fetcher.h"
#include "provisioner/zin.h"
#include "provtest.h"
#include "support/certs.h"

typedef struct {
  mesos_loop *loop;
  mesos__http_server *srv;
  int port;
  int requests;
  char *targz;
  size_t targz_len;
} env;

static void serve(mesos__http_request *req, void *ud) {
  env *e = ud;
  e->requests++;
  const char *p = mesos__http_request_path(req);
  if (strcmp(p, "/files/hello.txt") == 0) {
    mesos__http_respond(req, 200, NULL, "hello\n", 6);
  } else if (strcmp(p, "/files/layer.tar.gz") == 0) {
    mesos__http_respond(req, 200, NULL, e->targz, e->targz_len);
  } else if (strcmp(p, "/files/big.bin") == 0) {
    char *big = mesos__calloc(1, 100000);
    mesos__http_respond(req, 200, NULL, big, 100000);
    mesos__free(big);
  } else if (strcmp(p, "/files/app.zip") == 0) {
    mesos__http_respond(req, 200, NULL, "PK\3\4", 4);
  } else {
    mesos__http_respond(req, 404, NULL, "no\n", 3);
  }
}

static void env_up(env *e) {
  memset(e, 0, sizeof *e);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&e->loop, NULL, &err), &err);
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&e->srv, e->loop, &so, &err), &err);
  ck_assert_mesos_ok(mesos__http_server_route(e->srv, "GET", "/", 1, serve, e), &err);
  e->port = mesos__http_server_port(e->srv);
  char p[PATH_MAX];
  provtest_path(p, "hostile/good.tar.gz");
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  e->targz = mesos__malloc(1 << 16);
  e->targz_len = fread(e->targz, 1, 1 << 16, f);
  fclose(f);
}

static void env_down(env *e) {
  mesos__http_server_free(e->srv);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(e->loop);
  mesos_loop_free(e->loop);
  mesos__free(e->targz);
}

typedef struct {
  int done;
  mesos_status st;
  char msg[512];
} result;

static void on_fetched(mesos_status st, mesos_error *err, void *ud) {
  result *r = ud;
  r->st = st;
  snprintf(r->msg, sizeof r->msg, "%s", err ? mesos_error_message(err) : "");
  mesos_error_free(err);
  r->done = 1;
}

typedef struct {
  const char *value, *output_file;
  int executable, extract, cache; /* -1: unset */
} uri_spec;

/* Runs one fetch of the given URIs into `sandbox`. */
static mesos_status fetch(env *e, mesos__fetcher *f, const uri_spec *specs, size_t n,
                          const char *sandbox, char *msg, size_t msglen) {
  Mesos__V1__CommandInfo__URI u[8], *up[8];
  for (size_t i = 0; i < n; i++) {
    mesos__v1__command_info__uri__init(&u[i]);
    u[i].value = (char *)specs[i].value;
    u[i].output_file = (char *)specs[i].output_file;
    if (specs[i].executable >= 0) u[i].has_executable = 1, u[i].executable = specs[i].executable;
    if (specs[i].extract >= 0) u[i].has_extract = 1, u[i].extract = specs[i].extract;
    if (specs[i].cache >= 0) u[i].has_cache = 1, u[i].cache = specs[i].cache;
    up[i] = &u[i];
  }
  result r = {0};
  mesos_error *err = NULL;
  mesos_status st = mesos__fetcher_fetch(f, up, n, sandbox, on_fetched, &r, &err);
  if (st != MESOS_OK) {
    snprintf(msg, msglen, "%s", mesos_error_message(err));
    mesos_error_free(err);
    return st;
  }
  ck_assert(mesos_test_run_until(e->loop, &r.done, 10000));
  snprintf(msg, msglen, "%s", r.msg);
  return r.st;
}

static mesos__fetcher *new_fetcher(env *e, const char *cache_dir, uint64_t cache_size,
                                   uint64_t max_bytes) {
  mesos__fetcher_opts o = {0};
  o.cache_dir = cache_dir;
  o.cache_size = cache_size;
  o.max_bytes = max_bytes;
  mesos__fetcher *f = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__fetcher_new(e->loop, &o, &f, &err), &err);
  return f;
}

static void file_is(const char *dir, const char *name, const char *content, mode_t mode) {
  char p[PATH_MAX], buf[256] = "";
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat sb;
  ck_assert_msg(stat(p, &sb) == 0, "%s missing", p);
  if (mode) ck_assert_int_eq(sb.st_mode & 0777, mode);
  if (content) {
    FILE *f = fopen(p, "rb");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, content);
  }
}

START_TEST(test_fetcher__http_local_and_file_uris_land_in_the_sandbox) {
  env e;
  env_up(&e);
  char sb[PATH_MAX], url[128], url2[128], local[PATH_MAX], fileuri[PATH_MAX + 8], msg[512];
  provtest_scratch(sb);
  mesos__fetcher *f = new_fetcher(&e, NULL, 0, 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/files/hello.txt?x=1", e.port);
  snprintf(url2, sizeof url2, "http://127.0.0.1:%d/files/hello.txt", e.port);
  snprintf(local, sizeof local, "%s/../hostile/good_pax.tar", sb);
  snprintf(fileuri, sizeof fileuri, "file://%s/../canary/secret", sb);
  uri_spec s[] = {{url, NULL, -1, -1, -1},
                  {url2, "bin/run.sh", 1, -1, -1},
                  {local, "copy.tar", -1, 0, -1},
                  {fileuri, NULL, -1, -1, -1}};
  ck_assert_msg(fetch(&e, f, s, 4, sb, msg, sizeof msg) == MESOS_OK, "%s", msg);
  file_is(sb, "hello.txt", "hello\n", 0644);
  file_is(sb, "bin/run.sh", "hello\n", 0755);
  file_is(sb, "copy.tar", NULL, 0);
  file_is(sb, "secret", "secret\n", 0);
  /* extract=false: not unpacked. */
  char p[PATH_MAX];
  struct stat st;
  snprintf(p, sizeof p, "%s/etc/hosts", sb);
  ck_assert(stat(p, &st) != 0);
  ck_assert_uint_eq(mesos__fetcher_cache_hits(f), 0);
  mesos__fetcher_free(f);
  env_down(&e);
}
END_TEST

START_TEST(test_fetcher__archives_are_extracted_safely) {
  env e;
  env_up(&e);
  char sb[PATH_MAX], url[128], msg[512], local[PATH_MAX];
  provtest_scratch(sb);
  mesos__fetcher *f = new_fetcher(&e, NULL, 0, 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/files/layer.tar.gz", e.port);
  uri_spec s[] = {{url, NULL, -1, -1, -1}};
  ck_assert_msg(fetch(&e, f, s, 1, sb, msg, sizeof msg) == MESOS_OK, "%s", msg);
  file_is(sb, "etc/hosts", "127.0.0.1 localhost\n", 0);
  file_is(sb, "layer.tar.gz", NULL, 0);
  /* A hostile archive: refused, nothing outside the sandbox. */
  snprintf(local, sizeof local, "%s/hostile/symlink_escape.tar", prov_fix);
  uri_spec h[] = {{local, NULL, -1, -1, -1}};
  ck_assert_int_eq(fetch(&e, f, h, 1, sb, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "symbolic link") != NULL, "%s", msg);
  char canary[PATH_MAX];
  provtest_path(canary, "canary/pwned");
  struct stat st;
  ck_assert(stat(canary, &st) != 0);
  mesos__fetcher_free(f);
  env_down(&e);
}
END_TEST

START_TEST(test_fetcher__cached_uris_are_downloaded_once_and_the_cache_is_bounded) {
  env e;
  env_up(&e);
  char sb1[PATH_MAX], sb2[PATH_MAX], cache[PATH_MAX], url[128], big[128], msg[512];
  provtest_scratch(sb1);
  provtest_scratch(sb2);
  provtest_scratch(cache);
  mesos__fetcher *f = new_fetcher(&e, cache, 50000, 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/files/hello.txt", e.port);
  snprintf(big, sizeof big, "http://127.0.0.1:%d/files/big.bin", e.port);
  uri_spec s[] = {{url, NULL, -1, -1, 1}};
  ck_assert_msg(fetch(&e, f, s, 1, sb1, msg, sizeof msg) == MESOS_OK, "%s", msg);
  ck_assert_msg(fetch(&e, f, s, 1, sb2, msg, sizeof msg) == MESOS_OK, "%s", msg);
  ck_assert_int_eq(e.requests, 1);
  ck_assert_uint_eq(mesos__fetcher_cache_hits(f), 1);
  file_is(sb2, "hello.txt", "hello\n", 0);
  /* A 100 kB download does not fit a 50 kB cache: fetched, then evicted
   * (oldest first, and then itself). */
  uri_spec b[] = {{big, NULL, -1, -1, 1}};
  ck_assert_msg(fetch(&e, f, b, 1, sb1, msg, sizeof msg) == MESOS_OK, "%s", msg);
  file_is(sb1, "big.bin", NULL, 0);
  char hex[65], cached[PATH_MAX];
  mesos__sha256_hex(big, strlen(big), hex);
  snprintf(cached, sizeof cached, "%s/%s", cache, hex);
  struct stat st;
  ck_assert_msg(stat(cached, &st) != 0, "the 100 kB file stayed in a 50 kB cache");
  /* The 6-byte file may stay or go: mtimes tie within a clock tick. */
  ck_assert_int_le(count_dir(cache), 1);
  mesos__fetcher_free(f);
  env_down(&e);
}
END_TEST

START_TEST(test_fetcher__bad_uris_fail_with_clear_errors) {
  env e;
  env_up(&e);
  char sb[PATH_MAX], u404[128], ubig[128], uzip[128], msg[512];
  provtest_scratch(sb);
  mesos__fetcher *f = new_fetcher(&e, NULL, 0, 1000);
  snprintf(u404, sizeof u404, "http://127.0.0.1:%d/nothing", e.port);
  snprintf(ubig, sizeof ubig, "http://127.0.0.1:%d/files/big.bin", e.port);
  snprintf(uzip, sizeof uzip, "http://127.0.0.1:%d/files/app.zip", e.port);
  struct {
    uri_spec s;
    mesos_status want;
    const char *part;
  } cases[] = {
      {{u404, NULL, -1, -1, -1}, MESOS_ENOTFOUND, "HTTP 404"},
      {{ubig, NULL, -1, -1, -1}, MESOS_ELIMIT, "larger than"},
      {{uzip, NULL, -1, -1, -1}, MESOS_EUNSUPPORTED, "unsupported archive"},
      {{"hdfs://nn/x", NULL, -1, -1, -1}, MESOS_EUNSUPPORTED, "only file, http"},
      {{"relative/x", NULL, -1, -1, -1}, MESOS_EINVAL, "relative"},
      {{"/etc/hostname", "../../escape", -1, -1, -1}, MESOS_EINVAL, "leaves the sandbox"},
      {{"/etc/hostname", "/abs", -1, -1, -1}, MESOS_EINVAL, "leaves the sandbox"},
      {{"/nonexistent/file", NULL, -1, -1, -1}, MESOS_ENOTFOUND, "no such file"},
      {{"http://127.0.0.1:1/", NULL, -1, -1, -1}, MESOS_EINVAL, "no file name"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mesos_status st = fetch(&e, f, &cases[i].s, 1, sb, msg, sizeof msg);
    ck_assert_msg(st == cases[i].want, "%s: %s (%s)", cases[i].s.value, mesos_status_name(st), msg);
    ck_assert_msg(strstr(msg, cases[i].part) != NULL, "%s: '%s' lacks '%s'", cases[i].s.value, msg,
                  cases[i].part);
  }
  /* No temporary download is left behind. */
  ck_assert_int_eq(count_dir(sb), 1); /* app.zip, kept as Mesos keeps archives */
  mesos__fetcher_free(f);
  env_down(&e);
}
END_TEST

/* https: a server whose certificate verifies against the CA the fetcher
 * is given (tests/support/certs.c, made by the openssl tool) is fetched
 * like http; with the system bundle, which does not know that CA, the
 * fetch fails naming the URI and leaves nothing in the sandbox. */
START_TEST(test_fetcher__https_uris_are_fetched_from_servers_that_verify) {
  if (!mesos_test_have_openssl()) MESOS_TEST_SKIP("needs the openssl tool for test certificates");
  char certs[256];
  ck_assert_int_eq(mesos_test_certs_dir(certs, sizeof certs), 0);
  ck_assert_int_eq(mesos_test_make_certs(certs), 0);
  env e;
  env_up(&e);
  char crt[400], key[400], ca[400];
  snprintf(crt, sizeof crt, "%s/server.crt", certs);
  snprintf(key, sizeof key, "%s/server.key", certs);
  snprintf(ca, sizeof ca, "%s/ca.crt", certs);
  mesos_error *err = NULL;
  mesos__tls_config_options to;
  memset(&to, 0, sizeof to);
  to.is_server = 1;
  to.cert_file = crt;
  to.key_file = key;
  mesos__tls_config *stls = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&stls, &to, &err), &err);
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  so.tls = stls;
  mesos__http_server *srv = NULL;
  ck_assert_mesos_ok(mesos__http_server_new(&srv, e.loop, &so, &err), &err);
  mesos__tls_config_unref(stls);
  ck_assert_mesos_ok(mesos__http_server_route(srv, "GET", "/", 1, serve, &e), &err);
  char url[128], sb[PATH_MAX], sb2[PATH_MAX], msg[512];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/files/hello.txt", mesos__http_server_port(srv));
  provtest_scratch(sb);
  mesos__fetcher_opts o = {0};
  o.tls_ca_file = ca;
  mesos__fetcher *f = NULL;
  ck_assert_mesos_ok(mesos__fetcher_new(e.loop, &o, &f, &err), &err);
  uri_spec s[] = {{url, NULL, -1, -1, -1}};
  ck_assert_msg(fetch(&e, f, s, 1, sb, msg, sizeof msg) == MESOS_OK, "%s", msg);
  file_is(sb, "hello.txt", "hello\n", 0644);
  mesos__fetcher_free(f);
  /* Not verifiable against the system bundle. */
  provtest_scratch(sb2);
  f = new_fetcher(&e, NULL, 0, 0);
  ck_assert(fetch(&e, f, s, 1, sb2, msg, sizeof msg) != MESOS_OK);
  ck_assert_msg(strstr(msg, "hello.txt") != NULL, "%s", msg);
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/hello.txt", sb2);
  ck_assert(access(p, F_OK) != 0);
  ck_assert_int_eq(count_dir(sb2), 0);
  mesos__fetcher_free(f);
  mesos__http_server_free(srv);
  env_down(&e);
  mesos_test_rmtree(certs);
}
END_TEST

START_TEST(test_fetcher__freeing_with_a_download_in_flight_reports_closed) {
  env e;
  env_up(&e);
  char sb[PATH_MAX], url[128];
  provtest_scratch(sb);
  mesos__fetcher *f = new_fetcher(&e, NULL, 0, 0);
  /* Nobody listens on this server's port once it is freed: the download
   * stays pending long enough to be cut by the free. */
  snprintf(url, sizeof url, "http://127.0.0.1:%d/files/hello.txt", e.port);
  Mesos__V1__CommandInfo__URI u = MESOS__V1__COMMAND_INFO__URI__INIT, *up = &u;
  u.value = url;
  result r = {0};
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__fetcher_fetch(f, &up, 1, sb, on_fetched, &r, &err), &err);
  mesos__fetcher_free(f);
  ck_assert_int_eq(r.done, 1);
  ck_assert_int_eq(r.st, MESOS_ECLOSED);
  env_down(&e);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("provisioner_fetcher");
  TCase *tc = tcase_create("fetcher");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_fetcher__http_local_and_file_uris_land_in_the_sandbox);
  tcase_add_test(tc, test_fetcher__archives_are_extracted_safely);
  tcase_add_test(tc, test_fetcher__cached_uris_are_downloaded_once_and_the_cache_is_bounded);
  tcase_add_test(tc, test_fetcher__bad_uris_fail_with_clear_errors);
  tcase_add_test(tc, test_fetcher__freeing_with_a_download_in_flight_reports_closed);
  tcase_add_test(tc, test_fetcher__https_uris_are_fetched_from_servers_that_verify);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  provtest_setup_mode("tars-only");
  return mesos_test_main(make_suite());
}
