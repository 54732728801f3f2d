#include <string.h>

#include "http/url.h"
#include "support/testutil.h"
#include "base/alloc.h"

/* Parses `in`, expects success, and checks the pieces. */
static void expect_url(const char *in, int tls, const char *host, unsigned port,
                       const char *target, const char *href, const char *host_header) {
  mesos__url u;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__url_parse(&u, in, &err), &err);
  ck_assert_int_eq(u.tls, tls);
  ck_assert_str_eq(u.host, host);
  ck_assert_uint_eq(u.port, port);
  ck_assert_str_eq(u.target, target);
  ck_assert_str_eq(u.href, href);
  ck_assert_str_eq(u.host_header, host_header);
  mesos__url_free(&u);
}

/* Parses `in`, expects MESOS_EINVAL with `needle` in the message. */
static void expect_bad(const char *in, const char *needle) {
  mesos__url u;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__url_parse(&u, in, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL,
                "parsing '%s': message '%s' lacks '%s'", in ? in : "(null)",
                mesos_error_message(err), needle);
  mesos_error_free(err);
  mesos__url_free(&u);
}

START_TEST(test_url__plain_http_url_is_split_into_its_parts) {
  expect_url("http://example.com/api/v1/scheduler?x=1", 0, "example.com", 80,
             "/api/v1/scheduler?x=1", "http://example.com/api/v1/scheduler?x=1", "example.com");
}
END_TEST

START_TEST(test_url__explicit_port_is_kept_and_default_port_is_dropped_from_host) {
  expect_url("http://10.0.0.1:5050/master/state", 0, "10.0.0.1", 5050, "/master/state",
             "http://10.0.0.1:5050/master/state", "10.0.0.1:5050");
  expect_url("http://h:80/", 0, "h", 80, "/", "http://h/", "h");
  expect_url("https://h:443/x", 1, "h", 443, "/x", "https://h/x", "h");
  expect_url("https://h:80/x", 1, "h", 80, "/x", "https://h:80/x", "h:80");
}
END_TEST

START_TEST(test_url__https_defaults_to_port_443) {
  expect_url("https://master.mesos/", 1, "master.mesos", 443, "/", "https://master.mesos/",
             "master.mesos");
}
END_TEST

START_TEST(test_url__scheme_and_host_are_lower_cased_but_path_is_not) {
  expect_url("HTTP://Example.COM/Path", 0, "example.com", 80, "/Path", "http://example.com/Path",
             "example.com");
}
END_TEST

START_TEST(test_url__empty_path_becomes_slash_and_query_alone_gets_one) {
  expect_url("http://h", 0, "h", 80, "/", "http://h/", "h");
  expect_url("http://h:1234", 0, "h", 1234, "/", "http://h:1234/", "h:1234");
  expect_url("http://h?a=b", 0, "h", 80, "/?a=b", "http://h/?a=b", "h");
  expect_url("http://h:/p", 0, "h", 80, "/p", "http://h/p", "h");
}
END_TEST

START_TEST(test_url__fragment_is_dropped) {
  expect_url("http://h/p?q=1#frag", 0, "h", 80, "/p?q=1", "http://h/p?q=1", "h");
  expect_url("http://h#frag", 0, "h", 80, "/", "http://h/", "h");
}
END_TEST

START_TEST(test_url__ipv6_literal_is_bracketed_in_host_header_and_authority) {
  mesos__url u;
  ck_assert_mesos_ok(mesos__url_parse(&u, "http://[::1]:8080/x", NULL), NULL);
  ck_assert_int_eq(u.is_ipv6, 1);
  ck_assert_str_eq(u.host, "::1");
  ck_assert_uint_eq(u.port, 8080);
  ck_assert_str_eq(u.host_header, "[::1]:8080");
  ck_assert_str_eq(u.authority, "[::1]:8080");
  ck_assert_str_eq(u.href, "http://[::1]:8080/x");
  mesos__url_free(&u);
  expect_url("http://[FE80::1]/", 0, "fe80::1", 80, "/", "http://[fe80::1]/", "[fe80::1]");
}
END_TEST

