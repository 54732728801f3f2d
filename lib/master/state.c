/*
 * The master's classic JSON endpoints (spec/http-api.md section 6) in the
 * shapes Mesos 1.0 emits, because dashboards and scripts parse them:
 * /state (also /master/state, /state.json, /master/state.json),
 * /state-summary, /frameworks, /slaves, /tasks, /roles, /flags and
 * /master/redirect.  The keys keep Mesos's old word for agents ("slaves",
 * "slave_id") exactly as Mesos writes them; our own text says agent.
 *
 * Rendering goes straight from the master's tables to a small JSON writer
 * filling one growing buffer: no intermediate protobuf or JSON tree,
 * so /state of a large cluster costs one pass over it.  Numbers that are
 * whole or have at most three decimals (all resource quantities, which the
 * resources module keeps in thousandths) are formatted by hand; snprintf
 * would dominate the time otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "master/master_auth.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

#define STATE_MAX ((size_t)1 << 31)

/* A minimal JSON writer straight into the output buffer.  The first
 * version used yajl's generator; it calls back once per token and checks
 * its state machine on every call, and at 400,000 tasks that alone cost
 * more than the 300 ms budget (the bare-yajl baseline of the state
 * benchmark shows it).  Here a token is a few stores into memory reserved
 * once; commas and colons come from a small per-depth state. */
#define JG_DEPTH 32

typedef struct jg {
  mesos__buf *out;
  mesos_status st;
  int depth;
  uint8_t is_map[JG_DEPTH];
  uint8_t state[JG_DEPTH]; /* 0 first, 1 map value due, 2 later */
} jg;

static int jg_init(jg *j, mesos__buf *out) {
  memset(j, 0, sizeof *j);
  j->out = out;
  return 1;
}

/* Room for n more bytes (plus the NUL the buffer keeps), or NULL. */
static inline char *jg_room(jg *j, size_t n) {
  mesos__buf *b = j->out;
  if (j->st != MESOS_OK) return NULL;
  if (b->data == NULL || n + 1 > b->cap - b->len) {
    mesos_status st = mesos__buf_reserve(b, n + 1);
    if (st != MESOS_OK) {
      j->st = st;
      return NULL;
    }
  }
  return b->data + b->len;
}

static inline void jg_put(jg *j, const char *s, size_t n) {
  char *p = jg_room(j, n);
  if (p == NULL) return;
  memcpy(p, s, n);
  j->out->len += n;
  j->out->data[j->out->len] = '\0';
}

static inline void jg_putc(jg *j, char c) {
  char *p = jg_room(j, 1);
  if (p == NULL) return;
  *p = c;
  j->out->len++;
  j->out->data[j->out->len] = '\0';
}

/* Separator before a token; returns 1 when the token is a map key. */
static inline int jg_pre(jg *j) {
  int d = j->depth;
  if (d == 0) return 0;
  if (j->is_map[d]) {
    if (j->state[d] == 1) {
      j->state[d] = 2;
      return 0;
    }
    if (j->state[d] == 2) jg_putc(j, ',');
    j->state[d] = 1;
    return 1;
  }
  if (j->state[d]) jg_putc(j, ',');
  j->state[d] = 2;
  return 0;
}

static void jg_open(jg *j, int map) {
  jg_pre(j);
  jg_putc(j, map ? '{' : '[');
  if (j->depth + 1 >= JG_DEPTH) {
    j->st = MESOS_ELIMIT; /* never happens with the fixed shapes here */
    return;
  }
  j->depth++;
  j->is_map[j->depth] = (uint8_t)map;
  j->state[j->depth] = 0;
}

static void jg_close(jg *j, int map) {
  jg_putc(j, map ? '}' : ']');
  if (j->depth > 0) j->depth--;
}

#define j_map_open(j) jg_open((j), 1)
#define j_map_close(j) jg_close((j), 1)
#define j_array_open(j) jg_open((j), 0)
#define j_array_close(j) jg_close((j), 0)

/* A JSON string (or a key, with its colon): plain bytes are copied as
 * they are, quotes, backslashes and control characters escaped. */
static void jg_string(jg *j, const char *s, size_t n) {
  int key = jg_pre(j);
  if (n > (SIZE_MAX - 8) / 6) {
    j->st = MESOS_ELIMIT;
    return;
  }
  /* Worst case every byte becomes \u00XX. */
  char *p = jg_room(j, n * 6 + 3);
  if (p == NULL) return;
  char *start = p;
  *p++ = '"';
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *p++ = (char)c;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      case '\b': *p++ = 'b'; break;
      case '\f': *p++ = 'f'; break;
      default:
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
  }
  *p++ = '"';
  if (key) *p++ = ':';
  j->out->len += (size_t)(p - start);
  j->out->data[j->out->len] = '\0';
}

