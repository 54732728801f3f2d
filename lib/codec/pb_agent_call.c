/*
 * The REREGISTER fast path (pb_agent_call.h).
 *
 * Steps: (1) walk the AgentCall's top-level fields, taking only the shape
 * an agent sends (protocol_version, type REREGISTER, agent_id,
 * reregister_agent once, connection_id); (2) walk reregister_agent,
 * setting its `tasks` entries aside and copying every other field into a
 * second buffer, the call without its tasks; (3) protobuf-c decodes that
 * buffer into an arena; (4) each task is decoded by hand into the same
 * arena.  Any surprise answers NULL before anything is kept, and the
 * caller's ordinary decode of the original bytes decides.
 */
#include "codec/pb_agent_call.h"

#include <string.h>

#include "base/alloc.h"
#include "codec/arena.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/v1/mesos.pb-c.h"

/* ------------------------------------------------------------ wire */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct wire_field {
  uint32_t num;
  int wt;
  uint64_t v;         /* WT_VARINT */
  const uint8_t *val; /* WT_LEN: the bytes */
  size_t len;
  const uint8_t *start, *end; /* the whole field, tag included */
} wire_field;

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    if (shift == 63 && b > 1) return false; /* past 64 bits */
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* The next field at *p; false at malformed bytes or a group. */
static bool next_field(const uint8_t **p, const uint8_t *end, wire_field *f) {
  f->start = *p;
  uint64_t tag;
  if (!read_varint(p, end, &tag)) return false;
  if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
  f->num = (uint32_t)(tag >> 3);
  f->wt = (int)(tag & 7);
  switch (f->wt) {
    case WT_VARINT:
      if (!read_varint(p, end, &f->v)) return false;
      break;
    case WT_I64:
    case WT_I32: {
      size_t n = f->wt == WT_I64 ? 8 : 4;
      if ((size_t)(end - *p) < n) return false;
      *p += n;
      break;
    }
    case WT_LEN: {
      uint64_t n;
      if (!read_varint(p, end, &n) || n > (uint64_t)(end - *p)) return false;
      f->val = *p;
      f->len = (size_t)n;
      *p += n;
      break;
    }
    default:
      return false;
  }
  f->end = *p;
  return true;
}

