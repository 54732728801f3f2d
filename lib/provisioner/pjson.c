/* JSON tree parser for image documents: see pjson.h for why it exists. */
#include "provisioner/pjson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/error.h"

typedef struct {
  const char *p, *end, *start;
  mesos_error **err;
} pjp;

/* The tree's depth is bounded by the parser (MESOS__PJ_MAX_DEPTH), so this
 * recursion is bounded too. */
void mesos__pj_free(mesos__pj *v) {
  if (v == NULL) return;
  for (size_t i = 0; i < v->n; i++) {
    mesos__pj_free(v->items[i]);
    if (v->keys != NULL) mesos__free(v->keys[i]);
  }
  mesos__free(v->items);
  mesos__free(v->keys);
  mesos__free(v->s);
  mesos__free(v);
}

static mesos_status perr(pjp *ps, const char *what) {
  return mesos__err(ps->err, MESOS_EINVAL, "JSON: %s at offset %zu", what,
                    (size_t)(ps->p - ps->start));
}

static void skip_ws(pjp *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool read_hex4(pjp *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return false;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(ps->p[i]);
    if (h < 0) return false;
    v = v * 16 + (unsigned)h;
  }
  ps->p += 4;
  *out = v;
  return true;
}

/* Parses a string at ps->p (which is at the opening quote).  The decoded
 * text is never longer than the escaped one, so one allocation of the raw
 * length suffices. */