static void jg_raw(jg *j, const char *s, size_t n) {
  jg_pre(j);
  jg_put(j, s, n);
}

#define KEY(j, k) jg_string((j), (k), sizeof(k) - 1)

static void str(jg *j, const char *s) {
  if (s == NULL) s = "";
  jg_string(j, s, strlen(s));
}

static void kstr(jg *j, const char *k, const char *v) {
  str(j, k);
  str(j, v);
}

/* Writes an integer-valued milli quantity (value * 1000) as a JSON number
 * with up to three decimals, by hand. */
static void milli_num(jg *j, int64_t milli) {
  char buf[40];
  char *p = buf + sizeof buf;
  int neg = milli < 0;
  uint64_t u = neg ? (uint64_t)0 - (uint64_t)milli : (uint64_t)milli;
  uint64_t whole = u / 1000, frac = u % 1000;
  if (frac) {
    int digits = 3;
    while (frac % 10 == 0) {
      frac /= 10;
      digits--;
    }
    for (int i = 0; i < digits; i++) {
      *--p = (char)('0' + frac % 10);
      frac /= 10;
    }
  } else {
    *--p = '0';
  }
  *--p = '.';
  do {
    *--p = (char)('0' + whole % 10);
    whole /= 10;
  } while (whole);
  if (neg) *--p = '-';
  jg_raw(j, p, (size_t)(buf + sizeof buf - p));
}

static void num(jg *j, double x) {
  if (!isfinite(x)) x = 0;
  double ms = x * 1000.0;
  if (fabs(ms) < 9e15 && ms == floor(ms)) {
    milli_num(j, (int64_t)ms);
    return;
  }
  char buf[40];
  int n = snprintf(buf, sizeof buf, "%.17g", x);
  jg_raw(j, buf, (size_t)n);
}

static void knum(jg *j, const char *k, double x) {
  str(j, k);
  num(j, x);
}

static void kint(jg *j, const char *k, long long x) {
  str(j, k);
  char b[32];
  int n = snprintf(b, sizeof b, "%lld", x);
  jg_raw(j, b, (size_t)n);
}

static void kbool(jg *j, const char *k, int b) {
  str(j, k);
  if (b) jg_raw(j, "true", 4);
  else jg_raw(j, "false", 5);
}

/* ------------------------------------------------------------ resources */

/* A resources summary object: {"cpus": N, "gpus": N, "mem": N, "disk": N,
 * <other scalar>: N, <ranges>: "[a-b, c-d]", <set>: "{a,b}"}. */
typedef struct summary {
  int64_t std[4]; /* cpus gpus mem disk */
  struct {
    const char *name;
    int64_t milli;
    char text[256];
    int is_text;
  } extra[8];
  size_t nextra;
} summary;

static const char *const std_names[4] = {"cpus", "gpus", "mem", "disk"};

static void summary_init(summary *s) { memset(s, 0, sizeof *s); }

static int std_index(const char *name) {
  switch (name[0]) {
    case 'c': return strcmp(name, "cpus") == 0 ? 0 : -1;
    case 'g': return strcmp(name, "gpus") == 0 ? 1 : -1;
    case 'm': return strcmp(name, "mem") == 0 ? 2 : -1;
    case 'd': return strcmp(name, "disk") == 0 ? 3 : -1;
    default: return -1;
  }
}

static void text_append(char *dst, size_t cap, const char *src) {
  size_t l = strlen(dst);
  if (l + 1 < cap) snprintf(dst + l, cap - l, "%s", src);
}