static uint8_t *put_varint(uint8_t *o, uint64_t v) {
  while (v >= 0x80) {
    *o++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *o++ = (uint8_t)v;
  return o;
}

/* ------------------------------------------------------------ tasks */

typedef struct res_cache {
  const uint8_t **slices; /* the previous task's resource fields (tag..end) */
  size_t *lens;
  size_t n, cap;
  Mesos__V1__Resource **decoded; /* their messages, shared */
} res_cache;

static char *arena_str(mesos__pb_arena *a, const uint8_t *p, size_t n) {
  char *s = mesos__pb_arena_alloc_bytes(a, n + 1);
  if (s == NULL) return NULL;
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

/* An id message (TaskID, FrameworkID, ...): exactly one `value` field. */
static char *id_value(mesos__pb_arena *a, const uint8_t *p, size_t n) {
  const uint8_t *end = p + n;
  wire_field f;
  if (!next_field(&p, end, &f) || f.num != 1 || f.wt != WT_LEN || p != end) return NULL;
  return arena_str(a, f.val, f.len);
}

#define ID_MESSAGE(type, init, value_str, out)  \
  do {                                          \
    type *m_ = mesos__pb_arena_alloc(a, sizeof *m_); \
    if (m_ == NULL) return NULL;                \
    init(m_);                                   \
    m_->value = (value_str);                    \
    (out) = m_;                                 \
  } while (0)

/* The resources of a task from their fields; shares the previous task's
 * decoded messages when the bytes are the same. */
static bool task_resources(mesos__pb_arena *a, res_cache *c, const uint8_t **slices,
                           const size_t *lens, size_t n, Mesos__V1__Task *t) {
  bool same = c->decoded != NULL && c->n == n;
  for (size_t i = 0; same && i < n; i++)
    same = c->lens[i] == lens[i] && memcmp(c->slices[i], slices[i], lens[i]) == 0;
  if (!same) {
    Mesos__V1__Resource **v = mesos__pb_arena_alloc(a, n * sizeof *v);
    if (v == NULL) return false;
    for (size_t i = 0; i < n; i++) {
      /* The field's bytes past its tag and length. */
      const uint8_t *p = slices[i], *end = slices[i] + lens[i];
      wire_field f;
      if (!next_field(&p, end, &f)) return false;
      /* At depth 4 of the call (AgentCall, ReregisterAgent, Task). */
      v[i] = (Mesos__V1__Resource *)mesos__pb_unpack_into(
          a, &mesos__v1__resource__descriptor, f.val, f.len, MESOS__PB_MAX_DEPTH - 3);
      if (v[i] == NULL) return false;
    }
    if (n > c->cap) {
      size_t cap = n;
      const uint8_t **s = mesos__realloc(c->slices, cap * sizeof *s);
      if (s == NULL) return false;
      c->slices = s;
      size_t *l = mesos__realloc(c->lens, cap * sizeof *l);
      if (l == NULL) return false;
      c->lens = l;
      c->cap = cap;
    }
    memcpy(c->slices, slices, n * sizeof *slices);
    memcpy(c->lens, lens, n * sizeof *lens);
    c->n = n;
    c->decoded = v;
  }
  t->n_resources = n;
  t->resources = c->decoded;
  return true;
}

/* Most resources one task may list on the fast path; more go through
 * protobuf-c. */
#define FAST_MAX_RES 16

/* One reported task; NULL when it is malformed or out of memory. */
static Mesos__V1__Task *decode_task(mesos__pb_arena *a, res_cache *c, const uint8_t *data,
                                    size_t len) {
  Mesos__V1__Task *t = mesos__pb_arena_alloc(a, sizeof *t);
  if (t == NULL) return NULL;
  mesos__v1__task__init(t);
  const uint8_t *p = data, *end = data + len;
  const uint8_t *rs[FAST_MAX_RES];
  size_t rl[FAST_MAX_RES], nres = 0;
  uint32_t seen = 0;
  bool usual = true;
  while (usual && p < end) {
    wire_field f;
    if (!next_field(&p, end, &f)) {
      usual = false;
      break;
    }
    uint32_t bit = f.num < 32 ? UINT32_C(1) << f.num : 0;
    if (f.num != 7 && (seen & bit)) usual = false; /* a repeated singular field */
    seen |= bit;
    if (!usual) break;
    switch (f.num) {
      case 1:
      case 14: {
        char *s = f.wt == WT_LEN ? arena_str(a, f.val, f.len) : NULL;
        if (s == NULL) usual = false;
        else if (f.num == 1) t->name = s;
        else t->user = s;
        break;
      }
      case 2:
      case 3:
      case 4:
      case 5: {
        char *v = f.wt == WT_LEN ? id_value(a, f.val, f.len) : NULL;
        if (v == NULL) {
          usual = false;
          break;
        }
        if (f.num == 2) ID_MESSAGE(Mesos__V1__TaskID, mesos__v1__task_id__init, v, t->task_id);
        else if (f.num == 3)
          ID_MESSAGE(Mesos__V1__FrameworkID, mesos__v1__framework_id__init, v, t->framework_id);
        else if (f.num == 4)
          ID_MESSAGE(Mesos__V1__ExecutorID, mesos__v1__executor_id__init, v, t->executor_id);
        else
          ID_MESSAGE(Mesos__V1__AgentID, mesos__v1__agent_id__init, v, t->agent_id);
        break;
      }
      case 6:
      case 9:
        /* Enums are int32 on the wire (protobuf-c keeps the value as is). */
        if (f.wt != WT_VARINT) {
          usual = false;
        } else if (f.num == 6) {
          t->state = (Mesos__V1__TaskState)(int32_t)(uint32_t)f.v;
        } else {
          t->has_status_update_state = 1;
          t->status_update_state = (Mesos__V1__TaskState)(int32_t)(uint32_t)f.v;
        }
        break;
      case 7:
        if (f.wt != WT_LEN || nres == FAST_MAX_RES) {
          usual = false;
        } else {
          rs[nres] = f.start;
          rl[nres++] = (size_t)(f.end - f.start);
        }
        break;
      default:
        usual = false;
    }
  }
  /* Required: name, task_id, framework_id, agent_id, state. */
  const uint32_t required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 6);
  if (usual && (seen & required) == required) {
    if (nres == 0 || task_resources(a, c, rs, rl, nres, t)) return t;
    return NULL;
  }
  /* Anything else: protobuf-c, as the ordinary decode would. */
  return (Mesos__V1__Task *)mesos__pb_unpack_into(a, &mesos__v1__task__descriptor, data, len,
                                                  MESOS__PB_MAX_DEPTH - 2);
}

/* ------------------------------------------------------------ the call */

ProtobufCMessage *mesos__pb_agent_call_reregister(const uint8_t *data, size_t len) {
  if (data == NULL || len == 0 || len > MESOS__PB_MAX_SIZE) return NULL;
  /* (1) Top level: exactly one reregister_agent, type REREGISTER. */
  const uint8_t *p = data, *end = data + len, *rr = NULL;
  size_t rr_len = 0;
  bool type_rereg = false;
  while (p < end) {
    wire_field f;
    if (!next_field(&p, end, &f)) return NULL;
    switch (f.num) {
      case 1:
      case 11:
        if (f.wt != WT_VARINT) return NULL;
        break;
      case 2:
        if (f.wt != WT_VARINT) return NULL;
        type_rereg = f.v == MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
        break;
      case 3:
        if (f.wt != WT_LEN) return NULL;
        break;
      case 5:
        if (f.wt != WT_LEN || rr != NULL) return NULL;
        rr = f.val;
        rr_len = f.len;
        break;
      default:
        return NULL;
    }
  }
  if (rr == NULL || !type_rereg) return NULL;

  /* (2) The call without its tasks: the other top-level fields, then
   * reregister_agent's header (at most 11 bytes) and its other fields --
   * never more than 16 bytes past the original. */
  uint8_t *rest = mesos__malloc(len + 16);
  const uint8_t **tasks = NULL;
  size_t *tlens = NULL, ntasks = 0, cap = 0;
  ProtobufCMessage *msg = NULL;
  res_cache cache;
  memset(&cache, 0, sizeof cache);
  if (rest == NULL) return NULL;
  uint8_t *o = rest;
  p = data;
  while (p < end) {
    wire_field f;
    next_field(&p, end, &f); /* checked above */
    if (f.num != 5) {
      memcpy(o, f.start, (size_t)(f.end - f.start));
      o += f.end - f.start;
    }
  }
  /* reregister_agent last: its length is known once its tasks are out. */
  uint8_t *rr_head = o;
  uint8_t *rr_body = o + 11, *ob = rr_body;
  p = rr;
  const uint8_t *rr_end = rr + rr_len;
  while (p < rr_end) {
    wire_field f;
    if (!next_field(&p, rr_end, &f)) goto out;
    if (f.num == 6 && f.wt == WT_LEN) {
      if (ntasks == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        const uint8_t **t2 = mesos__realloc(tasks, ncap * sizeof *t2);
        if (t2 == NULL) goto out;
        tasks = t2;
        size_t *l2 = mesos__realloc(tlens, ncap * sizeof *l2);
        if (l2 == NULL) goto out;
        tlens = l2;
        cap = ncap;
      }
      tasks[ntasks] = f.val;
      tlens[ntasks++] = f.len;
    } else {
      memcpy(ob, f.start, (size_t)(f.end - f.start));
      ob += f.end - f.start;
    }
  }
  size_t body_len = (size_t)(ob - rr_body);
  uint8_t hdr[11], *h = hdr;
  *h++ = (5 << 3) | WT_LEN;
  h = put_varint(h, body_len);
  size_t hl = (size_t)(h - hdr);
  memmove(rr_head + hl, rr_body, body_len);
  memcpy(rr_head, hdr, hl);
  size_t rest_len = (size_t)(rr_head - rest) + hl + body_len;

  /* (3) The call without its tasks, by protobuf-c, in an arena. */
  if (mesos__pb_unpack_arena(&mesos__internal__agent_call__descriptor, rest, rest_len, 0, 0, &msg,
                             NULL) != MESOS_OK) {
    msg = NULL;
    goto out;
  }
  mesos__pb_arena *arena = mesos__pb_arena_of(msg);
  Mesos__Internal__AgentCall *call = (Mesos__Internal__AgentCall *)msg;
  if (arena == NULL || call->reregister_agent == NULL) goto fail;

  /* (4) The tasks. */
  if (ntasks) {
    Mesos__V1__Task **v = mesos__pb_arena_alloc(arena, ntasks * sizeof *v);
    if (v == NULL) goto fail;
    for (size_t i = 0; i < ntasks; i++)
      if ((v[i] = decode_task(arena, &cache, tasks[i], tlens[i])) == NULL) goto fail;
    call->reregister_agent->tasks = v;
    call->reregister_agent->n_tasks = ntasks;
  }
  goto out;
fail:
  mesos__pb_free(msg);
  msg = NULL;
out:
  mesos__free(rest);
  mesos__free(tasks);
  mesos__free(tlens);
  mesos__free(cache.slices);
  mesos__free(cache.lens);
  return msg;
}
