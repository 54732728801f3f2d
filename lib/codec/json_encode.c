/* protobuf-c message -> JSON, driven by descriptors (see json.h).
 *
 * Writes straight into the output buffer's memory (one capacity check per
 * token, no intermediate strings); integers and most doubles are formatted
 * by hand because snprintf dominates otherwise. */
#include "codec/json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/base64.h"
#include "codec/pb.h"

typedef struct jw {
  mesos__buf *b;
  mesos_status status;
  locale_t c_locale;
} jw;

/* snprintf("%g") follows LC_NUMERIC, which a host program may have set to
 * a locale with a decimal comma; JSON wants '.', so format in "C". */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Room for n more bytes at the end of the buffer, or NULL (status set). */
static inline char *room(jw *w, size_t n) {
  mesos__buf *b = w->b;
  /* The capacity may exceed the buffer's max: check both. */
  if (n >= b->cap - b->len || n > b->max - b->len) {
    mesos_status s = mesos__buf_reserve(b, n);
    if (s != MESOS_OK) {
      w->status = s;
      return NULL;
    }
  }
  return b->data + b->len;
}

static inline bool put(jw *w, const char *s, size_t n) {
  char *p = room(w, n);
  if (p == NULL) return false;
  memcpy(p, s, n);
  w->b->len += n;
  return true;
}

static inline bool putc1(jw *w, char c) {
  char *p = room(w, 1);
  if (p == NULL) return false;
  *p = c;
  w->b->len++;
  return true;
}

/* ------------------------------------------------------------ numbers */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes `v` in decimal at `out` (>= 20 bytes); returns the length. */
static size_t fmt_u64(char *out, uint64_t v) {
  char tmp[20];
  char *p = tmp + sizeof tmp;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    p -= 2;
    memcpy(p, digit_pairs + 2 * r, 2);
  }
  if (v >= 10) {
    p -= 2;
    memcpy(p, digit_pairs + 2 * v, 2);
  } else {
    *--p = (char)('0' + v);
  }
  size_t n = (size_t)(tmp + sizeof tmp - p);
  memcpy(out, p, n);
  return n;
}

static size_t fmt_i64(char *out, int64_t v) {
  if (v < 0) {
    out[0] = '-';
    return 1 + fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
  }
  return fmt_u64(out, (uint64_t)v);
}

static bool has_point(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return true;
  return false;
}

/* Mesos writes doubles with a decimal point ("2.0", "1024.0") and 15
 * significant digits; we use 17 where 15 would not read back to the same
 * value, so JSON round trips are exact.  Non-finite values have no JSON
 * number form: they are written as the strings Mesos accepts on input. */
static size_t fmt_double(jw *w, char *out /* >= 40 */, double v) {
  if (isnan(v)) return memcpy(out, "\"NaN\"", 5), 5;
  if (isinf(v)) {
    if (v > 0) return memcpy(out, "\"Infinity\"", 10), 10;
    return memcpy(out, "\"-Infinity\"", 11), 11;
  }
  if (v == 0) {
    if (signbit(v)) return memcpy(out, "-0.0", 4), 4;
    return memcpy(out, "0.0", 3), 3;
  }
  if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
    size_t n = fmt_i64(out, (int64_t)v);
    memcpy(out + n, ".0", 2);
    return n + 2;
  }
  locale_t old = uselocale(w->c_locale);
  int n = snprintf(out, 40, "%.15g", v);
  if (strtod(out, NULL) != v) n = snprintf(out, 40, "%.17g", v);
  uselocale(old);
  if (n < 0) n = 0;
  if (!has_point(out, (size_t)n)) {
    memcpy(out + n, ".0", 2);
    n += 2;
  }
  return (size_t)n;
}

static size_t fmt_float(jw *w, char *out, float f) {
  double v = f;
  if (!isfinite(v) || v == 0 || (fabs(v) < 1e7 && v == (double)(int64_t)v)) return fmt_double(w, out, v);
  locale_t old = uselocale(w->c_locale);
  int n = snprintf(out, 40, "%.7g", v);
  if ((float)strtod(out, NULL) != f) n = snprintf(out, 40, "%.9g", v);
  uselocale(old);
  if (n < 0) n = 0;
  if (!has_point(out, (size_t)n)) {
    memcpy(out + n, ".0", 2);
    n += 2;
  }
  return (size_t)n;
}