static void summary_add_proto(summary *s, const Mesos__V1__Resource *r) {
  if (r->name == NULL) return;
  int k = std_index(r->name);
  if (r->type == MESOS__V1__VALUE__TYPE__SCALAR && r->scalar) {
    int64_t milli = (int64_t)llround(r->scalar->value * 1000.0);
    if (k >= 0) {
      s->std[k] += milli;
      return;
    }
  }
  size_t i = 0;
  while (i < s->nextra && strcmp(s->extra[i].name, r->name) != 0) i++;
  if (i == s->nextra) {
    if (s->nextra == sizeof s->extra / sizeof s->extra[0]) return;
    s->nextra++;
    s->extra[i].name = r->name;
    s->extra[i].milli = 0;
    s->extra[i].text[0] = '\0';
    s->extra[i].is_text = r->type != MESOS__V1__VALUE__TYPE__SCALAR;
  }
  char piece[64];
  if (r->type == MESOS__V1__VALUE__TYPE__SCALAR && r->scalar) {
    s->extra[i].milli += (int64_t)llround(r->scalar->value * 1000.0);
  } else if (r->type == MESOS__V1__VALUE__TYPE__RANGES && r->ranges) {
    for (size_t q = 0; q < r->ranges->n_range; q++) {
      snprintf(piece, sizeof piece, "%s%llu-%llu", s->extra[i].text[0] ? ", " : "[",
               (unsigned long long)r->ranges->range[q]->begin,
               (unsigned long long)r->ranges->range[q]->end);
      text_append(s->extra[i].text, sizeof s->extra[i].text, piece);
    }
  } else if (r->type == MESOS__V1__VALUE__TYPE__SET && r->set) {
    for (size_t q = 0; q < r->set->n_item; q++) {
      text_append(s->extra[i].text, sizeof s->extra[i].text, s->extra[i].text[0] ? "," : "{");
      text_append(s->extra[i].text, sizeof s->extra[i].text, r->set->item[q]);
    }
  }
}

static void summary_add_res(summary *s, const mesos__res *x) {
  const char *name = x->proto->name;
  int k = name ? std_index(name) : -1;
  if (x->type == MESOS__V1__VALUE__TYPE__SCALAR && k >= 0) {
    s->std[k] += x->milli;
    return;
  }
  if (name == NULL) return;
  size_t i = 0;
  while (i < s->nextra && strcmp(s->extra[i].name, name) != 0) i++;
  if (i == s->nextra) {
    if (s->nextra == sizeof s->extra / sizeof s->extra[0]) return;
    s->nextra++;
    s->extra[i].name = name;
    s->extra[i].milli = 0;
    s->extra[i].text[0] = '\0';
    s->extra[i].is_text = x->type != MESOS__V1__VALUE__TYPE__SCALAR;
  }
  char piece[64];
  if (x->type == MESOS__V1__VALUE__TYPE__SCALAR) {
    s->extra[i].milli += x->milli;
  } else if (x->type == MESOS__V1__VALUE__TYPE__RANGES) {
    for (size_t q = 0; q < x->nranges; q++) {
      snprintf(piece, sizeof piece, "%s%llu-%llu", s->extra[i].text[0] ? ", " : "[",
               (unsigned long long)x->ranges[q].begin, (unsigned long long)x->ranges[q].end);
      text_append(s->extra[i].text, sizeof s->extra[i].text, piece);
    }
  } else {
    for (size_t q = 0; q < x->nitems; q++) {
      text_append(s->extra[i].text, sizeof s->extra[i].text, s->extra[i].text[0] ? "," : "{");
      text_append(s->extra[i].text, sizeof s->extra[i].text, x->items[q]);
    }
  }
}

static void summary_write(jg *j, summary *s) {
  j_map_open(j);
  for (int k = 0; k < 4; k++) {
    str(j, std_names[k]);
    milli_num(j, s->std[k]);
  }
  for (size_t i = 0; i < s->nextra; i++) {
    str(j, s->extra[i].name);
    if (s->extra[i].is_text) {
      char closed[260];
      snprintf(closed, sizeof closed, "%s%s", s->extra[i].text[0] ? s->extra[i].text : "[",
               s->extra[i].text[0] == '{' ? "}" : "]");
      str(j, closed);
    } else {
      milli_num(j, s->extra[i].milli);
    }
  }
  j_map_close(j);
}

static void resources_json(jg *j, const mesos__resources *r) {
  summary s;
  summary_init(&s);
  for (size_t i = 0; r && i < r->n; i++) summary_add_res(&s, &r->v[i]);
  summary_write(j, &s);
}

/* ------------------------------------------------------------ records */

static const char *task_state_name(Mesos__V1__TaskState s) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)s);
  return v ? v->name : "TASK_UNKNOWN";
}

static void task_json(jg *j, const Mesos__V1__Task *t, const char *role) {
  j_map_open(j);
  kstr(j, "id", t->task_id ? t->task_id->value : "");
  kstr(j, "name", t->name);
  kstr(j, "framework_id", t->framework_id ? t->framework_id->value : "");
  kstr(j, "executor_id", t->executor_id ? t->executor_id->value : "");
  kstr(j, "slave_id", t->agent_id ? t->agent_id->value : "");
  kstr(j, "state", task_state_name(t->state));
  KEY(j, "resources");
  summary s;
  summary_init(&s);
  for (size_t i = 0; i < t->n_resources; i++) summary_add_proto(&s, t->resources[i]);
  summary_write(j, &s);
  if (role) kstr(j, "role", role);
  /* The master keeps the latest state, not the update history. */
  KEY(j, "statuses");
  j_array_open(j);
  j_map_open(j);
  kstr(j, "state", task_state_name(t->has_status_update_state ? t->status_update_state : t->state));
  j_map_close(j);
  j_array_close(j);
  if (t->user) kstr(j, "user", t->user);
  j_map_close(j);
}