START_TEST(test_url__percent_escapes_are_kept_verbatim) {
  expect_url("http://h/a%20b?c=%2F", 0, "h", 80, "/a%20b?c=%2F", "http://h/a%20b?c=%2F", "h");
}
END_TEST

START_TEST(test_url__authority_always_carries_the_port) {
  mesos__url u;
  ck_assert_mesos_ok(mesos__url_parse(&u, "https://h/", NULL), NULL);
  ck_assert_str_eq(u.authority, "h:443");
  mesos__url_free(&u);
}
END_TEST

START_TEST(test_url__missing_or_unsupported_scheme_is_refused) {
  expect_bad("example.com/x", "expected http:// or https://");
  expect_bad("ftp://h/x", "scheme 'ftp' is not supported");
  expect_bad("http:/h/x", "expected http:// or https://");
  expect_bad("//h/x", "expected http:// or https://");
}
END_TEST

START_TEST(test_url__null_empty_and_overlong_urls_are_refused) {
  expect_bad(NULL, "NULL");
  expect_bad("", "empty");
  size_t n = MESOS__URL_MAX + 10;
  char *big = malloc(n + 1);
  memcpy(big, "http://h/", 9);
  memset(big + 9, 'a', n - 9);
  big[n] = '\0';
  expect_bad(big, "longer than 8192 bytes");
  free(big);
}
END_TEST

START_TEST(test_url__spaces_control_and_non_ascii_bytes_are_refused) {
  expect_bad("http://h/a b", "byte 0x20 at offset 10");
  expect_bad("http://h/a\r\nX-Injected: 1", "byte 0x0d");
  expect_bad("http://h/\x7f", "byte 0x7f");
  expect_bad("http://h/caf\xc3\xa9", "byte 0xc3");
}
END_TEST

START_TEST(test_url__bad_percent_escape_is_refused) {
  expect_bad("http://h/a%2", "not followed by two hex digits");
  expect_bad("http://h/a%zz", "not followed by two hex digits");
  expect_bad("http://h/%", "not followed by two hex digits");
}
END_TEST

START_TEST(test_url__bad_hosts_are_refused) {
  expect_bad("http:///path", "missing host");
  expect_bad("http://:80/path", "missing host");
  expect_bad("http://user:pw@h/", "credentials in URLs are not supported");
  expect_bad("http://h!x/", "character '!' is not allowed");
  expect_bad("http://[::1/", "'[' without ']'");
  expect_bad("http://[zz::1]/", "'zz::1' is not an IPv6 address");
  expect_bad("http://[]/", "bad IPv6 address");
  expect_bad("http://[::1]x/", "unexpected text after ']'");
  char host[300];
  memset(host, 'a', sizeof host);
  host[sizeof host - 1] = '\0';
  char url[400];
  snprintf(url, sizeof url, "http://%s/", host);
  expect_bad(url, "longer than 253");
}
END_TEST

START_TEST(test_url__bad_ports_are_refused) {
  expect_bad("http://h:0/", "port 0 is out of range");
  expect_bad("http://h:65536/", "port 65536 is out of range");
  expect_bad("http://h:99999999999999999999/", "bad port");
  expect_bad("http://h:8a/", "bad port '8a'");
  expect_bad("http://h:-1/", "bad port");
  expect_bad("http://h:1:2/", "bad port '1:2'");
}
END_TEST

/* Resolves `ref` against `base` and expects `want` as the href. */
static void expect_resolve(const char *base, const char *ref, const char *want) {
  mesos__url b, r;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__url_parse(&b, base, &err), &err);
  ck_assert_mesos_ok(mesos__url_resolve(&r, &b, ref, &err), &err);
  ck_assert_msg(strcmp(r.href, want) == 0, "'%s' against '%s' gave '%s', want '%s'", ref, base,
                r.href, want);
  mesos__url_free(&r);
  mesos__url_free(&b);
}

START_TEST(test_url__absolute_location_replaces_the_url) {
  expect_resolve("http://a:1/x", "http://b:2/y?z", "http://b:2/y?z");
  expect_resolve("http://a/x", "https://b/y", "https://b/y");
}
END_TEST

