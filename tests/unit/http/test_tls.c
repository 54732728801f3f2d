/*
 * The TLS engine: two in-memory sessions talking to each other, and our
 * engine against real OpenSSL peers (openssl s_server / s_client) over
 * loopback.  Certificates come from tests/support/certs.c (openssl CLI).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "http/tls.h"
#include "support/certs.h"
#include "support/testutil.h"

/* Made once per test case in the parent (unchecked fixture), inherited by
 * the forked tests, removed at the end. */
static char certdir[256];

static void certs_setup(void) {
  if (mesos_test_certs_dir(certdir, sizeof certdir) != 0 || mesos_test_make_certs(certdir) != 0) {
    fprintf(stderr, "test_tls: cannot generate certificates with openssl\n");
    mesos_test_rmtree(certdir);
    certdir[0] = '\0';
  }
}

static void certs_teardown(void) {
  mesos_test_rmtree(certdir);
  certdir[0] = '\0';
}

static const char *C(const char *name) {
  ck_assert_msg(certdir[0] != '\0', "certificate generation failed (see stderr)");
  return mesos_test_cert(certdir, name);
}

/* ------------------------------------------------------------ configs */

static mesos__tls_config *make_cfg(int is_server, const char *cert, const char *key,
                                   const char *ca, int verify) {
  mesos__tls_config_options o = {0};
  o.is_server = is_server;
  o.cert_file = cert ? C(cert) : NULL;
  o.key_file = key ? C(key) : NULL;
  o.ca_file = ca ? C(ca) : NULL;
  o.verify_peer = verify;
  mesos__tls_config *c = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&c, &o, &err), &err);
  return c;
}

static mesos__tls_config *server_cfg(const char *cert, const char *ca, int verify) {
  char crt[64], key[64];
  snprintf(crt, sizeof crt, "%s.crt", cert);
  snprintf(key, sizeof key, "%s.key", cert);
  return make_cfg(1, crt, key, ca, verify);
}

static mesos__tls_config *client_cfg(const char *cert, const char *ca, int verify) {
  char crt[64], key[64];
  snprintf(crt, sizeof crt, "%s.crt", cert ? cert : "");
  snprintf(key, sizeof key, "%s.key", cert ? cert : "");
  return make_cfg(0, cert ? crt : NULL, cert ? key : NULL, ca, verify);
}

/* ------------------------------------------------------------ in-memory peers */

typedef struct peer {
  mesos__tls *t;
  char *rx; /* plaintext received */
  size_t rx_len, rx_cap;
  mesos_status st; /* first non-zero read result (ECLOSED, ETLS) */
  mesos_error *err;
} peer;

static void peer_init(peer *p, mesos__tls_config *cfg, const char *server_name) {
  memset(p, 0, sizeof *p);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_new(&p->t, cfg, server_name, &err), &err);
}

static void peer_free(peer *p) {
  mesos__tls_free(p->t);
  free(p->rx);
  mesos_error_free(p->err);
  memset(p, 0, sizeof *p);
}

/* Reads plaintext until the session wants input, with a deliberately odd
 * buffer size so records are split across reads. */
static void peer_drain(peer *p) {
  if (p->st != 0) return;
  for (;;) {
    if (p->rx_cap - p->rx_len < 7000) {
      p->rx_cap = p->rx_cap ? p->rx_cap * 2 : 65536;
      p->rx = realloc(p->rx, p->rx_cap);
      ck_assert_ptr_nonnull(p->rx);
    }
    ssize_t n = mesos__tls_read(p->t, p->rx + p->rx_len, 7000, &p->err);
    if (n > 0) {
      p->rx_len += (size_t)n;
      continue;
    }
    if (n < 0) p->st = (mesos_status)n;
    return;
  }
}

/* Moves ciphertext from a to b in feeds of at most `chunk` bytes, letting b
 * read after each; returns the bytes moved. */
static size_t move(peer *a, peer *b, size_t chunk) {
  size_t moved = 0, len;
  const char *p;
  while ((p = mesos__tls_out(a->t, &len)) != NULL) {
    size_t n = len < chunk ? len : chunk;
    mesos_error *err = NULL;
    mesos_status s = mesos__tls_feed(b->t, p, n, &err);
    mesos_error_free(err);
    mesos__tls_consume_out(a->t, n);
    moved += n;
    if (s != MESOS_OK) continue; /* b already failed/closed: drop, as a socket would */
    peer_drain(b);
  }
  return moved;
}

/* Shuttles bytes both ways until neither side has anything to send. */
static void pump(peer *a, peer *b, size_t chunk) {
  peer_drain(a);
  peer_drain(b);
  for (int round = 0; round < 1000; round++)
    if (move(a, b, chunk) + move(b, a, chunk) == 0) return;
  ck_abort_msg("pump did not settle");
}

static void write_ok(peer *p, const char *data, size_t len) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_write(p->t, data, len, &err), &err);
}

static const char *errmsg(const peer *p) { return p->err ? mesos_error_message(p->err) : ""; }

#define ck_assert_contains(hay, needle) \
  ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay), (needle))

/* Runs a complete in-memory handshake between the two configs. */
static void connect_pair(peer *cli, peer *srv, mesos__tls_config *ccfg, mesos__tls_config *scfg,
                         const char *name) {
  peer_init(srv, scfg, NULL);
  peer_init(cli, ccfg, name);
  pump(cli, srv, SIZE_MAX);
}

static char *pattern(size_t n, unsigned seed) {
  char *b = malloc(n);
  ck_assert_ptr_nonnull(b);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (char)(seed >> 16);
  }
  return b;
}

/* ------------------------------------------------------------ exchange */

