/*
 * TLS engine over memory buffers, on mbedtls 2.28 (Debian 12).
 *
 * mbedtls talks to the network through two callbacks (mbedtls_ssl_set_bio).
 * Ours never touch a socket: "receive" copies from the session's input
 * buffer (filled by mesos__tls_feed) and answers MBEDTLS_ERR_SSL_WANT_READ
 * when it is empty; "send" appends to the output buffer the transport
 * drains.  So every mbedtls call returns at once, and "would block" only
 * ever means "feed me more ciphertext".
 *
 * Memory.  Everything this file allocates (configs, sessions, the bounded
 * buffers, the CN copy) goes through mesos__malloc.  mbedtls's own internal
 * allocations (the two ~16.7 KiB record buffers per session, parsed
 * certificates, bignums) stay with libc: mbedtls_platform_set_calloc_free()
 * only exists when mbedtls is built with MBEDTLS_PLATFORM_MEMORY, which
 * Debian's package is not, and even where it exists it is process-global, so
 * a host program that uses mbedtls itself would silently get our allocator
 * (and our OOM-torture hook).  mbedtls reports its own allocation failures as
 * MBEDTLS_ERR_SSL_ALLOC_FAILED / ..._ALLOC_FAILED, mapped to MESOS_ENOMEM.
 *
 * Policy.  TLS 1.2 exactly (1.0/1.1 are broken, 1.3 is not in this mbedtls),
 * ECDHE key exchange only (forward secrecy), AEAD ciphers only (no CBC
 * padding oracles), no renegotiation (a classic DoS and injection surface
 * nobody here needs).
 */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"

/* Where clients that verify but name no CA file find trusted roots
 * (Debian's ca-certificates). */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* Control messages (handshake flights, alerts) must never be refused, or the
 * handshake would wedge: the output buffer's hard bound is max_out plus this
 * slack, while application writes are checked against max_out itself.  A
 * server flight with a long certificate chain stays well under 64 KiB. */
#define OUT_SLACK ((size_t)64 << 10)

/* A drained buffer bigger than this is freed rather than kept, so a
 * keep-alive connection does not pin the memory of the largest response it
 * once sent.  Not smaller: a 64 KiB socket read or write grows a buffer to
 * 128 KiB (doubling, plus the NUL mesos__buf keeps), and freeing that after
 * every read made bulk transfers 2.5x slower (fresh pages from the kernel
 * each time).  So an idle session costs mbedtls's ~38 KiB plus at most
 * 2 x 128 KiB here. */
#define KEEP_DRAINED_CAP ((size_t)128 << 10)

/* mbedtls_ssl_read() may return 0 for empty records; a peer sending only
 * empty records must not spin us, so one read call looks at this many at
 * most before reporting "need more input" (mbedtls itself also caps runs of
 * empty records). */
#define MAX_EMPTY_READS 16

/* AEAD suites with ECDHE; both ECDSA and RSA certificates work.  mbedtls
 * servers pick by their own order, so the order is a performance choice:
 * ChaCha20-Poly1305 first, because in this mbedtls (2.28, portable GHASH)
 * it runs about 1.8x faster than AES-GCM (measured: ~400 vs ~220 MB/s per
 * core for 16 KiB records), and all these suites are equally recommended.
 * Must outlive every mbedtls_ssl_config that points at it: static. */
static const int ciphersuites[] = {
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  0,
};

/* Key-exchange groups; in mbedtls 2.28 the same list also limits the curves
 * accepted in ECDSA certificates, hence P-521 (some CAs use it). */
static const mbedtls_ecp_group_id curves[] = {
  MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
  MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE,
};

struct mesos__tls_config {
  atomic_int refs;
  int is_server;
  int verify_peer;
  size_t max_in;
  size_t max_out;
  size_t out_hard_max; /* max_out + slack: see OUT_SLACK */
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_x509_crt ca;
  mbedtls_ssl_config conf;
};