START_TEST(test_url__network_path_location_keeps_the_scheme) {
  expect_resolve("https://a/x", "//b:8443/y", "https://b:8443/y");
}
END_TEST

START_TEST(test_url__absolute_path_location_keeps_scheme_host_and_port) {
  expect_resolve("http://a:5050/master/state?x", "/api/v1?y=1", "http://a:5050/api/v1?y=1");
  expect_resolve("http://a/b/c", "/x/../y/./z", "http://a/y/z");
}
END_TEST

/* The examples of RFC 3986 section 5.4.1 that apply to http URLs. */
START_TEST(test_url__relative_locations_follow_rfc3986_examples) {
  const char *base = "http://a/b/c/d;p?q";
  expect_resolve(base, "g", "http://a/b/c/g");
  expect_resolve(base, "./g", "http://a/b/c/g");
  expect_resolve(base, "g/", "http://a/b/c/g/");
  expect_resolve(base, "/g", "http://a/g");
  expect_resolve(base, "//g", "http://g/");
  expect_resolve(base, "?y", "http://a/b/c/d;p?y");
  expect_resolve(base, "g?y", "http://a/b/c/g?y");
  expect_resolve(base, "#s", "http://a/b/c/d;p?q");
  expect_resolve(base, "g#s", "http://a/b/c/g");
  expect_resolve(base, ";x", "http://a/b/c/;x");
  expect_resolve(base, "g;x?y#s", "http://a/b/c/g;x?y");
  expect_resolve(base, ".", "http://a/b/c/");
  expect_resolve(base, "./", "http://a/b/c/");
  expect_resolve(base, "..", "http://a/b/");
  expect_resolve(base, "../", "http://a/b/");
  expect_resolve(base, "../g", "http://a/b/g");
  expect_resolve(base, "../..", "http://a/");
  expect_resolve(base, "../../", "http://a/");
  expect_resolve(base, "../../g", "http://a/g");
  expect_resolve(base, "../../../g", "http://a/g");
  expect_resolve(base, "../../../../g", "http://a/g");
  expect_resolve(base, "/./g", "http://a/g");
  expect_resolve(base, "/../g", "http://a/g");
  expect_resolve(base, "g.", "http://a/b/c/g.");
  expect_resolve(base, ".g", "http://a/b/c/.g");
  expect_resolve(base, "g..", "http://a/b/c/g..");
  expect_resolve(base, "..g", "http://a/b/c/..g");
  expect_resolve(base, "./../g", "http://a/b/g");
  expect_resolve(base, "./g/.", "http://a/b/c/g/");
  expect_resolve(base, "g/./h", "http://a/b/c/g/h");
  expect_resolve(base, "g/../h", "http://a/b/c/h");
  expect_resolve(base, "g;x=1/./y", "http://a/b/c/g;x=1/y");
  expect_resolve(base, "g;x=1/../y", "http://a/b/c/y");
  expect_resolve(base, "g?y/./x", "http://a/b/c/g?y/./x");
  expect_resolve(base, "g#s/../x", "http://a/b/c/g");
}
END_TEST