static void ring_json(jg *j, const mesos__op_tasks *ring) {
  for (size_t i = 0; ring && i < ring->n; i++)
    task_json(j, ring->v[(ring->head + i) % ring->cap], NULL);
}

static const char *fw_role(const Mesos__V1__FrameworkInfo *fi) {
  if (fi->n_roles) return fi->roles[0];
  return fi->role ? fi->role : "*";
}

static void capabilities_json(jg *j, const Mesos__V1__FrameworkInfo *fi) {
  KEY(j, "capabilities");
  j_array_open(j);
  for (size_t i = 0; i < fi->n_capabilities; i++) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &mesos__v1__framework_info__capability__type__descriptor, (int)fi->capabilities[i]->type);
    if (v) str(j, v->name);
  }
  j_array_close(j);
}

static void framework_info_json(jg *j, const Mesos__V1__FrameworkInfo *fi) {
  kstr(j, "id", fi->id ? fi->id->value : "");
  kstr(j, "name", fi->name);
  kstr(j, "hostname", fi->hostname);
  kstr(j, "webui_url", fi->webui_url);
  kstr(j, "user", fi->user);
  knum(j, "failover_timeout", fi->has_failover_timeout ? fi->failover_timeout : 0);
  kbool(j, "checkpoint", fi->has_checkpoint && fi->checkpoint);
  kstr(j, "role", fw_role(fi));
  if (fi->n_roles) {
    KEY(j, "roles");
    j_array_open(j);
    for (size_t i = 0; i < fi->n_roles; i++) str(j, fi->roles[i]);
    j_array_close(j);
  }
  if (fi->principal) kstr(j, "principal", fi->principal);
  capabilities_json(j, fi);
}

static void framework_json(jg *j, mesos_master *m, mesos__framework *fw, int with_tasks) {
  mesos__resources used, offered;
  mesos__resources_init(&used);
  mesos__resources_init(&offered);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&fw->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (!t->released && t->resources) mesos__resources_add_all(&used, &t->resources->r);
  }
  it = 0;
  while (mesos__map_next(&fw->offers, &it, NULL, &v)) {
    mesos__offer *o = v;
    if (o->resources) mesos__resources_add_all(&offered, &o->resources->r);
  }
  j_map_open(j);
  framework_info_json(j, fw->info);
  kbool(j, "active", fw->stream != NULL);
  kbool(j, "connected", fw->stream != NULL);
  kbool(j, "recovered", 0);
  knum(j, "registered_time", fw->registered_time);
  knum(j, "unregistered_time", 0);
  if (fw->reregistered_time > 0) knum(j, "reregistered_time", fw->reregistered_time);
  KEY(j, "resources");
  resources_json(j, &used);
  KEY(j, "used_resources");
  resources_json(j, &used);
  KEY(j, "offered_resources");
  resources_json(j, &offered);
  if (with_tasks) {
    KEY(j, "tasks");
    j_array_open(j);
    it = 0;
    while (mesos__map_next(&fw->tasks, &it, NULL, &v)) {
      mesos__task *t = v;
      if (t->task && mesos__master_auth_sees_task(m, fw, t->task)) task_json(j, t->task, t->role);
    }
    j_array_close(j);
    KEY(j, "unreachable_tasks");
    j_array_open(j);
    j_array_close(j);
    KEY(j, "completed_tasks");
    j_array_open(j);
    ring_json(j, mesos__op_completed_tasks(m, fw->id));
    j_array_close(j);
    KEY(j, "offers");
    j_array_open(j);
    it = 0;
    while (mesos__map_next(&fw->offers, &it, NULL, &v)) {
      mesos__offer *o = v;
      j_map_open(j);
      kstr(j, "id", o->id);
      kstr(j, "framework_id", fw->id);
      kstr(j, "slave_id", o->agent->id);
      KEY(j, "resources");
      resources_json(j, o->resources ? &o->resources->r : NULL);
      j_map_close(j);
    }
    j_array_close(j);
    KEY(j, "executors");
    j_array_open(j);
    j_array_close(j);
  }
  j_map_close(j);
  mesos__resources_free(&used);
  mesos__resources_free(&offered);
}

