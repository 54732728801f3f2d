/*
 * The compact task record (task_body.h): bodies and the shared pieces
 * they point at.
 *
 * Interns live in one string map per kind on the master, keyed by what
 * makes them equal: the id or string itself, or for a resource list the
 * hex of its protobuf encoding (equal encodings are equal lists; a list
 * is encoded once per task to find its intern, ~100 bytes, far less than
 * the copy it saves).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/map.h"
#include "codec/pb.h"
#include "master/master_int.h"
#include "master/slab.h"
#include "resources/resources_int.h"

enum { I_FID, I_AID, I_STR, I_RES, I_KINDS };

struct mesos__intern {
  uint32_t refs;
  uint8_t kind;
  union {
    Mesos__V1__FrameworkID fid; /* value = key */
    Mesos__V1__AgentID aid;     /* value = key */
    struct {
      Mesos__V1__Task *holder;  /* compact copy holding only the list */
      mesos_resources *bag;     /* the list without allocation roles */
    } res;
  } u;
  char key[]; /* I_STR: the string; I_FID / I_AID: the id */
};

struct mesos__interns {
  mesos__map maps[I_KINDS];
  /* Resource identities agents' total bags share (mesos__agent_total_new):
   * the latest total that had an identity this one lacked. */
  mesos_resources *idents;
  mesos__slab *slab; /* task records and bodies (slab.h) */
};

/* Longest resource list encoding interned; a longer one (thousands of
 * ranges) gets an intern of its own under a unique key instead. */
#define RES_KEY_MAX 4096

static struct mesos__interns *tables(mesos_master *m) {
  if (m->interns == NULL) {
    m->interns = MESOS__NEW(struct mesos__interns);
    if (m->interns)
      for (int k = 0; k < I_KINDS; k++) mesos__map_init(&m->interns->maps[k]);
  }
  return m->interns;
}

mesos__slab *mesos__master_slab(mesos_master *m) {
  struct mesos__interns *t = tables(m);
  if (t && t->slab == NULL) t->slab = mesos__slab_new();
  return t ? t->slab : NULL;
}

/* Bytes of a usual body (its strings follow it). */
static size_t body_size(const mesos__task_body *b) {
  size_t n = sizeof *b + strlen(b->tid.value) + 1;
  if (b->name && b->name != b->tid.value) n += strlen(b->name) + 1;
  if (b->eid.value && b->eid.value != b->tid.value) n += strlen(b->eid.value) + 1;
  return n;
}

static void intern_destroy(mesos__intern *i) {
  if (i->kind == I_RES) {
    mesos__pb_free(i->u.res.holder);
    mesos_resources_free(i->u.res.bag);
  }
  mesos__free(i);
}

static void unref(mesos_master *m, mesos__intern *i) {
  if (i == NULL || --i->refs > 0) return;
  if (m->interns) mesos__map_remove(&m->interns->maps[i->kind], i->key);
  intern_destroy(i);
}

/* The intern of `kind` for `key`, a new reference; NULL when out of
 * memory.  A new one is made by `init` (may fail: NULL). */
static mesos__intern *get(mesos_master *m, int kind, const char *key) {
  struct mesos__interns *t = tables(m);
  if (t == NULL) return NULL;
  mesos__intern *i = mesos__map_get(&t->maps[kind], key);
  if (i) {
    i->refs++;
    return i;
  }
  size_t n = strlen(key);
  i = mesos__calloc(1, sizeof *i + n + 1);
  if (i == NULL) return NULL;
  memcpy(i->key, key, n + 1);
  i->refs = 1;
  i->kind = (uint8_t)kind;
  if (kind == I_FID) {
    mesos__v1__framework_id__init(&i->u.fid);
    i->u.fid.value = i->key;
  } else if (kind == I_AID) {
    mesos__v1__agent_id__init(&i->u.aid);
    i->u.aid.value = i->key;
  }
  return i;
}

static mesos_status publish(mesos_master *m, mesos__intern *i) {
  if (mesos__map_put(&m->interns->maps[i->kind], i->key, i) != MESOS_OK) {
    intern_destroy(i);
    return MESOS_ENOMEM;
  }
  return MESOS_OK;
}

static mesos__intern *get_str(mesos_master *m, int kind, const char *s) {
  mesos__intern *i = get(m, kind, s);
  if (i == NULL || i->refs > 1) return i;
  return publish(m, i) == MESOS_OK ? i : NULL;
}

const char *mesos__intern_str(mesos_master *m, const char *s) {
  mesos__intern *i = get_str(m, I_STR, s);
  return i ? i->key : NULL;
}

void mesos__intern_str_release(mesos_master *m, const char *s) {
  if (s == NULL) return;
  unref(m, (mesos__intern *)(void *)(s - offsetof(mesos__intern, key)));
}