struct mesos__tls {
  mesos__tls_config *cfg;
  mbedtls_ssl_context ssl;
  /* Input ciphertext: bytes [in_off, in.len) are not yet given to mbedtls.
   * Output ciphertext: bytes [out_off, out.len) are not yet sent.  Offsets
   * instead of mesos__buf_consume so a slow consumer of a big output does
   * not pay a memmove per partial send. */
  mesos__buf in;
  size_t in_off;
  mesos__buf out;
  size_t out_off;
  mesos__buf pending; /* plaintext written before the handshake finished */
  int handshake_done;
  int peer_closed;    /* close_notify received */
  int shut;           /* close_notify queued by us */
  mesos_status fail_code; /* 0 until a fatal error; then sticky */
  char *fail_msg;
  char *peer_cn;
  /* The first bytes the peer ever sent, to recognise plaintext HTTP. */
  unsigned char first[8];
  size_t first_len;
  /* Clients given a numeric address check it against the certificate's
   * iPAddress entries themselves: mbedtls 2.28 only matches DNS names. */
  unsigned char ip[16];
  size_t ip_len;
};

/* ------------------------------------------------------------------ errors */

static void mbed_strerror(int ret, char *buf, size_t cap) {
  mbedtls_strerror(ret, buf, cap);
  if (buf[0] == '\0') snprintf(buf, cap, "unknown mbedtls error");
}

/* "<what>: <mbedtls text> (-0xNNNN)" */
static mesos_status mbed_err(mesos_error **err, mesos_status code, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static mesos_status mbed_err(mesos_error **err, mesos_status code, int ret, const char *fmt, ...) {
  char what[512], msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  mbed_strerror(ret, msg, sizeof msg);
  return mesos__err(err, code, "%s: %s (-0x%04x)", what, msg, (unsigned)-ret);
}

static const char *alert_name(int a) {
  switch (a) {
  case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
  case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
  case MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW: return "record_overflow";
  case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
  case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
  case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
  case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED: return "certificate_revoked";
  case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
  case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
  case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
  case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
  case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
  case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
  case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
  case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
  case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
  case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
  case MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION: return "no_renegotiation";
  case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT: return "unsupported_extension";
  case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME: return "unrecognized_name";
  case 116: return "certificate_required"; /* TLS 1.3 name, sent by OpenSSL */
  default: return "alert";
  }
}

/* True when the peer's first bytes look like an HTTP/1 request line, the
 * usual reason for garbage on a TLS port. */
static int looks_like_http(const mesos__tls *t) {
  static const char *const methods[] = {"GET ", "POST", "PUT ", "HEAD", "DELE",
                                        "OPTI", "PATC", "CONN", "TRAC", "HTTP"};
  if (t->first_len < 4) return 0;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (memcmp(t->first, methods[i], 4) == 0) return 1;
  return 0;
}

/* Records a fatal error (first one wins: later errors are consequences). */
static mesos_status set_failed(mesos__tls *t, mesos_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mesos_status set_failed(mesos__tls *t, mesos_status code, const char *fmt, ...) {
  if (t->fail_code != 0) return t->fail_code;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  t->fail_code = code;
  t->fail_msg = mesos__strdup(msg); /* NULL on OOM: reported generically */
  LOG_DEBUG("tls: %s", msg);
  return code;
}

static mesos_status report_failed(const mesos__tls *t, mesos_error **err) {
  return mesos__err(err, t->fail_code, "%s", t->fail_msg ? t->fail_msg : "TLS session failed");
}

/* Turns an mbedtls error from the handshake or the record layer into a
 * sticky failure with a message that says what went wrong in words. */
static mesos_status fail_mbed(mesos__tls *t, int ret, const char *during) {
  char msg[256];
  mbed_strerror(ret, msg, sizeof msg);
  if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED || ret == MBEDTLS_ERR_X509_ALLOC_FAILED ||
      ret == MBEDTLS_ERR_PK_ALLOC_FAILED || ret == MBEDTLS_ERR_MPI_ALLOC_FAILED)
    return set_failed(t, MESOS_ENOMEM, "%s: mbedtls ran out of memory", during);
  if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    char info[512];
    uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
    int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    if (n <= 0) snprintf(info, sizeof info, "flags 0x%x", (unsigned)flags);
    /* verify_info writes one reason per line; make it one line. */
    for (char *p = info; *p; p++)
      if (*p == '\n') *p = (p[1] ? ';' : '\0');
    char addr[INET6_ADDRSTRLEN + 64] = "";
    if (t->ip_len && (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)) {
      char ip[INET6_ADDRSTRLEN];
      if (inet_ntop(t->ip_len == 4 ? AF_INET : AF_INET6, t->ip, ip, sizeof ip) != NULL)
        snprintf(addr, sizeof addr, " (no subjectAltName IP entry for %s)", ip);
    }
    return set_failed(t, MESOS_ETLS, "%s: peer certificate rejected: %s%s", during, info, addr);
  }
  if (ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    /* mbedtls 2.28 fails here without telling the client, which would then
     * wait for our Finished; TLS 1.2 says handshake_failure (as OpenSSL). */
    mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                   MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
    return set_failed(t, MESOS_ETLS,
                      "%s: the client sent no certificate, but this server requires one", during);
  }
  if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
    /* mbedtls leaves the alert record in in_msg: [level, description]. */
    int a = t->ssl.in_msg != NULL ? t->ssl.in_msg[1] : -1;
    return set_failed(t, MESOS_ETLS, "%s: the peer sent fatal alert %s (%d)", during,
                      alert_name(a), a);
  }
  if (!t->handshake_done && looks_like_http(t))
    return set_failed(t, MESOS_ETLS,
                      t->cfg->is_server
                          ? "%s: the client sent plaintext HTTP (\"%.4s...\") to this TLS port"
                          : "%s: the server answered in plaintext HTTP (\"%.4s...\"): not a "
                            "TLS port?",
                      during, (const char *)t->first);
  return set_failed(t, MESOS_ETLS, "%s: %s (-0x%04x)", during, msg, (unsigned)-ret);
}

