/* HS256 JSON Web Tokens for executor authentication (jwt.h). */
#include "authz/jwt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"

#define MAC_LEN 32u

/* Containers nested inside a claim value (which we skip): a token the
 * agent signed has none, so a few levels are generous. */
#define JSON_MAX_DEPTH 16

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ------------------------------------------------------------ base64url */

static mesos_status b64url_append(mesos__buf *b, const uint8_t *in, size_t n) {
  char quad[4];
  mesos_status st = MESOS_OK;
  size_t i = 0;
  for (; i + 3 <= n && st == MESOS_OK; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    quad[0] = B64URL[v >> 18 & 63];
    quad[1] = B64URL[v >> 12 & 63];
    quad[2] = B64URL[v >> 6 & 63];
    quad[3] = B64URL[v & 63];
    st = mesos__buf_append(b, quad, 4);
  }
  if (st == MESOS_OK && n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    quad[0] = B64URL[v >> 18 & 63];
    quad[1] = B64URL[v >> 12 & 63];
    st = mesos__buf_append(b, quad, 2);
  } else if (st == MESOS_OK && n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    quad[0] = B64URL[v >> 18 & 63];
    quad[1] = B64URL[v >> 12 & 63];
    quad[2] = B64URL[v >> 6 & 63];
    st = mesos__buf_append(b, quad, 3);
  }
  return st;
}

static int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/* Strict unpadded base64url: only the 64 characters, no '=', a length
 * that can be a whole number of bytes, and zero bits left over (so every
 * byte string has exactly one spelling and a tampered last character never
 * decodes to the same bytes).  `out` holds n * 3 / 4 + 1 bytes.  false on
 * anything else. */
static bool b64url_decode(const char *in, size_t n, uint8_t *out, size_t *out_len) {
  if (n % 4 == 1) return false;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64url_value(in[i]);
    if (v < 0) return false;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return false; /* non-zero padding bits */
  *out_len = o;
  return true;
}

/* ------------------------------------------------------------ JSON */

typedef struct jcur {
  const char *p, *end;
} jcur;

static void ws(jcur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool eat(jcur *c, char ch) {
  ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = p[i];
    int d = ch >= '0' && ch <= '9' ? ch - '0'
            : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

static mesos_status put_utf8(mesos__buf *b, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | cp >> 6);
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12);
    u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | cp >> 18);
    u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return mesos__buf_append(b, u, n);
}

/* A JSON string at the cursor, decoded into `out` (NULL: only checked).
 * 0, or -1 when malformed or out of memory (*oom set). */
static int parse_string(jcur *c, mesos__buf *out, bool *oom) {
  ws(c);
  if (c->p >= c->end || *c->p != '"') return -1;
  c->p++;
  while (c->p < c->end) {
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '"') return 0;
    if (ch < 0x20) return -1;
    if (ch != '\\') {
      if (out && mesos__buf_putc(out, (char)ch) != MESOS_OK) return *oom = true, -1;
      continue;
    }
    if (c->p >= c->end) return -1;
    char e = *c->p++;
    uint32_t cp;
    switch (e) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case '/': cp = '/'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u': {
        if (c->end - c->p < 4) return -1;
        int v = hex4(c->p);
        if (v < 0) return -1;
        c->p += 4;
        cp = (uint32_t)v;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return -1; /* lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') return -1;
          int lo = hex4(c->p + 2);
          if (lo < 0xDC00 || lo > 0xDFFF) return -1;
          c->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        }
        break;
      }
      default:
        return -1;
    }
    if (out && put_utf8(out, cp) != MESOS_OK) return *oom = true, -1;
  }
  return -1; /* unterminated */
}

/* A JSON number at the cursor (RFC 8259 grammar); its value in *v when
 * `v` is not NULL.  0 or -1. */
