#include "codec/pb.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/arena.h"
#include "codec/registry.h"

static void *pb_alloc(void *ud, size_t n) {
  (void)ud;
  return mesos__malloc(n);
}

static void pb_free(void *ud, void *p) {
  (void)ud;
  mesos__free(p);
}

ProtobufCAllocator mesos__pb_allocator = {pb_alloc, pb_free, NULL};

void mesos__pb_free(void *msg) {
  if (msg == NULL) return;
  /* Messages from the JSON decoder live in an arena (arena.h). */
  mesos__pb_arena *a = mesos__pb_arena_of(msg);
  if (a != NULL)
    mesos__pb_arena_free(a);
  else
    protobuf_c_message_free_unpacked(msg, &mesos__pb_allocator);
}

bool mesos__pb_is_map_field(const ProtobufCFieldDescriptor *f) {
  if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return false;
  const ProtobufCMessageDescriptor *d = f->descriptor;
  if (d == NULL || d->n_fields != 2 || d->fields[0].id != 1 || d->fields[1].id != 2 ||
      strcmp(d->fields[0].name, "key") != 0 || strcmp(d->fields[1].name, "value") != 0)
    return false;
  /* protoc names the entry after the field: "foo_bar" -> "FooBarEntry". */
  const char *sn = d->short_name, *fn = f->name;
  bool upper = true;
  for (; *fn; fn++) {
    if (*fn == '_') {
      upper = true;
      continue;
    }
    char c = *fn;
    if (upper && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    upper = false;
    if (*sn++ != c) return false;
  }
  return strcmp(sn, "Entry") == 0;
}

/* ------------------------------------------------------------ depth check */

static bool read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
  const uint8_t *p = *pp;
  uint64_t r = 0;
  for (unsigned shift = 0; shift < 70 && p < end; shift += 7) {
    uint8_t b = *p++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *pp = p;
      *v = r;
      return true;
    }
  }
  return false;
}

mesos_status mesos__pb_check_depth(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                   size_t len, unsigned max_depth, mesos_error **err) {
  struct {
    const ProtobufCMessageDescriptor *desc;
    const uint8_t *end;
  } stack[MESOS__PB_MAX_DEPTH + 1];
  if (max_depth == 0 || max_depth > MESOS__PB_MAX_DEPTH) max_depth = MESOS__PB_MAX_DEPTH;
  unsigned top = 0;
  const uint8_t *p = data;
  /* Types whose whole type graph fits under the limit need no walk; the
   * walk below also skips such subtrees, so big acyclic parts (offers,
   * resources) cost nothing and only recursive paths are followed. */
  if (mesos__codec_static_depth(desc) <= max_depth) return MESOS_OK;
  stack[0].desc = desc;
  stack[0].end = data + len;
  for (;;) {
    while (p == stack[top].end) {
      if (top == 0) return MESOS_OK;
      top--;
    }
    uint64_t key, n;
    if (!read_varint(&p, stack[top].end, &key))
      return mesos__err(err, MESOS_EINVAL, "%s: truncated field tag at byte %zu",
                        stack[top].desc->name, (size_t)(p - data));
    uint64_t id = key >> 3;
    if (id == 0 || id > 0x1fffffff)
      return mesos__err(err, MESOS_EINVAL, "%s: invalid field number at byte %zu",
                        stack[top].desc->name, (size_t)(p - data));
    size_t left = (size_t)(stack[top].end - p);
    switch (key & 7) {
      case 0:
        if (!read_varint(&p, stack[top].end, &n))
          return mesos__err(err, MESOS_EINVAL, "%s: truncated varint at byte %zu",
                            stack[top].desc->name, (size_t)(p - data));
        break;
      case 1:
        if (left < 8) goto truncated;
        p += 8;
        break;
      case 5:
        if (left < 4) goto truncated;
        p += 4;
        break;
      case 2: {
        if (!read_varint(&p, stack[top].end, &n)) goto truncated;
        if (n > (uint64_t)(stack[top].end - p)) goto truncated;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(stack[top].desc, (unsigned)id);
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && n > 0 &&
            mesos__codec_static_depth(f->descriptor) > max_depth - (top + 1)) {
          if (top + 1 >= max_depth)
            return mesos__err(err, MESOS_ELIMIT, "%s.%s: messages nest deeper than %u",
                              stack[top].desc->name, f->name, max_depth);
          top++;
          stack[top].desc = f->descriptor;
          stack[top].end = p + n;
        } else {
          p += n;
        }
        break;
      }
      default:
        return mesos__err(err, MESOS_EINVAL, "%s: unsupported wire type %u at byte %zu",
                          stack[top].desc->name, (unsigned)(key & 7), (size_t)(p - data));
    }
    continue;
  truncated:
    return mesos__err(err, MESOS_EINVAL, "%s: truncated field %u at byte %zu",
                      stack[top].desc->name, (unsigned)id, (size_t)(p - data));
  }
}