static mesos_status parse_string(pjp *ps, char **out, size_t *outlen) {
  ps->p++;
  const char *q = ps->p;
  while (q < ps->end && *q != '"') {
    if (*q == '\\') q++;
    q++;
  }
  if (q >= ps->end) return perr(ps, "unterminated string");
  size_t raw = (size_t)(q - ps->p);
  char *s = mesos__malloc(raw + 1);
  if (s == NULL) return mesos__err(ps->err, MESOS_ENOMEM, "out of memory");
  size_t n = 0;
  while (ps->p < q) {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) {
      mesos__free(s);
      return perr(ps, "control character in string");
    }
    if (c != '\\') {
      s[n++] = (char)c;
      ps->p++;
      continue;
    }
    ps->p++;
    char e = *ps->p++;
    switch (e) {
      case '"': s[n++] = '"'; break;
      case '\\': s[n++] = '\\'; break;
      case '/': s[n++] = '/'; break;
      case 'b': s[n++] = '\b'; break;
      case 'f': s[n++] = '\f'; break;
      case 'n': s[n++] = '\n'; break;
      case 'r': s[n++] = '\r'; break;
      case 't': s[n++] = '\t'; break;
      case 'u': {
        unsigned cp;
        if (!read_hex4(ps, &cp)) {
          mesos__free(s);
          return perr(ps, "bad \\u escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
            ps->p += 2;
            if (!read_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
              mesos__free(s);
              return perr(ps, "bad surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        /* Six escaped bytes become at most four UTF-8 bytes. */
        if (cp < 0x80) {
          s[n++] = (char)cp;
        } else if (cp < 0x800) {
          s[n++] = (char)(0xC0 | (cp >> 6));
          s[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          s[n++] = (char)(0xE0 | (cp >> 12));
          s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          s[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
          s[n++] = (char)(0xF0 | (cp >> 18));
          s[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
          s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          s[n++] = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        mesos__free(s);
        return perr(ps, "bad escape");
    }
  }
  if (ps->p != q) {
    mesos__free(s);
    return perr(ps, "bad escape at end of string");
  }
  ps->p = q + 1;
  s[n] = '\0';
  *out = s;
  *outlen = n;
  return MESOS_OK;
}

static mesos_status parse_number(pjp *ps, mesos__pj *v) {
  const char *b = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) return perr(ps, "bad number");
  if (*ps->p == '0') {
    ps->p++;
  } else {
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) return perr(ps, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) return perr(ps, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  v->kind = MESOS__PJ_NUM;
  v->slen = (size_t)(ps->p - b);
  v->s = mesos__strndup(b, v->slen);
  if (v->s == NULL) return mesos__err(ps->err, MESOS_ENOMEM, "out of memory");
  return MESOS_OK;
}

static bool lit(pjp *ps, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return false;
  ps->p += n;
  return true;
}

/* Appends v (and key, for objects) to container c; takes both on success. */
static mesos_status attach(pjp *ps, mesos__pj *c, char *key, mesos__pj *v) {
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 4, bytes;
    if (!mesos__size_mul(&bytes, ncap, sizeof *c->items))
      return mesos__err(ps->err, MESOS_ELIMIT, "JSON: too many members");
    mesos__pj **ni = mesos__realloc(c->items, bytes);
    if (ni == NULL) return mesos__err(ps->err, MESOS_ENOMEM, "out of memory");
    c->items = ni;
    if (c->kind == MESOS__PJ_OBJ) {
      char **nk = mesos__realloc(c->keys, ncap * sizeof *c->keys);
      if (nk == NULL) return mesos__err(ps->err, MESOS_ENOMEM, "out of memory");
      c->keys = nk;
    }
    c->cap = ncap;
  }
  if (c->kind == MESOS__PJ_OBJ) c->keys[c->n] = key;
  c->items[c->n++] = v;
  return MESOS_OK;
}

/* After '{' or ',' inside an object: reads `"key" :` into *key. */
static mesos_status parse_key(pjp *ps, char **key) {
  skip_ws(ps);
  if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected a key");
  size_t kl;
  mesos_status st = parse_string(ps, key, &kl);
  if (st != MESOS_OK) return st;
  skip_ws(ps);
  if (ps->p >= ps->end || *ps->p != ':') {
    mesos__free(*key);
    *key = NULL;
    return perr(ps, "expected ':'");
  }
  ps->p++;
  return MESOS_OK;
}

mesos_status mesos__pj_parse(const char *text, size_t len, mesos__pj **out, mesos_error **err) {
  if (len > MESOS__PJ_MAX_INPUT)
    return mesos__err(err, MESOS_ELIMIT, "JSON document of %zu bytes is over the %zu byte limit",
                      len, MESOS__PJ_MAX_INPUT);
  pjp ps = {text, text + len, text, err};
  mesos__pj *stack[MESOS__PJ_MAX_DEPTH];
  size_t depth = 0;
  mesos__pj *root = NULL;
  char *key = NULL; /* pending key of the innermost object */
  mesos_status st = MESOS_OK;

  for (;;) {
    /* Parse one value. */
    skip_ws(&ps);
    if (ps.p >= ps.end) {
      st = perr(&ps, "unexpected end");
      goto fail;
    }
    mesos__pj *v = MESOS__NEW(mesos__pj);
    if (v == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto fail;
    }
    char c = *ps.p;
    bool opened = false;
    if (c == '{' || c == '[') {
      v->kind = c == '{' ? MESOS__PJ_OBJ : MESOS__PJ_ARR;
      ps.p++;
      opened = true;
    } else if (c == '"') {
      v->kind = MESOS__PJ_STR;
      st = parse_string(&ps, &v->s, &v->slen);
    } else if (c == 't' || c == 'f') {
      v->kind = MESOS__PJ_BOOL;
      v->b = c == 't';
      if (!lit(&ps, v->b ? "true" : "false")) st = perr(&ps, "bad literal");
    } else if (c == 'n') {
      v->kind = MESOS__PJ_NULL;
      if (!lit(&ps, "null")) st = perr(&ps, "bad literal");
    } else {
      st = parse_number(&ps, v);
    }
    if (st == MESOS_OK) {
      if (depth == 0) {
        root = v;
      } else {
        st = attach(&ps, stack[depth - 1], key, v);
        if (st == MESOS_OK) key = NULL;
      }
    }
    if (st != MESOS_OK) {
      mesos__pj_free(v);
      goto fail;
    }
    if (opened) {
      if (depth == MESOS__PJ_MAX_DEPTH) {
        st = mesos__err(err, MESOS_ELIMIT, "JSON: nesting deeper than %d", MESOS__PJ_MAX_DEPTH);
        goto fail;
      }
      stack[depth++] = v;
      skip_ws(&ps);
      char close = v->kind == MESOS__PJ_OBJ ? '}' : ']';
      if (ps.p < ps.end && *ps.p == close) {
        ps.p++;
        depth--;
      } else {
        if (v->kind == MESOS__PJ_OBJ && (st = parse_key(&ps, &key)) != MESOS_OK) goto fail;
        continue;
      }
    }
    /* A value is complete: close containers or move to the next member. */
    bool next = false;
    while (depth > 0 && !next) {
      mesos__pj *top = stack[depth - 1];
      skip_ws(&ps);
      if (ps.p >= ps.end) {
        st = perr(&ps, "unexpected end");
        goto fail;
      }
      char d = *ps.p++;
      if (d == ',') {
        if (top->kind == MESOS__PJ_OBJ && (st = parse_key(&ps, &key)) != MESOS_OK) goto fail;
        next = true;
      } else if ((d == '}' && top->kind == MESOS__PJ_OBJ) || (d == ']' && top->kind == MESOS__PJ_ARR)) {
        depth--;
      } else {
        ps.p--;
        st = perr(&ps, "expected ',' or a closing bracket");
        goto fail;
      }
    }
    if (next) continue;
    skip_ws(&ps);
    if (ps.p != ps.end) {
      st = perr(&ps, "trailing data");
      goto fail;
    }
    *out = root;
    return MESOS_OK;
  }
fail:
  mesos__free(key);
  mesos__pj_free(root);
  return st;
}

const mesos__pj *mesos__pj_get(const mesos__pj *obj, const char *key) {
  if (obj == NULL || obj->kind != MESOS__PJ_OBJ) return NULL;
  for (size_t i = obj->n; i > 0; i--)
    if (strcmp(obj->keys[i - 1], key) == 0) return obj->items[i - 1];
  return NULL;
}

const mesos__pj *mesos__pj_iget(const mesos__pj *obj, const char *key) {
  const mesos__pj *v = mesos__pj_get(obj, key);
  if (v != NULL || obj == NULL || obj->kind != MESOS__PJ_OBJ) return v;
  for (size_t i = obj->n; i > 0; i--)
    if (strcasecmp(obj->keys[i - 1], key) == 0) return obj->items[i - 1];
  return NULL;
}

const char *mesos__pj_str(const mesos__pj *v) {
  if (v == NULL || v->kind != MESOS__PJ_STR || strlen(v->s) != v->slen) return NULL;
  return v->s;
}

bool mesos__pj_int(const mesos__pj *v, int64_t *out) {
  if (v == NULL || v->kind != MESOS__PJ_NUM) return false;
  char *end;
  errno = 0;
  long long x = strtoll(v->s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = x;
  return true;
}