static int parse_number(jcur *c, double *v) {
  ws(c);
  const char *s = c->p, *p = c->p;
  if (p < c->end && *p == '-') p++;
  if (p >= c->end) return -1;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (p < c->end && *p >= '0' && *p <= '9') p++;
  } else {
    return -1;
  }
  if (p < c->end && *p == '.') {
    p++;
    if (p >= c->end || *p < '0' || *p > '9') return -1;
    while (p < c->end && *p >= '0' && *p <= '9') p++;
  }
  if (p < c->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < c->end && (*p == '+' || *p == '-')) p++;
    if (p >= c->end || *p < '0' || *p > '9') return -1;
    while (p < c->end && *p >= '0' && *p <= '9') p++;
  }
  c->p = p;
  if (v) {
    char tmp[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp) return -1; /* no sensible time needs 64 digits */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, NULL);
  }
  return 0;
}

static bool literal(jcur *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return false;
  c->p += n;
  return true;
}

/* Skips one JSON value of any kind, checking its syntax, without
 * recursion: `stack` holds the open containers. */
static int skip_value(jcur *c) {
  char stack[JSON_MAX_DEPTH];
  int d = 0;
  bool oom = false;
  for (;;) {
    /* A value is expected here. */
    ws(c);
    if (c->p >= c->end) return -1;
    char ch = *c->p;
    if (ch == '{' || ch == '[') {
      if (d == JSON_MAX_DEPTH) return -1;
      stack[d++] = ch;
      c->p++;
      if (eat(c, ch == '{' ? '}' : ']')) {
        d--; /* empty: a complete value */
      } else {
        if (ch == '{' && (parse_string(c, NULL, &oom) != 0 || !eat(c, ':'))) return -1;
        continue;
      }
    } else if (ch == '"') {
      if (parse_string(c, NULL, &oom) != 0) return -1;
    } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
      if (parse_number(c, NULL) != 0) return -1;
    } else if (!literal(c, "true") && !literal(c, "false") && !literal(c, "null")) {
      return -1;
    }
    /* After a value: close containers or move to the next element. */
    for (;;) {
      if (d == 0) return 0;
      char open = stack[d - 1];
      if (eat(c, ',')) {
        if (open == '{' && (parse_string(c, NULL, &oom) != 0 || !eat(c, ':'))) return -1;
        break;
      }
      if (eat(c, open == '{' ? '}' : ']')) {
        d--;
        continue;
      }
      return -1;
    }
  }
}

/* What the member callback answers. */
enum { MEMBER_OK = 0, MEMBER_BAD = -1, MEMBER_OOM = -2 };

typedef int (*member_fn)(jcur *c, const char *key, void *ud, const char **why);

/* A JSON object spanning the whole input; `fn` consumes each member's
 * value.  MESOS_OK, or an error naming `what`. */
static mesos_status parse_object(const char *text, size_t len, const char *what, member_fn fn,
                                 void *ud, mesos_error **err) {
  jcur c = {text, text + len};
  mesos__buf key = MESOS__BUF_INIT(MESOS__JWT_MAX_TOKEN);
  mesos_status st = MESOS_OK;
  const char *why = NULL;
  bool oom = false;
  if (!eat(&c, '{')) {
    why = "is not a JSON object";
  } else if (!eat(&c, '}')) {
    for (;;) {
      mesos__buf_clear(&key);
      if (parse_string(&c, &key, &oom) != 0 || mesos__buf_putc(&key, '\0') != MESOS_OK) {
        why = "has a malformed member name";
        break;
      }
      if (!eat(&c, ':')) {
        why = "is malformed JSON";
        break;
      }
      int r = fn(&c, (const char *)key.data, ud, &why);
      if (r == MEMBER_OOM) oom = true;
      if (r != MEMBER_OK) {
        if (!why) why = "is malformed JSON";
        break;
      }
      if (eat(&c, ',')) continue;
      if (eat(&c, '}')) break;
      why = "is malformed JSON";
      break;
    }
  }
  if (!why) {
    ws(&c);
    if (c.p != c.end) why = "has bytes after the JSON object";
  }
  mesos__buf_free(&key);
  if (oom) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  else if (why) st = mesos__err(err, MESOS_EINVAL, "token %s %s", what, why);
  return st;
}