/* ------------------------------------------------------------ unpack/pack */

/* protobuf-c answers NULL both for bad input and for a failed allocation;
 * this allocator remembers which it was. */
static void *pb_alloc_flag(void *ud, size_t n) {
  void *p = mesos__malloc(n);
  if (p == NULL) *(bool *)ud = true;
  return p;
}

mesos_status mesos__pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                              size_t len, size_t max_size, unsigned max_depth,
                              ProtobufCMessage **out, mesos_error **err) {
  if (max_size == 0) max_size = MESOS__PB_MAX_SIZE;
  if (len > max_size)
    return mesos__err(err, MESOS_ELIMIT, "%s: %zu bytes exceed the limit of %zu", desc->name,
                      len, max_size);
  if (len > 0 && data == NULL) return mesos__err(err, MESOS_EINVAL, "%s: no data", desc->name);
  mesos_status s = mesos__pb_check_depth(desc, data, len, max_depth, err);
  if (s != MESOS_OK) return s;
  bool oom = false;
  ProtobufCAllocator a = {pb_alloc_flag, pb_free, &oom};
  static const uint8_t empty[1] = {0};
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, len ? data : empty);
  if (m == NULL) {
    if (oom) return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", desc->name);
    return mesos__err(err, MESOS_EINVAL,
                      "%s: invalid protobuf (malformed field or required field missing)",
                      desc->name);
  }
  *out = m;
  return MESOS_OK;
}

mesos_status mesos__pb_pack_buf(const ProtobufCMessage *msg, mesos__buf *b, mesos_error **err) {
  size_t n = protobuf_c_message_get_packed_size(msg);
  mesos_status s = mesos__buf_reserve(b, n);
  if (s == MESOS_ELIMIT)
    return mesos__err(err, s, "%s: %zu bytes packed exceed the limit of %zu",
                      msg->descriptor->name, n, b->max);
  if (s != MESOS_OK) return mesos__err(err, s, "%s: out of memory", msg->descriptor->name);
  size_t w = protobuf_c_message_pack(msg, (uint8_t *)b->data + b->len);
  b->len += w;
  b->data[b->len] = '\0';
  return MESOS_OK;
}

mesos_status mesos__pb_pack(const ProtobufCMessage *msg, size_t max_size, uint8_t **out,
                            size_t *out_len, mesos_error **err) {
  if (max_size == 0) max_size = MESOS__PB_MAX_SIZE;
  size_t n = protobuf_c_message_get_packed_size(msg);
  if (n > max_size)
    return mesos__err(err, MESOS_ELIMIT, "%s: %zu bytes packed exceed the limit of %zu",
                      msg->descriptor->name, n, max_size);
  uint8_t *p = mesos__malloc(n ? n : 1);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", msg->descriptor->name);
  *out_len = protobuf_c_message_pack(msg, p);
  *out = p;
  return MESOS_OK;
}

/* ------------------------------------------------------------ arena unpack */

/* protobuf-c allocating from an arena: every struct, array and string of
 * the message is carved from a few blocks; frees (protobuf-c's temporary
 * scan slabs, a failed unpack's cleanup) are no-ops, the arena goes as a
 * whole. */
typedef struct arena_alloc_ud {
  mesos__pb_arena *arena;
  bool oom;
} arena_alloc_ud;

static void *pb_arena_alloc(void *ud, size_t n) {
  arena_alloc_ud *x = ud;
  void *p = mesos__pb_arena_alloc(x->arena, n ? n : 1);
  if (p == NULL) x->oom = true;
  return p;
}

static void pb_arena_nofree(void *ud, void *p) {
  (void)ud;
  (void)p;
}

