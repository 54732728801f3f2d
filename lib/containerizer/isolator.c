/*
 * The vendor isolator registry and pending completions.
 *
 * The registry is process-wide so `--isolation=<name>` can name an isolator
 * that a host program registered before creating its agent; a containerizer
 * copies the entry and holds a reference, so an isolator cannot be
 * unregistered (and its ud destroyed) under a running containerizer.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "containerizer/isolator_int.h"

/* A handful of vendor isolators is the realistic case; the cap keeps the
 * table static. */
#define MAX_VENDOR 32

typedef struct entry {
  int used;
  int refs;
  mesos__isolator iso;
} entry;

static entry g_table[MAX_VENDOR];

static int name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > MESOS__ISOLATOR_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '/' || c == '-'))
      return 0;
  }
  return 1;
}

static entry *find(const char *name) {
  for (int i = 0; i < MAX_VENDOR; i++)
    if (g_table[i].used && strcmp(g_table[i].iso.name, name) == 0) return &g_table[i];
  return NULL;
}

MESOS_EXTERN(mesos_status) mesos_isolator_register(const char *name,
                                                   const mesos_isolator_ops *ops, void *ud,
                                                   mesos_error **err) {
  if (!name_ok(name))
    return mesos__err(err, MESOS_EINVAL,
                      "mesos_isolator_register: bad name '%s' (1..%d characters of [a-z0-9_/-])",
                      name ? name : "(null)", MESOS__ISOLATOR_NAME_MAX);
  if (ops == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_isolator_register: NULL ops");
  if (ops->version != MESOS_ISOLATOR_OPS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_isolator_ops: version %u not supported (this library: %u)",
                      ops->version, MESOS_ISOLATOR_OPS_VERSION);
  if (ops->prepare == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_isolator_ops: required member 'prepare' is NULL");
  if (ops->cleanup == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_isolator_ops: required member 'cleanup' is NULL");
  if (mesos__builtin_isolator_known(name) || find(name))
    return mesos__err(err, MESOS_EEXIST, "mesos_isolator_register: '%s' is already registered",
                      name);
  for (int i = 0; i < MAX_VENDOR; i++) {
    if (g_table[i].used) continue;
    memset(&g_table[i], 0, sizeof g_table[i]);
    g_table[i].used = 1;
    memcpy(g_table[i].iso.name, name, strlen(name) + 1);
    g_table[i].iso.ops = *ops;
    g_table[i].iso.ud = ud;
    g_table[i].iso.vendor = 1;
    return MESOS_OK;
  }
  return mesos__err(err, MESOS_ELIMIT, "mesos_isolator_register: more than %d isolators",
                    MAX_VENDOR);
}

MESOS_EXTERN(mesos_status) mesos_isolator_unregister(const char *name, mesos_error **err) {
  entry *e = name ? find(name) : NULL;
  if (e == NULL)
    return mesos__err(err, MESOS_ENOTFOUND, "mesos_isolator_unregister: no isolator '%s'",
                      name ? name : "(null)");
  if (e->refs > 0)
    return mesos__err(err, MESOS_EBUSY,
                      "mesos_isolator_unregister: '%s' is used by %d containerizer(s)", name,
                      e->refs);
  if (e->iso.ops.destroy) e->iso.ops.destroy(e->iso.ud);
  memset(e, 0, sizeof *e);
  return MESOS_OK;
}

mesos_status mesos__isolator_get(const char *name, mesos__isolator *out) {
  entry *e = find(name);
  if (e == NULL) return MESOS_ENOTFOUND;
  e->refs++;
  *out = e->iso;
  return MESOS_OK;
}

void mesos__isolator_put(const char *name) {
  entry *e = find(name);
  if (e && e->refs > 0) e->refs--;
}

mesos_isolator_pending *mesos__pending_new(void) {
  mesos_isolator_pending *p = MESOS__NEW(mesos_isolator_pending);
  if (p) p->refs = 2;
  return p;
}

void mesos__pending_unref(mesos_isolator_pending *p) {
  if (p && --p->refs == 0 && !p->on_stack) mesos__free(p);
}

MESOS_EXTERN(void) mesos_isolator_pending_done(mesos_isolator_pending *p, mesos_status status,
                                               const char *message) {
  if (p == NULL || p->done) return;
  p->done = 1;
  p->status = status;
  if (message) {
    size_t n = strlen(message);
    if (n >= sizeof p->message) n = sizeof p->message - 1;
    memcpy(p->message, message, n);
    p->message[n] = '\0';
  }
  mesos__pending_unref(p);
}
