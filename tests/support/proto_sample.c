#include "support/proto_sample.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_registry.h"

const ProtobufCMessageDescriptor *const *mesos_test_proto_messages(size_t *n) {
  *n = MESOS__PROTO_REGISTRY_N_MESSAGES;
  return mesos__proto_registry_messages;
}

const ProtobufCEnumDescriptor *const *mesos_test_proto_enums(size_t *n) {
  *n = MESOS__PROTO_REGISTRY_N_ENUMS;
  return mesos__proto_registry_enums;
}

const ProtobufCMessageDescriptor *mesos_test_proto_find(const char *full_name) {
  for (size_t i = 0; i < MESOS__PROTO_REGISTRY_N_MESSAGES; i++)
    if (strcmp(mesos__proto_registry_messages[i]->name, full_name) == 0)
      return mesos__proto_registry_messages[i];
  return NULL;
}

/* ------------------------------------------------------------ layout */

static void *member_at(const ProtobufCMessage *m, unsigned offset) {
  return (char *)m + offset;
}

static size_t element_size(ProtobufCType type) {
  switch (type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
    return 4;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return 8;
  case PROTOBUF_C_TYPE_FLOAT:
    return sizeof(float);
  case PROTOBUF_C_TYPE_DOUBLE:
    return sizeof(double);
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_ENUM:
    return sizeof(int);
  case PROTOBUF_C_TYPE_STRING:
    return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(ProtobufCMessage *);
  }
  return 0;
}

int mesos_test_proto_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  switch (f->label) {
  case PROTOBUF_C_LABEL_REQUIRED:
    return 1;
  case PROTOBUF_C_LABEL_REPEATED:
    return *(const size_t *)member_at(m, f->quantifier_offset) > 0;
  default:
    break;
  }
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    return *(const uint32_t *)member_at(m, f->quantifier_offset) == f->id;
  if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
    /* protobuf-c's own rule (optional_field_pack): a pointer member is
     * present unless NULL or the shared default value. */
    const void *p = *(void *const *)member_at(m, f->offset);
    return p != NULL && p != f->default_value;
  }
  if (f->label == PROTOBUF_C_LABEL_NONE) return 1;
  return *(const protobuf_c_boolean *)member_at(m, f->quantifier_offset) != 0;
}

/* ------------------------------------------------------------ samples */

/* The depth at which a chain of required sub-messages must have ended: the
 * deepest required nesting in the Mesos protos is far below this. */
#define SAMPLE_REQUIRED_DEPTH_LIMIT 48
/* Sub-messages one sample may fill completely; keeps the big aggregate
 * types (master GetState, agent GetState) to a few hundred KiB. */
#define SAMPLE_BUDGET 1500

struct sample_ctx {
  uint32_t seed;
  int max_depth;
  int budget;
};

static uint64_t mix64(uint64_t x) {
  /* splitmix64 finaliser: deterministic, well spread sample values. */
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  ck_assert_msg(p != NULL, "out of memory");
  return p;
}

static ProtobufCMessage *sample_message(const ProtobufCMessageDescriptor *desc, int depth,
                                        struct sample_ctx *ctx);