/* The intern of a resource list (n > 0). */
static mesos__intern *get_res(mesos_master *m, Mesos__V1__Resource *const *v, size_t n) {
  Mesos__V1__Task holder = MESOS__V1__TASK__INIT;
  holder.n_resources = n;
  holder.resources = (Mesos__V1__Resource **)v;
  size_t len = protobuf_c_message_get_packed_size(&holder.base);
  static unsigned long long unique;
  char *key = mesos__malloc(len <= RES_KEY_MAX ? 2 * len + 1 : 32);
  if (key == NULL) return NULL;
  if (len <= RES_KEY_MAX) {
    uint8_t stack[512], *bytes = len <= sizeof stack ? stack : mesos__malloc(len);
    if (bytes == NULL) {
      mesos__free(key);
      return NULL;
    }
    protobuf_c_message_pack(&holder.base, bytes);
    static const char hex[] = "0123456789abcdef";
    for (size_t k = 0; k < len; k++) {
      key[2 * k] = hex[bytes[k] >> 4];
      key[2 * k + 1] = hex[bytes[k] & 15];
    }
    key[2 * len] = '\0';
    if (bytes != stack) mesos__free(bytes);
  } else {
    /* Never equal to a hex key (odd characters). */
    snprintf(key, 32, "!%llu", ++unique);
  }
  mesos__intern *i = get(m, I_RES, key);
  mesos__free(key);
  if (i == NULL || i->refs > 1) return i;
  ProtobufCMessage *copy = NULL;
  mesos_status st = mesos__pb_clone_compact(&holder.base, &copy, NULL);
  if (st == MESOS_OK) {
    i->u.res.holder = (Mesos__V1__Task *)copy;
    st = mesos_resources_new(&i->u.res.bag, NULL);
  }
  for (size_t k = 0; st == MESOS_OK && k < n; k++) {
    Mesos__V1__Resource r = *v[k];
    r.allocation_info = NULL;
    st = mesos__resources_add(&i->u.res.bag->r, &r, NULL);
  }
  if (st != MESOS_OK) {
    intern_destroy(i);
    return NULL;
  }
  return publish(m, i) == MESOS_OK ? i : NULL;
}

static bool plain_id(const ProtobufCMessage *id, const char *value) {
  return id->n_unknown_fields == 0 && value != NULL;
}

/* Whether the task is "usual": nothing beyond what a body keeps. */
static bool usual(const Mesos__V1__Task *t) {
  return t->base.n_unknown_fields == 0 && t->task_id && plain_id(&t->task_id->base, t->task_id->value) &&
         (t->executor_id == NULL || plain_id(&t->executor_id->base, t->executor_id->value)) &&
         t->n_statuses == 0 && !t->has_status_update_uuid && t->labels == NULL &&
         t->discovery == NULL && t->container == NULL && t->health_check == NULL &&
         t->kill_policy == NULL && t->n_limits == 0;
}

static mesos_status body_full(const Mesos__V1__Task *msg, const char *framework_id,
                              const char *agent_id, mesos__task_body **out) {
  mesos__task_body *b = MESOS__NEW(mesos__task_body);
  if (b == NULL) return MESOS_ENOMEM;
  Mesos__V1__Task t = *msg;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  fid.value = (char *)framework_id;
  aid.value = (char *)agent_id;
  t.framework_id = &fid;
  t.agent_id = &aid;
  ProtobufCMessage *copy = NULL;
  mesos_status st = mesos__pb_clone_compact(&t.base, &copy, NULL);
  if (st != MESOS_OK) {
    mesos__free(b);
    return st;
  }
  b->full = (Mesos__V1__Task *)copy;
  *out = b;
  return MESOS_OK;
}

mesos_status mesos__task_body_new(mesos_master *m, const Mesos__V1__Task *msg,
                                  const char *framework_id, const char *agent_id,
                                  mesos__task_body **out) {
  if (msg->task_id == NULL || msg->task_id->value == NULL) return MESOS_EINVAL;
  if (!usual(msg)) return body_full(msg, framework_id, agent_id, out);
  const char *tid = msg->task_id->value;
  const char *name = msg->name;
  const char *eid = msg->executor_id ? msg->executor_id->value : NULL;
  /* The name and the command executor's id are usually the task id:
   * stored once. */
  size_t ltid = strlen(tid) + 1;
  size_t lname = name && strcmp(name, tid) != 0 ? strlen(name) + 1 : 0;
  size_t leid = eid && strcmp(eid, tid) != 0 ? strlen(eid) + 1 : 0;
  mesos__slab *slab = mesos__master_slab(m);
  mesos__task_body *b = slab ? mesos__slab_alloc(slab, sizeof *b + ltid + lname + leid) : NULL;
  if (b == NULL) return MESOS_ENOMEM;
  mesos__v1__task_id__init(&b->tid);
  mesos__v1__executor_id__init(&b->eid);
  char *p = b->data;
  memcpy(p, tid, ltid);
  b->tid.value = p;
  p += ltid;
  if (name) {
    if (lname) {
      memcpy(p, name, lname);
      b->name = p;
      p += lname;
    } else {
      b->name = b->tid.value;
    }
  }
  if (eid) {
    if (leid) {
      memcpy(p, eid, leid);
      b->eid.value = p;
    } else {
      b->eid.value = b->tid.value;
    }
  }
  b->fid = get_str(m, I_FID, framework_id);
  b->aid = get_str(m, I_AID, agent_id);
  mesos_status st = b->fid && b->aid ? MESOS_OK : MESOS_ENOMEM;
  if (st == MESOS_OK && msg->user && (b->user = get_str(m, I_STR, msg->user)) == NULL)
    st = MESOS_ENOMEM;
  if (st == MESOS_OK && msg->n_resources &&
      (b->res = get_res(m, msg->resources, msg->n_resources)) == NULL)
    st = MESOS_ENOMEM;
  if (st != MESOS_OK) {
    mesos__task_body_free(m, b);
    return st;
  }
  *out = b;
  return MESOS_OK;
}