static void done_framework_json(jg *j, const mesos__op_done_fw *d) {
  j_map_open(j);
  framework_info_json(j, d->info);
  kbool(j, "active", 0);
  kbool(j, "connected", 0);
  kbool(j, "recovered", 0);
  knum(j, "registered_time", d->registered_time);
  knum(j, "unregistered_time", d->unregistered_time);
  KEY(j, "resources");
  resources_json(j, NULL);
  KEY(j, "used_resources");
  resources_json(j, NULL);
  KEY(j, "offered_resources");
  resources_json(j, NULL);
  KEY(j, "tasks");
  j_array_open(j);
  j_array_close(j);
  KEY(j, "completed_tasks");
  j_array_open(j);
  ring_json(j, &d->tasks);
  j_array_close(j);
  KEY(j, "offers");
  j_array_open(j);
  j_array_close(j);
  KEY(j, "executors");
  j_array_open(j);
  j_array_close(j);
  j_map_close(j);
}

static void agent_json(jg *j, mesos_master *m, mesos__agent *a) {
  mesos__resources used, offered;
  mesos__resources_init(&used);
  mesos__resources_init(&offered);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (!t->released && t->resources) mesos__resources_add_all(&used, &t->resources->r);
  }
  /* Offers are kept master-wide; only walk them when there are any. */
  if (mesos__map_count(&m->offers)) {
    it = 0;
    while (mesos__map_next(&m->offers, &it, NULL, &v)) {
      mesos__offer *o = v;
      if (o->agent == a && o->resources) mesos__resources_add_all(&offered, &o->resources->r);
    }
  }
  j_map_open(j);
  kstr(j, "id", a->id);
  char pid[320];
  int port = a->info->has_port ? a->info->port : 5051;
  snprintf(pid, sizeof pid, "slave(1)@%s:%d", a->info->hostname ? a->info->hostname : "", port);
  kstr(j, "pid", pid);
  kstr(j, "hostname", a->info->hostname);
  kint(j, "port", port);
  knum(j, "registered_time", a->registered_time);
  if (a->reregistered_time > 0) knum(j, "reregistered_time", a->reregistered_time);
  KEY(j, "resources");
  resources_json(j, &a->total->r);
  KEY(j, "used_resources");
  resources_json(j, &used);
  KEY(j, "offered_resources");
  resources_json(j, &offered);
  /* reserved_resources: role -> summary of what is reserved for it. */
  KEY(j, "reserved_resources");
  j_map_open(j);
  const char *roles[16];
  size_t nroles = 0;
  for (size_t i = 0; i < a->total->r.n; i++) {
    const char *role = mesos__resource_role(a->total->r.v[i].proto);
    if (strcmp(role, "*") == 0) continue;
    size_t k = 0;
    while (k < nroles && strcmp(roles[k], role) != 0) k++;
    if (k == nroles && nroles < 16) roles[nroles++] = role;
  }
  for (size_t k = 0; k < nroles; k++) {
    summary s;
    summary_init(&s);
    for (size_t i = 0; i < a->total->r.n; i++)
      if (strcmp(mesos__resource_role(a->total->r.v[i].proto), roles[k]) == 0)
        summary_add_res(&s, &a->total->r.v[i]);
    str(j, roles[k]);
    summary_write(j, &s);
  }
  j_map_close(j);
  KEY(j, "unreserved_resources");
  summary us;
  summary_init(&us);
  for (size_t i = 0; i < a->total->r.n; i++)
    if (strcmp(mesos__resource_role(a->total->r.v[i].proto), "*") == 0)
      summary_add_res(&us, &a->total->r.v[i]);
  summary_write(j, &us);
  KEY(j, "attributes");
  j_map_open(j);
  for (size_t i = 0; i < a->info->n_attributes; i++) {
    const Mesos__V1__Attribute *at = a->info->attributes[i];
    str(j, at->name);
    if (at->type == MESOS__V1__VALUE__TYPE__SCALAR && at->scalar) num(j, at->scalar->value);
    else if (at->type == MESOS__V1__VALUE__TYPE__TEXT && at->text) str(j, at->text->value);
    else str(j, "");
  }
  j_map_close(j);
  kbool(j, "active", a->stream != NULL);
  kbool(j, "deactivated", 0);
  kstr(j, "version", "1.0.0");
  KEY(j, "capabilities");
  j_array_open(j);
  j_array_close(j);
  j_map_close(j);
  mesos__resources_free(&used);
  mesos__resources_free(&offered);
}

static void flags_json(jg *j, mesos_master *m) {
  j_map_open(j);
  const char *name, *value;
  for (size_t i = 0; mesos__flags_at(m->flags, i, &name, &value); i++)
    if (value) kstr(j, name, value);
  j_map_close(j);
}

