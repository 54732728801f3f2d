#include "codec/arena.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_PASSTHROUGH 1
#endif
#endif

/* Alignment enough for every protobuf-c member (pointers, size_t, 64-bit
 * integers, doubles); max_align_t's 16 would only waste space. */
#define ARENA_ALIGN 8

/* Block sizes: the first from the hint (decoded messages take one to three
 * times their JSON size), then doubling, capped so that one huge message
 * does not make every later block huge; a request larger than a quarter of
 * the next block gets a block of its own. */
#define ARENA_FIRST_MIN ((size_t)1 << 10)
#define ARENA_FIRST_MAX ((size_t)256 << 10)
#define ARENA_BLOCK_MAX ((size_t)4 << 20)

#define ARENA_MAGIC UINT64_C(0x6d65736f7361726e) /* "mesosarn" */

typedef union arena_block {
  struct {
    union arena_block *next, *prev; /* prev: pass-through mode only */
  } link;
  uint64_t align_;
} arena_block;

struct mesos__pb_arena {
  uint64_t magic;
  arena_block *blocks; /* every block (pass-through: every piece) */
  char *cur, *end;     /* free space of the current block */
  char *last;          /* latest aligned allocation (in-place growth) */
  size_t next_size;
};

#ifdef ARENA_PASSTHROUGH

mesos__pb_arena *mesos__pb_arena_new(size_t hint) {
  (void)hint;
  mesos__pb_arena *a = mesos__malloc(sizeof *a);
  if (a == NULL) return NULL;
  memset(a, 0, sizeof *a);
  a->magic = ARENA_MAGIC;
  return a;
}

mesos__pb_arena *mesos__pb_arena_new_exact(size_t n) {
  (void)n;
  return mesos__pb_arena_new(0);
}

static void link_block(mesos__pb_arena *a, arena_block *b) {
  b->link.prev = NULL;
  b->link.next = a->blocks;
  if (a->blocks) a->blocks->link.prev = b;
  a->blocks = b;
}

static void unlink_block(mesos__pb_arena *a, arena_block *b) {
  if (b->link.prev)
    b->link.prev->link.next = b->link.next;
  else
    a->blocks = b->link.next;
  if (b->link.next) b->link.next->link.prev = b->link.prev;
}

void *mesos__pb_arena_alloc(mesos__pb_arena *a, size_t n) {
  size_t total;
  if (!mesos__size_add(&total, sizeof(arena_block), n)) return NULL;
  arena_block *b = mesos__malloc(total);
  if (b == NULL) return NULL;
  link_block(a, b);
  return b + 1;
}

void *mesos__pb_arena_alloc_bytes(mesos__pb_arena *a, size_t n) {
  return mesos__pb_arena_alloc(a, n);
}

bool mesos__pb_arena_grow(mesos__pb_arena *a, void **p, size_t old_n, size_t new_n) {
  (void)old_n;
  if (*p == NULL) {
    void *n = mesos__pb_arena_alloc(a, new_n);
    if (n == NULL) return false;
    *p = n;
    return true;
  }
  size_t total;
  if (!mesos__size_add(&total, sizeof(arena_block), new_n)) return false;
  arena_block *b = (arena_block *)*p - 1;
  unlink_block(a, b);
  arena_block *nb = mesos__realloc(b, total);
  if (nb == NULL) {
    link_block(a, b);
    return false;
  }
  link_block(a, nb);
  *p = nb + 1;
  return true;
}

#else

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

mesos__pb_arena *mesos__pb_arena_new(size_t hint) {
  size_t size = hint < ARENA_FIRST_MIN   ? ARENA_FIRST_MIN
                : hint > ARENA_FIRST_MAX ? ARENA_FIRST_MAX
                                         : hint;
  arena_block *b = mesos__malloc(size);
  if (b == NULL) return NULL;
  b->link.next = NULL;
  /* The arena's own header is the first thing in the first block. */
  mesos__pb_arena *a = (mesos__pb_arena *)(b + 1);
  a->magic = ARENA_MAGIC;
  a->blocks = b;
  a->cur = (char *)b + sizeof *b + align_up(sizeof *a);
  a->end = (char *)b + size;
  a->last = NULL;
  a->next_size = size * 2 > ARENA_BLOCK_MAX ? ARENA_BLOCK_MAX : size * 2;
  return a;
}