/* A string value into a new C string (no NUL inside). */
static int string_value(jcur *c, char **out, const char **why) {
  mesos__buf b = MESOS__BUF_INIT(MESOS__JWT_MAX_TOKEN);
  bool oom = false;
  if (parse_string(c, &b, &oom) != 0) {
    mesos__buf_free(&b);
    if (oom) return MEMBER_OOM;
    *why = "has a malformed string";
    return MEMBER_BAD;
  }
  if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) { /* empty: no buffer yet */
    mesos__buf_free(&b);
    *why = "has a string with a NUL character";
    return MEMBER_BAD;
  }
  if (mesos__buf_putc(&b, '\0') != MESOS_OK) {
    mesos__buf_free(&b);
    return MEMBER_OOM;
  }
  *out = mesos__buf_detach(&b, NULL);
  return *out ? MEMBER_OK : MEMBER_OOM;
}

/* ------------------------------------------------------------ header */

typedef struct header_seen {
  bool alg, typ;
} header_seen;

static int header_member(jcur *c, const char *key, void *ud, const char **why) {
  header_seen *h = ud;
  if (strcmp(key, "alg") == 0 || strcmp(key, "typ") == 0) {
    bool is_alg = key[0] == 'a';
    if (is_alg ? h->alg : h->typ) {
      *why = is_alg ? "names 'alg' twice" : "names 'typ' twice";
      return MEMBER_BAD;
    }
    char *v = NULL;
    int r = string_value(c, &v, why);
    if (r != MEMBER_OK) return r;
    bool ok = is_alg ? strcmp(v, "HS256") == 0 : strcasecmp(v, "JWT") == 0;
    mesos__free(v);
    if (!ok) {
      *why = is_alg ? "'alg' is not HS256" : "'typ' is not JWT";
      return MEMBER_BAD;
    }
    if (is_alg) h->alg = true;
    else h->typ = true;
    return MEMBER_OK;
  }
  if (strcmp(key, "crit") == 0) {
    *why = "has 'crit' extensions, which this agent does not understand";
    return MEMBER_BAD;
  }
  return skip_value(c) == 0 ? MEMBER_OK : MEMBER_BAD;
}

/* ------------------------------------------------------------ payload */

typedef struct payload {
  mesos__jwt_claims *claims;
  bool has_exp, has_nbf;
  double exp, nbf;
} payload;

static int payload_member(jcur *c, const char *key, void *ud, const char **why) {
  payload *p = ud;
  char **slot = strcmp(key, "fid") == 0   ? &p->claims->fid
                : strcmp(key, "eid") == 0 ? &p->claims->eid
                : strcmp(key, "cid") == 0 ? &p->claims->cid
                                          : NULL;
  if (slot) {
    if (*slot) {
      *why = "names a claim twice";
      return MEMBER_BAD;
    }
    ws(c);
    if (c->p < c->end && *c->p == '"') return string_value(c, slot, why);
    /* Not a string: Mesos keeps only string claims; an id claim of
     * another type is no id. */
    return skip_value(c) == 0 ? MEMBER_OK : MEMBER_BAD;
  }
  bool is_exp = strcmp(key, "exp") == 0, is_nbf = strcmp(key, "nbf") == 0;
  if (is_exp || is_nbf) {
    if (is_exp ? p->has_exp : p->has_nbf) {
      *why = "names a claim twice";
      return MEMBER_BAD;
    }
    if (parse_number(c, is_exp ? &p->exp : &p->nbf) != 0) {
      *why = is_exp ? "'exp' is not a number" : "'nbf' is not a number";
      return MEMBER_BAD;
    }
    if (is_exp) p->has_exp = true;
    else p->has_nbf = true;
    return MEMBER_OK;
  }
  return skip_value(c) == 0 ? MEMBER_OK : MEMBER_BAD;
}

/* ------------------------------------------------------------ sign / verify */

