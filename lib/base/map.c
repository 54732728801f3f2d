#include "base/map.h"

#include <string.h>

#include "base/alloc.h"

/* FNV-1a then a final avalanche: cheap, and good enough for ids that share
 * long prefixes (Mesos ids are "<uuid>-S12", "<uuid>-0003"). */
uint64_t mesos__hash_str(const char *s) {
  uint64_t h = UINT64_C(1469598103934665603);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= UINT64_C(1099511628211);
  }
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

void mesos__map_init(mesos__map *m) { memset(m, 0, sizeof *m); }

void mesos__map_init_borrowed(mesos__map *m) {
  mesos__map_init(m);
  m->borrowed = true;
}

void mesos__map_free(mesos__map *m) {
  bool borrowed = m->borrowed;
  if (!borrowed)
    for (size_t i = 0; i < m->cap; i++) mesos__free(m->slots[i].key);
  mesos__free(m->slots);
  mesos__map_init(m);
  m->borrowed = borrowed;
}

static size_t find_slot(const mesos__map *m, const char *key, uint64_t h) {
  size_t mask = m->cap - 1;
  size_t i = (size_t)h & mask;
  while (m->slots[i].key != NULL) {
    if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0) return i;
    i = (i + 1) & mask;
  }
  return i;
}

void *mesos__map_get(const mesos__map *m, const char *key) {
  if (m->cap == 0) return NULL;
  size_t i = find_slot(m, key, mesos__hash_str(key));
  return m->slots[i].key ? m->slots[i].value : NULL;
}

static mesos_status grow(mesos__map *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  mesos__map_slot *slots = mesos__calloc(cap, sizeof *slots);
  if (slots == NULL) return MESOS_ENOMEM;
  mesos__map old = *m;
  m->slots = slots;
  m->cap = cap;
  for (size_t i = 0; i < old.cap; i++) {
    if (old.slots[i].key == NULL) continue;
    size_t j = find_slot(m, old.slots[i].key, old.slots[i].hash);
    m->slots[j] = old.slots[i];
  }
  mesos__free(old.slots);
  return MESOS_OK;
}

mesos_status mesos__map_put(mesos__map *m, const char *key, void *value) {
  /* Load factor at most 3/4 keeps probe sequences short. */
  if ((m->count + 1) * 4 > m->cap * 3) {
    mesos_status st = grow(m);
    if (st != MESOS_OK) return st;
  }
  uint64_t h = mesos__hash_str(key);
  size_t i = find_slot(m, key, h);
  if (m->slots[i].key) {
    if (m->borrowed) m->slots[i].key = (char *)key;
    m->slots[i].value = value;
    return MESOS_OK;
  }
  char *k = m->borrowed ? (char *)key : mesos__strdup(key);
  if (k == NULL) return MESOS_ENOMEM;
  m->slots[i].key = k;
  m->slots[i].hash = h;
  m->slots[i].value = value;
  m->count++;
  return MESOS_OK;
}

void *mesos__map_remove(mesos__map *m, const char *key) {
  if (m->cap == 0) return NULL;
  size_t mask = m->cap - 1;
  size_t i = find_slot(m, key, mesos__hash_str(key));
  if (m->slots[i].key == NULL) return NULL;
  void *value = m->slots[i].value;
  if (!m->borrowed) mesos__free(m->slots[i].key);
  m->slots[i].key = NULL;
  m->count--;
  /* Backward-shift: move later entries of the cluster into the hole when
   * their home slot does not lie cyclically in (hole, j]. */
  size_t hole = i, j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (m->slots[j].key == NULL) break;
    size_t home = (size_t)m->slots[j].hash & mask;
    bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (between) continue;
    m->slots[hole] = m->slots[j];
    m->slots[j].key = NULL;
    hole = j;
  }
  return value;
}

bool mesos__map_next(const mesos__map *m, size_t *it, const char **key, void **value) {
  while (*it < m->cap) {
    size_t i = (*it)++;
    if (m->slots[i].key) {
      if (key) *key = m->slots[i].key;
      if (value) *value = m->slots[i].value;
      return true;
    }
  }
  return false;
}