/* ------------------------------------------------------------------ buffers */

/* Empties a fully consumed buffer. */
static void reset_drained(mesos__buf *b, size_t *off) {
  if (b->cap > KEEP_DRAINED_CAP)
    mesos__buf_free(b);
  else
    mesos__buf_clear(b);
  *off = 0;
}

static void compact(mesos__buf *b, size_t *off) {
  if (*off == 0) return;
  size_t rest = b->len - *off;
  if (rest) memmove(b->data, b->data + *off, rest);
  b->len = rest;
  *off = 0;
}

/* Appends to a buffer whose first *off bytes are dead.  They are reclaimed
 * when they are at least half the buffer (amortised O(1) per byte) or when
 * the append would otherwise hit the bound. */
static mesos_status queue_append(mesos__buf *b, size_t *off, const void *p, size_t n) {
  if (*off > 0 && *off >= b->len - *off) compact(b, off);
  mesos_status s = mesos__buf_append(b, p, n);
  if (s == MESOS_ELIMIT && *off > 0) {
    compact(b, off);
    s = mesos__buf_append(b, p, n);
  }
  return s;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  mesos__tls *t = ctx;
  mesos_status s = queue_append(&t->out, &t->out_off, buf, len);
  if (s == MESOS_ENOMEM) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  /* Past the hard bound: mbedtls keeps the record and retries on the next
   * call, after the transport has drained some output. */
  if (s != MESOS_OK) return MBEDTLS_ERR_SSL_WANT_WRITE;
  return (int)len; /* len is at most one record (< 20 KiB) */
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
  mesos__tls *t = ctx;
  size_t avail = t->in.len - t->in_off;
  if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  size_t n = len < avail ? len : avail;
  if (n > INT_MAX) n = INT_MAX;
  memcpy(buf, t->in.data + t->in_off, n);
  t->in_off += n;
  if (t->in_off == t->in.len) reset_drained(&t->in, &t->in_off);
  return (int)n;
}

/* ------------------------------------------------------------------ config */

static mesos_status check_readable(const char *what, const char *path, mesos_error **err) {
  if (access(path, R_OK) != 0)
    return mesos__err(err, MESOS_EINVAL, "TLS %s %s: %s", what, path, strerror(errno));
  return MESOS_OK;
}