static mesos_status hmac(const uint8_t *key, size_t keylen, const char *in, size_t n,
                         uint8_t mac[MAC_LEN], mesos_error **err) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if (md == NULL || mbedtls_md_hmac(md, key, keylen, (const unsigned char *)in, n, mac) != 0)
    return mesos__err(err, MESOS_EINVAL, "HMAC-SHA256 is not available");
  return MESOS_OK;
}

/* Equal in time independent of where the first difference is. */
static bool same_mac(const uint8_t *a, const uint8_t *b) {
  volatile uint8_t d = 0;
  for (size_t i = 0; i < MAC_LEN; i++) d |= (uint8_t)(a[i] ^ b[i]);
  return d == 0;
}

static mesos_status json_string(mesos__buf *b, const char *s) {
  mesos_status st = mesos__buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p && st == MESOS_OK; p++) {
    if (*p == '"' || *p == '\\') {
      char e[2] = {'\\', (char)*p};
      st = mesos__buf_append(b, e, 2);
    } else if (*p < 0x20) {
      st = mesos__buf_printf(b, "\\u%04x", *p);
    } else {
      st = mesos__buf_putc(b, (char)*p);
    }
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '"');
  return st;
}

mesos_status mesos__jwt_sign(const uint8_t *key, size_t keylen, const char *fid,
                             const char *eid, const char *cid, char **out, mesos_error **err) {
  if (!key || !keylen || !fid || !*fid || !eid || !*eid || !cid || !*cid || !out)
    return mesos__err(err, MESOS_EINVAL, "a key, fid, eid and cid are required");
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  mesos__buf claims = MESOS__BUF_INIT(MESOS__JWT_MAX_TOKEN);
  mesos__buf tok = MESOS__BUF_INIT(MESOS__JWT_MAX_TOKEN);
  mesos_status st = mesos__buf_puts(&claims, "{\"cid\":");
  if (st == MESOS_OK) st = json_string(&claims, cid);
  if (st == MESOS_OK) st = mesos__buf_puts(&claims, ",\"eid\":");
  if (st == MESOS_OK) st = json_string(&claims, eid);
  if (st == MESOS_OK) st = mesos__buf_puts(&claims, ",\"fid\":");
  if (st == MESOS_OK) st = json_string(&claims, fid);
  if (st == MESOS_OK) st = mesos__buf_putc(&claims, '}');
  if (st == MESOS_OK) st = b64url_append(&tok, (const uint8_t *)header, sizeof header - 1);
  if (st == MESOS_OK) st = mesos__buf_putc(&tok, '.');
  if (st == MESOS_OK) st = b64url_append(&tok, (const uint8_t *)claims.data, claims.len);
  uint8_t mac[MAC_LEN];
  if (st == MESOS_OK) {
    st = hmac(key, keylen, (const char *)tok.data, tok.len, mac, err);
    if (st != MESOS_OK) goto out; /* err set */
  }
  if (st == MESOS_OK) st = mesos__buf_putc(&tok, '.');
  if (st == MESOS_OK) st = b64url_append(&tok, mac, MAC_LEN);
  if (st == MESOS_OK) st = mesos__buf_putc(&tok, '\0');
  if (st == MESOS_OK && (*out = mesos__buf_detach(&tok, NULL)) == NULL) st = MESOS_ENOMEM;
  if (st != MESOS_OK)
    st = mesos__err(err, st, st == MESOS_ELIMIT ? "the token would be too long" : "out of memory");
out:
  mesos__buf_free(&claims);
  mesos__buf_free(&tok);
  return st;
}

