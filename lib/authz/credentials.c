/* Credentials files and the HTTP Basic header (mesos/authn.h).
 *
 * Secrets are kept only as SHA-256 digests: verification hashes the
 * offered secret and compares two 32-byte digests with a loop that reads
 * every byte whatever differs, so the time taken says nothing about how
 * much of a secret was right.  A principal that is not known is compared
 * against a fixed dummy digest for the same reason. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/authn.h"
#include "mesos/memory.h"
#include "mesos/v1/mesos.pb-c.h"

#define DIGEST_LEN 32

/* A principal longer than this is not a name (Mesos principals are user or
 * service names); refusing it keeps log lines and error messages short. */
#define PRINCIPAL_MAX 1024

typedef struct cred {
  int has_secret;
  uint8_t digest[DIGEST_LEN];
} cred;

struct mesos_credentials {
  mesos__map by_principal; /* principal -> cred* */
};

static void digest_of(const void *p, size_t n, uint8_t out[DIGEST_LEN]) {
  /* mbedtls_sha256_ret fails only on a bad argument. */
  (void)mbedtls_sha256_ret(p, n, out, 0);
}

/* ------------------------------------------------------------ files */

mesos_status mesos__authz_read_file(const char *path, size_t max, char **out, size_t *len,
                                    mesos_error **err) {
  if (strncmp(path, "file://", 7) == 0) path += 7;
  if (path[0] == '\0') return mesos__err(err, MESOS_EINVAL, "empty path");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return mesos__err(err, MESOS_EIO, "%s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return mesos__err(err, MESOS_EIO, "%s: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return mesos__err(err, MESOS_EINVAL, "%s: not a regular file", path);
  }
  if ((uint64_t)sb.st_size > max) {
    close(fd);
    return mesos__err(err, MESOS_ELIMIT, "%s: %lld bytes, more than the %zu allowed", path,
                      (long long)sb.st_size, max);
  }
  if (sb.st_mode & S_IROTH)
    LOG_WARN("%s is readable by every user; it should not be", path);
  /* Read up to max + 1 bytes: a file that grew after fstat is still
   * caught by the limit. */
  size_t cap = (size_t)sb.st_size + 1, n = 0;
  char *buf = mesos__malloc(cap + 1);
  if (!buf) {
    close(fd);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  for (;;) {
    if (n == cap) {
      if (cap > max) break;
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *nb = mesos__realloc(buf, ncap + 1);
      if (!nb) {
        mesos__free(buf);
        close(fd);
        return mesos__err(err, MESOS_ENOMEM, "out of memory");
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      mesos__free(buf);
      close(fd);
      return mesos__err(err, MESOS_EIO, "%s: %s", path, strerror(e));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (n > max) {
    mesos__free(buf);
    return mesos__err(err, MESOS_ELIMIT, "%s: more than the %zu bytes allowed", path, max);
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return MESOS_OK;
}

/* ------------------------------------------------------------ credentials */

static void creds_free(mesos_credentials *c) {
  size_t it = 0;
  const char *k;
  void *v;
  while (mesos__map_next(&c->by_principal, &it, &k, &v)) {
    mbedtls_platform_zeroize(v, sizeof(cred));
    mesos__free(v);
  }
  mesos__map_free(&c->by_principal);
  mesos__free(c);
}

void mesos_credentials_free(mesos_credentials *c) {
  if (c) creds_free(c);
}

size_t mesos_credentials_count(const mesos_credentials *c) {
  return c ? mesos__map_count(&c->by_principal) : 0;
}

static mesos_status creds_add(mesos_credentials *c, const char *principal, size_t plen,
                              const char *secret, size_t slen, const char *where,
                              mesos_error **err) {
  if (plen == 0) return mesos__err(err, MESOS_EINVAL, "%s: empty principal", where);
  if (plen > PRINCIPAL_MAX)
    return mesos__err(err, MESOS_EINVAL, "%s: principal longer than %d bytes", where,
                      PRINCIPAL_MAX);
  if (memchr(principal, '\0', plen))
    return mesos__err(err, MESOS_EINVAL, "%s: principal contains a NUL byte", where);
  char *key = mesos__strndup(principal, plen);
  cred *cr = mesos__calloc(1, sizeof(*cr));
  if (!key || !cr) {
    mesos__free(key);
    mesos__free(cr);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (secret) {
    cr->has_secret = 1;
    digest_of(secret, slen, cr->digest);
  }
  cred *old = mesos__map_get(&c->by_principal, key);
  if (mesos__map_put(&c->by_principal, key, cr) != MESOS_OK) {
    mesos__free(key);
    mesos__free(cr);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  mesos__free(old); /* a later entry replaces an earlier one, as in Mesos */
  mesos__free(key);
  return MESOS_OK;
}

/* The text form: "principal secret" per line, exactly two tokens. */
static mesos_status parse_text(mesos_credentials *c, const char *text, size_t len,
                               mesos_error **err) {
  size_t line = 0, pos = 0;
  while (pos < len) {
    line++;
    const char *ls = text + pos;
    const char *nl = memchr(ls, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - ls) : len - pos;
    pos += ll + (nl ? 1 : 0);
    if (ll > 0 && ls[ll - 1] == '\r') ll--;
    const char *tok[3];
    size_t tlen[3];
    size_t nt = 0, i = 0;
    while (i < ll) {
      while (i < ll && (ls[i] == ' ' || ls[i] == '\t')) i++;
      if (i >= ll) break;
      size_t s = i;
      while (i < ll && ls[i] != ' ' && ls[i] != '\t') i++;
      if (nt < 3) {
        tok[nt] = ls + s;
        tlen[nt] = i - s;
      }
      nt++;
    }
    if (nt == 0) continue;
    if (nt != 2)
      return mesos__err(err, MESOS_EINVAL,
                        "credentials line %zu: expected 'principal secret', found %zu fields",
                        line, nt);
    char where[48];
    snprintf(where, sizeof(where), "credentials line %zu", line);
    mesos_status st = creds_add(c, tok[0], tlen[0], tok[1], tlen[1], where, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static mesos_status parse_json(mesos_credentials *c, const char *text, size_t len,
                               mesos_error **err) {
  /* Credentials nest three levels; a little slack, no more. */
  mesos__json_limits lim = {6, MESOS_CREDENTIALS_MAX_BYTES, (size_t)32 << 20};
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__json_decode(&mesos__v1__credentials__descriptor, text, len, &lim, &m,
                                       &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "credentials: %s", mesos_error_message(e));
  const Mesos__V1__Credentials *cs = (const Mesos__V1__Credentials *)m;
  for (size_t i = 0; i < cs->n_credentials && st == MESOS_OK; i++) {
    const Mesos__V1__Credential *cr = cs->credentials[i];
    char where[48];
    snprintf(where, sizeof(where), "credentials[%zu]", i);
    st = creds_add(c, cr->principal, strlen(cr->principal), cr->secret,
                   cr->secret ? strlen(cr->secret) : 0, where, err);
  }
  mesos__pb_free(m);
  return st;
}

mesos_status mesos_credentials_parse(mesos_credentials **out, const char *text, size_t len,
                                     mesos_error **err) {
  if (!out || (!text && len)) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  if (len > MESOS_CREDENTIALS_MAX_BYTES)
    return mesos__err(err, MESOS_ELIMIT, "credentials: %zu bytes, more than the %u allowed",
                      len, (unsigned)MESOS_CREDENTIALS_MAX_BYTES);
  mesos_credentials *c = mesos__calloc(1, sizeof(*c));
  if (!c) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__map_init(&c->by_principal);
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
    i++;
  mesos_status st = MESOS_OK;
  if (i < len) /* empty or blank: no credentials */
    st = text[i] == '{' ? parse_json(c, text, len, err) : parse_text(c, text, len, err);
  if (st != MESOS_OK) {
    creds_free(c);
    return st;
  }
  *out = c;
  return MESOS_OK;
}

mesos_status mesos_credentials_load(mesos_credentials **out, const char *path,
                                    mesos_error **err) {
  if (!out || !path) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  char *text = NULL;
  size_t len = 0;
  mesos_status st = mesos__authz_read_file(path, MESOS_CREDENTIALS_MAX_BYTES, &text, &len, err);
  if (st != MESOS_OK) return st;
  mesos_error *e = NULL;
  st = mesos_credentials_parse(out, text, len, &e);
  mbedtls_platform_zeroize(text, len);
  mesos__free(text);
  if (st != MESOS_OK) return mesos__err_wrap(err, st, e, "%s: %s", path, mesos_error_message(e));
  return MESOS_OK;
}

int mesos_credentials_verify(const mesos_credentials *c, const char *principal,
                             const char *secret, size_t secret_len) {
  static const uint8_t dummy[DIGEST_LEN] = {0};
  if (!c || !principal || (!secret && secret_len)) return 0;
  const cred *cr = mesos__map_get(&c->by_principal, principal);
  uint8_t d[DIGEST_LEN];
  digest_of(secret ? secret : "", secret_len, d);
  const uint8_t *want = cr && cr->has_secret ? cr->digest : dummy;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < DIGEST_LEN; i++) diff |= (uint8_t)(d[i] ^ want[i]);
  mbedtls_platform_zeroize(d, sizeof(d));
  return cr && cr->has_secret && diff == 0;
}

/* ------------------------------------------------------------ Basic */

static int b64_val(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

/* Strict RFC 4648 base64: length a multiple of 4, '=' only as the last one
 * or two characters, no whitespace, unused bits zero.  `out` holds n/4*3. */
static bool b64_strict(const char *in, size_t n, uint8_t *out, size_t *olen) {
  if (n == 0 || n % 4 != 0) return false;
  size_t pad = 0;
  if (in[n - 1] == '=') pad++;
  if (in[n - 2] == '=') pad++;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    bool last = i + 4 == n;
    int v[4];
    for (int j = 0; j < 4; j++) {
      if (last && j >= 4 - (int)pad) {
        v[j] = 0;
        continue;
      }
      v[j] = b64_val((unsigned char)in[i + j]);
      if (v[j] < 0) return false;
    }
    uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                 (uint32_t)v[3];
    out[o++] = (uint8_t)(w >> 16);
    if (!last || pad < 2) out[o++] = (uint8_t)(w >> 8);
    if (!last || pad < 1) out[o++] = (uint8_t)w;
    if (last && pad == 2 && (v[1] & 0x0f)) return false;
    if (last && pad == 1 && (v[2] & 0x03)) return false;
  }
  *olen = o;
  return true;
}

mesos_status mesos_basic_auth_parse(const char *header, char **principal, char **secret,
                                    mesos_error **err) {
  if (!header || !principal || !secret) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  size_t hl = strnlen(header, MESOS_BASIC_AUTH_MAX_HEADER + 1);
  if (hl > MESOS_BASIC_AUTH_MAX_HEADER)
    return mesos__err(err, MESOS_ELIMIT, "Authorization header longer than %u bytes",
                      (unsigned)MESOS_BASIC_AUTH_MAX_HEADER);
  if (hl < 6 || strncmp(header, "Basic ", 6) != 0)
    return mesos__err(err, MESOS_EINVAL, "Authorization header is not 'Basic <credentials>'");
  const char *b = header + 6;
  size_t bl = hl - 6;
  if (memchr(b, ' ', bl))
    return mesos__err(err, MESOS_EINVAL, "Authorization header: more than two parts");
  uint8_t *dec = mesos__malloc(bl / 4 * 3 + 1);
  if (!dec) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t dl = 0;
  mesos_status st = MESOS_OK;
  if (!b64_strict(b, bl, dec, &dl)) {
    st = mesos__err(err, MESOS_EINVAL, "Authorization header: malformed base64");
    goto out;
  }
  if (memchr(dec, '\0', dl)) {
    st = mesos__err(err, MESOS_EINVAL, "Authorization header: credentials contain a NUL byte");
    goto out;
  }
  const uint8_t *colon = memchr(dec, ':', dl);
  if (!colon || memchr(colon + 1, ':', dl - (size_t)(colon + 1 - dec))) {
    st = mesos__err(err, MESOS_EINVAL,
                    "Authorization header: credentials are not 'principal:secret'");
    goto out;
  }
  size_t pl = (size_t)(colon - dec);
  char *p = mesos__strndup((const char *)dec, pl);
  char *s = mesos__strndup((const char *)colon + 1, dl - pl - 1);
  if (!p || !s) {
    mesos__free(p);
    if (s) mbedtls_platform_zeroize(s, dl - pl - 1);
    mesos__free(s);
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  *principal = p;
  *secret = s;
out:
  mbedtls_platform_zeroize(dec, bl / 4 * 3 + 1);
  mesos__free(dec);
  return st;
}

mesos_status mesos_basic_auth_encode(const char *principal, const char *secret, char **out,
                                     mesos_error **err) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (!principal || !secret || !out) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  if (strchr(principal, ':'))
    return mesos__err(err, MESOS_EINVAL, "a principal containing ':' cannot use Basic");
  size_t pl = strlen(principal), sl = strlen(secret);
  /* The limit keeps the result within what a server here accepts. */
  if (pl + sl + 1 > MESOS_BASIC_AUTH_MAX_HEADER / 4 * 3 - 8)
    return mesos__err(err, MESOS_EINVAL, "principal and secret too long for a Basic header");
  size_t n = pl + 1 + sl;
  char *raw = mesos__malloc(n + 1);
  char *res = mesos__malloc(6 + (n + 2) / 3 * 4 + 1);
  if (!raw || !res) {
    mesos__free(raw);
    mesos__free(res);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  memcpy(raw, principal, pl);
  raw[pl] = ':';
  memcpy(raw + pl + 1, secret, sl);
  memcpy(res, "Basic ", 6);
  size_t o = 6;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t w = (uint32_t)(uint8_t)raw[i] << 16;
    if (i + 1 < n) w |= (uint32_t)(uint8_t)raw[i + 1] << 8;
    if (i + 2 < n) w |= (uint8_t)raw[i + 2];
    res[o++] = A[(w >> 18) & 63];
    res[o++] = A[(w >> 12) & 63];
    res[o++] = i + 1 < n ? A[(w >> 6) & 63] : '=';
    res[o++] = i + 2 < n ? A[w & 63] : '=';
  }
  res[o] = '\0';
  mbedtls_platform_zeroize(raw, n);
  mesos__free(raw);
  *out = res;
  return MESOS_OK;
}