static mesos_status load_certs(mbedtls_x509_crt *crt, const char *what, const char *path,
                               int partial_ok, mesos_error **err) {
  mesos_status s = check_readable(what, path, err);
  if (s != MESOS_OK) return s;
  int ret = mbedtls_x509_crt_parse_file(crt, path);
  if (ret < 0) return mbed_err(err, MESOS_EINVAL, ret, "TLS %s %s: cannot parse", what, path);
  if (ret > 0) {
    /* A system CA bundle may hold a few certificates mbedtls cannot parse
     * (unusual algorithms); the others are still useful.  Our own
     * certificate chain must parse completely. */
    if (!partial_ok || crt->version == 0)
      return mesos__err(err, MESOS_EINVAL, "TLS %s %s: %d certificate(s) could not be parsed",
                        what, path, ret);
    LOG_WARN("tls: %s %s: skipped %d certificate(s) mbedtls cannot parse", what, path, ret);
  }
  if (crt->version == 0)
    return mesos__err(err, MESOS_EINVAL, "TLS %s %s: no certificate in file", what, path);
  return MESOS_OK;
}

static mesos_status load_key(mesos__tls_config *c, const char *path, mesos_error **err) {
  mesos_status s = check_readable("key_file", path, err);
  if (s != MESOS_OK) return s;
  int ret = mbedtls_pk_parse_keyfile(&c->key, path, NULL);
  if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
    return mesos__err(err, MESOS_EINVAL,
                      "TLS key_file %s is encrypted; an unencrypted key is required", path);
  if (ret != 0) return mbed_err(err, MESOS_EINVAL, ret, "TLS key_file %s: cannot parse", path);
  ret = mbedtls_pk_check_pair(&c->cert.pk, &c->key);
  if (ret != 0)
    return mbed_err(err, MESOS_EINVAL, ret,
                    "TLS key_file %s does not match the certificate in cert_file", path);
  return MESOS_OK;
}

static void config_free(mesos__tls_config *c) {
  mbedtls_ssl_config_free(&c->conf);
  mbedtls_x509_crt_free(&c->ca);
  mbedtls_pk_free(&c->key);
  mbedtls_x509_crt_free(&c->cert);
  mbedtls_ctr_drbg_free(&c->drbg);
  mbedtls_entropy_free(&c->entropy);
  mesos__free(c);
}

static mesos_status check_options(const mesos__tls_config_options *o, mesos_error **err) {
  if (o->min_version != NULL && strcmp(o->min_version, "1.2") != 0) {
    if (strcmp(o->min_version, "1.3") == 0)
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "TLS min_version 1.3: this build's mbedtls (%s) has no TLS 1.3",
                        MBEDTLS_VERSION_STRING);
    return mesos__err(err, MESOS_EINVAL, "TLS min_version \"%s\": expected \"1.2\" or \"1.3\"",
                      o->min_version);
  }
  int max_verify = o->is_server ? 2 : 1;
  if (o->verify_peer < 0 || o->verify_peer > max_verify)
    return mesos__err(err, MESOS_EINVAL, "TLS verify_peer %d: a %s accepts 0..%d",
                      o->verify_peer, o->is_server ? "server" : "client", max_verify);
  if ((o->cert_file == NULL) != (o->key_file == NULL))
    return mesos__err(err, MESOS_EINVAL, "TLS cert_file and key_file must be given together");
  if (o->is_server && o->cert_file == NULL)
    return mesos__err(err, MESOS_EINVAL, "a TLS server needs cert_file and key_file");
  if (o->is_server && o->verify_peer > 0 && o->ca_file == NULL)
    return mesos__err(err, MESOS_EINVAL,
                      "TLS verify_peer %d needs ca_file to verify client certificates against",
                      o->verify_peer);
  return MESOS_OK;
}

