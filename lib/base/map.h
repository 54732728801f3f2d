/* String-keyed hash map (open addressing, linear probing, tombstone-free
 * backward-shift deletion).  Keys are copied; values are opaque pointers the
 * map does not own.  Iteration order is unspecified and changes on growth. */
#ifndef MESOS_BASE_MAP_H
#define MESOS_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/common.h"

typedef struct mesos__map_slot {
  char *key;       /* NULL = empty */
  uint64_t hash;
  void *value;
} mesos__map_slot;

typedef struct mesos__map {
  mesos__map_slot *slots;
  size_t cap;    /* power of two, or 0 */
  size_t count;
  bool borrowed; /* keys are the caller's (mesos__map_init_borrowed) */
} mesos__map;

void mesos__map_init(mesos__map *m);
/* A map that keeps the caller's key pointers instead of copies: each key
 * must stay unchanged and alive while its entry is in the map (a key that
 * lives in the value itself, e.g. a record's id).  Saves a copy and an
 * allocation per entry where records are counted by the hundred thousand
 * (the master's task maps).  Putting an existing key again takes the new
 * pointer. */
void mesos__map_init_borrowed(mesos__map *m);
/* Frees the keys (unless borrowed) and the table (not the values). */
void mesos__map_free(mesos__map *m);
void *mesos__map_get(const mesos__map *m, const char *key);
/* Inserts or replaces.  MESOS_ENOMEM (map unchanged). */
mesos_status mesos__map_put(mesos__map *m, const char *key, void *value);
/* Removes and returns the value (NULL if absent). */
void *mesos__map_remove(mesos__map *m, const char *key);
static inline size_t mesos__map_count(const mesos__map *m) { return m->count; }

/* Iteration: `for (size_t i = 0; mesos__map_next(m, &i, &k, &v);)`.
 * The map must not change during iteration (collect keys first). */
bool mesos__map_next(const mesos__map *m, size_t *it, const char **key, void **value);

uint64_t mesos__hash_str(const char *s);

#endif
