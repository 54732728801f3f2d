/* Protobuf helpers over protobuf-c: pack and unpack with our allocator,
 * our errors and our limits.  Every message the codec hands out (from
 * mesos__pb_unpack or mesos__json_decode) is freed, as a whole, with
 * mesos__pb_free.  Messages from mesos__json_decode live in an arena
 * (arena.h): never free a piece of one or keep a piece past the whole,
 * and do not pass one to protobuf_c_message_free_unpacked. */
#ifndef MESOS_CODEC_PB_H
#define MESOS_CODEC_PB_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "base/buf.h"
#include "mesos/error.h"

/* Nesting limit for messages decoded from the network (JSON or protobuf).
 * Mesos messages nest less than 20 deep (Event > Offer > Resource > DiskInfo
 * > Source > Mount ...); recursive types (ContainerID.parent) are the only
 * way to go deeper, and 64 leaves room for long nested-container chains
 * while keeping protobuf-c's recursive unpack and free far from the stack's
 * end.  Not switchable off: callers may only lower it. */
#define MESOS__PB_MAX_DEPTH 64

/* Largest message we decode by default: 64 MiB.  A whole GET_STATE of a big
 * cluster fits; anything larger from a peer is an attack or a bug. */
#define MESOS__PB_MAX_SIZE ((size_t)64 << 20)

/* Routes protobuf-c's allocations through mesos__malloc/mesos__free. */
extern ProtobufCAllocator mesos__pb_allocator;

/* Frees a message allocated by the codec (arena-backed or not), or by
 * protobuf-c with mesos__pb_allocator.  NULL is accepted. */
void mesos__pb_free(void *msg);

/* Decodes `len` bytes of binary protobuf into a new message of type `desc`.
 * Limits: len <= max_size (0 = MESOS__PB_MAX_SIZE), nesting <= max_depth
 * (0 = MESOS__PB_MAX_DEPTH, larger values are clamped to it).  Unknown
 * fields are kept (protobuf-c stores them).  Errors: MESOS_EINVAL (malformed,
 * missing required fields), MESOS_ELIMIT, MESOS_ENOMEM.  *out is set only on
 * success. */
mesos_status mesos__pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                              size_t len, size_t max_size, unsigned max_depth,
                              ProtobufCMessage **out, mesos_error **err);

/* The same, with the whole message (every struct, array and string) in
 * one arena (arena.h): a few allocations per message instead of one per
 * field.  Free it only as a whole with mesos__pb_free and never hand a
 * piece of it elsewhere.  A message with unknown top-level fields (which
 * would hide the arena's mark) is decoded as by mesos__pb_unpack. */
mesos_status mesos__pb_unpack_arena(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                    size_t len, size_t max_size, unsigned max_depth,
                                    ProtobufCMessage **out, mesos_error **err);

/* A sub-message decoded into an existing arena (its pieces are the
 * arena's: never freed on their own), nested at most `max_depth` deep (as
 * mesos__pb_check_depth; a sub-message at depth d of its call gets
 * MESOS__PB_MAX_DEPTH - d + 1); NULL when malformed, too deep or out of
 * memory (the arena keeps what was used). */
typedef struct mesos__pb_arena mesos__pb_arena;
ProtobufCMessage *mesos__pb_unpack_into(mesos__pb_arena *arena,
                                        const ProtobufCMessageDescriptor *desc,
                                        const uint8_t *data, size_t len, unsigned max_depth);

/* A deep copy of `m` in one allocation of exactly the size it needs (an
 * arena, arena.h, with the same rules): for messages kept for long, by the
 * hundred thousand (a task's record), where one malloc per field costs
 * time and headers.  A top-level message with unknown fields is copied
 * the usual way (pack + unpack).  Errors: MESOS_ENOMEM, MESOS_ELIMIT
 * (nested deeper than MESOS__PB_MAX_DEPTH). */
mesos_status mesos__pb_clone_compact(const ProtobufCMessage *m, ProtobufCMessage **out,
                                     mesos_error **err);

/* Checks, without allocating, that `data` is well-framed protobuf whose
 * message-typed fields nest at most `max_depth` deep.  mesos__pb_unpack
 * runs it first, because protobuf-c's unpack recurses without a limit. */
mesos_status mesos__pb_check_depth(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                   size_t len, unsigned max_depth, mesos_error **err);

/* Appends the binary encoding of `msg` to `b` (bounded by b->max: ELIMIT),
 * packing straight into the buffer's memory. */
mesos_status mesos__pb_pack_buf(const ProtobufCMessage *msg, mesos__buf *b, mesos_error **err);

/* Packs `msg` into a new buffer (*out, free with mesos__free) of *out_len
 * bytes; max_size 0 means MESOS__PB_MAX_SIZE.  A message that packs to zero
 * bytes gives a valid 1-byte allocation and *out_len 0. */
mesos_status mesos__pb_pack(const ProtobufCMessage *msg, size_t max_size, uint8_t **out,
                            size_t *out_len, mesos_error **err);

/* True when `f` is the repeated entry field protoc generates for a
 * `map<K, V>` field: protobuf-c keeps no map flag, so we recognise the
 * shape protoc always produces (a nested message named <CamelField>Entry
 * holding exactly key = 1 and value = 2). */
bool mesos__pb_is_map_field(const ProtobufCFieldDescriptor *f);

/* Size in bytes of one element of a repeated field of `type`.  Inline:
 * the JSON decoder asks once per value. */
static inline size_t mesos__pb_type_size(ProtobufCType type) {
  switch (type) {
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
      return 4;
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    case PROTOBUF_C_TYPE_BOOL:
      return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
      return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
      return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof(ProtobufCMessage *);
  }
  return 0;
}

#endif