mesos_status mesos__pb_unpack_arena(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                    size_t len, size_t max_size, unsigned max_depth,
                                    ProtobufCMessage **out, mesos_error **err) {
  if (max_size == 0) max_size = MESOS__PB_MAX_SIZE;
  if (len > max_size)
    return mesos__err(err, MESOS_ELIMIT, "%s: %zu bytes exceed the limit of %zu", desc->name,
                      len, max_size);
  if (len > 0 && data == NULL) return mesos__err(err, MESOS_EINVAL, "%s: no data", desc->name);
  mesos_status s = mesos__pb_check_depth(desc, data, len, max_depth, err);
  if (s != MESOS_OK) return s;
  /* Decoded structs take three to six times the wire size (a 25-byte
   * FrameworkInfo decodes to a 160-byte struct and its strings); a first
   * block big enough for the whole message saves the growth steps (the
   * arena caps it). */
  size_t hint = len > SIZE_MAX / 8 ? SIZE_MAX : len * 6 + 512;
  arena_alloc_ud x = {mesos__pb_arena_new(hint), false};
  if (x.arena == NULL) return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", desc->name);
  ProtobufCAllocator a = {pb_arena_alloc, pb_arena_nofree, &x};
  static const uint8_t empty[1] = {0};
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, len ? data : empty);
  if (m == NULL) {
    mesos__pb_arena_free(x.arena);
    if (x.oom) return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", desc->name);
    return mesos__err(err, MESOS_EINVAL,
                      "%s: invalid protobuf (malformed field or required field missing)",
                      desc->name);
  }
  if (m->n_unknown_fields != 0) {
    /* The arena's mark lives in the top-level unknown_fields (arena.h):
     * a message with unknown top-level fields is decoded the usual way. */
    mesos__pb_arena_free(x.arena);
    return mesos__pb_unpack(desc, data, len, max_size, max_depth, out, err);
  }
  mesos__pb_arena_attach(x.arena, m);
  *out = m;
  return MESOS_OK;
}

ProtobufCMessage *mesos__pb_unpack_into(mesos__pb_arena *arena,
                                        const ProtobufCMessageDescriptor *desc,
                                        const uint8_t *data, size_t len, unsigned max_depth) {
  if (mesos__pb_check_depth(desc, data, len, max_depth, NULL) != MESOS_OK) return NULL;
  arena_alloc_ud x = {arena, false};
  ProtobufCAllocator a = {pb_arena_alloc, pb_arena_nofree, &x};
  static const uint8_t empty[1] = {0};
  return protobuf_c_message_unpack(desc, &a, len, len ? data : empty);
}

/* ------------------------------------------------------------ compact clone */

#define CLONE_ALIGN 8
static size_t clone_align(size_t n) { return (n + CLONE_ALIGN - 1) & ~(size_t)(CLONE_ALIGN - 1); }

/* A oneof member whose case is another field holds that field's bits. */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    return *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
  return true;
}

static bool clone_add(size_t *total, size_t n) {
  return mesos__size_add(total, *total, clone_align(n));
}

/* Bytes the deep copy of `m` takes, every piece aligned as the arena
 * carves it.  Depth-limited like decoding (a message built in memory can
 * nest as deep as its builder likes). */
static bool clone_size(const ProtobufCMessage *m, unsigned depth, size_t *total) {
  if (depth > MESOS__PB_MAX_DEPTH) return false;
  const ProtobufCMessageDescriptor *d = m->descriptor;
  if (!clone_add(total, d->sizeof_message)) return false;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    const char *member = (const char *)m + f->offset;
    if (!field_present(m, f)) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
      if (n == 0) continue;
      size_t arr;
      if (!mesos__size_mul(&arr, n, mesos__pb_type_size(f->type)) || !clone_add(total, arr))
        return false;
      for (size_t k = 0; k < n; k++) {
        if (f->type == PROTOBUF_C_TYPE_STRING) {
          const char *str = (*(char *const *const *)member)[k];
          if (str && !clone_add(total, strlen(str) + 1)) return false;
        } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
          const ProtobufCBinaryData *b = &((const ProtobufCBinaryData *)*(void *const *)member)[k];
          if (b->len && !clone_add(total, b->len)) return false;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
          const ProtobufCMessage *sub = ((ProtobufCMessage *const *)*(void *const *)member)[k];
          if (sub && !clone_size(sub, depth + 1, total)) return false;
        }
      }
      continue;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
      const char *str = *(char *const *)member;
      if (str && str != f->default_value && !clone_add(total, strlen(str) + 1)) return false;
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
      const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)member;
      const ProtobufCBinaryData *def = f->default_value;
      if (b->data && b->len && !(def && def->data == b->data) && !clone_add(total, b->len))
        return false;
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
      if (sub && !clone_size(sub, depth + 1, total)) return false;
    }
  }
  if (m->n_unknown_fields) {
    size_t arr;
    if (!mesos__size_mul(&arr, m->n_unknown_fields, sizeof *m->unknown_fields) ||
        !clone_add(total, arr))
      return false;
    for (unsigned k = 0; k < m->n_unknown_fields; k++)
      if (m->unknown_fields[k].len && !clone_add(total, m->unknown_fields[k].len)) return false;
  }
  return true;
}

