/* JSON -> protobuf-c message, driven by descriptors (see json.h).
 *
 * yajl tokenizes; its callbacks write straight into the protobuf-c structs.
 * State lives in an explicit stack of frames, one per JSON object being
 * filled, so hostile nesting costs a bounded array, never C stack.  Every
 * piece of the message comes from one arena (arena.h: a few large blocks
 * instead of one malloc per struct and string, the decoder's main cost
 * before), so any error simply drops the arena, and mesos__pb_free frees
 * a decoded message as a whole. */
#include "codec/json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/arena.h"
#include "codec/base64.h"
#include "codec/pb.h"

/* Required-field tracking covers the first 256 fields of a message; no
 * Mesos message comes close (the largest has about 40). */
#define SEEN_WORDS 4

enum { FR_MSG, FR_MAP };

typedef struct jd_frame {
  /* The message receiving values: the object being decoded, or for a map
   * the entry created for the current key. */
  ProtobufCMessage *msg;
  /* Field the next value belongs to; NULL means "skip the next value"
   * (unknown key). */
  const ProtobufCFieldDescriptor *field;
  /* FR_MAP: the message holding the map, and its map field. */
  ProtobufCMessage *owner;
  const ProtobufCFieldDescriptor *map_field;
  size_t cap;      /* capacity of the array `field` (or the map) is filling */
  size_t elem;     /* elements seen in the current JSON array */
  unsigned next;   /* predicted index of the next key: Mesos writes in order */
  unsigned char kind;
  bool in_array;
  unsigned req_seen; /* required fields set so far */
  uint64_t seen[SEEN_WORDS];
} jd_frame;

/* How many required fields a message type has, cached per decode (by
 * descriptor address) so most objects skip the scan at their end. */
#define REQ_CACHE 32
typedef struct jd_req_cache {
  const ProtobufCMessageDescriptor *desc;
  unsigned n_required;
} jd_req_cache;

typedef struct jd {
  jd_frame *frames;
  unsigned nframes;
  unsigned depth, max_depth;
  unsigned skip; /* > 0: inside a value being skipped, this many levels deep */
  size_t alloc_used, alloc_max;
  /* Every piece of the message comes from here (see arena.h); on failure
   * the whole arena is dropped, on success it is attached to the root. */
  mesos__pb_arena *arena;
  const ProtobufCMessageDescriptor *root_desc;
  ProtobufCMessage *root;
  bool done;
  mesos_status status;
  mesos_error *error;
  locale_t c_locale;
  /* yajl does not check its allocations (a failed realloc is written
   * through), so its allocator never returns NULL: it jumps back to
   * mesos__json_decode, which frees every block yajl holds (they are kept
   * on this list) and the message built so far (consistent, since yajl
   * allocates only between our callbacks). */
  jmp_buf oom;
  struct yblock *yblocks;
  jd_req_cache req[REQ_CACHE];
} jd;

typedef union yblock_hdr {
  struct yblock {
    struct yblock *prev, *next;
  } link;
  max_align_t align;
} yblock_hdr;

/* ------------------------------------------------------------ locale */

/* strtod follows LC_NUMERIC; a host program may have set a locale whose
 * decimal point is ','.  JSON always means '.', so parse in the C locale. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* ------------------------------------------------------------ errors */

static size_t seg_append(char *buf, size_t cap, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t seg_append(char *buf, size_t cap, size_t at, const char *fmt, ...) {
  if (at >= cap) return at;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + at, cap - at, fmt, ap);
  va_end(ap);
  if (n < 0) return at;
  at += (size_t)n;
  return at < cap ? at : cap - 1;
}

/* The key of a map entry as text, for error paths. */
static size_t entry_key_text(const ProtobufCMessage *entry, char *buf, size_t cap, size_t at) {
  const ProtobufCFieldDescriptor *k = &entry->descriptor->fields[0];
  const void *v = (const char *)entry + k->offset;
  switch (k->type) {
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)v;
      return seg_append(buf, cap, at, "%.40s", s ? s : "");
    }
    case PROTOBUF_C_TYPE_BOOL:
      return seg_append(buf, cap, at, "%s", *(const protobuf_c_boolean *)v ? "true" : "false");
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      return seg_append(buf, cap, at, "%lld", (long long)*(const int64_t *)v);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      return seg_append(buf, cap, at, "%llu", (unsigned long long)*(const uint64_t *)v);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      return seg_append(buf, cap, at, "%u", *(const uint32_t *)v);
    default:
      return seg_append(buf, cap, at, "%d", *(const int32_t *)v);
  }
}

/* Writes the path of frames [0, upto) plus, when `with_top`, the field the
 * top frame is on.  E.g. "offers[3].resources[0].ranges". */