mesos_status mesos__tls_config_new(mesos__tls_config **out, const mesos__tls_config_options *o,
                                   mesos_error **err) {
  if (out == NULL || o == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos__tls_config_new: NULL argument");
  *out = NULL;
  mesos_status s = check_options(o, err);
  if (s != MESOS_OK) return s;

  mesos__tls_config *c = MESOS__NEW(mesos__tls_config);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  atomic_init(&c->refs, 1);
  c->is_server = o->is_server ? 1 : 0;
  c->verify_peer = o->verify_peer;
  c->max_in = o->max_in ? o->max_in : MESOS__TLS_DEFAULT_MAX_IN;
  c->max_out = o->max_out ? o->max_out : MESOS__TLS_DEFAULT_MAX_OUT;
  /* Slack also covers the per-record overhead of plaintext queued before the
   * handshake (under 0.2% for AEAD records, 1/64 is ample). */
  if (!mesos__size_add(&c->out_hard_max, c->max_out, c->max_out / 64) ||
      !mesos__size_add(&c->out_hard_max, c->out_hard_max, OUT_SLACK))
    c->out_hard_max = SIZE_MAX - 1;
  mbedtls_entropy_init(&c->entropy);
  mbedtls_ctr_drbg_init(&c->drbg);
  mbedtls_x509_crt_init(&c->cert);
  mbedtls_pk_init(&c->key);
  mbedtls_x509_crt_init(&c->ca);
  mbedtls_ssl_config_init(&c->conf);

  /* One generator per config, seeded once: seeding reads the system entropy
   * source, too slow to do per connection.  mbedtls (built with
   * MBEDTLS_THREADING_C) locks it, so sessions on several threads may
   * share it. */
  static const char pers[] = "libmesos-core tls";
  int ret = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                                  (const unsigned char *)pers, sizeof pers - 1);
  if (ret != 0) {
    s = mbed_err(err, MESOS_ETLS, ret, "TLS: cannot seed the random generator");
    goto fail;
  }

  if (o->cert_file != NULL) {
    if ((s = load_certs(&c->cert, "cert_file", o->cert_file, 0, err)) != MESOS_OK) goto fail;
    if ((s = load_key(c, o->key_file, err)) != MESOS_OK) goto fail;
  }
  int have_ca = 0;
  if (o->ca_file != NULL) {
    if ((s = load_certs(&c->ca, "ca_file", o->ca_file, 1, err)) != MESOS_OK) goto fail;
    have_ca = 1;
  } else if (!o->is_server && o->verify_peer) {
    if ((s = load_certs(&c->ca, "system CA bundle", SYSTEM_CA_BUNDLE, 1, err)) != MESOS_OK)
      goto fail;
    have_ca = 1;
  }

  ret = mbedtls_ssl_config_defaults(&c->conf,
                                    o->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    s = mbed_err(err, MESOS_ETLS, ret, "TLS: cannot set up the configuration");
    goto fail;
  }
  mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
  mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(&c->conf, ciphersuites);
  mbedtls_ssl_conf_curves(&c->conf, curves);
  mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  int authmode;
  if (o->is_server)
    authmode = o->verify_peer == 0   ? MBEDTLS_SSL_VERIFY_NONE
               : o->verify_peer == 1 ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                     : MBEDTLS_SSL_VERIFY_REQUIRED;
  else
    authmode = o->verify_peer ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE;
  mbedtls_ssl_conf_authmode(&c->conf, authmode);
  if (have_ca) mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
  if (o->cert_file != NULL) {
    ret = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key);
    if (ret != 0) {
      s = mbed_err(err, MESOS_ETLS, ret, "TLS: cannot use cert_file %s", o->cert_file);
      goto fail;
    }
  }
  *out = c;
  return MESOS_OK;

fail:
  config_free(c);
  return s;
}

mesos__tls_config *mesos__tls_config_ref(mesos__tls_config *c) {
  if (c != NULL) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return c;
}

void mesos__tls_config_unref(mesos__tls_config *c) {
  if (c == NULL) return;
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) config_free(c);
}

int mesos__tls_config_is_server(const mesos__tls_config *c) { return c->is_server; }

/* ------------------------------------------------------------------ host names */

/* Walks the certificate's extensions (DER, bounded by the buffer: no
 * recursion) for subjectAltName iPAddress entries equal to t->ip. */
static int crt_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t ip_len) {
  unsigned char *p = crt->v3_ext.p;
  if (p == NULL || crt->v3_ext.len == 0) return 0;
  const unsigned char *end = p + crt->v3_ext.len;
  size_t len;
  /* v3_ext starts at the Extensions SEQUENCE (inside the [3] wrapper). */
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return 0;
  end = p + len;
  static const char san_oid[] = MBEDTLS_OID_SUBJECT_ALT_NAME;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
      return 0;
    const unsigned char *ext_end = p + len;
    size_t oid_len;
    if (mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID) != 0) return 0;
    int is_san = oid_len == sizeof san_oid - 1 && memcmp(p, san_oid, oid_len) == 0;
    p += oid_len;
    if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN) {
      int critical;
      if (mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0) return 0;
    }
    size_t val_len;
    if (mbedtls_asn1_get_tag(&p, ext_end, &val_len, MBEDTLS_ASN1_OCTET_STRING) != 0) return 0;
    if (is_san) {
      unsigned char *q = p;
      const unsigned char *vend = p + val_len;
      size_t names_len;
      if (mbedtls_asn1_get_tag(&q, vend, &names_len,
                               MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return 0;
      vend = q + names_len;
      while (q < vend) {
        unsigned char tag = *q++;
        size_t n;
        if (mbedtls_asn1_get_len(&q, vend, &n) != 0) return 0;
        /* GeneralName iPAddress is [7] IMPLICIT OCTET STRING. */
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && n == ip_len && memcmp(q, ip, n) == 0)
          return 1;
        q += n;
      }
      return 0;
    }
    p = (unsigned char *)ext_end;
  }
  return 0;
}

