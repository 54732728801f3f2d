/* Arena for decoded messages: the JSON decoder builds a whole message tree
 * (often tens of thousands of small structs and strings) out of a few
 * large blocks carved with a bump pointer, and the tree is freed as a
 * whole.  One malloc per block instead of one per struct or string was
 * measured to take the OFFERS-event decode from 0.38 to about 0.5 of bare
 * yajl tokenizing (glibc malloc plus the counting wrappers were a third of
 * the time).
 *
 * Ownership: the arena is marked in the top-level message itself, in
 * `unknown_fields` with `n_unknown_fields` 0 (the JSON decoder never
 * produces unknown fields, and protobuf-c leaves the pointer NULL whenever
 * the count is 0, so the pair cannot occur otherwise).  mesos__pb_free()
 * recognises the mark and frees the arena.  Consequences for callers:
 *   - free the message only as a whole, with mesos__pb_free (not with
 *     protobuf_c_message_free_unpacked, and never a piece of it);
 *   - do not keep pieces after freeing the message, and do not hand a
 *     piece's ownership elsewhere (copy it: pack + unpack);
 *   - replacing a field temporarily (swap, use, swap back) is fine.
 *
 * Built with AddressSanitizer, the arena is a pass-through: every piece is
 * its own mesos__malloc block (linked into a list that the arena frees), so
 * ASan still sees each overflow and each use after free (STYLE.md §8). */
#ifndef MESOS_CODEC_ARENA_H
#define MESOS_CODEC_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct mesos__pb_arena mesos__pb_arena;

/* A new, empty arena; `hint` is the expected number of bytes (the first
 * block is sized from it, within bounds).  NULL when out of memory. */
mesos__pb_arena *mesos__pb_arena_new(size_t hint);

/* An arena whose first block holds exactly `n` more bytes of aligned
 * allocations (a copy whose size is known in advance); it still grows
 * past that if asked.  NULL when out of memory. */
mesos__pb_arena *mesos__pb_arena_new_exact(size_t n);

/* `n` bytes aligned for any protobuf-c struct member; NULL when out of
 * memory.  The memory is not zeroed. */
void *mesos__pb_arena_alloc(mesos__pb_arena *a, size_t n);

/* `n` bytes with no alignment (strings, bytes); NULL when out of memory. */
void *mesos__pb_arena_alloc_bytes(mesos__pb_arena *a, size_t n);

/* Grows the aligned allocation *p of old_n bytes (NULL with old_n 0 is an
 * empty one) to new_n > old_n bytes, keeping its contents: in place when
 * it is the arena's latest allocation, else by copying (the old space is
 * abandoned until the arena is freed).  False when out of memory; *p is
 * then unchanged and still valid. */
bool mesos__pb_arena_grow(mesos__pb_arena *a, void **p, size_t old_n, size_t new_n);

/* Marks `root` (allocated from `a`) as owning `a`: from now on
 * mesos__pb_free(root) frees the arena. */
void mesos__pb_arena_attach(mesos__pb_arena *a, ProtobufCMessage *root);

/* The arena `m` owns, or NULL when `m` is an ordinary protobuf-c message. */
mesos__pb_arena *mesos__pb_arena_of(const ProtobufCMessage *m);

/* Frees every byte of the arena (and so the message attached to it).
 * NULL is accepted. */
void mesos__pb_arena_free(mesos__pb_arena *a);

#endif