static size_t jd_path(const jd *p, char *buf, size_t cap, unsigned upto, bool with_top) {
  size_t at = 0;
  buf[0] = '\0';
  unsigned n = with_top ? upto + 1 : upto;
  if (n > p->nframes) n = p->nframes;
  for (unsigned i = 0; i < n; i++) {
    const jd_frame *f = &p->frames[i];
    if (f->kind == FR_MAP) {
      if (f->msg != NULL) {
        at = seg_append(buf, cap, at, "%s", at ? "." : "");
        at = entry_key_text(f->msg, buf, cap, at);
      }
      continue;
    }
    if (f->field == NULL) continue;
    at = seg_append(buf, cap, at, "%s%s", at ? "." : "", f->field->name);
    if (f->in_array && f->elem > 0) at = seg_append(buf, cap, at, "[%zu]", f->elem - 1);
  }
  return at;
}

/* Records the first error (with the path of the value being decoded) and
 * returns 0, which makes yajl stop. */
static int jd_fail_at(jd *p, mesos_status code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int jd_fail_at(jd *p, mesos_status code, const char *path, const char *fmt, ...) {
  if (p->status != MESOS_OK) return 0;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->status = code;
  if (path != NULL && path[0] != '\0')
    mesos__err(&p->error, code, "%s: %s", path, msg);
  else
    mesos__err(&p->error, code, "%s: %s", p->root_desc->name, msg);
  return 0;
}

#define PATH_MAX_LEN 512

static int jd_fail(jd *p, mesos_status code, const char *what) {
  char path[PATH_MAX_LEN];
  jd_path(p, path, sizeof path, p->nframes ? p->nframes - 1 : 0, true);
  return jd_fail_at(p, code, path, "%s", what);
}

static const char *type_name(ProtobufCType t) {
  switch (t) {
    case PROTOBUF_C_TYPE_BOOL: return "a boolean";
    case PROTOBUF_C_TYPE_STRING: return "a string";
    case PROTOBUF_C_TYPE_BYTES: return "a base64 string";
    case PROTOBUF_C_TYPE_ENUM: return "an enum name (string)";
    case PROTOBUF_C_TYPE_MESSAGE: return "an object";
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: return "a number";
    default: return "an integer";
  }
}

static int jd_type_error(jd *p, const ProtobufCFieldDescriptor *fd, const char *got) {
  char what[96];
  const char *want = fd->label == PROTOBUF_C_LABEL_REPEATED && !p->frames[p->nframes - 1].in_array
                         ? (mesos__pb_is_map_field(fd) ? "an object (map)" : "an array")
                         : type_name(fd->type);
  snprintf(what, sizeof what, "expected %s, got %s", want, got);
  return jd_fail(p, MESOS_EINVAL, what);
}

/* ------------------------------------------------------------ memory */

static void *jd_alloc(jd *p, size_t n, bool aligned) {
  if (n > p->alloc_max - p->alloc_used) {
    char what[96];
    snprintf(what, sizeof what, "decoded message exceeds the memory limit of %zu bytes",
             p->alloc_max);
    jd_fail(p, MESOS_ELIMIT, what);
    return NULL;
  }
  void *m =
      aligned ? mesos__pb_arena_alloc(p->arena, n) : mesos__pb_arena_alloc_bytes(p->arena, n);
  if (m == NULL) {
    jd_fail(p, MESOS_ENOMEM, "out of memory");
    return NULL;
  }
  p->alloc_used += n;
  return m;
}

/* Grows the repeated array at `arrp` (count *n, capacity *cap) by one slot
 * of `esz` bytes.  Doubling keeps appends amortised O(1).  The whole new
 * size is charged to the memory limit: unless the array is the arena's
 * latest allocation, the old copy stays in the arena (at most as much
 * again as the final array, doubling being geometric). */
static bool jd_grow(jd *p, void **arrp, size_t n, size_t *cap, size_t esz) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 4, bytes, old;
  if (!mesos__size_mul(&bytes, ncap, esz) || !mesos__size_mul(&old, *cap, esz)) {
    jd_fail(p, MESOS_ELIMIT, "array too large");
    return false;
  }
  if (bytes > p->alloc_max - p->alloc_used) {
    char what[96];
    snprintf(what, sizeof what, "decoded message exceeds the memory limit of %zu bytes",
             p->alloc_max);
    jd_fail(p, MESOS_ELIMIT, what);
    return false;
  }
  if (!mesos__pb_arena_grow(p->arena, arrp, old, bytes)) {
    jd_fail(p, MESOS_ENOMEM, "out of memory");
    return false;
  }
  p->alloc_used += bytes;
  *cap = ncap;
  return true;
}

/* Clears the value a singular field holds before it is replaced (a
 * repeated key, or another member of the same oneof).  The old value's
 * memory stays in the arena until the message is freed. */
static void release_member(const ProtobufCFieldDescriptor *fd, void *dst) {
  switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
      *(char **)dst = NULL;
      break;
    case PROTOBUF_C_TYPE_BYTES: {
      ProtobufCBinaryData *b = dst;
      b->data = NULL;
      b->len = 0;
      break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
      *(ProtobufCMessage **)dst = NULL;
      break;
    default:
      break;
  }
}

/* Records that a required field got a value (only required fields are
 * checked at the end of their object). */