static void master_pid(mesos_master *m, char *buf, size_t cap) {
  snprintf(buf, cap, "master@%s:%u", m->ip, (unsigned)m->port);
}

static void frameworks_arrays(jg *j, mesos_master *m) {
  KEY(j, "frameworks");
  j_array_open(j);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v))
    if (mesos__master_auth_sees_framework(m, v)) framework_json(j, m, v, 1);
  j_array_close(j);
  KEY(j, "completed_frameworks");
  j_array_open(j);
  mesos__operator *op = m->op;
  for (size_t i = 0; op && i < op->done_n; i++)
    done_framework_json(j, &op->done[(op->done_head + i) % op->done_cap]);
  j_array_close(j);
}

static void agents_array(jg *j, mesos_master *m) {
  KEY(j, "slaves");
  j_array_open(j);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) agent_json(j, m, v);
  j_array_close(j);
  KEY(j, "recovered_slaves");
  j_array_open(j);
  j_array_close(j);
}

static void header_json(jg *j, mesos_master *m) {
  char pid[128], date[64];
  master_pid(m, pid, sizeof pid);
  snprintf(date, sizeof date, "%s %s", __DATE__, __TIME__);
  kstr(j, "version", "1.0.0");
  kstr(j, "build_date", date);
  knum(j, "build_time", 0);
  kstr(j, "build_user", "libmesos-core");
  knum(j, "start_time", m->start_time);
  knum(j, "elected_time", m->start_time);
  kstr(j, "id", m->id);
  kstr(j, "pid", pid);
  kstr(j, "hostname", m->hostname);
  size_t active = 0, inactive = 0, it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v))
    if (((mesos__agent *)v)->stream) active++;
    else inactive++;
  kint(j, "activated_slaves", (long long)active);
  kint(j, "deactivated_slaves", (long long)inactive);
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  kint(j, "unreachable_slaves", reg ? (long long)reg->n_unreachable : 0);
  const char *cluster = mesos__flags_get(m->flags, "cluster");
  if (cluster) kstr(j, "cluster", cluster);
  kstr(j, "leader", pid);
  KEY(j, "leader_info");
  j_map_open(j);
  kstr(j, "id", m->id);
  kstr(j, "pid", pid);
  kint(j, "port", m->port);
  kstr(j, "hostname", m->hostname);
  j_map_close(j);
  if (m->op && m->op->log_dir[0]) kstr(j, "log_dir", m->op->log_dir);
}

mesos_status mesos__state_json(mesos_master *m, mesos__buf *out) {
  jg j;
  if (!jg_init(&j, out)) return MESOS_ENOMEM;
  j_map_open(&j);
  header_json(&j, m);
  KEY(&j, "flags");
  flags_json(&j, m);
  agents_array(&j, m);
  frameworks_arrays(&j, m);
  KEY(&j, "orphan_tasks");
  j_array_open(&j);
  j_array_close(&j);
  KEY(&j, "unregistered_frameworks");
  j_array_open(&j);
  j_array_close(&j);
  j_map_close(&j);
  return j.st;
}

/* ------------------------------------------------------------ endpoints */

/* ?jsonp=callback wraps the body (text/javascript), as Mesos does.  The
 * callback name is restricted to identifier characters so nothing can be
 * injected into the page that loads it. */
static void respond_json(mesos__http_request *req, mesos__buf *b) {
  const char *q = mesos__http_request_query(req);
  const char *p = strstr(q, "jsonp=");
  char cb[128] = "";
  if (p && (p == q || p[-1] == '&')) {
    size_t n = 0;
    for (p += 6; *p && *p != '&' && n + 1 < sizeof cb; p++) {
      char c = *p;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '$')) {
        mesos__http_respond_text(req, 400, "Invalid 'jsonp' callback name");
        return;
      }
      cb[n++] = c;
    }
    cb[n] = '\0';
  }
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  if (cb[0]) {
    mesos__buf w = MESOS__BUF_INIT(STATE_MAX);
    if (mesos__buf_printf(&w, "%s(", cb) != MESOS_OK || mesos__buf_append(&w, b->data, b->len) ||
        mesos__buf_puts(&w, ");") != MESOS_OK) {
      mesos__buf_free(&w);
      mesos__http_headers_free(&h);
      mesos__http_respond_text(req, 500, "Failed to render the response");
      return;
    }
    mesos__http_headers_set(&h, "Content-Type", "text/javascript");
    mesos__http_respond(req, 200, &h, w.data, w.len);
    mesos__buf_free(&w);
  } else {
    mesos__http_headers_set(&h, "Content-Type", "application/json");
    mesos__http_respond(req, 200, &h, b->data ? b->data : "", b->len);
  }
  mesos__http_headers_free(&h);
}