START_TEST(test_tls__sessions_handshake_and_exchange_data_both_ways) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli, srv;
  peer_init(&srv, scfg, NULL);
  peer_init(&cli, ccfg, "localhost");
  /* The client's first flight is ready at once: a ClientHello record. */
  size_t hello_len;
  const char *hello = mesos__tls_out(cli.t, &hello_len);
  ck_assert_ptr_nonnull(hello);
  ck_assert_uint_gt(hello_len, 5);
  ck_assert_int_eq(hello[0], 0x16); /* handshake record */
  ck_assert_int_eq(mesos__tls_handshake(srv.t, NULL), MESOS_EAGAIN);
  ck_assert_ptr_null(mesos__tls_version(cli.t));
  ck_assert_ptr_null(mesos__tls_out(srv.t, &hello_len));
  ck_assert_uint_eq(hello_len, 0);
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_int_eq(mesos__tls_handshake(cli.t, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__tls_handshake_done(cli.t), 1);
  ck_assert_int_eq(mesos__tls_handshake_done(srv.t), 1);
  ck_assert_str_eq(mesos__tls_version(cli.t), "TLSv1.2");
  ck_assert_contains(mesos__tls_cipher(srv.t), "ECDHE-ECDSA");
  ck_assert_str_eq(mesos__tls_peer_cn(cli.t), "localhost");
  ck_assert_ptr_null(mesos__tls_peer_cn(srv.t)); /* server does not ask */

  write_ok(&cli, "hello", 5);
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_uint_eq(srv.rx_len, 5);
  ck_assert_int_eq(memcmp(srv.rx, "hello", 5), 0);
  write_ok(&srv, "world!", 6);
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_uint_eq(cli.rx_len, 6);
  ck_assert_int_eq(memcmp(cli.rx, "world!", 6), 0);

  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__records_larger_than_16k_arrive_intact_both_ways) {
  /* RSA server key: the ECDHE-RSA suites work too. */
  mesos__tls_config *scfg = server_cfg("server-rsa", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli, srv;
  peer_init(&srv, scfg, NULL);
  peer_init(&cli, ccfg, "localhost");
  /* Written before the handshake: queued, sent when it completes. */
  size_t n = 300 * 1024 + 17;
  char *up = pattern(n, 1), *down = pattern(n, 2);
  write_ok(&cli, up, n);
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_contains(mesos__tls_cipher(cli.t), "ECDHE-RSA");
  write_ok(&srv, down, 40000);
  write_ok(&srv, down + 40000, n - 40000);
  pump(&cli, &srv, 5000); /* feeds that cut records in the middle */
  ck_assert_uint_eq(srv.rx_len, n);
  ck_assert_uint_eq(cli.rx_len, n);
  ck_assert_int_eq(memcmp(srv.rx, up, n), 0);
  ck_assert_int_eq(memcmp(cli.rx, down, n), 0);
  free(up);
  free(down);
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__handshake_and_data_survive_one_byte_feeds) {
  mesos__tls_config *scfg = server_cfg("server", "ca.crt", 2);
  mesos__tls_config *ccfg = client_cfg("client", "ca.crt", 1);
  peer cli, srv;
  peer_init(&srv, scfg, NULL);
  peer_init(&cli, ccfg, "localhost");
  pump(&cli, &srv, 1);
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_int_eq(mesos__tls_handshake_done(srv.t), 1);
  char *data = pattern(20000, 3);
  write_ok(&cli, data, 20000);
  write_ok(&srv, data, 123);
  pump(&cli, &srv, 1);
  ck_assert_uint_eq(srv.rx_len, 20000);
  ck_assert_int_eq(memcmp(srv.rx, data, 20000), 0);
  ck_assert_uint_eq(cli.rx_len, 123);
  ck_assert_int_eq(memcmp(cli.rx, data, 123), 0);
  free(data);
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__close_notify_reaches_the_peer_and_ends_writing) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  write_ok(&cli, "last words", 10);
  ck_assert_int_eq(mesos__tls_shutdown(cli.t), MESOS_OK);
  ck_assert_int_eq(mesos__tls_shutdown(cli.t), MESOS_OK); /* idempotent */
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__tls_write(cli.t, "x", 1, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  err = NULL;
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_uint_eq(srv.rx_len, 10); /* data before the alert is delivered */
  ck_assert_int_eq(srv.st, MESOS_ECLOSED);
  ck_assert_contains(errmsg(&srv), "close_notify");
  ck_assert_int_eq(mesos__tls_read(srv.t, (char[8]){0}, 8, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__tls_write(srv.t, "x", 1, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__tls_feed(srv.t, "x", 1, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__shutdown_before_the_handshake_queues_nothing_and_drops_pending_data) {
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli;
  peer_init(&cli, ccfg, "localhost");
  size_t hello_len, len;
  mesos__tls_out(cli.t, &hello_len);
  write_ok(&cli, "queued", 6);
  ck_assert_int_eq(mesos__tls_shutdown(cli.t), MESOS_OK);
  mesos__tls_out(cli.t, &len);
  ck_assert_uint_eq(len, hello_len); /* no alert, no data: only the ClientHello */
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__tls_write(cli.t, "x", 1, &err), MESOS_ECLOSED);
  ck_assert_contains(mesos_error_message(err), "after shutdown");
  mesos_error_free(err);
  peer_free(&cli);
  mesos__tls_config_unref(ccfg);
}
END_TEST

START_TEST(test_tls__config_outlives_its_last_unref_while_sessions_use_it) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  ck_assert_ptr_eq(mesos__tls_config_ref(scfg), scfg);
  mesos__tls_config_unref(scfg);
  peer cli, srv;
  peer_init(&srv, scfg, NULL);
  peer_init(&cli, ccfg, "localhost");
  mesos__tls_config_unref(scfg);
  mesos__tls_config_unref(ccfg);
  pump(&cli, &srv, SIZE_MAX);
  write_ok(&cli, "ok", 2);
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_uint_eq(srv.rx_len, 2);
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_ref(NULL);
  mesos__tls_config_unref(NULL);
  mesos__tls_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ verification */

/* Connects and expects the handshake to fail; returns through the peers. */
static void expect_failure(const char *server_cert, const char *server_ca, int server_verify,
                           const char *client_cert, const char *client_ca, int client_verify,
                           const char *name, peer *cli, peer *srv) {
  mesos__tls_config *scfg = server_cfg(server_cert, server_ca, server_verify);
  mesos__tls_config *ccfg = client_cfg(client_cert, client_ca, client_verify);
  connect_pair(cli, srv, ccfg, scfg, name);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
  ck_assert_int_eq(mesos__tls_handshake_done(cli->t) && mesos__tls_handshake_done(srv->t), 0);
}

START_TEST(test_tls__required_client_certificate_is_verified_and_its_cn_reported) {
  mesos__tls_config *scfg = server_cfg("server", "ca.crt", 2);
  mesos__tls_config *ccfg = client_cfg("client", "ca.crt", 1);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_str_eq(mesos__tls_peer_cn(srv.t), "mesos-test-client");
  ck_assert_str_eq(mesos__tls_peer_cn(cli.t), "localhost");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__server_requiring_a_client_certificate_refuses_a_client_without_one) {
  peer cli, srv;
  expect_failure("server", "ca.crt", 2, NULL, "ca.crt", 1, "localhost", &cli, &srv);
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "sent no certificate");
  /* The server told the client with an alert. */
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&cli), "fatal alert");
  /* Failures are sticky. */
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__tls_read(srv.t, (char[8]){0}, 8, &err), MESOS_ETLS);
  ck_assert_contains(mesos_error_message(err), "sent no certificate");
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__tls_write(srv.t, "x", 1, &err), MESOS_ETLS);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__tls_handshake(srv.t, &err), MESOS_ETLS);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__tls_feed(srv.t, "x", 1, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  ck_assert_ptr_null(mesos__tls_peer_cn(srv.t));
  peer_free(&cli);
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__client_certificate_from_another_ca_is_refused) {
  peer cli, srv;
  expect_failure("server", "ca.crt", 2, "other-client", "ca.crt", 1, "localhost", &cli, &srv);
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "peer certificate rejected");
  ck_assert_contains(errmsg(&srv), "not correctly signed by the trusted CA");
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  peer_free(&cli);
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__expired_client_certificate_is_refused) {
  peer cli, srv;
  expect_failure("server", "ca.crt", 2, "expired-client", "ca.crt", 1, "localhost", &cli, &srv);
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "expired");
  peer_free(&cli);
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__optional_client_certificate_may_be_absent_but_must_verify_if_sent) {
  mesos__tls_config *scfg = server_cfg("server", "ca.crt", 1);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_int_eq(mesos__tls_handshake_done(srv.t), 1);
  ck_assert_ptr_null(mesos__tls_peer_cn(srv.t));
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);

  ccfg = client_cfg("client", "ca.crt", 1);
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_msg(srv.st == 0, "server: %s", errmsg(&srv));
  ck_assert_str_eq(mesos__tls_peer_cn(srv.t), "mesos-test-client");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);

  ccfg = client_cfg("other-client", "ca.crt", 1);
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "client certificate rejected");
  ck_assert_int_eq(mesos__tls_handshake_done(srv.t), 0);
  ck_assert_ptr_null(mesos__tls_peer_cn(srv.t));
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&cli), "bad_certificate");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__client_refuses_a_server_certificate_for_another_host_name) {
  peer cli, srv;
  expect_failure("server", NULL, 0, NULL, "ca.crt", 1, "master.example.com", &cli, &srv);
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&cli), "peer certificate rejected");
  ck_assert_contains(errmsg(&cli), "Common Name");
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "fatal alert");
  peer_free(&cli);
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__client_refuses_a_server_certificate_from_an_untrusted_ca) {
  peer cli, srv;
  expect_failure("other-server", NULL, 0, NULL, "ca.crt", 1, "localhost", &cli, &srv);
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&cli), "not correctly signed by the trusted CA");
  peer_free(&cli);
  peer_free(&srv);
  /* And the other way round: our CA's server, a client trusting only the other CA. */
  expect_failure("server", NULL, 0, NULL, "other-ca.crt", 1, "localhost", &cli, &srv);
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  peer_free(&cli);
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__numeric_server_names_are_matched_against_ip_address_entries) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  const char *good[] = {"127.0.0.1", "::1"};
  for (size_t i = 0; i < 2; i++) {
    peer cli, srv;
    connect_pair(&cli, &srv, ccfg, scfg, good[i]);
    ck_assert_msg(cli.st == 0 && mesos__tls_handshake_done(cli.t), "%s: %s", good[i],
                  errmsg(&cli));
    peer_free(&cli);
    peer_free(&srv);
  }
  const char *bad[] = {"127.0.0.2", "::2", "10.0.0.1"};
  for (size_t i = 0; i < 3; i++) {
    peer cli, srv;
    connect_pair(&cli, &srv, ccfg, scfg, bad[i]);
    ck_assert_int_eq(cli.st, MESOS_ETLS);
    char want[64];
    snprintf(want, sizeof want, "no subjectAltName IP entry for %s", bad[i]);
    ck_assert_contains(errmsg(&cli), want);
    peer_free(&cli);
    peer_free(&srv);
  }
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__server_sends_its_intermediate_certificates_from_a_chain_file) {
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  /* The leaf alone cannot be verified against the root... */
  mesos__tls_config *scfg = server_cfg("leaf-server", NULL, 0);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_int_eq(cli.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&cli), "not correctly signed by the trusted CA");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(scfg);
  /* ...the chain file carries the intermediate to the client. */
  scfg = server_cfg("chain-server", NULL, 0);
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_msg(cli.st == 0 && mesos__tls_handshake_done(cli.t), "%s", errmsg(&cli));
  ck_assert_str_eq(mesos__tls_peer_cn(cli.t), "localhost");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(scfg);
  mesos__tls_config_unref(ccfg);
}
END_TEST

