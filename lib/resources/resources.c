#include "resources/resources.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "codec/pb.h"
#include "resources/resources_int.h"

/* Scalars are compared and added in thousandths, the precision Mesos
 * guarantees for resource values (Value.Scalar arithmetic rounds to 3
 * decimal digits). */
#define MILLI 1000

/* A --resources string or a resource list longer than this is refused:
 * hosts have a few dozen resources, not millions. */
#define RESOURCES_MAX_TEXT (1u << 20)
#define RESOURCES_MAX_RANGES 65536
#define RESOURCES_MAX_ITEMS 65536

void mesos__resources_init(mesos__resources *r) { memset(r, 0, sizeof *r); }

/* A resource's identity (its packed key and the decoded proto, both
 * without the value) never changes once built, so every copy of the
 * resource shares one: copying is a reference count increment, not a
 * re-encode and re-decode of the proto (which cost about a microsecond
 * and some 500 bytes per entry, and every offer, task and allocation
 * holds copies).  `key` is the last member, so a mesos__res's key pointer
 * leads back to its identity.  The count is atomic: clones may be freed
 * on different threads (public mesos_resources handles). */
typedef struct res_ident {
  uint32_t refs;
  Mesos__V1__Resource *proto;
  uint8_t key[];
} res_ident;

static res_ident *ident_of(const mesos__res *x) {
  return (res_ident *)(void *)(x->key - offsetof(res_ident, key));
}

static void ident_unref(mesos__res *x) {
  if (x->key == NULL) return;
  res_ident *id = ident_of(x);
  if (__atomic_sub_fetch(&id->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    mesos__pb_free(id->proto);
    mesos__free(id);
  }
}

static void res_free(mesos__res *x) {
  ident_unref(x);
  mesos__free(x->ranges);
  for (size_t i = 0; i < x->nitems; i++) mesos__free(x->items[i]);
  mesos__free(x->items);
  memset(x, 0, sizeof *x);
}

void mesos__resources_free(mesos__resources *r) {
  for (size_t i = 0; i < r->n; i++) res_free(&r->v[i]);
  mesos__free(r->v);
  mesos__resources_init(r);
}

const char *mesos__resource_role(const Mesos__V1__Resource *res) {
  if (res->n_reservations > 0 && res->reservations[res->n_reservations - 1]->role)
    return res->reservations[res->n_reservations - 1]->role;
  if (res->role && res->role[0]) return res->role;
  return "*";
}

/* Mesos role names: "*", or '/'-separated components, none empty, "." or
 * "..", none starting with '-', no whitespace and no '*' inside. */
bool mesos__role_valid(const char *role) {
  if (strcmp(role, "*") == 0) return true;
  if (*role == '\0') return false;
  const char *p = role;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 0) return false;
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
    if (p[0] == '-') return false;
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)p[i];
      if (isspace(c) || c == '*' || c == '\\' || !isprint(c)) return false;
    }
    if (!slash) break;
    p = slash + 1;
    if (*p == '\0') return false;
  }
  return true;
}

mesos_status mesos__resource_validate(const Mesos__V1__Resource *res, mesos_error **err) {
  const char *name = res->name ? res->name : "";
  if (name[0] == '\0') return mesos__err(err, MESOS_EINVAL, "resource: empty name");
  int present = (res->scalar != NULL) + (res->ranges != NULL) + (res->set != NULL);
  if (present != 1)
    return mesos__err(err, MESOS_EINVAL, "resource '%s': needs exactly one of scalar, ranges, set",
                      name);
  switch (res->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      if (!res->scalar)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': type SCALAR without scalar", name);
      if (!isfinite(res->scalar->value) || res->scalar->value < 0)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': scalar must be finite and >= 0",
                          name);
      if (res->scalar->value > 1e15)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': scalar too large", name);
      break;
    case MESOS__V1__VALUE__TYPE__RANGES:
      if (!res->ranges)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': type RANGES without ranges", name);
      if (res->ranges->n_range > RESOURCES_MAX_RANGES)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': too many ranges", name);
      for (size_t i = 0; i < res->ranges->n_range; i++)
        if (res->ranges->range[i]->begin > res->ranges->range[i]->end)
          return mesos__err(err, MESOS_EINVAL, "resource '%s': range %llu-%llu has begin > end",
                            name, (unsigned long long)res->ranges->range[i]->begin,
                            (unsigned long long)res->ranges->range[i]->end);
      break;
    case MESOS__V1__VALUE__TYPE__SET:
      if (!res->set)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': type SET without set", name);
      if (res->set->n_item > RESOURCES_MAX_ITEMS)
        return mesos__err(err, MESOS_EINVAL, "resource '%s': too many set items", name);
      for (size_t i = 0; i < res->set->n_item; i++)
        if (res->set->item[i] == NULL || res->set->item[i][0] == '\0')
          return mesos__err(err, MESOS_EINVAL, "resource '%s': empty set item", name);
      break;
    default:
      return mesos__err(err, MESOS_EINVAL, "resource '%s': type %d is not supported", name,
                        (int)res->type);
  }
  const char *role = mesos__resource_role(res);
  if (!mesos__role_valid(role))
    return mesos__err(err, MESOS_EINVAL, "resource '%s': invalid role '%s'", name, role);
  for (size_t i = 0; i < res->n_reservations; i++) {
    const char *rr = res->reservations[i]->role;
    if (rr && (!mesos__role_valid(rr) || strcmp(rr, "*") == 0))
      return mesos__err(err, MESOS_EINVAL, "resource '%s': invalid reservation role '%s'", name,
                        rr);
  }
  return MESOS_OK;
}