mesos__pb_arena *mesos__pb_arena_new_exact(size_t n) {
  size_t head = sizeof(arena_block) + align_up(sizeof(mesos__pb_arena)), size;
  if (!mesos__size_add(&size, head, align_up(n))) return NULL;
  arena_block *b = mesos__malloc(size);
  if (b == NULL) return NULL;
  b->link.next = NULL;
  mesos__pb_arena *a = (mesos__pb_arena *)(b + 1);
  a->magic = ARENA_MAGIC;
  a->blocks = b;
  a->cur = (char *)b + head;
  a->end = (char *)b + size;
  a->last = NULL;
  /* Growth past the exact size is a caller's miscount: small blocks. */
  a->next_size = ARENA_FIRST_MIN;
  return a;
}

/* Slow path: room for `n` bytes in a new block. */
static void *alloc_block(mesos__pb_arena *a, size_t n) {
  size_t need;
  if (!mesos__size_add(&need, sizeof(arena_block), n)) return NULL;
  if (need > a->next_size / 4) {
    /* Large: its own block, behind the head, so the current block keeps
     * serving small requests. */
    arena_block *b = mesos__malloc(need);
    if (b == NULL) return NULL;
    b->link.next = a->blocks->link.next;
    a->blocks->link.next = b;
    a->last = NULL;
    return b + 1;
  }
  size_t size = a->next_size;
  arena_block *b = mesos__malloc(size);
  if (b == NULL) return NULL;
  b->link.next = a->blocks;
  a->blocks = b;
  if (a->next_size < ARENA_BLOCK_MAX) a->next_size *= 2;
  a->cur = (char *)(b + 1) + n;
  a->end = (char *)b + size;
  return b + 1;
}

void *mesos__pb_arena_alloc(mesos__pb_arena *a, size_t n) {
  /* cur may be unaligned after byte allocations. */
  uintptr_t c = ((uintptr_t)a->cur + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
  char *p = (char *)c;
  if (p <= a->end && n <= (size_t)(a->end - p)) {
    a->cur = p + n;
    a->last = p;
    return p;
  }
  p = alloc_block(a, n);
  if (p != NULL && a->cur == p + n) a->last = p;
  return p;
}

void *mesos__pb_arena_alloc_bytes(mesos__pb_arena *a, size_t n) {
  if (n <= (size_t)(a->end - a->cur)) {
    char *p = a->cur;
    a->cur += n;
    return p;
  }
  a->last = NULL;
  return alloc_block(a, n);
}

bool mesos__pb_arena_grow(mesos__pb_arena *a, void **p, size_t old_n, size_t new_n) {
  char *o = *p;
  if (o != NULL && o == a->last && a->cur == o + old_n &&
      new_n - old_n <= (size_t)(a->end - a->cur)) {
    a->cur = o + new_n;
    return true;
  }
  void *n = mesos__pb_arena_alloc(a, new_n);
  if (n == NULL) return false;
  if (old_n) memcpy(n, o, old_n);
  *p = n;
  return true;
}

#endif

void mesos__pb_arena_attach(mesos__pb_arena *a, ProtobufCMessage *root) {
  root->n_unknown_fields = 0;
  root->unknown_fields = (ProtobufCMessageUnknownField *)(void *)a;
}

mesos__pb_arena *mesos__pb_arena_of(const ProtobufCMessage *m) {
  if (m->n_unknown_fields != 0 || m->unknown_fields == NULL) return NULL;
  mesos__pb_arena *a = (mesos__pb_arena *)(void *)m->unknown_fields;
  return a->magic == ARENA_MAGIC ? a : NULL;
}

void mesos__pb_arena_free(mesos__pb_arena *a) {
  if (a == NULL) return;
  a->magic = 0;
  arena_block *b = a->blocks;
#ifdef ARENA_PASSTHROUGH
  mesos__free(a);
#endif
  /* Without pass-through `a` lives in the last block of the list (the
   * first one allocated); nothing reads it after the loop starts. */
  while (b != NULL) {
    arena_block *next = b->link.next;
    mesos__free(b);
    b = next;
  }
}