START_TEST(test_tls__client_without_verification_accepts_any_server_and_reports_no_cn) {
  mesos__tls_config *scfg = server_cfg("other-server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, NULL, 0);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, NULL);
  ck_assert_msg(cli.st == 0 && mesos__tls_handshake_done(cli.t), "%s", errmsg(&cli));
  ck_assert_ptr_null(mesos__tls_peer_cn(cli.t));
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__verifying_client_without_ca_file_trusts_only_the_system_bundle) {
  mesos__tls_config_options o = {0};
  o.verify_peer = 1;
  mesos__tls_config *ccfg = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__tls_config_new(&ccfg, &o, &err);
  if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0) {
    /* No system bundle: the config says so instead of trusting nothing. */
    ck_assert_int_eq(st, MESOS_EINVAL);
    ck_assert_contains(mesos_error_message(err), "system CA bundle");
    mesos_error_free(err);
    return;
  }
  ck_assert_mesos_ok(st, &err);
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  ck_assert_int_eq(cli.st, MESOS_ETLS); /* our test CA is not a public root */
  ck_assert_contains(errmsg(&cli), "not correctly signed by the trusted CA");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_tls__plaintext_http_on_either_side_fails_with_a_clear_error) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls *t = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_new(&t, scfg, NULL, &err), &err);
  const char req[] = "GET /state HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ck_assert_mesos_ok(mesos__tls_feed(t, req, sizeof req - 1, &err), &err);
  char buf[64];
  ck_assert_int_eq(mesos__tls_read(t, buf, sizeof buf, &err), MESOS_ETLS);
  ck_assert_contains(mesos_error_message(err), "client sent plaintext HTTP (\"GET ...\")");
  mesos_error_free(err);
  err = NULL;
  mesos__tls_free(t);
  mesos__tls_config_unref(scfg);

  /* A client that reached a plain HTTP server hears so, too. */
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  ck_assert_mesos_ok(mesos__tls_new(&t, ccfg, "localhost", &err), &err);
  const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  ck_assert_mesos_ok(mesos__tls_feed(t, resp, sizeof resp - 1, &err), &err);
  ck_assert_int_eq(mesos__tls_read(t, buf, sizeof buf, &err), MESOS_ETLS);
  ck_assert_contains(mesos_error_message(err), "server answered in plaintext HTTP");
  mesos_error_free(err);
  mesos__tls_free(t);
  mesos__tls_config_unref(ccfg);
}
END_TEST