/* ------------------------------------------------------------ identity */

/* Builds x->proto and x->key from `res` without its value. */
static mesos_status res_identity(mesos__res *x, const Mesos__V1__Resource *res) {
  Mesos__V1__Resource id = *res;
  id.scalar = NULL;
  id.ranges = NULL;
  id.set = NULL;
  /* "*" given explicitly and the default "*" must give the same key. */
  if (id.role && strcmp(id.role, "*") == 0) id.role = NULL;
  uint8_t *key = NULL;
  size_t len = 0;
  mesos_status st = mesos__pb_pack(&id.base, 0, &key, &len, NULL);
  if (st != MESOS_OK) return st;
  res_ident *ident = mesos__malloc(offsetof(res_ident, key) + (len ? len : 1));
  if (ident == NULL) {
    mesos__free(key);
    return MESOS_ENOMEM;
  }
  memcpy(ident->key, key, len);
  mesos__free(key);
  ProtobufCMessage *copy = NULL;
  st = mesos__pb_unpack(&mesos__v1__resource__descriptor, ident->key, len, 0, 0, &copy, NULL);
  if (st != MESOS_OK) {
    mesos__free(ident);
    return st;
  }
  ident->refs = 1;
  ident->proto = (Mesos__V1__Resource *)copy;
  x->proto = ident->proto;
  x->key = ident->key;
  x->key_len = len;
  x->type = res->type;
  return MESOS_OK;
}

static bool res_shared(const mesos__res *x) { return x->proto->shared != NULL; }

static mesos__res *find_same(const mesos__resources *r, const uint8_t *key, size_t len) {
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].key_len == len && memcmp(r->v[i].key, key, len) == 0) return &r->v[i];
  return NULL;
}

/* ------------------------------------------------------------ values */

static int range_cmp(const void *a, const void *b) {
  const mesos__range *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static size_t ranges_normalize(mesos__range *v, size_t n) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, range_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (v[out].end == UINT64_MAX || v[i].begin <= v[out].end + 1) {
      if (v[i].end > v[out].end) v[out].end = v[i].end;
    } else {
      v[++out] = v[i];
    }
  }
  return out + 1;
}

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fills x's value from res.  Ranges/items are normalized. */
static mesos_status res_value(mesos__res *x, const Mesos__V1__Resource *res) {
  switch (res->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      x->milli = llround(res->scalar->value * MILLI);
      return MESOS_OK;
    case MESOS__V1__VALUE__TYPE__RANGES: {
      size_t n = res->ranges->n_range;
      x->ranges = mesos__calloc(n ? n : 1, sizeof *x->ranges);
      if (x->ranges == NULL) return MESOS_ENOMEM;
      for (size_t i = 0; i < n; i++) {
        x->ranges[i].begin = res->ranges->range[i]->begin;
        x->ranges[i].end = res->ranges->range[i]->end;
      }
      x->nranges = ranges_normalize(x->ranges, n);
      return MESOS_OK;
    }
    case MESOS__V1__VALUE__TYPE__SET: {
      size_t n = res->set->n_item;
      x->items = mesos__calloc(n ? n : 1, sizeof *x->items);
      if (x->items == NULL) return MESOS_ENOMEM;
      for (size_t i = 0; i < n; i++) {
        x->items[i] = mesos__strdup(res->set->item[i]);
        if (x->items[i] == NULL) {
          x->nitems = i;
          return MESOS_ENOMEM;
        }
      }
      qsort(x->items, n, sizeof *x->items, str_cmp);
      size_t out = 0;
      for (size_t i = 0; i < n; i++) {
        if (out > 0 && strcmp(x->items[out - 1], x->items[i]) == 0) {
          mesos__free(x->items[i]);
          continue;
        }
        x->items[out++] = x->items[i];
      }
      x->nitems = out;
      return MESOS_OK;
    }
    default:
      return MESOS_EINVAL;
  }
}