static void mark_seen(jd_frame *f, const ProtobufCFieldDescriptor *fd) {
  if (fd->label != PROTOBUF_C_LABEL_REQUIRED) return;
  size_t i = (size_t)(fd - f->msg->descriptor->fields);
  if (i >= SEEN_WORDS * 64) return;
  uint64_t bit = (uint64_t)1 << (i % 64);
  if (!(f->seen[i / 64] & bit)) {
    f->seen[i / 64] |= bit;
    f->req_seen++;
  }
}

static unsigned n_required(jd *p, const ProtobufCMessageDescriptor *d) {
  jd_req_cache *c = &p->req[((uintptr_t)d >> 4) % REQ_CACHE];
  if (c->desc != d) {
    unsigned n = 0;
    for (unsigned i = 0; i < d->n_fields; i++) n += d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED;
    c->desc = d;
    c->n_required = n;
  }
  return c->n_required;
}

/* memcpy with the usual sizes spelled out, so that each becomes a plain
 * move instead of a call (once per decoded value). */
static inline void put_value(void *dst, const void *v, size_t esz) {
  switch (esz) {
    case 4:
      memcpy(dst, v, 4);
      break;
    case 8:
      memcpy(dst, v, 8);
      break;
    case 16:
      memcpy(dst, v, 16);
      break;
    default:
      memcpy(dst, v, esz);
      break;
  }
}

/* Stores one decoded value (`esz` bytes at `v`) into field `fd` of the top
 * frame's message: appended when inside an array, else replacing any old
 * value (a repeated key, or another member of the same oneof). */
static int jd_store(jd *p, jd_frame *f, const ProtobufCFieldDescriptor *fd, const void *v,
                    size_t esz) {
  char *m = (char *)f->msg;
  if (f->in_array) {
    size_t *n = (size_t *)(m + fd->quantifier_offset);
    void **arr = (void **)(m + fd->offset);
    if (!jd_grow(p, arr, *n, &f->cap, esz)) return 0;
    put_value((char *)*arr + *n * esz, v, esz);
    (*n)++;
    return 1;
  }
  void *dst = m + fd->offset;
  if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    uint32_t *pick = (uint32_t *)(m + fd->quantifier_offset);
    if (*pick != 0) {
      const ProtobufCFieldDescriptor *old =
          protobuf_c_message_descriptor_get_field(f->msg->descriptor, *pick);
      if (old != NULL) release_member(old, m + old->offset);
    }
    *pick = fd->id;
  } else {
    release_member(fd, dst);
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
        fd->type != PROTOBUF_C_TYPE_MESSAGE)
      *(protobuf_c_boolean *)(m + fd->quantifier_offset) = 1;
  }
  put_value(dst, v, esz);
  mark_seen(f, fd);
  return 1;
}

/* ------------------------------------------------------------ numbers */

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parses a JSON-style number (yajl has checked the grammar of number
 * tokens; numeric strings are checked here).  Plain decimals with at most
 * 15 significant digits take the exact fast path (an exact integer divided
 * by an exact power of ten rounds correctly); the rest go to strtod. */
static bool parse_double(jd *p, const char *s, size_t len, bool from_string, double *out) {
  if (from_string) {
    if (len == 8 && memcmp(s, "Infinity", 8) == 0) return *out = INFINITY, true;
    if (len == 9 && memcmp(s, "-Infinity", 9) == 0) return *out = -INFINITY, true;
    if (len == 3 && memcmp(s, "NaN", 3) == 0) return *out = NAN, true;
    if (len == 0 || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return false;
    for (size_t i = 0; i < len; i++) {
      char c = s[i];
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
        return false;
    }
  }
  size_t i = 0;
  bool neg = false;
  if (i < len && s[i] == '-') neg = true, i++;
  uint64_t mant = 0;
  unsigned digits = 0, frac = 0;
  bool dot = false, fast = true;
  for (; i < len; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (digits < 15 && frac < 22) {
        mant = mant * 10 + (uint64_t)(c - '0');
        if (mant != 0) digits++;
        if (dot) frac++;
      } else {
        fast = false;
        break;
      }
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      fast = false;
      break;
    }
  }
  if (fast && i == len && len > (size_t)neg && s[len - 1] != '.') {
    double d = (double)mant / pow10_tab[frac];
    *out = neg ? -d : d;
    return true;
  }
  char buf[512];
  if (len >= sizeof buf) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  double d = strtod_l(buf, &end, p->c_locale);
  if (end != buf + len) return false;
  *out = d;
  return true;
}

/* Parses an integer into sign + magnitude.  Integral values written as
 * floats ("5.0", "1e3") are accepted, as Mesos reads all numbers as
 * doubles-or-integers; a fraction is refused. */
static bool parse_integer(jd *p, const char *s, size_t len, bool from_string, bool *neg,
                          uint64_t *mag) {
  size_t i = 0;
  *neg = false;
  if (i < len && s[i] == '-') *neg = true, i++;
  if (i == len) return false;
  uint64_t v = 0;
  size_t start = i;
  for (; i < len; i++) {
    char c = s[i];
    if (c < '0' || c > '9') break;
    unsigned dgt = (unsigned)(c - '0');
    if (v > (UINT64_MAX - dgt) / 10) return false;
    v = v * 10 + dgt;
  }
  if (i == len && i > start) {
    *mag = v;
    return true;
  }
  double d;
  if (!parse_double(p, s, len, from_string, &d) || !isfinite(d) || d != floor(d)) return false;
  if (d < 0) {
    if (d < -9223372036854775808.0) return false;
    *neg = true;
    *mag = d == -9223372036854775808.0 ? (uint64_t)1 << 63 : (uint64_t)(-d);
  } else {
    if (d >= 18446744073709551616.0) return false;
    *neg = false;
    *mag = (uint64_t)d;
  }
  return true;
}