/* ------------------------------------------------------------ strings */

/* 0: copy as is; otherwise the escape letter, or 'u' for \u00XX. */
static const char esc[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\',
};

static bool put_string(jw *w, const char *s, size_t n) {
  if (!putc1(w, '"')) return false;
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && esc[(unsigned char)s[run]] == 0) run++;
    if (run > i && !put(w, s + i, run - i)) return false;
    if (run == n) break;
    unsigned char c = (unsigned char)s[run];
    char e[6] = {'\\', esc[c], 0, 0, 0, 0};
    size_t el = 2;
    if (esc[c] == 'u') {
      static const char hex[] = "0123456789abcdef";
      e[2] = '0';
      e[3] = '0';
      e[4] = hex[c >> 4];
      e[5] = hex[c & 15];
      el = 6;
    }
    if (!put(w, e, el)) return false;
    i = run + 1;
  }
  return putc1(w, '"');
}

static bool put_key(jw *w, const char *name, bool *first) {
  size_t n = strlen(name);
  char *p = room(w, n + 4);
  if (p == NULL) return false;
  char *q = p;
  if (!*first) *q++ = ',';
  *first = false;
  *q++ = '"';
  memcpy(q, name, n);
  q += n;
  *q++ = '"';
  *q++ = ':';
  w->b->len += (size_t)(q - p);
  return true;
}

/* ------------------------------------------------------------ values */

static bool enc_message(jw *w, const ProtobufCMessage *msg, unsigned depth);

static bool too_deep(jw *w, unsigned depth) {
  if (depth <= MESOS__JSON_MAX_DEPTH) return false;
  w->status = MESOS_ELIMIT;
  return true;
}

/* The enum name for `v`, or NULL for a number the descriptor does not know
 * (protobuf-c keeps those; C++ protobuf would have put them among the
 * unknown fields, so Mesos never writes them: neither do we). */
static const char *enum_name(const ProtobufCFieldDescriptor *fd, int32_t v) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
  return ev ? ev->name : NULL;
}

/* Writes one value of `fd`'s type stored at `v`. */
static bool enc_value(jw *w, const ProtobufCFieldDescriptor *fd, const void *v, unsigned depth) {
  char *p;
  switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      if ((p = room(w, 24)) == NULL) return false;
      w->b->len += fmt_i64(p, *(const int32_t *)v);
      return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      if ((p = room(w, 24)) == NULL) return false;
      w->b->len += fmt_u64(p, *(const uint32_t *)v);
      return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      if ((p = room(w, 24)) == NULL) return false;
      w->b->len += fmt_i64(p, *(const int64_t *)v);
      return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      if ((p = room(w, 24)) == NULL) return false;
      w->b->len += fmt_u64(p, *(const uint64_t *)v);
      return true;
    case PROTOBUF_C_TYPE_FLOAT:
      if ((p = room(w, 48)) == NULL) return false;
      w->b->len += fmt_float(w, p, *(const float *)v);
      return true;
    case PROTOBUF_C_TYPE_DOUBLE:
      if ((p = room(w, 48)) == NULL) return false;
      w->b->len += fmt_double(w, p, *(const double *)v);
      return true;
    case PROTOBUF_C_TYPE_BOOL:
      return *(const protobuf_c_boolean *)v ? put(w, "true", 4) : put(w, "false", 5);
    case PROTOBUF_C_TYPE_ENUM: {
      const char *name = enum_name(fd, *(const int32_t *)v);
      return put_string(w, name ? name : "", name ? strlen(name) : 0);
    }
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)v;
      return s ? put_string(w, s, strlen(s)) : put(w, "\"\"", 2);
    }
    case PROTOBUF_C_TYPE_BYTES: {
      const ProtobufCBinaryData *b = v;
      size_t n;
      if (!mesos__base64_encoded_len(b->len, &n) || n > SIZE_MAX - 3) {
        w->status = MESOS_ELIMIT;
        return false;
      }
      if ((p = room(w, n + 2)) == NULL) return false;
      p[0] = '"';
      if (b->len) mesos__base64_encode(b->data, b->len, p + 1);
      p[n + 1] = '"';
      w->b->len += n + 2;
      return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
      const ProtobufCMessage *m = *(const ProtobufCMessage *const *)v;
      if (m == NULL) return put(w, "{}", 2);
      return enc_message(w, m, depth + 1);
    }
  }
  w->status = MESOS_EINVAL;
  return false;
}