void mesos__task_body_free(mesos_master *m, mesos__task_body *b) {
  if (b == NULL) return;
  if (b->full) {
    mesos__pb_free(b->full);
    mesos__free(b);
    return;
  }
  unref(m, b->fid);
  unref(m, b->aid);
  unref(m, b->user);
  unref(m, b->res);
  mesos__slab_free(m->interns->slab, b, body_size(b));
}

void mesos__task_body_view(const mesos__task_body *b, int32_t state, bool has_su_state,
                           int32_t su_state, Mesos__V1__Task *view) {
  if (b->full) {
    *view = *b->full;
  } else {
    mesos__v1__task__init(view);
    view->name = (char *)b->name;
    view->task_id = (Mesos__V1__TaskID *)&b->tid;
    view->framework_id = (Mesos__V1__FrameworkID *)&b->fid->u.fid;
    view->agent_id = (Mesos__V1__AgentID *)&b->aid->u.aid;
    view->executor_id = b->eid.value ? (Mesos__V1__ExecutorID *)&b->eid : NULL;
    if (b->res) {
      view->n_resources = b->res->u.res.holder->n_resources;
      view->resources = b->res->u.res.holder->resources;
    }
    view->user = b->user ? (char *)b->user->key : NULL;
  }
  view->state = (Mesos__V1__TaskState)state;
  view->has_status_update_state = has_su_state;
  view->status_update_state = has_su_state ? (Mesos__V1__TaskState)su_state
                                           : MESOS__V1__TASK_STATE__TASK_STAGING;
}

const char *mesos__task_body_user(const mesos__task_body *b) {
  if (b->full) return b->full->user;
  return b->user ? b->user->key : NULL;
}

const mesos_resources *mesos__task_body_bag(const mesos__task_body *b) {
  return b->full == NULL && b->res ? b->res->u.res.bag : NULL;
}

mesos_status mesos__agent_total_new(mesos_master *m, const Mesos__V1__AgentInfo *info,
                                    mesos_resources **out, mesos_error **err) {
  struct mesos__interns *t = tables(m);
  if (t == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_resources *r = NULL;
  mesos_status st = mesos_resources_new(&r, err);
  if (st == MESOS_OK && mesos__resources_reserve(&r->r, info->n_resources) != MESOS_OK)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (size_t i = 0; st == MESOS_OK && i < info->n_resources; i++)
    st = t->idents ? mesos__resources_add_sharing(&r->r, info->resources[i], &t->idents->r, err)
                   : mesos__resources_add(&r->r, info->resources[i], err);
  if (st != MESOS_OK) {
    mesos_resources_free(r);
    return st;
  }
  /* Merged entries leave room unused: a total lives as long as its agent. */
  if (r->r.n && r->r.n < r->r.cap) {
    mesos__res *v = mesos__realloc(r->r.v, r->r.n * sizeof *v);
    if (v) {
      r->r.v = v;
      r->r.cap = r->r.n;
    }
  }
  /* An identity the pool lacks: this total becomes the pool (a copy
   * holding references, no values read), so a cluster of alike agents
   * shares one set of identities. */
  bool all = t->idents != NULL;
  for (size_t i = 0; all && i < r->r.n; i++) {
    bool found = false;
    for (size_t j = 0; !found && j < t->idents->r.n; j++)
      found = t->idents->r.v[j].key == r->r.v[i].key;
    all = found;
  }
  mesos_resources *pool = NULL;
  if (!all && r->r.n && mesos_resources_clone(&pool, r, NULL) == MESOS_OK) {
    mesos_resources_free(t->idents);
    t->idents = pool;
  }
  *out = r;
  return MESOS_OK;
}

void mesos__interns_fini(mesos_master *m) {
  if (m->interns == NULL) return;
  mesos_resources_free(m->interns->idents);
  mesos__slab_destroy(m->interns->slab);
  for (int k = 0; k < I_KINDS; k++) {
    mesos__map *map = &m->interns->maps[k];
    size_t it = 0;
    void *v;
    /* Nothing should be left once every body is gone; whatever is (a
     * leak elsewhere) is freed rather than kept. */
    while (mesos__map_next(map, &it, NULL, &v)) intern_destroy(v);
    mesos__map_free(map);
  }
  mesos__free(m->interns);
  m->interns = NULL;
}

size_t mesos__interns_count(const mesos_master *m) {
  size_t n = 0;
  for (int k = 0; m->interns && k < I_KINDS; k++) n += mesos__map_count(&m->interns->maps[k]);
  return n;
}