/* Verification callback for clients that connect to a numeric address:
 * mbedtls has no name to compare (SNI must not carry an address, RFC 6066),
 * so the leaf certificate must list the address itself. */
static int verify_ip_cb(void *ud, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  const mesos__tls *t = ud;
  if (depth == 0 && !crt_has_ip(crt, t->ip, t->ip_len)) *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

static char *subject_cn(const mbedtls_x509_crt *crt) {
  for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
    if (n->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0) continue;
    /* A NUL inside the CN would let "admin\0.evil" pass as "admin". */
    if (n->val.len == 0 || memchr(n->val.p, '\0', n->val.len) != NULL) return NULL;
    return mesos__strndup((const char *)n->val.p, n->val.len);
  }
  return NULL;
}

/* ------------------------------------------------------------------ sessions */

mesos_status mesos__tls_new(mesos__tls **out, mesos__tls_config *cfg, const char *server_name,
                            mesos_error **err) {
  if (out == NULL || cfg == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos__tls_new: NULL argument");
  *out = NULL;
  if (!cfg->is_server && cfg->verify_peer && (server_name == NULL || server_name[0] == '\0'))
    return mesos__err(err, MESOS_EINVAL,
                      "a verifying TLS client needs the server name to check the certificate");
  mesos__tls *t = MESOS__NEW(mesos__tls);
  if (t == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  t->cfg = mesos__tls_config_ref(cfg);
  mesos__buf_init(&t->in, cfg->max_in);
  mesos__buf_init(&t->out, cfg->out_hard_max);
  mesos__buf_init(&t->pending, cfg->max_out);
  mbedtls_ssl_init(&t->ssl);
  mesos_status s;
  int ret = mbedtls_ssl_setup(&t->ssl, &cfg->conf);
  if (ret != 0) {
    s = mbed_err(err, ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MESOS_ENOMEM : MESOS_ETLS, ret,
                 "TLS: cannot set up a session");
    goto fail;
  }
  mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
  if (!cfg->is_server && server_name != NULL && server_name[0] != '\0') {
    if (inet_pton(AF_INET, server_name, t->ip) == 1) {
      t->ip_len = 4;
    } else if (inet_pton(AF_INET6, server_name, t->ip) == 1) {
      t->ip_len = 16;
    }
    if (t->ip_len) {
      if (cfg->verify_peer) mbedtls_ssl_set_verify(&t->ssl, verify_ip_cb, t);
    } else {
      ret = mbedtls_ssl_set_hostname(&t->ssl, server_name);
      if (ret != 0) {
        s = mbed_err(err, ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MESOS_ENOMEM : MESOS_EINVAL, ret,
                     "TLS server name \"%s\"", server_name);
        goto fail;
      }
    }
  }
  if (!cfg->is_server) {
    /* Produce the ClientHello now, so the transport can send it as soon as
     * it is connected without knowing who speaks first. */
    s = mesos__tls_handshake(t, err);
    if (s != MESOS_OK && s != MESOS_EAGAIN) goto fail;
  }
  *out = t;
  return MESOS_OK;

fail:
  mesos__tls_free(t);
  return s;
}

void mesos__tls_free(mesos__tls *t) {
  if (t == NULL) return;
  mbedtls_ssl_free(&t->ssl);
  mesos__buf_free(&t->in);
  mesos__buf_free(&t->out);
  mesos__buf_free(&t->pending);
  mesos__free(t->fail_msg);
  mesos__free(t->peer_cn);
  mesos__tls_config_unref(t->cfg);
  mesos__free(t);
}

mesos_status mesos__tls_feed(mesos__tls *t, const char *data, size_t len, mesos_error **err) {
  if (t->fail_code != 0)
    return mesos__err(err, MESOS_ECLOSED, "TLS session already failed: %s",
                      t->fail_msg ? t->fail_msg : "?");
  if (t->peer_closed)
    return mesos__err(err, MESOS_ECLOSED, "TLS peer already sent close_notify");
  if (len == 0) return MESOS_OK;
  mesos_status s = queue_append(&t->in, &t->in_off, data, len);
  if (s == MESOS_ELIMIT)
    return mesos__err(err, MESOS_ELIMIT,
                      "TLS input buffer full (%zu bytes undecrypted, limit %zu): read first",
                      t->in.len - t->in_off, t->in.max);
  if (s != MESOS_OK) return mesos__err(err, s, "out of memory");
  if (t->first_len < sizeof t->first) {
    size_t n = sizeof t->first - t->first_len;
    if (n > len) n = len;
    memcpy(t->first + t->first_len, data, n);
    t->first_len += n;
  }
  return MESOS_OK;
}

/* Encrypts all of data; the caller made sure it fits. */
static mesos_status encrypt_all(mesos__tls *t, const char *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    int ret = mbedtls_ssl_write(&t->ssl, (const unsigned char *)data + done, len - done);
    if (ret > 0) {
      done += (size_t)ret;
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
      /* Only when the hard bound is hit despite the caller's check: a
       * record is half-written, so the session cannot go on. */
      return set_failed(t, MESOS_ELIMIT, "TLS output buffer overflow (limit %zu)", t->out.max);
    if (ret == 0) return set_failed(t, MESOS_ETLS, "TLS write made no progress");
    return fail_mbed(t, ret, "TLS write failed");
  }
  return MESOS_OK;
}

/* Called once when mbedtls reports the handshake complete. */
static mesos_status handshake_finished(mesos__tls *t) {
  const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
  uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
  if (t->cfg->is_server && t->cfg->verify_peer == 1 && peer != NULL && flags != 0) {
    /* mbedtls's "optional" lets an invalid certificate through; ours means
     * "a client may send none, but one it sends must verify" (as nginx's
     * ssl_verify_client optional).  Tell the client why before failing. */
    char info[512];
    if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) <= 0)
      snprintf(info, sizeof info, "flags 0x%x", (unsigned)flags);
    for (char *p = info; *p; p++)
      if (*p == '\n') *p = (p[1] ? ';' : '\0');
    mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                   MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
    return set_failed(t, MESOS_ETLS, "TLS handshake failed: client certificate rejected: %s",
                      info);
  }
  t->handshake_done = 1;
  if (peer != NULL && flags == 0 && t->cfg->verify_peer > 0) t->peer_cn = subject_cn(peer);
  LOG_DEBUG("tls: handshake done: %s %s%s%s", mbedtls_ssl_get_version(&t->ssl),
            mbedtls_ssl_get_ciphersuite(&t->ssl), t->peer_cn ? " peer " : "",
            t->peer_cn ? t->peer_cn : "");
  if (t->pending.len > 0 && !t->shut) {
    mesos_status s = encrypt_all(t, t->pending.data, t->pending.len);
    mesos__buf_free(&t->pending);
    return s;
  }
  mesos__buf_free(&t->pending);
  return MESOS_OK;
}