static bool value_empty(const mesos__res *x) {
  switch (x->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR: return x->milli == 0;
    case MESOS__V1__VALUE__TYPE__RANGES: return x->nranges == 0;
    case MESOS__V1__VALUE__TYPE__SET: return x->nitems == 0;
    default: return true;
  }
}

/* a >= b for values of the same identity. */
static bool value_contains(const mesos__res *a, const mesos__res *b) {
  switch (a->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      return a->milli >= b->milli;
    case MESOS__V1__VALUE__TYPE__RANGES: {
      /* Both normalized: each b range must lie inside one a range. */
      size_t i = 0;
      for (size_t j = 0; j < b->nranges; j++) {
        while (i < a->nranges && a->ranges[i].end < b->ranges[j].begin) i++;
        if (i == a->nranges || a->ranges[i].begin > b->ranges[j].begin ||
            a->ranges[i].end < b->ranges[j].end)
          return false;
      }
      return true;
    }
    case MESOS__V1__VALUE__TYPE__SET: {
      size_t i = 0;
      for (size_t j = 0; j < b->nitems; j++) {
        while (i < a->nitems && strcmp(a->items[i], b->items[j]) < 0) i++;
        if (i == a->nitems || strcmp(a->items[i], b->items[j]) != 0) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

static bool value_equal(const mesos__res *a, const mesos__res *b) {
  return value_contains(a, b) && value_contains(b, a);
}

/* a += b.  On ENOMEM `a` is unchanged. */
static mesos_status value_add(mesos__res *a, const mesos__res *b) {
  switch (a->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      /* Each value is at most 1e15 (validation), but many merged ones
       * could still leave int64: refuse rather than wrap. */
      {
        int64_t sum;
        if (__builtin_add_overflow(a->milli, b->milli, &sum)) return MESOS_ELIMIT;
        a->milli = sum;
      }
      return MESOS_OK;
    case MESOS__V1__VALUE__TYPE__RANGES: {
      size_t n;
      if (!mesos__size_add(&n, a->nranges, b->nranges) || n > RESOURCES_MAX_RANGES)
        return MESOS_ELIMIT;
      mesos__range *v = mesos__calloc(n ? n : 1, sizeof *v);
      if (v == NULL) return MESOS_ENOMEM;
      memcpy(v, a->ranges, a->nranges * sizeof *v);
      memcpy(v + a->nranges, b->ranges, b->nranges * sizeof *v);
      mesos__free(a->ranges);
      a->ranges = v;
      a->nranges = ranges_normalize(v, n);
      return MESOS_OK;
    }
    case MESOS__V1__VALUE__TYPE__SET: {
      size_t n;
      if (!mesos__size_add(&n, a->nitems, b->nitems) || n > RESOURCES_MAX_ITEMS)
        return MESOS_ELIMIT;
      char **v = mesos__calloc(n ? n : 1, sizeof *v);
      if (v == NULL) return MESOS_ENOMEM;
      /* Merge two sorted unique lists. */
      size_t i = 0, j = 0, out = 0;
      while (i < a->nitems || j < b->nitems) {
        int c = i == a->nitems ? 1 : j == b->nitems ? -1 : strcmp(a->items[i], b->items[j]);
        if (c <= 0) {
          v[out++] = a->items[i++];
          if (c == 0) j++;
        } else {
          v[out] = mesos__strdup(b->items[j++]);
          if (v[out] == NULL) {
            /* Undo: free only the new copies. */
            for (size_t k = 0; k < out; k++) {
              bool ours = false;
              for (size_t m = 0; m < a->nitems; m++) ours |= v[k] == a->items[m];
              if (!ours) mesos__free(v[k]);
            }
            mesos__free(v);
            return MESOS_ENOMEM;
          }
          out++;
        }
      }
      mesos__free(a->items);
      a->items = v;
      a->nitems = out;
      return MESOS_OK;
    }
    default:
      return MESOS_EINVAL;
  }
}

/* a -= b, where value_contains(a, b). */
static mesos_status value_subtract(mesos__res *a, const mesos__res *b) {
  switch (a->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      a->milli -= b->milli;
      return MESOS_OK;
    case MESOS__V1__VALUE__TYPE__RANGES: {
      /* Each removal can split one range in two. */
      size_t cap;
      if (!mesos__size_add(&cap, a->nranges, b->nranges)) return MESOS_ELIMIT;
      mesos__range *v = mesos__calloc(cap ? cap : 1, sizeof *v);
      if (v == NULL) return MESOS_ENOMEM;
      size_t out = 0, j = 0;
      for (size_t i = 0; i < a->nranges; i++) {
        uint64_t lo = a->ranges[i].begin, hi = a->ranges[i].end;
        bool alive = true;
        while (alive && j < b->nranges && b->ranges[j].begin <= hi) {
          const mesos__range *rm = &b->ranges[j];
          if (rm->end < lo) {
            j++;
            continue;
          }
          if (rm->begin > lo) v[out++] = (mesos__range){lo, rm->begin - 1};
          if (rm->end >= hi) {
            alive = false;
            if (rm->end == hi) j++;
          } else {
            lo = rm->end + 1;
            j++;
          }
        }
        if (alive) v[out++] = (mesos__range){lo, hi};
      }
      mesos__free(a->ranges);
      a->ranges = v;
      a->nranges = out;
      return MESOS_OK;
    }
    case MESOS__V1__VALUE__TYPE__SET: {
      size_t out = 0, j = 0;
      for (size_t i = 0; i < a->nitems; i++) {
        while (j < b->nitems && strcmp(b->items[j], a->items[i]) < 0) j++;
        if (j < b->nitems && strcmp(b->items[j], a->items[i]) == 0) {
          mesos__free(a->items[i]);
          continue;
        }
        a->items[out++] = a->items[i];
      }
      a->nitems = out;
      return MESOS_OK;
    }
    default:
      return MESOS_EINVAL;
  }
}

/* ------------------------------------------------------------ bags */

static mesos_status res_from_proto(mesos__res *x, const Mesos__V1__Resource *res,
                                   mesos_error **err) {
  memset(x, 0, sizeof *x);
  mesos_status st = mesos__resource_validate(res, err);
  if (st != MESOS_OK) return st;
  st = res_identity(x, res);
  if (st == MESOS_OK) st = res_value(x, res);
  if (st != MESOS_OK) {
    res_free(x);
    return mesos__err(err, st, "resource '%s': %s", res->name, mesos_status_str(st));
  }
  return MESOS_OK;
}

static mesos_status res_clone(mesos__res *dst, const mesos__res *src) {
  memset(dst, 0, sizeof *dst);
  dst->type = src->type;
  dst->milli = src->milli;
  if (src->key) {
    __atomic_add_fetch(&ident_of(src)->refs, 1, __ATOMIC_RELAXED);
    dst->key = src->key;
    dst->key_len = src->key_len;
    dst->proto = src->proto;
  }
  if (src->nranges) {
    dst->ranges = mesos__memdup(src->ranges, src->nranges * sizeof *src->ranges);
    if (dst->ranges == NULL) goto oom;
    dst->nranges = src->nranges;
  }
  if (src->nitems) {
    dst->items = mesos__calloc(src->nitems, sizeof *dst->items);
    if (dst->items == NULL) goto oom;
    for (size_t i = 0; i < src->nitems; i++) {
      dst->items[i] = mesos__strdup(src->items[i]);
      if (dst->items[i] == NULL) goto oom;
      dst->nitems = i + 1;
    }
  }
  return MESOS_OK;
oom:
  res_free(dst);
  return MESOS_ENOMEM;
}

static mesos_status bag_push(mesos__resources *r, mesos__res *x) {
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

static void bag_remove(mesos__resources *r, mesos__res *x) {
  size_t i = (size_t)(x - r->v);
  res_free(x);
  memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
  r->n--;
}

/* Adds an owned mesos__res (consumed in every case). */
static mesos_status bag_add(mesos__resources *r, mesos__res *x) {
  if (value_empty(x)) {
    res_free(x);
    return MESOS_OK;
  }
  mesos__res *same = res_shared(x) ? NULL : find_same(r, x->key, x->key_len);
  if (same) {
    mesos_status st = value_add(same, x);
    res_free(x);
    return st;
  }
  mesos_status st = bag_push(r, x);
  if (st != MESOS_OK) res_free(x);
  return st;
}

mesos_status mesos__resources_add(mesos__resources *r, const Mesos__V1__Resource *res,
                                  mesos_error **err) {
  mesos__res x;
  mesos_status st = res_from_proto(&x, res, err);
  if (st != MESOS_OK) return st;
  st = bag_add(r, &x);
  if (st != MESOS_OK) return mesos__err(err, st, "adding resource '%s'", res->name);
  return MESOS_OK;
}

mesos_status mesos__resources_add_sharing(mesos__resources *r, const Mesos__V1__Resource *res,
                                          const mesos__resources *from, mesos_error **err) {
  Mesos__V1__Resource id = *res;
  id.scalar = NULL;
  id.ranges = NULL;
  id.set = NULL;
  if (id.role && strcmp(id.role, "*") == 0) id.role = NULL; /* as res_identity */
  uint8_t key[256];
  size_t len = protobuf_c_message_get_packed_size(&id.base);
  const mesos__res *same = NULL;
  if (len <= sizeof key) {
    protobuf_c_message_pack(&id.base, key);
    same = find_same(from, key, len);
  }
  if (same == NULL) return mesos__resources_add(r, res, err);
  mesos_status st = mesos__resource_validate(res, err);
  if (st != MESOS_OK) return st;
  mesos__res x;
  memset(&x, 0, sizeof x);
  __atomic_add_fetch(&ident_of(same)->refs, 1, __ATOMIC_RELAXED);
  x.proto = same->proto;
  x.key = same->key;
  x.key_len = same->key_len;
  x.type = res->type;
  st = res_value(&x, res);
  if (st != MESOS_OK) {
    res_free(&x);
    return mesos__err(err, st, "resource '%s': %s", res->name, mesos_status_str(st));
  }
  st = bag_add(r, &x);
  if (st != MESOS_OK) return mesos__err(err, st, "adding resource '%s'", res->name);
  return MESOS_OK;
}

mesos_status mesos__resources_reserve(mesos__resources *r, size_t n) {
  if (r->cap >= n) return MESOS_OK;
  mesos__res *v = mesos__realloc(r->v, n * sizeof *v);
  if (v == NULL) return MESOS_ENOMEM;
  r->v = v;
  r->cap = n;
  return MESOS_OK;
}

void mesos__resources_share_identities(mesos__resources *r, const mesos__resources *from) {
  for (size_t i = 0; i < r->n; i++) {
    mesos__res *x = &r->v[i];
    if (x->key == NULL || res_shared(x)) continue;
    const mesos__res *same = find_same(from, x->key, x->key_len);
    if (same == NULL || same->key == x->key) continue;
    __atomic_add_fetch(&ident_of(same)->refs, 1, __ATOMIC_RELAXED);
    ident_unref(x);
    x->key = same->key;
    x->proto = same->proto;
  }
}

mesos_status mesos__resources_copy(mesos__resources *dst, const mesos__resources *src) {
  mesos__resources_init(dst);
  return mesos__resources_add_all(dst, src);
}

mesos_status mesos__resources_add_all(mesos__resources *r, const mesos__resources *other) {
  /* Into an empty bag (a copy): exactly the room needed.  Tasks and
   * offers keep such copies by the hundred thousand; the default growth
   * (8 entries first) would triple a two-entry bag. */
  if (r->n == 0 && r->cap < other->n) {
    mesos__res *v = mesos__realloc(r->v, other->n * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    r->v = v;
    r->cap = other->n;
  }
  for (size_t i = 0; i < other->n; i++) {
    mesos__res x;
    mesos_status st = res_clone(&x, &other->v[i]);
    if (st == MESOS_OK) st = bag_add(r, &x);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static mesos__res *find_container(const mesos__resources *r, const mesos__res *x) {
  for (size_t i = 0; i < r->n; i++) {
    mesos__res *c = &r->v[i];
    if (c->key_len != x->key_len || memcmp(c->key, x->key, x->key_len) != 0) continue;
    if (res_shared(x) ? value_equal(c, x) : value_contains(c, x)) return c;
  }
  return NULL;
}

static mesos_status bag_subtract(mesos__resources *r, const mesos__res *x, const char *name,
                                 mesos_error **err) {
  if (value_empty(x)) return MESOS_OK;
  mesos__res *c = find_container(r, x);
  if (c == NULL)
    return mesos__err(err, MESOS_EINVAL, "cannot subtract resource '%s': not contained", name);
  if (res_shared(x)) {
    bag_remove(r, c);
    return MESOS_OK;
  }
  mesos_status st = value_subtract(c, x);
  if (st != MESOS_OK) return mesos__err(err, st, "subtracting resource '%s'", name);
  if (value_empty(c)) bag_remove(r, c);
  return MESOS_OK;
}

mesos_status mesos__resources_subtract(mesos__resources *r, const Mesos__V1__Resource *res,
                                       mesos_error **err) {
  mesos__res x;
  mesos_status st = res_from_proto(&x, res, err);
  if (st != MESOS_OK) return st;
  st = bag_subtract(r, &x, res->name, err);
  res_free(&x);
  return st;
}

mesos_status mesos__resources_subtract_all(mesos__resources *r, const mesos__resources *other,
                                           mesos_error **err) {
  /* All or nothing: check first, then subtract. */
  if (!mesos__resources_contains_all(r, other))
    return mesos__err(err, MESOS_EINVAL, "cannot subtract resources: not contained");
  for (size_t i = 0; i < other->n; i++) {
    mesos_status st = bag_subtract(r, &other->v[i], other->v[i].proto->name, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

bool mesos__resources_contains(const mesos__resources *r, const Mesos__V1__Resource *res) {
  mesos__res x;
  if (res_from_proto(&x, res, NULL) != MESOS_OK) return false;
  bool ok = value_empty(&x) || find_container(r, &x) != NULL;
  res_free(&x);
  return ok;
}

bool mesos__resources_contains_all(const mesos__resources *r, const mesos__resources *other) {
  /* Non-shared identities are unique within a bag, so a per-item check is
   * exact.  Shared copies each need their own container. */
  size_t shared_needed = 0;
  for (size_t i = 0; i < other->n; i++) {
    if (res_shared(&other->v[i])) {
      shared_needed++;
      continue;
    }
    if (find_container(r, &other->v[i]) == NULL) return false;
  }
  if (shared_needed == 0) return true;
  bool *used = mesos__calloc(r->n ? r->n : 1, sizeof *used);
  if (used == NULL) return false;
  bool ok = true;
  for (size_t i = 0; i < other->n && ok; i++) {
    const mesos__res *x = &other->v[i];
    if (!res_shared(x)) continue;
    ok = false;
    for (size_t k = 0; k < r->n && !ok; k++) {
      const mesos__res *c = &r->v[k];
      if (used[k] || c->key_len != x->key_len || memcmp(c->key, x->key, x->key_len) != 0)
        continue;
      if (value_equal(c, x)) ok = used[k] = true;
    }
  }
  mesos__free(used);
  return ok;
}

bool mesos__resources_equal(const mesos__resources *a, const mesos__resources *b) {
  return a->n == b->n && mesos__resources_contains_all(a, b) &&
         mesos__resources_contains_all(b, a);
}

int64_t mesos__resources_scalar_milli(const mesos__resources *r, const char *name) {
  int64_t sum = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].type == MESOS__V1__VALUE__TYPE__SCALAR && strcmp(r->v[i].proto->name, name) == 0)
      sum += r->v[i].milli;
  return sum;
}

/* ------------------------------------------------------------ to protobuf */

mesos_status mesos__res_to_proto(const mesos__res *x, Mesos__V1__Resource **out) {
  ProtobufCMessage *copy = NULL;
  mesos_status st =
      mesos__pb_unpack(&mesos__v1__resource__descriptor, x->key, x->key_len, 0, 0, &copy, NULL);
  if (st != MESOS_OK) return st;
  Mesos__V1__Resource *res = (Mesos__V1__Resource *)copy;
  ProtobufCAllocator *a = &mesos__pb_allocator;
  /* Attach the value with the same allocator, so protobuf-c frees it with
   * the rest of the message. */
  switch (x->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR: {
      Mesos__V1__Value__Scalar *s = a->alloc(a->allocator_data, sizeof *s);
      if (s == NULL) goto oom;
      mesos__v1__value__scalar__init(s);
      s->value = (double)x->milli / MILLI;
      res->scalar = s;
      break;
    }
    case MESOS__V1__VALUE__TYPE__RANGES: {
      Mesos__V1__Value__Ranges *rs = a->alloc(a->allocator_data, sizeof *rs);
      if (rs == NULL) goto oom;
      mesos__v1__value__ranges__init(rs);
      res->ranges = rs;
      if (x->nranges) {
        rs->range = a->alloc(a->allocator_data, x->nranges * sizeof *rs->range);
        if (rs->range == NULL) goto oom;
        for (size_t i = 0; i < x->nranges; i++) {
          Mesos__V1__Value__Range *rg = a->alloc(a->allocator_data, sizeof *rg);
          if (rg == NULL) goto oom;
          mesos__v1__value__range__init(rg);
          rg->begin = x->ranges[i].begin;
          rg->end = x->ranges[i].end;
          rs->range[rs->n_range++] = rg;
        }
      }
      break;
    }
    case MESOS__V1__VALUE__TYPE__SET: {
      Mesos__V1__Value__Set *s = a->alloc(a->allocator_data, sizeof *s);
      if (s == NULL) goto oom;
      mesos__v1__value__set__init(s);
      res->set = s;
      if (x->nitems) {
        s->item = a->alloc(a->allocator_data, x->nitems * sizeof *s->item);
        if (s->item == NULL) goto oom;
        for (size_t i = 0; i < x->nitems; i++) {
          size_t len = strlen(x->items[i]) + 1;
          char *item = a->alloc(a->allocator_data, len);
          if (item == NULL) goto oom;
          memcpy(item, x->items[i], len);
          s->item[s->n_item++] = item;
        }
      }
      break;
    }
    default:
      break;
  }
  *out = res;
  return MESOS_OK;
oom:
  mesos__pb_free(res);
  return MESOS_ENOMEM;
}

mesos_status mesos__resources_to_protos(const mesos__resources *r, Mesos__V1__Resource ***out,
                                        size_t *n, mesos_error **err) {
  Mesos__V1__Resource **v = mesos__calloc(r->n ? r->n : 1, sizeof *v);
  if (v == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (size_t i = 0; i < r->n; i++) {
    if (mesos__res_to_proto(&r->v[i], &v[i]) != MESOS_OK) {
      for (size_t k = 0; k < i; k++) mesos__pb_free(v[k]);
      mesos__free(v);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
  }
  *out = v;
  *n = r->n;
  return MESOS_OK;
}

/* ------------------------------------------------------------ text */

static void format_scalar(int64_t milli, char *buf, size_t cap) {
  if (milli % MILLI == 0) {
    snprintf(buf, cap, "%lld", (long long)(milli / MILLI));
    return;
  }
  snprintf(buf, cap, "%lld.%03lld", (long long)(milli / MILLI), (long long)(milli % MILLI));
  char *end = buf + strlen(buf) - 1;
  while (*end == '0') *end-- = '\0';
}

mesos_status mesos__resources_format(const mesos__resources *r, char **out) {
  mesos__buf b = MESOS__BUF_INIT(RESOURCES_MAX_TEXT * 4);
  mesos_status st = MESOS_OK;
  for (size_t i = 0; i < r->n && st == MESOS_OK; i++) {
    const mesos__res *x = &r->v[i];
    if (i) st = mesos__buf_puts(&b, "; ");
    if (st == MESOS_OK)
      st = mesos__buf_printf(&b, "%s(%s):", x->proto->name, mesos__resource_role(x->proto));
    if (st != MESOS_OK) break;
    switch (x->type) {
      case MESOS__V1__VALUE__TYPE__SCALAR: {
        char num[64];
        format_scalar(x->milli, num, sizeof num);
        st = mesos__buf_puts(&b, num);
        break;
      }
      case MESOS__V1__VALUE__TYPE__RANGES:
        st = mesos__buf_putc(&b, '[');
        for (size_t k = 0; k < x->nranges && st == MESOS_OK; k++)
          st = mesos__buf_printf(&b, "%s%llu-%llu", k ? ", " : "",
                                 (unsigned long long)x->ranges[k].begin,
                                 (unsigned long long)x->ranges[k].end);
        if (st == MESOS_OK) st = mesos__buf_putc(&b, ']');
        break;
      case MESOS__V1__VALUE__TYPE__SET:
        st = mesos__buf_putc(&b, '{');
        for (size_t k = 0; k < x->nitems && st == MESOS_OK; k++)
          st = mesos__buf_printf(&b, "%s%s", k ? ", " : "", x->items[k]);
        if (st == MESOS_OK) st = mesos__buf_putc(&b, '}');
        break;
      default:
        break;
    }
  }
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    return st;
  }
  *out = mesos__buf_detach(&b, NULL);
  return *out ? MESOS_OK : MESOS_ENOMEM;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
  return s;
}

/* Splits at `sep` like strsep: returns the next piece (possibly empty) and
 * advances *p, or NULL at the end.  Empty pieces are kept (unlike the C
 * library tokenizer), so
 * "{a,,b}" is seen as malformed. */
static char *next_piece(char **p, char sep) {
  char *s = *p;
  if (s == NULL) return NULL;
  char *e = strchr(s, sep);
  if (e) {
    *e = '\0';
    *p = e + 1;
  } else {
    *p = NULL;
  }
  return s;
}

static mesos_status parse_u64(const char *s, uint64_t *out) {
  if (!isdigit((unsigned char)*s)) return MESOS_EINVAL;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0') return MESOS_EINVAL;
  *out = v;
  return MESOS_OK;
}

/* Parses one "name(role):value" entry into `res` (fields point into
 * `entry` and the caller's arrays). */
static mesos_status parse_entry(mesos__resources *r, char *entry, const char *default_role,
                                mesos_error **err) {
  char *colon = strchr(entry, ':');
  if (colon == NULL)
    return mesos__err(err, MESOS_EINVAL, "resources: '%s' is not name:value", entry);
  *colon = '\0';
  char *name = trim(entry);
  char *value = trim(colon + 1);
  const char *role = default_role ? default_role : "*";
  char *paren = strchr(name, '(');
  if (paren) {
    char *close = strchr(paren, ')');
    if (close == NULL || close[1] != '\0')
      return mesos__err(err, MESOS_EINVAL, "resources: bad role in '%s'", name);
    *paren = '\0';
    *close = '\0';
    role = trim(paren + 1);
    name = trim(name);
  }
  if (*name == '\0') return mesos__err(err, MESOS_EINVAL, "resources: empty resource name");
  if (*value == '\0')
    return mesos__err(err, MESOS_EINVAL, "resources: '%s' has no value", name);

  Mesos__V1__Resource res = MESOS__V1__RESOURCE__INIT;
  Mesos__V1__Value__Scalar scalar = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Value__Ranges ranges = MESOS__V1__VALUE__RANGES__INIT;
  Mesos__V1__Value__Set set = MESOS__V1__VALUE__SET__INIT;
  res.name = name;
  res.role = (char *)role;
  mesos_status st = MESOS_OK;
  Mesos__V1__Value__Range *rv = NULL, **rp = NULL;
  char **items = NULL;

  if (value[0] == '[') {
    size_t len = strlen(value);
    if (value[len - 1] != ']')
      return mesos__err(err, MESOS_EINVAL, "resources: '%s': ranges must end with ']'", name);
    value[len - 1] = '\0';
    char *body = value + 1;
    size_t n = 1;
    for (char *p = body; *p; p++) n += *p == ',';
    if (n > RESOURCES_MAX_RANGES)
      return mesos__err(err, MESOS_EINVAL, "resources: '%s': too many ranges", name);
    rv = mesos__calloc(n, sizeof *rv);
    rp = mesos__calloc(n, sizeof *rp);
    if (rv == NULL || rp == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto out;
    }
    size_t k = 0;
    char *cursor = body;
    for (char *tok; (tok = next_piece(&cursor, ',')) != NULL;) {
      char *t = trim(tok);
      char *dash = strchr(t, '-');
      uint64_t b, e;
      if (dash == NULL) {
        st = mesos__err(err, MESOS_EINVAL, "resources: '%s': range '%s' is not begin-end", name,
                        t);
        goto out;
      }
      *dash = '\0';
      if (parse_u64(trim(t), &b) != MESOS_OK || parse_u64(trim(dash + 1), &e) != MESOS_OK ||
          b > e) {
        st = mesos__err(err, MESOS_EINVAL, "resources: '%s': bad range '%s-%s'", name, t,
                        dash + 1);
        goto out;
      }
      mesos__v1__value__range__init(&rv[k]);
      rv[k].begin = b;
      rv[k].end = e;
      rp[k] = &rv[k];
      k++;
    }
    ranges.n_range = k;
    ranges.range = rp;
    res.type = MESOS__V1__VALUE__TYPE__RANGES;
    res.ranges = &ranges;
  } else if (value[0] == '{') {
    size_t len = strlen(value);
    if (value[len - 1] != '}')
      return mesos__err(err, MESOS_EINVAL, "resources: '%s': set must end with '}'", name);
    value[len - 1] = '\0';
    char *body = value + 1;
    size_t n = 1;
    for (char *p = body; *p; p++) n += *p == ',';
    if (n > RESOURCES_MAX_ITEMS)
      return mesos__err(err, MESOS_EINVAL, "resources: '%s': too many items", name);
    items = mesos__calloc(n, sizeof *items);
    if (items == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto out;
    }
    size_t k = 0;
    char *cursor = body;
    for (char *tok; (tok = next_piece(&cursor, ',')) != NULL;) {
      char *t = trim(tok);
      if (*t == '\0') {
        st = mesos__err(err, MESOS_EINVAL, "resources: '%s': empty set item", name);
        goto out;
      }
      items[k++] = t;
    }
    set.n_item = k;
    set.item = items;
    res.type = MESOS__V1__VALUE__TYPE__SET;
    res.set = &set;
  } else {
    char *end;
    double v = strtod(value, &end);
    if (*end != '\0' || end == value)
      return mesos__err(err, MESOS_EINVAL, "resources: '%s': '%s' is not a number", name,
                        value);
    scalar.value = v;
    res.type = MESOS__V1__VALUE__TYPE__SCALAR;
    res.scalar = &scalar;
  }
  st = mesos__resources_add(r, &res, err);
out:
  mesos__free(rv);
  mesos__free(rp);
  mesos__free(items);
  return st;
}

mesos_status mesos__resources_parse(mesos__resources *r, const char *text,
                                     const char *default_role, mesos_error **err) {
  if (text == NULL) return mesos__err(err, MESOS_EINVAL, "resources: NULL text");
  size_t len = strlen(text);
  if (len > RESOURCES_MAX_TEXT)
    return mesos__err(err, MESOS_EINVAL, "resources: text longer than %u bytes",
                      RESOURCES_MAX_TEXT);
  char *copy = mesos__strdup(text);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__resources tmp;
  mesos__resources_init(&tmp);
  mesos_status st = MESOS_OK;
  char *cursor = copy;
  for (char *tok; st == MESOS_OK && (tok = next_piece(&cursor, ';')) != NULL;) {
    char *t = trim(tok);
    if (*t == '\0') continue;
    st = parse_entry(&tmp, t, default_role, err);
  }
  mesos__free(copy);
  if (st == MESOS_OK) st = mesos__resources_add_all(r, &tmp);
  mesos__resources_free(&tmp);
  return st;
}