static void *clone_mem(mesos__pb_arena *a, const void *src, size_t n) {
  void *p = mesos__pb_arena_alloc(a, n ? n : 1);
  if (p && n) memcpy(p, src, n);
  return p;
}

/* The copy itself; NULL when out of memory (the arena is freed whole). */
static ProtobufCMessage *clone_into(mesos__pb_arena *a, const ProtobufCMessage *m) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  ProtobufCMessage *c = clone_mem(a, m, d->sizeof_message);
  if (c == NULL) return NULL;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    char *member = (char *)c + f->offset;
    if (!field_present(m, f)) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
      if (n == 0) continue;
      size_t es = mesos__pb_type_size(f->type);
      void *arr = clone_mem(a, *(void **)member, n * es);
      if (arr == NULL) return NULL;
      *(void **)member = arr;
      for (size_t k = 0; k < n; k++) {
        if (f->type == PROTOBUF_C_TYPE_STRING) {
          char **v = arr;
          if (v[k] && (v[k] = clone_mem(a, v[k], strlen(v[k]) + 1)) == NULL) return NULL;
        } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
          ProtobufCBinaryData *b = &((ProtobufCBinaryData *)arr)[k];
          if (b->len) {
            if ((b->data = clone_mem(a, b->data, b->len)) == NULL) return NULL;
          } else {
            b->data = NULL;
          }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
          ProtobufCMessage **v = arr;
          if (v[k] && (v[k] = clone_into(a, v[k])) == NULL) return NULL;
        }
      }
      continue;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
      char **s = (char **)member;
      if (*s && *s != f->default_value && (*s = clone_mem(a, *s, strlen(*s) + 1)) == NULL)
        return NULL;
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
      ProtobufCBinaryData *b = (ProtobufCBinaryData *)member;
      const ProtobufCBinaryData *def = f->default_value;
      if (b->data && b->len && !(def && def->data == b->data) &&
          (b->data = clone_mem(a, b->data, b->len)) == NULL)
        return NULL;
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      ProtobufCMessage **sub = (ProtobufCMessage **)member;
      if (*sub && (*sub = clone_into(a, *sub)) == NULL) return NULL;
    }
  }
  if (m->n_unknown_fields) {
    c->unknown_fields =
        clone_mem(a, m->unknown_fields, m->n_unknown_fields * sizeof *m->unknown_fields);
    if (c->unknown_fields == NULL) return NULL;
    for (unsigned k = 0; k < m->n_unknown_fields; k++) {
      ProtobufCMessageUnknownField *u = &c->unknown_fields[k];
      if (u->len && (u->data = clone_mem(a, u->data, u->len)) == NULL) return NULL;
    }
  }
  return c;
}

mesos_status mesos__pb_clone_compact(const ProtobufCMessage *m, ProtobufCMessage **out,
                                     mesos_error **err) {
  const char *name = m->descriptor->name;
  if (m->n_unknown_fields != 0) {
    /* The arena's mark needs the top-level unknown_fields (arena.h): the
     * usual copy, one allocation per piece. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    mesos_status st = mesos__pb_pack(m, 0, &bytes, &len, err);
    if (st == MESOS_OK) st = mesos__pb_unpack(m->descriptor, bytes, len, 0, 0, out, err);
    mesos__free(bytes);
    return st;
  }
  size_t total = 0;
  if (!clone_size(m, 0, &total))
    return mesos__err(err, MESOS_ELIMIT, "%s: too large or nested too deep to copy", name);
  mesos__pb_arena *a = mesos__pb_arena_new_exact(total);
  if (a == NULL) return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", name);
  ProtobufCMessage *c = clone_into(a, m);
  if (c == NULL) {
    mesos__pb_arena_free(a);
    return mesos__err(err, MESOS_ENOMEM, "%s: out of memory", name);
  }
  mesos__pb_arena_attach(a, c);
  *out = c;
  return MESOS_OK;
}