/* A map field: an object keyed by the entries' keys in text form. */
static bool enc_map(jw *w, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *const *entries,
                    size_t n, unsigned depth) {
  if (too_deep(w, depth + 1) || !putc1(w, '{')) return false;
  const ProtobufCMessageDescriptor *ed = fd->descriptor;
  const ProtobufCFieldDescriptor *kfd = &ed->fields[0];
  const ProtobufCFieldDescriptor *vfd = &ed->fields[1];
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    const char *e = (const char *)entries[i];
    /* An entry without its message value has no JSON form Mesos would
     * read back (the value's required fields are missing): leave it out. */
    if (vfd->type == PROTOBUF_C_TYPE_MESSAGE && *(void *const *)(e + vfd->offset) == NULL) continue;
    if (!first && !putc1(w, ',')) return false;
    first = false;
    if (kfd->type == PROTOBUF_C_TYPE_STRING) {
      const char *k = *(char *const *)(e + kfd->offset);
      if (!put_string(w, k ? k : "", k ? strlen(k) : 0)) return false;
    } else {
      /* Integer and bool keys: their JSON text, quoted. */
      if (!putc1(w, '"') || !enc_value(w, kfd, e + kfd->offset, depth + 1) || !putc1(w, '"'))
        return false;
    }
    if (!putc1(w, ':')) return false;
    if (vfd->type == PROTOBUF_C_TYPE_ENUM &&
        enum_name(vfd, *(const int32_t *)(e + vfd->offset)) == NULL) {
      if (!put(w, "null", 4)) return false;
      continue;
    }
    if (!enc_value(w, vfd, e + vfd->offset, depth + 1)) return false;
  }
  return putc1(w, '}');
}

static bool enc_repeated(jw *w, const ProtobufCFieldDescriptor *fd, const char *arr, size_t n,
                         unsigned depth, bool *first) {
  if (mesos__pb_is_map_field(fd)) {
    /* A map whose entries are all left out (see enc_map) is omitted like
     * any empty repeated field. */
    const ProtobufCMessageDescriptor *ed = fd->descriptor;
    const ProtobufCFieldDescriptor *vfd = &ed->fields[1];
    if (vfd->type == PROTOBUF_C_TYPE_MESSAGE) {
      size_t valued = 0;
      for (size_t i = 0; i < n; i++)
        valued += *(void *const *)((const char *)((ProtobufCMessage *const *)arr)[i] +
                                   vfd->offset) != NULL;
      if (valued == 0) return true;
    }
    if (!put_key(w, fd->name, first)) return false;
    return enc_map(w, fd, (ProtobufCMessage *const *)arr, n, depth);
  }
  size_t esz = mesos__pb_type_size(fd->type);
  if (fd->type == PROTOBUF_C_TYPE_ENUM) {
    /* Unknown numbers are left out; an array of nothing but those is
     * omitted like any empty repeated field. */
    size_t known = 0;
    for (size_t i = 0; i < n; i++) known += enum_name(fd, ((const int32_t *)arr)[i]) != NULL;
    if (known == 0) return true;
  }
  if (too_deep(w, depth + 1) || !put_key(w, fd->name, first) || !putc1(w, '[')) return false;
  bool first_elem = true;
  for (size_t i = 0; i < n; i++) {
    const void *v = arr + i * esz;
    if (fd->type == PROTOBUF_C_TYPE_ENUM && enum_name(fd, *(const int32_t *)v) == NULL) continue;
    if (!first_elem && !putc1(w, ',')) return false;
    first_elem = false;
    if (!enc_value(w, fd, v, depth + 1)) return false;
  }
  return putc1(w, ']');
}