mesos_status mesos__tls_handshake(mesos__tls *t, mesos_error **err) {
  if (t->fail_code != 0) return report_failed(t, err);
  if (t->handshake_done) return MESOS_OK;
  int ret = mbedtls_ssl_handshake(&t->ssl);
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return MESOS_EAGAIN;
  if (ret != 0) {
    fail_mbed(t, ret, "TLS handshake failed");
    return report_failed(t, err);
  }
  if (handshake_finished(t) != MESOS_OK) return report_failed(t, err);
  return MESOS_OK;
}

ssize_t mesos__tls_read(mesos__tls *t, char *buf, size_t cap, mesos_error **err) {
  if (t->fail_code != 0) return report_failed(t, err);
  if (t->peer_closed) return mesos__err(err, MESOS_ECLOSED, "TLS peer sent close_notify");
  if (!t->handshake_done) {
    mesos_status s = mesos__tls_handshake(t, err);
    if (s == MESOS_EAGAIN) return 0;
    if (s != MESOS_OK) return s;
  }
  if (cap == 0) return 0;
  if (cap > INT_MAX) cap = INT_MAX; /* mbedtls returns the count as int */
  for (int i = 0; i < MAX_EMPTY_READS; i++) {
    int ret = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf, cap);
    if (ret > 0) return ret;
    if (ret == 0) {
      if (t->in.len - t->in_off == 0 && !mbedtls_ssl_check_pending(&t->ssl)) return 0;
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) return 0;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      t->peer_closed = 1;
      return mesos__err(err, MESOS_ECLOSED, "TLS peer sent close_notify");
    }
    fail_mbed(t, ret, "TLS record error");
    return report_failed(t, err);
  }
  return 0;
}