static void finish(mesos__http_request *req, jg *j, mesos__buf *b) {
  if (j->st != MESOS_OK) mesos__http_respond_text(req, 500, "Failed to render the response");
  else respond_json(req, b);
  mesos__buf_free(b);
}

static void state_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  if (m->op) m->op->c.state_requests++;
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  mesos__auth_view view;
  mesos__master_auth_view_begin(m, req, &view);
  mesos_status st = mesos__state_json(m, &b);
  mesos__master_auth_view_end(m, &view);
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    mesos__http_respond_text(req, 500, "Failed to render the state");
    return;
  }
  respond_json(req, &b);
  mesos__buf_free(&b);
}

static void task_counts(jg *j, mesos__map *tasks) {
  static const Mesos__V1__TaskState states[] = {
      MESOS__V1__TASK_STATE__TASK_STAGING,  MESOS__V1__TASK_STATE__TASK_STARTING,
      MESOS__V1__TASK_STATE__TASK_RUNNING,  MESOS__V1__TASK_STATE__TASK_KILLING,
      MESOS__V1__TASK_STATE__TASK_FINISHED, MESOS__V1__TASK_STATE__TASK_KILLED,
      MESOS__V1__TASK_STATE__TASK_FAILED,   MESOS__V1__TASK_STATE__TASK_LOST,
      MESOS__V1__TASK_STATE__TASK_ERROR,    MESOS__V1__TASK_STATE__TASK_UNREACHABLE};
  size_t counts[sizeof states / sizeof states[0]];
  memset(counts, 0, sizeof counts);
  size_t it = 0;
  void *v;
  while (mesos__map_next(tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    for (size_t i = 0; t->task && i < sizeof states / sizeof states[0]; i++)
      if (t->task->state == states[i]) counts[i]++;
  }
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
    kint(j, task_state_name(states[i]), (long long)counts[i]);
}

static void state_summary_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  j_map_open(&j);
  kstr(&j, "hostname", m->hostname);
  const char *cluster = mesos__flags_get(m->flags, "cluster");
  if (cluster) kstr(&j, "cluster", cluster);
  KEY(&j, "slaves");
  j_array_open(&j);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    j_map_open(&j);
    kstr(&j, "id", a->id);
    kstr(&j, "hostname", a->info->hostname);
    knum(&j, "registered_time", a->registered_time);
    KEY(&j, "resources");
    resources_json(&j, &a->total->r);
    kbool(&j, "active", a->stream != NULL);
    task_counts(&j, &a->tasks);
    KEY(&j, "framework_ids");
    j_array_open(&j);
    mesos__map seen;
    mesos__map_init(&seen);
    size_t k = 0;
    void *tv;
    while (mesos__map_next(&a->tasks, &k, NULL, &tv)) {
      mesos__task *t = tv;
      if (!mesos__map_get(&seen, t->fw->id) && mesos__map_put(&seen, t->fw->id, t) == MESOS_OK)
        str(&j, t->fw->id);
    }
    mesos__map_free(&seen);
    j_array_close(&j);
    j_map_close(&j);
  }
  j_array_close(&j);
  KEY(&j, "frameworks");
  j_array_open(&j);
  it = 0;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    j_map_open(&j);
    framework_info_json(&j, fw->info);
    kbool(&j, "active", fw->stream != NULL);
    kbool(&j, "connected", fw->stream != NULL);
    task_counts(&j, &fw->tasks);
    KEY(&j, "slave_ids");
    j_array_open(&j);
    mesos__map seen;
    mesos__map_init(&seen);
    size_t k = 0;
    void *tv;
    while (mesos__map_next(&fw->tasks, &k, NULL, &tv)) {
      mesos__task *t = tv;
      if (!mesos__map_get(&seen, t->agent->id) &&
          mesos__map_put(&seen, t->agent->id, t) == MESOS_OK)
        str(&j, t->agent->id);
    }
    mesos__map_free(&seen);
    j_array_close(&j);
    j_map_close(&j);
  }
  j_array_close(&j);
  j_map_close(&j);
  finish(req, &j, &b);
}

static void frameworks_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  j_map_open(&j);
  mesos__auth_view view;
  mesos__master_auth_view_begin(m, req, &view);
  frameworks_arrays(&j, m);
  mesos__master_auth_view_end(m, &view);
  KEY(&j, "unregistered_frameworks");
  j_array_open(&j);
  j_array_close(&j);
  j_map_close(&j);
  finish(req, &j, &b);
}