START_TEST(test_url__bad_locations_are_refused_with_einval) {
  mesos__url b, r;
  ck_assert_mesos_ok(mesos__url_parse(&b, "http://a/b", NULL), NULL);
  const char *bad[] = {"", "ftp://x/", "/a b", "mailto:x@y", "http://", "/%g0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mesos_error *err = NULL;
    ck_assert_int_eq(mesos__url_resolve(&r, &b, bad[i], &err), MESOS_EINVAL);
    ck_assert_ptr_nonnull(err);
    mesos_error_free(err);
    mesos__url_free(&r);
  }
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__url_resolve(&r, &b, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  mesos__url_free(&b);
}
END_TEST

START_TEST(test_url__copy_is_deep_and_same_origin_compares_scheme_host_port) {
  mesos__url a, c, d;
  ck_assert_mesos_ok(mesos__url_parse(&a, "http://H:81/x", NULL), NULL);
  ck_assert_int_eq(mesos__url_copy(&c, &a), MESOS_OK);
  ck_assert_ptr_ne(c.href, a.href);
  ck_assert_str_eq(c.href, a.href);
  ck_assert_int_eq(mesos__url_same_origin(&a, &c), 1);
  ck_assert_mesos_ok(mesos__url_parse(&d, "https://h:81/x", NULL), NULL);
  ck_assert_int_eq(mesos__url_same_origin(&a, &d), 0);
  mesos__url_free(&d);
  ck_assert_mesos_ok(mesos__url_parse(&d, "http://h:82/x", NULL), NULL);
  ck_assert_int_eq(mesos__url_same_origin(&a, &d), 0);
  mesos__url_free(&d);
  ck_assert_mesos_ok(mesos__url_parse(&d, "http://h:81/other", NULL), NULL);
  ck_assert_int_eq(mesos__url_same_origin(&a, &d), 1);
  mesos__url_free(&d);
  mesos__url_free(&c);
  mesos__url_free(&a);
}
END_TEST

/* Every allocation failure during parse and resolve is reported as
 * MESOS_ENOMEM and leaks nothing. */
START_TEST(test_url__allocation_failures_are_reported_without_leaks) {
  int64_t live = mesos__alloc_live();
  mesos__url b;
  ck_assert_mesos_ok(mesos__url_parse(&b, "http://a/b/c?q", NULL), NULL);
  for (uint64_t n = 1; n < 64; n++) {
    mesos__url u, r;
    mesos__alloc_fail_after(n);
    mesos_status s1 = mesos__url_parse(&u, "http://x.y:8080/p?q", NULL);
    mesos_status s2 = mesos__url_resolve(&r, &b, "../g?y", NULL);
    mesos__alloc_fail_after(0);
    ck_assert(s1 == MESOS_OK || s1 == MESOS_ENOMEM);
    ck_assert(s2 == MESOS_OK || s2 == MESOS_ENOMEM);
    mesos__url_free(&u);
    mesos__url_free(&r);
  }
  mesos__url_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("url");
  TCase *tc = tcase_create("url");
  tcase_add_test(tc, test_url__plain_http_url_is_split_into_its_parts);
  tcase_add_test(tc, test_url__explicit_port_is_kept_and_default_port_is_dropped_from_host);
  tcase_add_test(tc, test_url__https_defaults_to_port_443);
  tcase_add_test(tc, test_url__scheme_and_host_are_lower_cased_but_path_is_not);
  tcase_add_test(tc, test_url__empty_path_becomes_slash_and_query_alone_gets_one);
  tcase_add_test(tc, test_url__fragment_is_dropped);
  tcase_add_test(tc, test_url__ipv6_literal_is_bracketed_in_host_header_and_authority);
  tcase_add_test(tc, test_url__percent_escapes_are_kept_verbatim);
  tcase_add_test(tc, test_url__authority_always_carries_the_port);
  tcase_add_test(tc, test_url__missing_or_unsupported_scheme_is_refused);
  tcase_add_test(tc, test_url__null_empty_and_overlong_urls_are_refused);
  tcase_add_test(tc, test_url__spaces_control_and_non_ascii_bytes_are_refused);
  tcase_add_test(tc, test_url__bad_percent_escape_is_refused);
  tcase_add_test(tc, test_url__bad_hosts_are_refused);
  tcase_add_test(tc, test_url__bad_ports_are_refused);
  tcase_add_test(tc, test_url__absolute_location_replaces_the_url);
  tcase_add_test(tc, test_url__network_path_location_keeps_the_scheme);
  tcase_add_test(tc, test_url__absolute_path_location_keeps_scheme_host_and_port);
  tcase_add_test(tc, test_url__relative_locations_follow_rfc3986_examples);
  tcase_add_test(tc, test_url__bad_locations_are_refused_with_einval);
  tcase_add_test(tc, test_url__copy_is_deep_and_same_origin_compares_scheme_host_port);
  tcase_add_test(tc, test_url__allocation_failures_are_reported_without_leaks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