START_TEST(test_tls__random_garbage_to_either_side_fails_without_crashing) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  for (unsigned seed = 1; seed <= 50; seed++) {
    mesos__tls *t = NULL;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__tls_new(&t, seed % 2 ? scfg : ccfg, "localhost", &err), &err);
    char *junk = pattern(3000, seed);
    if (seed % 3 == 0) memcpy(junk, "\x16\x03\x03\x00\x40", 5); /* plausible header */
    ssize_t r = 0;
    for (size_t off = 0; off < 3000 && r == 0; off += 300) {
      if (mesos__tls_feed(t, junk + off, 300, &err) != MESOS_OK) break;
      char buf[256];
      r = mesos__tls_read(t, buf, sizeof buf, &err);
    }
    ck_assert_msg(r == MESOS_ETLS, "seed %u: read returned %zd", seed, r);
    ck_assert_ptr_nonnull(err);
    mesos_error_free(err);
    free(junk);
    mesos__tls_free(t);
  }
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

START_TEST(test_tls__a_tampered_record_is_rejected) {
  mesos__tls_config *scfg = server_cfg("server", NULL, 0);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  peer cli, srv;
  connect_pair(&cli, &srv, ccfg, scfg, "localhost");
  write_ok(&cli, "transfer 100 to alice", 21);
  size_t len;
  char *rec = (char *)mesos__tls_out(cli.t, &len);
  ck_assert_uint_gt(len, 30);
  rec[len - 20] ^= 1;
  pump(&cli, &srv, SIZE_MAX);
  ck_assert_uint_eq(srv.rx_len, 0);
  ck_assert_int_eq(srv.st, MESOS_ETLS);
  ck_assert_contains(errmsg(&srv), "TLS record error");
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

/* ------------------------------------------------------------ limits */

START_TEST(test_tls__feeds_and_writes_past_the_limits_are_refused_whole) {
  mesos__tls_config_options o = {0};
  o.is_server = 1;
  o.cert_file = C("server.crt");
  o.key_file = C("server.key");
  o.max_in = 1000;
  o.max_out = 50000;
  mesos__tls_config *scfg = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&scfg, &o, &err), &err);
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);

  peer cli, srv;
  peer_init(&srv, scfg, NULL);
  peer_init(&cli, ccfg, "localhost");
  char *big = pattern(60000, 9);
  /* Queued before the handshake: bounded by max_out too. */
  ck_assert_int_eq(mesos__tls_write(srv.t, big, 50001, &err), MESOS_ELIMIT);
  ck_assert_contains(mesos_error_message(err), "limit 50000");
  mesos_error_free(err);
  err = NULL;
  write_ok(&srv, big, 1000);
  /* Input: 1001 bytes into a 1000-byte window is refused as a whole. */
  ck_assert_int_eq(mesos__tls_feed(srv.t, big, 1001, &err), MESOS_ELIMIT);
  ck_assert_contains(mesos_error_message(err), "read first");
  mesos_error_free(err);
  err = NULL;

  pump(&cli, &srv, 1000);
  ck_assert_msg(cli.st == 0 && srv.st == 0, "client: %s; server: %s", errmsg(&cli), errmsg(&srv));
  ck_assert_uint_eq(cli.rx_len, 1000);
  /* After the handshake the estimate includes record overhead. */
  ck_assert_int_eq(mesos__tls_write(srv.t, big, 50000, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  write_ok(&srv, big, 30000);
  ck_assert_int_eq(mesos__tls_write(srv.t, big, 30000, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  /* Draining the output makes room again, and nothing was half-written. */
  pump(&cli, &srv, 1000);
  write_ok(&srv, big + 30000, 30000);
  pump(&cli, &srv, 1000);
  ck_assert_uint_eq(cli.rx_len, 61000);
  ck_assert_int_eq(memcmp(cli.rx + 1000, big, 60000), 0);
  free(big);
  peer_free(&cli);
  peer_free(&srv);
  mesos__tls_config_unref(ccfg);
  mesos__tls_config_unref(scfg);
}
END_TEST

/* ------------------------------------------------------------ configuration errors */

static mesos_status try_config(int is_server, const char *cert, const char *key, const char *ca,
                               int verify, const char *minv, mesos_error **err) {
  mesos__tls_config_options o = {0};
  o.is_server = is_server;
  o.cert_file = cert;
  o.key_file = key;
  o.ca_file = ca;
  o.verify_peer = verify;
  o.min_version = minv;
  mesos__tls_config *c = NULL;
  mesos_status s = mesos__tls_config_new(&c, &o, err);
  if (s == MESOS_OK) {
    ck_assert_ptr_nonnull(c);
    mesos__tls_config_unref(c);
  } else {
    ck_assert_ptr_null(c);
  }
  return s;
}

#define ck_config_fails(code, substr, ...)                                 \
  do {                                                                     \
    mesos_error *e_ = NULL;                                                \
    ck_assert_int_eq(try_config(__VA_ARGS__, &e_), (code));                \
    ck_assert_ptr_nonnull(e_);                                             \
    ck_assert_contains(mesos_error_message(e_), (substr));                 \
    mesos_error_free(e_);                                                  \
  } while (0)

START_TEST(test_tls__bad_configurations_are_refused_with_a_reason) {
  const char *crt = C("server.crt"), *key = C("server.key"), *ca = C("ca.crt");
  ck_config_fails(MESOS_EINVAL, "needs cert_file", 1, NULL, NULL, NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "given together", 1, crt, NULL, NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "No such file", 1, "/nonexistent/x.crt", key, NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "/nonexistent/x.key", 1, crt, "/nonexistent/x.key", NULL, 0,
                  NULL);
  ck_config_fails(MESOS_EINVAL, "does not match", 1, crt, C("client.key"), NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "cannot parse", 1, C("server.ext"), key, NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "cannot parse", 1, crt, C("server.ext"), NULL, 0, NULL);
  ck_config_fails(MESOS_EINVAL, "cannot parse", 0, NULL, NULL, C("client.ext"), 1, NULL);
  ck_config_fails(MESOS_EINVAL, "needs ca_file", 1, crt, key, NULL, 2, NULL);
  ck_config_fails(MESOS_EINVAL, "verify_peer 3", 1, crt, key, ca, 3, NULL);
  ck_config_fails(MESOS_EINVAL, "verify_peer 2", 0, NULL, NULL, ca, 2, NULL);
  ck_config_fails(MESOS_EINVAL, "verify_peer -1", 0, NULL, NULL, ca, -1, NULL);
  ck_config_fails(MESOS_EUNSUPPORTED, "TLS 1.3", 1, crt, key, NULL, 0, "1.3");
  ck_config_fails(MESOS_EINVAL, "\"1.1\"", 1, crt, key, NULL, 0, "1.1");
  ck_assert_int_eq(try_config(1, crt, key, NULL, 0, "1.2", NULL), MESOS_OK);
  ck_assert_int_eq(try_config(0, C("client.crt"), C("client.key"), ca, 1, NULL, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__tls_config_new(NULL, NULL, NULL), MESOS_EINVAL);

  /* A verifying client must name the server it expects. */
  mesos__tls_config *ccfg = client_cfg(NULL, "ca.crt", 1);
  mesos__tls *t = (mesos__tls *)1;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__tls_new(&t, ccfg, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_null(t);
  ck_assert_contains(mesos_error_message(err), "server name");
  mesos_error_free(err);
  mesos__tls_config_unref(ccfg);
}
END_TEST

START_TEST(test_tls__allocation_failures_are_reported_and_leak_nothing) {
  int64_t live0 = mesos__alloc_live();
  int succeeded = 0;
  for (uint64_t n = 1; n < 400 && !succeeded; n++) {
    mesos__alloc_fail_after(n);
    mesos__tls_config_options so = {0};
    so.is_server = 1;
    so.cert_file = C("server.crt");
    so.key_file = C("server.key");
    mesos__tls_config_options co = {0};
    co.ca_file = C("ca.crt");
    co.verify_peer = 1;
    mesos__tls_config *scfg = NULL, *ccfg = NULL;
    mesos__tls *c = NULL, *s = NULL;
    mesos_error *err = NULL;
    mesos_status st = mesos__tls_config_new(&scfg, &so, &err);
    if (st == MESOS_OK) st = mesos__tls_config_new(&ccfg, &co, &err);
    if (st == MESOS_OK) st = mesos__tls_new(&s, scfg, NULL, &err);
    if (st == MESOS_OK) st = mesos__tls_new(&c, ccfg, "localhost", &err);
    /* Shuttle by hand: the peer helpers allocate with malloc, but the
     * engine's buffers fail. */
    for (int round = 0; st == MESOS_OK && round < 10; round++) {
      mesos__tls *from = round % 2 ? s : c, *to = round % 2 ? c : s;
      size_t len;
      const char *p = mesos__tls_out(from, &len);
      if (p != NULL) st = mesos__tls_feed(to, p, len, &err);
      mesos__tls_consume_out(from, len);
      char buf[64];
      if (st == MESOS_OK) {
        ssize_t r = mesos__tls_read(to, buf, sizeof buf, &err);
        if (r < 0) st = (mesos_status)r;
      }
    }
    if (st == MESOS_OK && mesos__tls_handshake_done(c) && mesos__tls_handshake_done(s))
      succeeded = 1;
    else
      ck_assert_msg(st == MESOS_ENOMEM || st == MESOS_ETLS || st == MESOS_ECLOSED ||
                        st == MESOS_OK,
                    "n=%llu: %s", (unsigned long long)n, mesos_status_name(st));
    mesos_error_free(err);
    mesos__tls_free(c);
    mesos__tls_free(s);
    mesos__tls_config_unref(ccfg);
    mesos__tls_config_unref(scfg);
    mesos__alloc_fail_after(0);
    ck_assert_int_eq(mesos__alloc_live(), live0);
  }
  ck_assert_msg(succeeded, "never got through the handshake");
}
END_TEST

/* ------------------------------------------------------------ real OpenSSL peers */

/* The openssl process of the running test; killed in teardown, at exit and
 * (PR_SET_PDEATHSIG) if this test process dies any other way. */
static pid_t child_pid = -1;

static void kill_child(void) {
  if (child_pid > 0) {
    kill(child_pid, SIGKILL);
    while (waitpid(child_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    child_pid = -1;
  }
}

static void peers_setup(void) { atexit(kill_child); }
static void peers_teardown(void) { kill_child(); }

/* Starts argv with stdin from *in_fd's pipe and stdout+stderr into
 * *out_fd's pipe (both non-NULL). */
static void spawn(char *const argv[], int *in_fd, int *out_fd) {
  int in[2], out[2];
  ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
  pid_t parent = getpid();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(111);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  child_pid = pid;
  close(in[0]);
  close(out[1]);
  *in_fd = in[1];
  *out_fd = out[0];
  fcntl(*out_fd, F_SETFL, O_NONBLOCK);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collects a child's output (for the assertion messages). */
typedef struct text {
  char buf[16384];
  size_t len;
} text;

static void text_read(text *x, int fd) {
  for (;;) {
    if (x->len + 1 >= sizeof x->buf) return;
    ssize_t n = read(fd, x->buf + x->len, sizeof x->buf - 1 - x->len);
    if (n <= 0) return;
    x->len += (size_t)n;
    x->buf[x->len] = '\0';
  }
}

/* Sends all pending ciphertext on a blocking socket. */
static int flush_out(mesos__tls *t, int fd) {
  size_t len;
  const char *p;
  while ((p = mesos__tls_out(t, &len)) != NULL) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    mesos__tls_consume_out(t, (size_t)n);
  }
  return 0;
}

/* Socket readable: feed and drain into p (p->st records the end). */
static int sock_step(peer *p, int fd) {
  char buf[16384];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0 && errno == EINTR) return 0;
  if (n <= 0) return -1; /* EOF or error */
  mesos_error *err = NULL;
  mesos_status s = mesos__tls_feed(p->t, buf, (size_t)n, &err);
  mesos_error_free(err);
  if (s != MESOS_OK) return -1;
  peer_drain(p);
  flush_out(p->t, fd);
  return p->st != 0 ? -1 : 0;
}

static int connect_retry(int port, int timeout_ms) {
  long long end = now_ms() + timeout_ms;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (now_ms() < end) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    close(fd);
    usleep(20000);
  }
  return -1;
}

/* Our client against `openssl s_server -www`: GET / and read the page
 * until the server's close_notify. */
static void client_against_s_server(int require_client_cert, int present_cert) {
  int port = mesos_test_free_port();
  ck_assert_int_gt(port, 0);
  char accept_arg[32];
  snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%d", port);
  char *argv[32];
  int k = 0;
  argv[k++] = "openssl";
  argv[k++] = "s_server";
  argv[k++] = "-accept";
  argv[k++] = accept_arg;
  argv[k++] = "-cert";
  argv[k++] = (char *)C("server.crt");
  argv[k++] = "-key";
  argv[k++] = (char *)C("server.key");
  argv[k++] = "-www";
  argv[k++] = "-naccept";
  argv[k++] = "1";
  if (require_client_cert) {
    argv[k++] = "-Verify";
    argv[k++] = "1";
    argv[k++] = "-verify_return_error";
    argv[k++] = "-CAfile";
    argv[k++] = (char *)C("ca.crt");
  }
  argv[k] = NULL;
  int in_fd, out_fd;
  spawn(argv, &in_fd, &out_fd);
  text log = {.len = 0};

  mesos__tls_config *ccfg = client_cfg(present_cert ? "client" : NULL, "ca.crt", 1);
  peer cli;
  peer_init(&cli, ccfg, "localhost");
  int fd = connect_retry(port, 10000);
  ck_assert_msg(fd >= 0, "cannot connect to s_server on port %d", port);
  write_ok(&cli, "GET / HTTP/1.0\r\n\r\n", 18);
  ck_assert_int_eq(flush_out(cli.t, fd), 0);
  long long end = now_ms() + 15000;
  while (cli.st == 0 && now_ms() < end) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {out_fd, POLLIN, 0}};
    poll(p, 2, 100);
    if (p[1].revents) text_read(&log, out_fd);
    if (p[0].revents && sock_step(&cli, fd) != 0) break;
  }
  text_read(&log, out_fd);
  cli.rx = realloc(cli.rx, cli.rx_len + 1);
  cli.rx[cli.rx_len] = '\0';
  if (require_client_cert && !present_cert) {
    /* OpenSSL refuses us with an alert; we report it, nothing else. */
    ck_assert_msg(cli.st == MESOS_ETLS, "got %s: %s; s_server: %s", mesos_status_name(cli.st),
                  errmsg(&cli), log.buf);
    ck_assert_contains(errmsg(&cli), "fatal alert");
    ck_assert_uint_eq(cli.rx_len, 0);
    goto done;
  }
  ck_assert_msg(mesos__tls_handshake_done(cli.t), "handshake: %s; s_server: %s", errmsg(&cli),
                log.buf);
  ck_assert_msg(strstr(cli.rx, "HTTP/1.0 200 ok") != NULL, "got \"%.200s\"; s_server: %s",
                cli.rx, log.buf);
  /* s_server's page describes the session it negotiated with us. */
  ck_assert_contains(cli.rx, "TLSv1.2");
  ck_assert_msg(cli.st == MESOS_ECLOSED, "expected close_notify, got %s: %s",
                mesos_status_name(cli.st), errmsg(&cli));
  ck_assert_str_eq(mesos__tls_peer_cn(cli.t), "localhost");
done:
  close(fd);
  close(in_fd);
  close(out_fd);
  peer_free(&cli);
  mesos__tls_config_unref(ccfg);
}

START_TEST(test_tls__our_client_talks_to_openssl_s_server) { client_against_s_server(0, 0); }
END_TEST

START_TEST(test_tls__our_client_presents_its_certificate_to_openssl_s_server) {
  client_against_s_server(1, 1);
}
END_TEST

START_TEST(test_tls__openssl_s_server_refusal_of_our_client_is_reported) {
  client_against_s_server(1, 0);
}
END_TEST

/* `openssl s_client` against a tiny echo server on our engine.  Returns the
 * server peer (caller frees) after s_client exits or the exchange ends. */
static void s_client_against_echo(const char *client_cert, int server_verify,
                                  const char *const *extra, peer *srv, text *log, int *echoed) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(lfd, 4), 0);
  ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
  char connect_arg[32];
  snprintf(connect_arg, sizeof connect_arg, "127.0.0.1:%d", ntohs(a.sin_port));

  char crt[64], key[64];
  char *argv[32];
  int k = 0;
  argv[k++] = "openssl";
  argv[k++] = "s_client";
  argv[k++] = "-connect";
  argv[k++] = connect_arg;
  argv[k++] = "-servername";
  argv[k++] = "localhost";
  argv[k++] = "-verify_hostname";
  argv[k++] = "localhost";
  argv[k++] = "-CAfile";
  argv[k++] = (char *)C("ca.crt");
  argv[k++] = "-verify_return_error";
  argv[k++] = "-quiet";
  argv[k++] = "-no_ign_eof";
  if (client_cert) {
    snprintf(crt, sizeof crt, "%s.crt", client_cert);
    snprintf(key, sizeof key, "%s.key", client_cert);
    argv[k++] = "-cert";
    argv[k++] = (char *)C(crt);
    argv[k++] = "-key";
    argv[k++] = (char *)C(key);
  }
  for (int i = 0; extra && extra[i] && k < 30; i++) argv[k++] = (char *)extra[i];
  argv[k] = NULL;
  int in_fd, out_fd;
  spawn(argv, &in_fd, &out_fd);

  struct pollfd lp = {lfd, POLLIN, 0};
  ck_assert_msg(poll(&lp, 1, 10000) == 1, "s_client did not connect");
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  close(lfd);

  mesos__tls_config *scfg = server_cfg("server", server_verify ? "ca.crt" : NULL, server_verify);
  peer_init(srv, scfg, NULL);
  mesos__tls_config_unref(scfg);
  static const char line[] = "ping from s_client\n";
  ck_assert_int_eq(write(in_fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
  *echoed = 0;
  int stdin_open = 1;
  long long end = now_ms() + 15000;
  size_t sent_back = 0;
  while (now_ms() < end) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {out_fd, POLLIN, 0}};
    poll(p, 2, 100);
    if (p[1].revents) text_read(log, out_fd);
    if (p[0].revents) {
      int r = sock_step(srv, fd);
      /* Echo whatever arrived. */
      if (srv->rx_len > sent_back) {
        write_ok(srv, srv->rx + sent_back, srv->rx_len - sent_back);
        sent_back = srv->rx_len;
        flush_out(srv->t, fd);
      }
      if (r != 0) break;
    }
    if (stdin_open && strstr(log->buf, "ping from s_client") != NULL) {
      /* Echo seen: end s_client's input so it sends close_notify. */
      *echoed = 1;
      close(in_fd);
      stdin_open = 0;
    }
  }
  if (stdin_open) close(in_fd);
  /* Let s_client finish and collect what it printed. */
  int st = 0;
  for (int i = 0; i < 100 && waitpid(child_pid, &st, WNOHANG) == 0; i++) usleep(20000);
  text_read(log, out_fd);
  close(out_fd);
  close(fd);
}

START_TEST(test_tls__openssl_s_client_talks_to_our_echo_server) {
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo(NULL, 0, NULL, &srv, &log, &echoed);
  ck_assert_msg(echoed, "no echo; server: %s; s_client: %s", errmsg(&srv), log.buf);
  ck_assert_msg(srv.st == MESOS_ECLOSED, "expected close_notify, got %s: %s",
                mesos_status_name(srv.st), errmsg(&srv));
  ck_assert_ptr_null(mesos__tls_peer_cn(srv.t));
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__openssl_s_client_with_a_certificate_passes_required_verification) {
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo("client", 2, NULL, &srv, &log, &echoed);
  ck_assert_msg(echoed, "no echo; server: %s; s_client: %s", errmsg(&srv), log.buf);
  ck_assert_str_eq(mesos__tls_peer_cn(srv.t), "mesos-test-client");
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__openssl_s_client_without_a_certificate_is_refused) {
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo(NULL, 2, NULL, &srv, &log, &echoed);
  ck_assert_int_eq(echoed, 0);
  ck_assert_msg(srv.st == MESOS_ETLS, "got %s: %s; s_client: %s", mesos_status_name(srv.st),
                errmsg(&srv), log.buf);
  ck_assert_contains(errmsg(&srv), "sent no certificate");
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__openssl_s_client_with_a_foreign_certificate_is_refused) {
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo("other-client", 2, NULL, &srv, &log, &echoed);
  ck_assert_int_eq(echoed, 0);
  ck_assert_msg(srv.st == MESOS_ETLS, "got %s: %s", mesos_status_name(srv.st), errmsg(&srv));
  ck_assert_contains(errmsg(&srv), "not correctly signed by the trusted CA");
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__openssl_s_client_offering_only_tls_1_1_is_refused) {
  /* SECLEVEL=0 lets OpenSSL 3 offer TLS 1.1 at all. */
  const char *const extra[] = {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo(NULL, 0, extra, &srv, &log, &echoed);
  ck_assert_int_eq(echoed, 0);
  ck_assert_msg(srv.st == MESOS_ETLS, "got %s: %s; s_client: %s", mesos_status_name(srv.st),
                errmsg(&srv), log.buf);
  ck_assert_int_eq(mesos__tls_handshake_done(srv.t), 0);
  ck_assert_contains(errmsg(&srv), "protocol not within min/max");
  peer_free(&srv);
}
END_TEST

START_TEST(test_tls__openssl_s_client_offering_only_weak_suites_is_refused) {
  /* TLS 1.2 without forward secrecy or AEAD: RSA key exchange, CBC. */
  const char *const extra[] = {"-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256", NULL};
  peer srv;
  text log = {.len = 0};
  int echoed;
  s_client_against_echo(NULL, 0, extra, &srv, &log, &echoed);
  ck_assert_int_eq(echoed, 0);
  ck_assert_msg(srv.st == MESOS_ETLS, "got %s: %s; s_client: %s", mesos_status_name(srv.st),
                errmsg(&srv), log.buf);
  ck_assert_contains(errmsg(&srv), "no ciphersuites in common");
  peer_free(&srv);
}
END_TEST

/* ------------------------------------------------------------ threads */

struct shared_cfgs {
  mesos__tls_config *scfg, *ccfg;
  int ok; /* handshakes that completed with data exchanged */
};

static void *handshake_thread(void *arg) {
  struct shared_cfgs *sc = arg;
  for (int i = 0; i < 5; i++) {
    mesos__tls *c = NULL, *s = NULL;
    if (mesos__tls_new(&s, sc->scfg, NULL, NULL) != MESOS_OK ||
        mesos__tls_new(&c, sc->ccfg, "localhost", NULL) != MESOS_OK) {
      mesos__tls_free(c);
      mesos__tls_free(s);
      continue;
    }
    mesos__tls_write(c, "ping", 4, NULL);
    char buf[16];
    ssize_t got = 0;
    for (int round = 0; round < 10; round++) {
      mesos__tls *from = round % 2 ? s : c, *to = round % 2 ? c : s;
      size_t len;
      const char *p = mesos__tls_out(from, &len);
      if (p != NULL) mesos__tls_feed(to, p, len, NULL);
      mesos__tls_consume_out(from, len);
      ssize_t r = mesos__tls_read(to, buf, sizeof buf, NULL);
      if (to == s && r > 0) got += r;
    }
    if (got == 4 && memcmp(buf, "ping", 4) == 0) __atomic_add_fetch(&sc->ok, 1, __ATOMIC_RELAXED);
    mesos__tls_free(c);
    mesos__tls_free(s);
  }
  return NULL;
}

START_TEST(test_tls__configs_are_shared_by_sessions_on_several_threads) {
  struct shared_cfgs sc = {server_cfg("server-rsa", "ca.crt", 0), client_cfg(NULL, "ca.crt", 1), 0};
  pthread_t th[4];
  for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, handshake_thread, &sc), 0);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  ck_assert_int_eq(sc.ok, 20);
  mesos__tls_config_unref(sc.ccfg);
  mesos__tls_config_unref(sc.scfg);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("tls");
  TCase *tc = tcase_create("memory");
  tcase_add_unchecked_fixture(tc, certs_setup, certs_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_tls__sessions_handshake_and_exchange_data_both_ways);
  tcase_add_test(tc, test_tls__records_larger_than_16k_arrive_intact_both_ways);
  tcase_add_test(tc, test_tls__handshake_and_data_survive_one_byte_feeds);
  tcase_add_test(tc, test_tls__close_notify_reaches_the_peer_and_ends_writing);
  tcase_add_test(tc, test_tls__shutdown_before_the_handshake_queues_nothing_and_drops_pending_data);
  tcase_add_test(tc, test_tls__config_outlives_its_last_unref_while_sessions_use_it);
  tcase_add_test(tc, test_tls__required_client_certificate_is_verified_and_its_cn_reported);
  tcase_add_test(tc, test_tls__server_requiring_a_client_certificate_refuses_a_client_without_one);
  tcase_add_test(tc, test_tls__client_certificate_from_another_ca_is_refused);
  tcase_add_test(tc, test_tls__expired_client_certificate_is_refused);
  tcase_add_test(tc, test_tls__optional_client_certificate_may_be_absent_but_must_verify_if_sent);
  tcase_add_test(tc, test_tls__client_refuses_a_server_certificate_for_another_host_name);
  tcase_add_test(tc, test_tls__client_refuses_a_server_certificate_from_an_untrusted_ca);
  tcase_add_test(tc, test_tls__numeric_server_names_are_matched_against_ip_address_entries);
  tcase_add_test(tc, test_tls__server_sends_its_intermediate_certificates_from_a_chain_file);
  tcase_add_test(tc, test_tls__client_without_verification_accepts_any_server_and_reports_no_cn);
  tcase_add_test(tc, test_tls__verifying_client_without_ca_file_trusts_only_the_system_bundle);
  tcase_add_test(tc, test_tls__plaintext_http_on_either_side_fails_with_a_clear_error);
  tcase_add_test(tc, test_tls__random_garbage_to_either_side_fails_without_crashing);
  tcase_add_test(tc, test_tls__a_tampered_record_is_rejected);
  tcase_add_test(tc, test_tls__feeds_and_writes_past_the_limits_are_refused_whole);
  tcase_add_test(tc, test_tls__bad_configurations_are_refused_with_a_reason);
  tcase_add_test(tc, test_tls__allocation_failures_are_reported_and_leak_nothing);
  tcase_add_test(tc, test_tls__configs_are_shared_by_sessions_on_several_threads);
  suite_add_tcase(s, tc);

  TCase *real = tcase_create("openssl");
  tcase_add_unchecked_fixture(real, certs_setup, certs_teardown);
  tcase_add_checked_fixture(real, peers_setup, peers_teardown);
  tcase_set_timeout(real, 60);
  tcase_add_test(real, test_tls__our_client_talks_to_openssl_s_server);
  tcase_add_test(real, test_tls__our_client_presents_its_certificate_to_openssl_s_server);
  tcase_add_test(real, test_tls__openssl_s_server_refusal_of_our_client_is_reported);
  tcase_add_test(real, test_tls__openssl_s_client_talks_to_our_echo_server);
  tcase_add_test(real, test_tls__openssl_s_client_with_a_certificate_passes_required_verification);
  tcase_add_test(real, test_tls__openssl_s_client_without_a_certificate_is_refused);
  tcase_add_test(real, test_tls__openssl_s_client_with_a_foreign_certificate_is_refused);
  tcase_add_test(real, test_tls__openssl_s_client_offering_only_tls_1_1_is_refused);
  tcase_add_test(real, test_tls__openssl_s_client_offering_only_weak_suites_is_refused);
  suite_add_tcase(s, real);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