mesos_status mesos__jwt_sign_raw(const uint8_t *key, size_t keylen, const char *signing_input,
                                 size_t n, char **out, mesos_error **err) {
  if (!key || !keylen || !signing_input || !out)
    return mesos__err(err, MESOS_EINVAL, "a key and a signing input are required");
  uint8_t mac[MAC_LEN];
  mesos_status st = hmac(key, keylen, signing_input, n, mac, err);
  if (st != MESOS_OK) return st;
  mesos__buf tok = MESOS__BUF_INIT(MESOS__JWT_MAX_TOKEN);
  st = mesos__buf_append(&tok, signing_input, n);
  if (st == MESOS_OK) st = mesos__buf_putc(&tok, '.');
  if (st == MESOS_OK) st = b64url_append(&tok, mac, MAC_LEN);
  if (st == MESOS_OK) st = mesos__buf_putc(&tok, '\0');
  if (st == MESOS_OK && (*out = mesos__buf_detach(&tok, NULL)) == NULL) st = MESOS_ENOMEM;
  if (st != MESOS_OK)
    st = mesos__err(err, st, st == MESOS_ELIMIT ? "the token would be too long" : "out of memory");
  mesos__buf_free(&tok);
  return st;
}

void mesos__jwt_claims_free(mesos__jwt_claims *c) {
  if (!c) return;
  mesos__free(c->fid);
  mesos__free(c->eid);
  mesos__free(c->cid);
  c->fid = c->eid = c->cid = NULL;
}

mesos_status mesos__jwt_verify(const uint8_t *key, size_t keylen, const char *token, size_t len,
                               int64_t now, mesos__jwt_claims *claims, mesos_error **err) {
  memset(claims, 0, sizeof *claims);
  if (!key || !keylen || !token) return mesos__err(err, MESOS_EINVAL, "no key or no token");
  if (len > MESOS__JWT_MAX_TOKEN)
    return mesos__err(err, MESOS_ELIMIT, "the token is longer than %u bytes",
                      MESOS__JWT_MAX_TOKEN);
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
    return mesos__err(err, MESOS_EINVAL, "the token does not have three parts");
  size_t hl = (size_t)(d1 - token), pl = (size_t)(d2 - d1 - 1), sl = len - (size_t)(d2 + 1 - token);
  if (hl == 0 || pl == 0 || sl == 0)
    return mesos__err(err, MESOS_EINVAL, "the token has an empty part");
  /* One buffer holds any decoded part (each is shorter than the token). */
  uint8_t *dec = mesos__malloc(len / 4 * 3 + 4);
  if (!dec) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t n = 0;
  mesos_status st = MESOS_OK;
  header_seen hs = {false, false};
  if (!b64url_decode(token, hl, dec, &n)) {
    st = mesos__err(err, MESOS_EINVAL, "the token header is not base64url");
  } else if ((st = parse_object((const char *)dec, n, "header", header_member, &hs, err)) ==
             MESOS_OK &&
             !hs.alg) {
    st = mesos__err(err, MESOS_EINVAL, "the token header has no 'alg'");
  }
  uint8_t mac[MAC_LEN], want[MAC_LEN];
  if (st == MESOS_OK && (!b64url_decode(d2 + 1, sl, dec, &n) || n != MAC_LEN))
    st = mesos__err(err, MESOS_EINVAL, "the token signature is not a base64url HS256 MAC");
  if (st == MESOS_OK) {
    memcpy(mac, dec, MAC_LEN);
    st = hmac(key, keylen, token, (size_t)(d2 - token), want, err);
  }
  if (st == MESOS_OK && !same_mac(mac, want))
    st = mesos__err(err, MESOS_EPERM, "the token signature does not verify");
  /* Only a signed payload is read. */
  payload p;
  memset(&p, 0, sizeof p);
  p.claims = claims;
  if (st == MESOS_OK && !b64url_decode(d1 + 1, pl, dec, &n))
    st = mesos__err(err, MESOS_EINVAL, "the token payload is not base64url");
  else if (st == MESOS_OK)
    st = parse_object((const char *)dec, n, "payload", payload_member, &p, err);
  if (st == MESOS_OK && p.has_exp && (double)now >= p.exp)
    st = mesos__err(err, MESOS_EPERM, "the token has expired");
  if (st == MESOS_OK && p.has_nbf && (double)now < p.nbf)
    st = mesos__err(err, MESOS_EPERM, "the token is not valid yet");
  mbedtls_platform_zeroize(want, sizeof want);
  mesos__free(dec);
  if (st != MESOS_OK) mesos__jwt_claims_free(claims);
  return st;
}
