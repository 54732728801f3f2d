/* Intrusive doubly linked list (circular, with a sentinel head). */
#ifndef MESOS_BASE_LIST_H
#define MESOS_BASE_LIST_H

#include <stddef.h>
#include <stdbool.h>

typedef struct mesos__list {
  struct mesos__list *prev, *next;
} mesos__list;

static inline void mesos__list_init(mesos__list *h) { h->prev = h->next = h; }
static inline bool mesos__list_empty(const mesos__list *h) { return h->next == h; }
static inline void mesos__list_insert_tail(mesos__list *h, mesos__list *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}
static inline void mesos__list_remove(mesos__list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}
#define mesos__container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))
#define MESOS__LIST_FOREACH_SAFE(it, tmp, head) \
  for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head); (it) = (tmp), (tmp) = (it)->next)

#endif