static bool is_zero(const ProtobufCFieldDescriptor *fd, const void *v) {
  switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)v;
      return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
      return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
      return *(void *const *)v == NULL;
    case PROTOBUF_C_TYPE_FLOAT:
      return *(const float *)v == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
      return *(const double *)v == 0;
    default: {
      size_t n = mesos__pb_type_size(fd->type);
      return n == 8 ? *(const uint64_t *)v == 0 : *(const uint32_t *)v == 0;
    }
  }
}

static bool enc_message(jw *w, const ProtobufCMessage *msg, unsigned depth) {
  if (too_deep(w, depth) || !putc1(w, '{')) return false;
  const ProtobufCMessageDescriptor *d = msg->descriptor;
  const char *m = (const char *)msg;
  bool first = true;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *fd = &d->fields[i];
    const void *v = m + fd->offset;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(m + fd->quantifier_offset);
      if (n == 0) continue;
      if (!enc_repeated(w, fd, *(const char *const *)v, n, depth, &first)) return false;
      continue;
    }
    bool present;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      present = *(const uint32_t *)(m + fd->quantifier_offset) == fd->id;
    } else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
      const void *ptr = *(const void *const *)v;
      present = ptr != NULL && ptr != fd->default_value;
    } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL) {
      present = *(const protobuf_c_boolean *)(m + fd->quantifier_offset);
    } else if (fd->label == PROTOBUF_C_LABEL_REQUIRED) {
      present = true;
    } else {
      present = !is_zero(fd, v); /* proto3 implicit presence */
    }
    if (!present) {
      /* Mesos writes an unset field's explicit default, except for
       * deprecated fields. */
      if (fd->default_value == NULL || (fd->flags & PROTOBUF_C_FIELD_FLAG_DEPRECATED) ||
          fd->label != PROTOBUF_C_LABEL_OPTIONAL)
        continue;
      if (fd->type == PROTOBUF_C_TYPE_STRING) {
        const char *def = fd->default_value;
        v = &def;
        if (!put_key(w, fd->name, &first) || !enc_value(w, fd, v, depth)) return false;
        continue;
      }
      v = fd->default_value;
    }
    if (fd->type == PROTOBUF_C_TYPE_ENUM && enum_name(fd, *(const int32_t *)v) == NULL) continue;
    if (!put_key(w, fd->name, &first) || !enc_value(w, fd, v, depth)) return false;
  }
  return putc1(w, '}');
}

mesos_status mesos__json_encode(const ProtobufCMessage *msg, mesos__buf *out, mesos_error **err) {
  pthread_once(&c_locale_once, c_locale_init);
  if (c_locale == (locale_t)0) return mesos__err(err, MESOS_ENOMEM, "cannot create the C locale");
  jw w = {out, MESOS_OK, c_locale};
  size_t start = out->len;
  if (enc_message(&w, msg, 1)) {
    if (out->data != NULL) out->data[out->len] = '\0';
    return MESOS_OK;
  }
  out->len = start;
  if (out->data != NULL) out->data[start] = '\0';
  switch (w.status) {
    case MESOS_ELIMIT:
      return mesos__err(err, MESOS_ELIMIT,
                        "%s: JSON output exceeds %zu bytes or nests deeper than %u levels",
                        msg->descriptor->name, out->max, MESOS__JSON_MAX_DEPTH);
    case MESOS_ENOMEM:
      return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", msg->descriptor->name);
    default:
      return mesos__err(err, w.status, "%s: cannot encode", msg->descriptor->name);
  }
}

char *mesos__json_quote(char *p, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  *p++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *p++ = (char)c;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      case '\b': *p++ = 'b'; break;
      case '\f': *p++ = 'f'; break;
      default:
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
  }
  *p++ = '"';
  return p;
}
