#include "codec/pb.h"

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