static void sample_value(void *dst, const ProtobufCFieldDescriptor *f, uint64_t v, int depth,
                         struct sample_ctx *ctx) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32: {
    int32_t x = (int32_t)(uint32_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32: {
    uint32_t x = (uint32_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64: {
    int64_t x = (int64_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    memcpy(dst, &v, sizeof v);
    break;
  case PROTOBUF_C_TYPE_FLOAT: {
    float x = (float)((int32_t)(v & 0xffff) - 0x8000) / 4.0f;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_DOUBLE: {
    double x = (double)(int32_t)(uint32_t)v / 8.0;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_BOOL: {
    protobuf_c_boolean x = (v & 1) != 0;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumDescriptor *e = f->descriptor;
    ck_assert_msg(e->n_values > 0, "enum %s has no values", e->name);
    int x = e->values[v % e->n_values].value;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case PROTOBUF_C_TYPE_STRING: {
    size_t len = strlen(f->name) + 24;
    char *s = xcalloc(len, 1);
    snprintf(s, len, "%s-%08x", f->name, (unsigned)(v & 0xffffffffu));
    *(char **)dst = s;
    break;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    ProtobufCBinaryData b;
    b.len = 2 + (size_t)(v % 9);
    b.data = xcalloc(b.len, 1);
    for (size_t i = 1; i + 1 < b.len; i++) b.data[i] = (uint8_t)(v >> (8 * (i % 8)));
    b.data[0] = 0x00;
    b.data[b.len - 1] = 0xff;
    memcpy(dst, &b, sizeof b);
    break;
  }
  case PROTOBUF_C_TYPE_MESSAGE:
    *(ProtobufCMessage **)dst = sample_message(f->descriptor, depth + 1, ctx);
    break;
  }
}

/* Position of `f` among the members of its oneof, and their count. */
static void oneof_position(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f,
                           unsigned *pos, unsigned *count) {
  *pos = 0;
  *count = 0;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *g = &desc->fields[i];
    if (!(g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || g->quantifier_offset != f->quantifier_offset)
      continue;
    if (g == f) *pos = *count;
    (*count)++;
  }
}

static ProtobufCMessage *sample_message(const ProtobufCMessageDescriptor *desc, int depth,
                                        struct sample_ctx *ctx) {
  ck_assert_msg(depth < SAMPLE_REQUIRED_DEPTH_LIMIT,
                "%s: required fields nest without end (no finite instance)", desc->name);
  ProtobufCMessage *m = xcalloc(1, desc->sizeof_message);
  protobuf_c_message_init(desc, m);
  int full = depth == 0 || (depth < ctx->max_depth && ctx->budget > 0);
  if (full && depth > 0) ctx->budget--;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    if (!full && f->label != PROTOBUF_C_LABEL_REQUIRED) continue;
    uint64_t v = mix64(((uint64_t)ctx->seed << 40) ^ ((uint64_t)f->id << 16) ^ (uint64_t)depth);
    void *member = member_at(m, f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      unsigned pos, count;
      oneof_position(desc, f, &pos, &count);
      if (pos != (ctx->seed + (unsigned)depth) % count) continue;
      *(uint32_t *)member_at(m, f->quantifier_offset) = f->id;
      sample_value(member, f, v, depth, ctx);
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = depth < 2 ? 2 : 1;
      size_t es = element_size(f->type);
      char *arr = xcalloc(n, es);
      for (size_t j = 0; j < n; j++) sample_value(arr + j * es, f, mix64(v + j), depth, ctx);
      *(void **)member = arr;
      *(size_t *)member_at(m, f->quantifier_offset) = n;
    } else {
      sample_value(member, f, v, depth, ctx);
      if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
          f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)member_at(m, f->quantifier_offset) = 1;
    }
  }
  return m;
}

ProtobufCMessage *mesos_test_proto_sample(const ProtobufCMessageDescriptor *desc, uint32_t seed,
                                          int max_depth) {
  struct sample_ctx ctx = {seed, max_depth, SAMPLE_BUDGET};
  return sample_message(desc, 0, &ctx);
}

/* ------------------------------------------------------------ equality */

struct path {
  char buf[1024];
  size_t len;
};

static size_t path_push(struct path *p, const char *name, long index) {
  size_t old = p->len;
  int n;
  if (index >= 0)
    n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%s[%ld]", old ? "." : "", name, index);
  else
    n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%s", old ? "." : "", name);
  if (n > 0) p->len = p->len + (size_t)n < sizeof p->buf ? p->len + (size_t)n : sizeof p->buf - 1;
  return old;
}

static void path_pop(struct path *p, size_t old) {
  p->len = old;
  p->buf[old] = '\0';
}

static int differ(struct path *p, char *why, size_t why_len, const char *what) {
  if (why && why_len) snprintf(why, why_len, "%s: %s", p->len ? p->buf : "(message)", what);
  return 0;
}

static int equal_message(const ProtobufCMessage *a, const ProtobufCMessage *b, struct path *p,
                         char *why, size_t why_len);

static int equal_value(const void *x, const void *y, const ProtobufCFieldDescriptor *f,
                       struct path *p, char *why, size_t why_len) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(const char *const *)x, *t = *(const char *const *)y;
    if ((s == NULL) != (t == NULL) || (s && strcmp(s, t) != 0))
      return differ(p, why, why_len, "strings differ");
    return 1;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    const ProtobufCBinaryData *s = x, *t = y;
    if (s->len != t->len || (s->len && memcmp(s->data, t->data, s->len) != 0))
      return differ(p, why, why_len, "bytes differ");
    return 1;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessage *s = *(const ProtobufCMessage *const *)x;
    const ProtobufCMessage *t = *(const ProtobufCMessage *const *)y;
    if (s == NULL || t == NULL)
      return s == t ? 1 : differ(p, why, why_len, "one sub-message is NULL");
    return equal_message(s, t, p, why, why_len);
  }
  default:
    if (memcmp(x, y, element_size(f->type)) != 0) return differ(p, why, why_len, "values differ");
    return 1;
  }
}

static int equal_message(const ProtobufCMessage *a, const ProtobufCMessage *b, struct path *p,
                         char *why, size_t why_len) {
  if (a->descriptor != b->descriptor) return differ(p, why, why_len, "descriptors differ");
  const ProtobufCMessageDescriptor *desc = a->descriptor;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    int pa = mesos_test_proto_field_present(a, f), pb = mesos_test_proto_field_present(b, f);
    size_t old = path_push(p, f->name, -1);
    if (pa != pb) return differ(p, why, why_len, pa ? "present only in the first" : "present only in the second");
    path_pop(p, old);
    if (!pa) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t na = *(const size_t *)member_at(a, f->quantifier_offset);
      size_t nb = *(const size_t *)member_at(b, f->quantifier_offset);
      old = path_push(p, f->name, -1);
      if (na != nb) return differ(p, why, why_len, "repeated counts differ");
      path_pop(p, old);
      const char *xa = *(char *const *)member_at(a, f->offset);
      const char *xb = *(char *const *)member_at(b, f->offset);
      size_t es = element_size(f->type);
      for (size_t j = 0; j < na; j++) {
        old = path_push(p, f->name, (long)j);
        if (!equal_value(xa + j * es, xb + j * es, f, p, why, why_len)) return 0;
        path_pop(p, old);
      }
    } else {
      old = path_push(p, f->name, -1);
      if (!equal_value(member_at(a, f->offset), member_at(b, f->offset), f, p, why, why_len)) return 0;
      path_pop(p, old);
    }
  }
  if (a->n_unknown_fields != b->n_unknown_fields)
    return differ(p, why, why_len, "unknown field counts differ");
  for (unsigned i = 0; i < a->n_unknown_fields; i++) {
    const ProtobufCMessageUnknownField *u = &a->unknown_fields[i], *v = &b->unknown_fields[i];
    if (u->tag != v->tag || u->wire_type != v->wire_type || u->len != v->len ||
        (u->len && memcmp(u->data, v->data, u->len) != 0))
      return differ(p, why, why_len, "unknown fields differ");
  }
  return 1;
}

int mesos_test_proto_equal(const ProtobufCMessage *a, const ProtobufCMessage *b, char *why,
                           size_t why_len) {
  struct path p;
  p.len = 0;
  p.buf[0] = '\0';
  if (why && why_len) why[0] = '\0';
  return equal_message(a, b, &p, why, why_len);
}

size_t mesos_test_proto_unknown_fields(const ProtobufCMessage *m) {
  size_t n = m->n_unknown_fields;
  const ProtobufCMessageDescriptor *desc = m->descriptor;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || !mesos_test_proto_field_present(m, f)) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t k = *(const size_t *)member_at(m, f->quantifier_offset);
      ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)member_at(m, f->offset);
      for (size_t j = 0; j < k; j++) n += mesos_test_proto_unknown_fields(arr[j]);
    } else {
      const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member_at(m, f->offset);
      if (sub) n += mesos_test_proto_unknown_fields(sub);
    }
  }
  return n;
}