static void slaves_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  j_map_open(&j);
  agents_array(&j, m);
  j_map_close(&j);
  finish(req, &j, &b);
}

static void tasks_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  j_map_open(&j);
  KEY(&j, "tasks");
  j_array_open(&j);
  size_t it = 0;
  void *v;
  mesos__auth_view view;
  mesos__master_auth_view_begin(m, req, &view);
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    size_t k = 0;
    void *tv;
    while (mesos__map_next(&fw->tasks, &k, NULL, &tv)) {
      mesos__task *t = tv;
      if (t->task && mesos__master_auth_sees_task(m, fw, t->task))
        task_json(&j, t->task, t->role);
    }
    if (mesos__master_auth_sees_framework(m, fw))
      ring_json(&j, mesos__op_completed_tasks(m, fw->id));
  }
  mesos__master_auth_view_end(m, &view);
  j_array_close(&j);
  j_map_close(&j);
  finish(req, &j, &b);
}

static void flags_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  j_map_open(&j);
  KEY(&j, "flags");
  flags_json(&j, m);
  j_map_close(&j);
  finish(req, &j, &b);
}

static void roles_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__buf b = MESOS__BUF_INIT(1 << 24);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  /* Roles with frameworks; weights come from GET_WEIGHTS's sources. */
  mesos__map roles;
  mesos__map_init(&roles);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    const char *role = fw_role(fw->info);
    if (!mesos__map_get(&roles, role)) mesos__map_put(&roles, role, (void *)role);
  }
  j_map_open(&j);
  KEY(&j, "roles");
  j_array_open(&j);
  const char *name;
  it = 0;
  while (mesos__map_next(&roles, &it, &name, &v)) {
    mesos__resources used;
    mesos__resources_init(&used);
    j_map_open(&j);
    kstr(&j, "name", name);
    KEY(&j, "frameworks");
    j_array_open(&j);
    size_t fit = 0;
    void *fv;
    while (mesos__map_next(&m->frameworks, &fit, NULL, &fv)) {
      mesos__framework *fw = fv;
      if (strcmp(fw_role(fw->info), name) != 0) continue;
      str(&j, fw->id);
      size_t k = 0;
      void *tv;
      while (mesos__map_next(&fw->tasks, &k, NULL, &tv)) {
        mesos__task *t = tv;
        if (!t->released && t->resources) mesos__resources_add_all(&used, &t->resources->r);
      }
    }
    j_array_close(&j);
    KEY(&j, "resources");
    resources_json(&j, &used);
    j_map_close(&j);
    mesos__resources_free(&used);
  }
  j_array_close(&j);
  j_map_close(&j);
  mesos__map_free(&roles);
  finish(req, &j, &b);
}

/* 307 to the leader: always this master (no HA yet). */
static void redirect_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  char loc[400];
  snprintf(loc, sizeof loc, "//%s:%u", m->hostname, (unsigned)m->port);
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Location", loc);
  mesos__http_respond(req, 307, &h, "", 0);
  mesos__http_headers_free(&h);
}

mesos_status mesos__state_routes(mesos_master *m) {
  static const struct {
    const char *path;
    mesos__http_handler fn;
  } routes[] = {
      {"/state", state_handler},
      {"/master/state", state_handler},
      {"/state.json", state_handler},
      {"/master/state.json", state_handler},
      {"/state-summary", state_summary_handler},
      {"/master/state-summary", state_summary_handler},
      {"/frameworks", frameworks_handler},
      {"/master/frameworks", frameworks_handler},
      {"/slaves", slaves_handler},
      {"/master/slaves", slaves_handler},
      {"/tasks", tasks_handler},
      {"/master/tasks", tasks_handler},
      {"/roles", roles_handler},
      {"/master/roles", roles_handler},
      {"/flags", flags_handler},
      {"/master/flags", flags_handler},
      {"/redirect", redirect_handler},
      {"/master/redirect", redirect_handler},
  };
  mesos_status st = MESOS_OK;
  for (size_t i = 0; st == MESOS_OK && i < sizeof routes / sizeof routes[0]; i++)
    /* Read-only realm (never /redirect); /flags also needs VIEW_FLAGS. */
    st = mesos__auth_route(m->auth, m->http, "GET", routes[i].path, 0,
                           routes[i].fn == redirect_handler ? MESOS__REALM_NONE
                                                            : MESOS__REALM_READONLY,
                           routes[i].fn == flags_handler ? MESOS_AUTHZ_VIEW_FLAGS : 0, NULL,
                           routes[i].fn, m);
  return st;
}
