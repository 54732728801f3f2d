#include "allocator/bag.h"

#include <string.h>

#include "base/alloc.h"

static bool same_identity(const mesos__res *a, const mesos__res *b) {
  return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Frees one entry the way lib/resources does, through a one-entry bag it
 * owns (mesos__resources_free is the only exported way to free a res). */
static mesos_status free_entry(mesos__res *x) {
  mesos__resources tmp;
  mesos__resources_init(&tmp);
  tmp.v = mesos__malloc(sizeof *tmp.v);
  if (tmp.v == NULL) return MESOS_ENOMEM;
  tmp.v[0] = *x;
  tmp.n = tmp.cap = 1;
  mesos__resources_free(&tmp);
  return MESOS_OK;
}

static mesos_status push(mesos__resources *r, const mesos__res *x) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    mesos__res *v = mesos__realloc(r->v, cap * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    r->v = v;
    r->cap = cap;
  }
  r->v[r->n++] = *x;
  return MESOS_OK;
}

static void drop(mesos__resources *r, size_t i) {
  memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
  r->n--;
}

mesos_status mesos__bag_take(mesos__resources *dst, mesos__resources *src, size_t i) {
  mesos__res *x = &src->v[i];
  mesos__res *same = NULL;
  if (x->proto->shared == NULL)
    for (size_t k = 0; k < dst->n && same == NULL; k++)
      if (same_identity(&dst->v[k], x)) same = &dst->v[k];
  if (same == NULL) {
    mesos_status st = push(dst, x);
    if (st != MESOS_OK) return st;
    drop(src, i);
    return MESOS_OK;
  }
  if (x->type == MESOS__V1__VALUE__TYPE__SCALAR) {
    int64_t milli = x->milli, sum;
    /* Values are validated to 1e15, but merged sums could still pass
     * int64: refuse rather than wrap. */
    if (__builtin_add_overflow(same->milli, milli, &sum)) return MESOS_ELIMIT;
    mesos__res copy = *x;
    mesos_status st = free_entry(&copy);
    if (st != MESOS_OK) return st;
    same->milli = sum;
    drop(src, i);
    return MESOS_OK;
  }
  /* Ranges or a set: let lib/resources merge the values (copying). */
  mesos__resources one = mesos__bag_view(src, i);
  mesos_status st = mesos__resources_add_all(dst, &one);
  if (st != MESOS_OK) return st;
  mesos__res copy = *x;
  st = free_entry(&copy);
  if (st != MESOS_OK) return st; /* dst has it; src keeps a duplicate: only on OOM */
  drop(src, i);
  return MESOS_OK;
}

mesos_status mesos__bag_move_all(mesos__resources *dst, mesos__resources *src) {
  if (dst->n == 0) {
    mesos__free(dst->v);
    *dst = *src;
    mesos__resources_init(src);
    return MESOS_OK;
  }
  while (src->n > 0) {
    mesos_status st = mesos__bag_take(dst, src, src->n - 1);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

mesos_status mesos__bag_take_scalar(mesos__resources *dst, mesos__resources *src, size_t i,
                                    int64_t milli) {
  mesos__res *x = &src->v[i];
  if (milli >= x->milli) return mesos__bag_take(dst, src, i);
  if (milli <= 0) return MESOS_OK;
  for (size_t k = 0; k < dst->n; k++) {
    if (x->proto->shared == NULL && same_identity(&dst->v[k], x)) {
      int64_t sum;
      if (__builtin_add_overflow(dst->v[k].milli, milli, &sum)) return MESOS_ELIMIT;
      dst->v[k].milli = sum;
      x->milli -= milli;
      return MESOS_OK;
    }
  }
  /* A new entry of the same identity: rebuilt from the identity message
   * with the partial value (thousandths convert back exactly). */
  Mesos__V1__Resource res = *x->proto;
  Mesos__V1__Value__Scalar scalar = MESOS__V1__VALUE__SCALAR__INIT;
  scalar.value = (double)milli / 1000.0;
  res.scalar = &scalar;
  res.ranges = NULL;
  res.set = NULL;
  mesos_status st = mesos__resources_add(dst, &res, NULL);
  if (st != MESOS_OK) return st;
  x->milli -= milli;
  return MESOS_OK;
}