mesos_status mesos__tls_write(mesos__tls *t, const char *data, size_t len, mesos_error **err) {
  if (t->fail_code != 0) return report_failed(t, err);
  if (t->shut) return mesos__err(err, MESOS_ECLOSED, "TLS write after shutdown");
  if (t->peer_closed)
    return mesos__err(err, MESOS_ECLOSED, "TLS write after the peer's close_notify");
  if (len == 0) return MESOS_OK;
  size_t queued = t->out.len - t->out_off, total;
  if (!t->handshake_done) {
    if (!mesos__size_add(&total, queued + t->pending.len, len) || total > t->cfg->max_out)
      return mesos__err(err, MESOS_ELIMIT,
                        "TLS output full: %zu bytes queued, %zu more exceed the limit %zu",
                        queued + t->pending.len, len, t->cfg->max_out);
    mesos_status s = mesos__buf_append(&t->pending, data, len);
    if (s != MESOS_OK) return mesos__err(err, s, "TLS: cannot queue %zu bytes", len);
    return MESOS_OK;
  }
  /* Check the whole ciphertext fits before encrypting any of it, so a
   * refused write leaves the session as it was. */
  int frag = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
  int expansion = mbedtls_ssl_get_record_expansion(&t->ssl);
  if (frag <= 0) frag = MBEDTLS_SSL_OUT_CONTENT_LEN;
  if (expansion < 0) expansion = 256; /* not computable: assume the worst */
  size_t records = len / (size_t)frag + 1, overhead, need;
  if (!mesos__size_mul(&overhead, records, (size_t)expansion) ||
      !mesos__size_add(&need, len, overhead) || !mesos__size_add(&total, queued, need) ||
      total > t->cfg->max_out)
    return mesos__err(err, MESOS_ELIMIT,
                      "TLS output full: %zu bytes queued, %zu more exceed the limit %zu", queued,
                      len, t->cfg->max_out);
  if (encrypt_all(t, data, len) != MESOS_OK) return report_failed(t, err);
  return MESOS_OK;
}

const char *mesos__tls_out(mesos__tls *t, size_t *len) {
  size_t n = t->out.len - t->out_off;
  *len = n;
  return n ? t->out.data + t->out_off : NULL;
}

void mesos__tls_consume_out(mesos__tls *t, size_t n) {
  size_t avail = t->out.len - t->out_off;
  if (n >= avail) {
    reset_drained(&t->out, &t->out_off);
    return;
  }
  t->out_off += n;
}

int mesos__tls_handshake_done(const mesos__tls *t) { return t->handshake_done; }

mesos_status mesos__tls_shutdown(mesos__tls *t) {
  if (t->shut) return MESOS_OK;
  t->shut = 1;
  mesos__buf_free(&t->pending);
  if (t->fail_code != 0 || !t->handshake_done) return MESOS_OK;
  int ret = mbedtls_ssl_close_notify(&t->ssl);
  if (ret != 0) return fail_mbed(t, ret, "TLS close_notify failed");
  return MESOS_OK;
}

const char *mesos__tls_peer_cn(const mesos__tls *t) { return t->peer_cn; }

const char *mesos__tls_version(const mesos__tls *t) {
  return t->handshake_done ? mbedtls_ssl_get_version(&t->ssl) : NULL;
}

const char *mesos__tls_cipher(const mesos__tls *t) {
  return t->handshake_done ? mbedtls_ssl_get_ciphersuite(&t->ssl) : NULL;
}