/* ------------------------------------------------------------ values */

enum { TOK_NUM, TOK_STR, TOK_BOOL };

typedef union jd_value {
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  float f;
  double d;
  protobuf_c_boolean b;
  char *s;
  ProtobufCBinaryData bytes;
  ProtobufCMessage *m;
} jd_value;

static const char *tok_name(int tok) {
  return tok == TOK_NUM ? "a number" : tok == TOK_STR ? "a string" : "a boolean";
}

static int key_cmp(const char *name, const char *key, size_t len);

/* The value named by the `len` bytes at `s` (not NUL-terminated), by
 * binary search over the descriptor's name index. */
static const ProtobufCEnumValue *enum_by_name(const ProtobufCEnumDescriptor *ed, const char *s,
                                              size_t len) {
  unsigned lo = 0, hi = ed->n_value_names;
  while (lo < hi) {
    unsigned mid = lo + (hi - lo) / 2;
    int c = key_cmp(ed->values_by_name[mid].name, s, len);
    if (c == 0) return &ed->values[ed->values_by_name[mid].index];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Converts a JSON scalar for field `fd`.  Returns 1 on success (with *drop
 * set when the value is to be ignored, like an unknown name in an optional
 * enum), 0 after recording an error. */
static int jd_convert(jd *p, const ProtobufCFieldDescriptor *fd, int tok, const char *s,
                      size_t len, int bval, jd_value *v, bool *drop) {
  char what[200];
  switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
      if (tok == TOK_BOOL) return jd_type_error(p, fd, "a boolean");
      bool neg;
      uint64_t mag;
      if (!parse_integer(p, s, len, tok == TOK_STR, &neg, &mag)) {
        snprintf(what, sizeof what, "'%.*s' is not an integer", len > 40 ? 40 : (int)len, s);
        return jd_fail(p, MESOS_EINVAL, what);
      }
      bool ok;
      switch (fd->type) {
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
          ok = (!neg || mag == 0) && mag <= UINT32_MAX;
          v->u32 = (uint32_t)mag;
          break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
          ok = !neg || mag == 0;
          v->u64 = mag;
          break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
          ok = neg ? mag <= (uint64_t)1 << 63 : mag <= INT64_MAX;
          v->i64 = neg ? (int64_t)(0 - mag) : (int64_t)mag;
          break;
        default:
          ok = neg ? mag <= (uint64_t)1 << 31 : mag <= INT32_MAX;
          v->i32 = neg ? (int32_t)(int64_t)(0 - mag) : (int32_t)mag;
          break;
      }
      if (!ok) {
        snprintf(what, sizeof what, "%.*s is out of range", len > 40 ? 40 : (int)len, s);
        return jd_fail(p, MESOS_EINVAL, what);
      }
      return 1;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
      if (tok == TOK_BOOL) return jd_type_error(p, fd, "a boolean");
      double d;
      if (!parse_double(p, s, len, tok == TOK_STR, &d)) {
        snprintf(what, sizeof what, "'%.*s' is not a number", len > 40 ? 40 : (int)len, s);
        return jd_fail(p, MESOS_EINVAL, what);
      }
      if (fd->type == PROTOBUF_C_TYPE_FLOAT)
        v->f = (float)d;
      else
        v->d = d;
      return 1;
    }
    case PROTOBUF_C_TYPE_BOOL:
      if (tok == TOK_BOOL) {
        v->b = bval ? 1 : 0;
        return 1;
      }
      if (tok == TOK_STR && len == 4 && memcmp(s, "true", 4) == 0) return v->b = 1, 1;
      if (tok == TOK_STR && len == 5 && memcmp(s, "false", 5) == 0) return v->b = 0, 1;
      return jd_type_error(p, fd, tok == TOK_STR ? "another string" : tok_name(tok));
    case PROTOBUF_C_TYPE_ENUM: {
      if (tok != TOK_STR) return jd_type_error(p, fd, tok_name(tok));
      const ProtobufCEnumDescriptor *ed = fd->descriptor;
      const ProtobufCEnumValue *ev = enum_by_name(ed, s, len);
      if (ev == NULL) {
        /* Mesos: an unknown name is an error only where the field is
         * required; elsewhere it is dropped, so newer peers can add values. */
        if (fd->label == PROTOBUF_C_LABEL_REQUIRED) {
          snprintf(what, sizeof what, "unknown value '%.*s' for enum %s",
                   len > 60 ? 60 : (int)len, s, ed->name);
          return jd_fail(p, MESOS_EINVAL, what);
        }
        *drop = true;
        return 1;
      }
      v->i32 = ev->value;
      return 1;
    }
    case PROTOBUF_C_TYPE_STRING: {
      if (tok != TOK_STR) return jd_type_error(p, fd, tok_name(tok));
      if (memchr(s, 0, len) != NULL)
        return jd_fail(p, MESOS_EINVAL, "string contains a NUL character");
      char *c = jd_alloc(p, len + 1, false);
      if (c == NULL) return 0;
      memcpy(c, s, len);
      c[len] = '\0';
      v->s = c;
      return 1;
    }
    case PROTOBUF_C_TYPE_BYTES: {
      if (tok != TOK_STR) return jd_type_error(p, fd, tok_name(tok));
      v->bytes.len = 0;
      v->bytes.data = NULL;
      if (len == 0) return 1;
      uint8_t *b = jd_alloc(p, len / 4 * 3 + 3, false);
      if (b == NULL) return 0;
      size_t bad;
      if (!mesos__base64_decode(s, len, b, &v->bytes.len, &bad)) {
        snprintf(what, sizeof what, "invalid base64 at character %zu", bad);
        return jd_fail(p, MESOS_EINVAL, what);
      }
      if (v->bytes.len == 0) b = NULL; /* the arena keeps the unused bytes */
      v->bytes.data = b;
      return 1;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
      return jd_type_error(p, fd, tok_name(tok));
  }
  return jd_fail(p, MESOS_EINVAL, "unsupported field type");
}

static int jd_scalar(jd *p, int tok, const char *s, size_t len, int bval) {
  if (p->skip) return 1;
  if (p->nframes == 0) return jd_fail(p, MESOS_EINVAL, "the top level must be a JSON object");
  jd_frame *f = &p->frames[p->nframes - 1];
  const ProtobufCFieldDescriptor *fd = f->field;
  if (fd == NULL) return 1;
  if (fd->label == PROTOBUF_C_LABEL_REPEATED && !f->in_array) return jd_type_error(p, fd, tok_name(tok));
  if (f->in_array) f->elem++;
  jd_value v;
  bool drop = false;
  if (!jd_convert(p, fd, tok, s, len, bval, &v, &drop)) return 0;
  if (drop) return 1;
  return jd_store(p, f, fd, &v, mesos__pb_type_size(fd->type));
}

static int cb_null(void *ctx) {
  jd *p = ctx;
  if (p->skip) return 1;
  if (p->nframes == 0) return jd_fail(p, MESOS_EINVAL, "the top level must be a JSON object");
  jd_frame *f = &p->frames[p->nframes - 1];
  if (f->field == NULL) return 1;
  if (f->in_array) {
    f->elem++;
    return jd_fail(p, MESOS_EINVAL, "null is not allowed inside an array");
  }
  return 1; /* null: the field stays unset */
}

static int cb_boolean(void *ctx, int b) { return jd_scalar(ctx, TOK_BOOL, NULL, 0, b); }

static int cb_number(void *ctx, const char *s, size_t len) {
  return jd_scalar(ctx, TOK_NUM, s, len, 0);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len) {
  return jd_scalar(ctx, TOK_STR, (const char *)s, len, 0);
}

/* ------------------------------------------------------------ structure */

static int enter(jd *p) {
  if (++p->depth > p->max_depth) {
    char what[64];
    snprintf(what, sizeof what, "JSON nests deeper than %u levels", p->max_depth);
    return jd_fail(p, MESOS_ELIMIT, what);
  }
  return 1;
}

static jd_frame *push(jd *p, unsigned char kind, ProtobufCMessage *msg) {
  /* depth bounds nframes: every frame is one open JSON object. */
  jd_frame *f = &p->frames[p->nframes++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->msg = msg;
  return f;
}

static ProtobufCMessage *new_message(jd *p, const ProtobufCMessageDescriptor *d) {
  ProtobufCMessage *m = jd_alloc(p, d->sizeof_message, true);
  if (m != NULL) protobuf_c_message_init(d, m);
  return m;
}

static int cb_start_map(void *ctx) {
  jd *p = ctx;
  if (!enter(p)) return 0;
  if (p->skip) {
    p->skip++;
    return 1;
  }
  if (p->nframes == 0) {
    if (p->root != NULL) return jd_fail(p, MESOS_EINVAL, "more than one top-level value");
    p->root = new_message(p, p->root_desc);
    if (p->root == NULL) return 0;
    push(p, FR_MSG, p->root);
    return 1;
  }
  jd_frame *f = &p->frames[p->nframes - 1];
  const ProtobufCFieldDescriptor *fd = f->field;
  if (fd == NULL) {
    p->skip = 1;
    return 1;
  }
  if (fd->type != PROTOBUF_C_TYPE_MESSAGE) return jd_type_error(p, fd, "an object");
  if (fd->label == PROTOBUF_C_LABEL_REPEATED && !f->in_array) {
    if (!mesos__pb_is_map_field(fd)) return jd_type_error(p, fd, "an object");
    ProtobufCMessage *owner = f->msg;
    size_t n = *(size_t *)((char *)owner + fd->quantifier_offset);
    jd_frame *mf = push(p, FR_MAP, NULL);
    mf->owner = owner;
    mf->map_field = fd;
    mf->cap = n;
    return 1;
  }
  if (f->in_array) f->elem++;
  ProtobufCMessage *sub = new_message(p, fd->descriptor);
  if (sub == NULL) return 0;
  if (!jd_store(p, f, fd, &sub, sizeof sub)) return 0;
  push(p, FR_MSG, sub);
  return 1;
}

static int key_cmp(const char *name, const char *key, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (name[i] == '\0') return -1;
    if (name[i] != key[i]) return (unsigned char)name[i] < (unsigned char)key[i] ? -1 : 1;
  }
  return name[len] != '\0';
}

static const ProtobufCFieldDescriptor *lookup(jd_frame *f, const char *key, size_t len) {
  const ProtobufCMessageDescriptor *d = f->msg->descriptor;
  /* Mesos and we write fields in declaration order, leaving unset ones
   * out: look a few fields ahead of the last match before searching. */
  for (unsigned i = f->next, end = i + 8 < d->n_fields ? i + 8 : d->n_fields; i < end; i++) {
    const char *name = d->fields[i].name;
    if (len > 0 && name[0] == key[0] && key_cmp(name, key, len) == 0) {
      f->next = i + 1;
      return &d->fields[i];
    }
  }
  unsigned lo = 0, hi = d->n_fields;
  while (lo < hi) {
    unsigned mid = lo + (hi - lo) / 2, idx = d->fields_sorted_by_name[mid];
    int c = key_cmp(d->fields[idx].name, key, len);
    if (c == 0) {
      f->next = idx + 1;
      return &d->fields[idx];
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* A map key arrives: create the entry, parse the key into it, and direct
 * the coming value to the entry's `value` field. */
static int map_key(jd *p, jd_frame *f, const char *key, size_t len) {
  const ProtobufCFieldDescriptor *mfd = f->map_field;
  const ProtobufCMessageDescriptor *ed = mfd->descriptor;
  ProtobufCMessage *entry = new_message(p, ed);
  if (entry == NULL) return 0;
  char *owner = (char *)f->owner;
  size_t *n = (size_t *)(owner + mfd->quantifier_offset);
  void **arr = (void **)(owner + mfd->offset);
  if (!jd_grow(p, arr, *n, &f->cap, sizeof entry)) return 0;
  ((ProtobufCMessage **)*arr)[(*n)++] = entry;
  /* Until the key is parsed, error paths end at the map's name. */
  f->msg = NULL;
  f->field = NULL;
  /* Parse the key as if it were a string value of the key field. */
  const ProtobufCFieldDescriptor *kfd = &ed->fields[0];
  jd_value v;
  bool drop = false;
  int tok = kfd->type == PROTOBUF_C_TYPE_STRING || kfd->type == PROTOBUF_C_TYPE_BOOL ||
                    kfd->type == PROTOBUF_C_TYPE_ENUM
                ? TOK_STR
                : TOK_NUM;
  if (tok == TOK_NUM) {
    /* Integer keys are written as JSON strings; check the digits here since
     * yajl did not. */
    bool neg;
    uint64_t mag;
    if (!parse_integer(p, key, len, true, &neg, &mag)) {
      char what[96];
      snprintf(what, sizeof what, "map key '%.*s' is not an integer", len > 40 ? 40 : (int)len,
               key);
      return jd_fail(p, MESOS_EINVAL, what);
    }
  }
  if (!jd_convert(p, kfd, tok, key, len, 0, &v, &drop)) return 0;
  if (!drop) {
    jd_frame tmp = *f;
    tmp.msg = entry;
    tmp.in_array = false;
    if (!jd_store(p, &tmp, kfd, &v, mesos__pb_type_size(kfd->type))) return 0;
  }
  f->msg = entry;
  f->field = &ed->fields[1];
  return 1;
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len) {
  jd *p = ctx;
  if (p->skip) return 1;
  jd_frame *f = &p->frames[p->nframes - 1];
  if (f->kind == FR_MAP) return map_key(p, f, (const char *)key, len);
  f->field = lookup(f, (const char *)key, len);
  return 1;
}

static int cb_end_map(void *ctx) {
  jd *p = ctx;
  p->depth--;
  if (p->skip) {
    p->skip--;
    return 1;
  }
  jd_frame *f = &p->frames[p->nframes - 1];
  if (f->kind == FR_MSG && f->req_seen < n_required(p, f->msg->descriptor)) {
    const ProtobufCMessageDescriptor *d = f->msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
      const ProtobufCFieldDescriptor *fd = &d->fields[i];
      if (fd->label != PROTOBUF_C_LABEL_REQUIRED) continue;
      bool have;
      if (i < SEEN_WORDS * 64)
        have = f->seen[i / 64] >> (i % 64) & 1;
      else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
        have = *(void **)((char *)f->msg + fd->offset) != NULL;
      else
        have = true;
      if (!have) {
        char path[PATH_MAX_LEN];
        size_t at = jd_path(p, path, sizeof path, p->nframes - 1, false);
        seg_append(path, sizeof path, at, "%s%s", at ? "." : "", fd->name);
        return jd_fail_at(p, MESOS_EINVAL, path, "required field missing");
      }
    }
  }
  p->nframes--;
  if (p->nframes == 0) p->done = true;
  return 1;
}

static int cb_start_array(void *ctx) {
  jd *p = ctx;
  if (!enter(p)) return 0;
  if (p->skip) {
    p->skip++;
    return 1;
  }
  if (p->nframes == 0) return jd_fail(p, MESOS_EINVAL, "the top level must be a JSON object");
  jd_frame *f = &p->frames[p->nframes - 1];
  const ProtobufCFieldDescriptor *fd = f->field;
  if (fd == NULL) {
    p->skip = 1;
    return 1;
  }
  if (f->in_array) {
    f->elem++;
    return jd_fail(p, MESOS_EINVAL, "nested arrays are not allowed");
  }
  if (fd->label != PROTOBUF_C_LABEL_REPEATED || mesos__pb_is_map_field(fd))
    return jd_type_error(p, fd, "an array");
  f->in_array = true;
  f->elem = 0;
  f->cap = *(size_t *)((char *)f->msg + fd->quantifier_offset);
  return 1;
}

static int cb_end_array(void *ctx) {
  jd *p = ctx;
  p->depth--;
  if (p->skip) {
    p->skip--;
    return 1;
  }
  p->frames[p->nframes - 1].in_array = false;
  return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,  cb_boolean, NULL,       NULL,           cb_number,    cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* ------------------------------------------------------------ entry */

static void ylink(jd *p, struct yblock *b) {
  b->prev = NULL;
  b->next = p->yblocks;
  if (p->yblocks) p->yblocks->prev = b;
  p->yblocks = b;
}

static void yunlink(jd *p, struct yblock *b) {
  if (b->prev)
    b->prev->next = b->next;
  else
    p->yblocks = b->next;
  if (b->next) b->next->prev = b->prev;
}

static void *y_malloc(void *ud, size_t n) {
  jd *p = ud;
  size_t total;
  yblock_hdr *h = NULL;
  if (mesos__size_add(&total, sizeof *h, n)) h = mesos__malloc(total);
  if (h == NULL) longjmp(p->oom, 1);
  ylink(p, &h->link);
  return h + 1;
}

static void *y_realloc(void *ud, void *ptr, size_t n) {
  jd *p = ud;
  if (ptr == NULL) return y_malloc(ud, n);
  yblock_hdr *h = (yblock_hdr *)ptr - 1, *nh = NULL;
  size_t total;
  yunlink(p, &h->link);
  if (mesos__size_add(&total, sizeof *h, n)) nh = mesos__realloc(h, total);
  if (nh == NULL) {
    ylink(p, &h->link); /* still valid: freed with the rest */
    longjmp(p->oom, 1);
  }
  ylink(p, &nh->link);
  return nh + 1;
}

static void y_free(void *ud, void *ptr) {
  if (ptr == NULL) return;
  jd *p = ud;
  yblock_hdr *h = (yblock_hdr *)ptr - 1;
  yunlink(p, &h->link);
  mesos__free(h);
}

/* Runs yajl over the input; returns its status, or -1 when an allocation
 * inside yajl failed (then nothing of yajl's is left allocated).  On
 * success *msg holds yajl's error text (freed by the caller with
 * mesos__free) when the JSON was invalid. */
static int run_yajl(jd *p, const char *json, size_t len, char **msg, size_t *consumed) {
  yajl_handle volatile h = NULL;
  if (setjmp(p->oom) != 0) {
    while (p->yblocks != NULL) {
      struct yblock *b = p->yblocks;
      yunlink(p, b);
      mesos__free(b);
    }
    return -1;
  }
  yajl_alloc_funcs af = {y_malloc, y_realloc, y_free, p};
  h = yajl_alloc(&callbacks, &af, p);
  yajl_status ys = yajl_parse(h, (const unsigned char *)json, len);
  if (ys == yajl_status_ok) ys = yajl_complete_parse(h);
  *consumed = yajl_get_bytes_consumed(h);
  if (ys == yajl_status_error) {
    unsigned char *ye = yajl_get_error(h, 0, (const unsigned char *)json, len);
    *msg = mesos__strdup((const char *)ye);
    yajl_free_error(h, ye);
  }
  yajl_free(h);
  return (int)ys;
}

/* One pass of yajl over `json`.  *syntax is set when yajl itself refused
 * the text (as opposed to our callbacks refusing a value). */
static mesos_status decode_once(const ProtobufCMessageDescriptor *desc, const char *json,
                                size_t len, const mesos__json_limits *lim, ProtobufCMessage **out,
                                mesos_error **err, bool *syntax) {
  jd p;
  memset(&p, 0, sizeof p);
  p.max_depth = lim->max_depth;
  p.alloc_max = lim->max_alloc;
  p.root_desc = desc;
  p.c_locale = c_locale;
  /* Frames exist only for objects, and objects count toward the depth. */
  p.frames = mesos__calloc(lim->max_depth + 1, sizeof *p.frames);
  if (p.frames == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  /* Decoded messages take one to three times their JSON's size. */
  p.arena = mesos__pb_arena_new(len);
  if (p.arena == NULL) {
    mesos__free(p.frames);
    return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", desc->name);
  }

  char *ymsg = NULL;
  size_t at = 0;
  int ys = run_yajl(&p, json, len, &ymsg, &at);
  mesos_status s = MESOS_OK;
  if (ys < 0) {
    mesos_error_free(p.error);
    s = mesos__err(err, MESOS_ENOMEM, "%s: out of memory", desc->name);
  } else if (p.status != MESOS_OK) {
    s = p.status;
    mesos__err_move(err, p.error);
  } else if (ys == yajl_status_error) {
    *syntax = true;
    const char *m = ymsg ? ymsg : "parse error";
    size_t ml = strlen(m);
    while (ml > 0 && (m[ml - 1] == '\n' || m[ml - 1] == ' ')) ml--;
    s = mesos__err(err, MESOS_EINVAL, "%s: invalid JSON near byte %zu: %.*s", desc->name, at,
                   (int)ml, m);
  } else if (!p.done) {
    s = mesos__err(err, MESOS_EINVAL, "%s: expected a JSON object", desc->name);
  }
  mesos__free(ymsg);
  mesos__free(p.frames);
  if (s != MESOS_OK) {
    mesos__pb_arena_free(p.arena);
    return s;
  }
  mesos__pb_arena_attach(p.arena, p.root);
  *out = p.root;
  return MESOS_OK;
}

/* Copies `json` with every bare Infinity / -Infinity token (outside
 * strings) quoted; false when there is none (or no memory for the copy,
 * which then leaves the original error standing). */
static bool quote_bare_infinity(const char *json, size_t len, char **out, size_t *out_len) {
  size_t count = 0;
  bool in_str = false;
  for (size_t i = 0; i < len; i++) {
    char c = json[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == 'I' && len - i >= 8 && memcmp(json + i, "Infinity", 8) == 0) {
      count++;
      i += 7;
    }
  }
  size_t cap;
  if (count == 0 || !mesos__size_add(&cap, len, 2 * count)) return false;
  char *o = mesos__malloc(cap ? cap : 1);
  if (o == NULL) return false;
  size_t w = 0;
  in_str = false;
  for (size_t i = 0; i < len; i++) {
    char c = json[i];
    if (in_str) {
      o[w++] = c;
      if (c == '\\' && i + 1 < len)
        o[w++] = json[++i];
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      o[w++] = c;
      in_str = true;
    } else if (c == 'I' && len - i >= 8 && memcmp(json + i, "Infinity", 8) == 0) {
      bool neg = w > 0 && o[w - 1] == '-';
      if (neg) w--;
      o[w++] = '"';
      if (neg) o[w++] = '-';
      memcpy(o + w, "Infinity", 8);
      w += 8;
      o[w++] = '"';
      i += 7;
    } else {
      o[w++] = c;
    }
  }
  *out = o;
  *out_len = w;
  return true;
}

mesos_status mesos__json_decode(const ProtobufCMessageDescriptor *desc, const char *json,
                                size_t len, const mesos__json_limits *limits,
                                ProtobufCMessage **out, mesos_error **err) {
  mesos__json_limits lim = {0, 0, 0};
  if (limits != NULL) lim = *limits;
  if (lim.max_depth == 0 || lim.max_depth > MESOS__JSON_MAX_DEPTH)
    lim.max_depth = MESOS__JSON_MAX_DEPTH;
  if (lim.max_input == 0) lim.max_input = MESOS__JSON_MAX_INPUT;
  if (lim.max_alloc == 0) lim.max_alloc = MESOS__JSON_MAX_ALLOC;
  if (len > lim.max_input)
    return mesos__err(err, MESOS_ELIMIT, "%s: %zu bytes of JSON exceed the limit of %zu",
                      desc->name, len, lim.max_input);
  if (json == NULL && len > 0) return mesos__err(err, MESOS_EINVAL, "%s: no JSON", desc->name);
  pthread_once(&c_locale_once, c_locale_init);
  if (c_locale == (locale_t)0) return mesos__err(err, MESOS_ENOMEM, "cannot create the C locale");

  bool syntax = false;
  mesos_error *first = NULL;
  mesos_status s = decode_once(desc, json, len, &lim, out, &first, &syntax);
  if (s != MESOS_OK && syntax) {
    /* Newer Mesos writes infinite limits as a bare Infinity token, which
     * is not JSON and which yajl refuses.  Only then, retry on a copy with
     * such tokens quoted ("Infinity" is what doubles accept). */
    char *fixed = NULL;
    size_t fixed_len = 0;
    if (quote_bare_infinity(json, len, &fixed, &fixed_len)) {
      bool again = false;
      s = decode_once(desc, fixed, fixed_len, &lim, out, NULL, &again);
      mesos__free(fixed);
      if (s == MESOS_OK) {
        mesos_error_free(first);
        return MESOS_OK;
      }
      s = mesos_error_code(first);
    }
  }
  if (s != MESOS_OK) mesos__err_move(err, first);
  return s;
}
