/*
 * The master's classic JSON endpoints (spec/http-api.md section 6) in the
 * shapes Mesos 1.0 emits, because dashboards and scripts parse them:
 * /state (also /master/state, /state.json, /master/state.json),
 * /state-summary, /frameworks, /slaves, /tasks, /roles, /flags and
 * /master/redirect.  The keys keep Mesos's old word for agents ("slaves",
 * "slave_id") exactly as Mesos writes them; our own text says agent.
 *
 * Serving the big ones (/state, /frameworks, /slaves, /tasks) without
 * stalling the master.  Mesos users' first complaint was that polling
 * /state blocked the master for seconds: at 20,000 agents and 400,000
 * tasks the document is ~108 MB, and writing it on the loop thread took
 * every other request (health checks, agent pings, scheduler calls)
 * hostage for the whole render.  The design, measured before choosing
 * (bench_state, see README):
 *
 *  1. Batching (Mesos 1.7 batches /state too).  Requests for the same
 *     endpoint and the same principal that arrive while a render is in
 *     progress join one queued batch; one snapshot and one render answer
 *     all of them.  Every answer still shows the master's state at a
 *     moment after its request arrived.  At most one render runs at a
 *     time, so 20 pollers cost one render per round, not 20, and memory
 *     holds one snapshot plus the bodies being sent.
 *
 *  2. A snapshot on the loop, the rendering off it.  The snapshot is taken
 *     in one loop turn, so it is one consistent instant of the master:
 *     flat arrays per agent and framework with what the document needs
 *     (ids, times, resource summaries already added up, FrameworkInfo
 *     copies), and for every task only a pointer to its Task message plus
 *     the two state fields the master changes in place.  Task messages
 *     are otherwise immutable, so they are "pinned" instead of copied:
 *     while a snapshot lives, a Task message the master lets go of (a
 *     completed-task ring evicting it, a task forgotten) is parked in a
 *     graveyard (mesos__state_retire_task) and freed when the last
 *     snapshot goes.  The tasks' resource bags are pinned the same way
 *     (mesos__state_retire_resources), so what agents and frameworks use
 *     is added up off the loop (usage_compute) and completed tasks are
 *     copied as ring pointers only.  The snapshot costs a prefetched
 *     pointer walk over the live tasks (~6 ms per 50,000 tasks measured),
 *     a fraction of rendering them; the render (JSON formatting, escaping,
 *     the resource summaries of each task) runs on libuv's thread pool and
 *     reads only the snapshot and pinned, immutable messages.  The v1
 *     state calls and the operator SUBSCRIBED event use the same batches,
 *     pins and sending with their own snapshot (state_v1.c).
 *     Rejected: rendering on the loop in slices (objects change and go
 *     away between slices, so the view is not consistent without the same
 *     pinning plus generation checks everywhere the master mutates), and
 *     copy-on-write of the master's records (touches every mutation site).
 *
 *  3. Streaming with back-pressure and turns.  The render produces ~1 MiB
 *     chunks; each waiter gets a Content-Length response fed one piece of
 *     TURN_BUDGET per loop turn shared by all waiters (at least SEND_PIECE
 *     each: loopback sends are dear), and only while its connection has
 *     nothing queued: the piece goes straight into the kernel (no copy
 *     unless the socket is full), the server's drain callback resumes a
 *     waiter whose socket filled up, and a 0 ms timer takes the others
 *     round-robin on the next turn.  So the loop never copies a whole
 *     body in one turn, twenty pollers cost at most twenty pieces per
 *     turn, other requests are read between turns, and a slow client
 *     costs no more than one piece.
 *
 * What the loop still does per batch: the snapshot (pointer walk), and
 * per waiter a few small writes per turn.  Authorization (VIEW_FRAMEWORK
 * / VIEW_TASK of the request's principal) is applied while taking the
 * snapshot, on the loop, since approvers belong to the loop thread.
 *
 * The writer goes straight from the snapshot to a small JSON writer
 * filling ~1 MiB buffers: no intermediate protobuf or JSON tree.  Numbers
 * that are whole or have at most three decimals (all resource quantities,
 * which the resources module keeps in thousandths) are formatted by hand;
 * snprintf would dominate the time otherwise.
 *
 *  4. The fragment cache (operator_int.h): each agent's and framework's
 *     part of a document is kept while the record does not change, so a
 *     poll of an unchanged cluster renders almost nothing.  The parts are
 *     not copied anywhere: the output buffers are reference-counted blocks
 *     (mesos__blk), a record's part is captured as the run of block bytes
 *     the render wrote for it (mesos__capture), and a later response sends
 *     a big part (a framework's tasks) as pieces of those blocks, copying
 *     only small ones (an agent).  So a cold poll, after every record
 *     changed, costs what a render without the cache costs (measured: the
 *     first version rendered parts into a scratch buffer and copied them
 *     twice, into their own allocation and into the response, and a cold
 *     poll took 2-3x a plain render, mostly page faults on fresh memory),
 *     and a warm poll copies ~15 MB instead of the whole ~108 MB.  Fresh
 *     blocks are faulted in by one madvise each.  A block lives while a
 *     response or a cached part uses it; a part whose blocks are mostly
 *     dead is rendered again (mesos__frag_get), which bounds what dead
 *     neighbours keep alive.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/build_info.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "loop/loop_int.h"
#include "master/master_auth.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

#define STATE_MAX ((size_t)1 << 31)

/* Render output is handed over in buffers of about this size. */
#define CHUNK_BYTES MESOS__STATE_CHUNK
/* The blocks render output and snapshots are carved from: a chunk plus
 * room for the largest token.  They are recycled (see block_get): in a VM
 * a fresh page costs a fault of several microseconds, and a 108 MB body
 * is 26,000 pages; measured, faults more than doubled the render time. */
#define BLOCK_BYTES MESOS__STATE_BLOCK
/* Blocks kept for reuse at most (~170 MiB: the body of a 20k-agent
 * /state and its snapshot); all are given back after TRIM_MS without a
 * render. */
#define POOL_MAX 160
#define TRIM_MS 30000

#if defined(__SANITIZE_ADDRESS__)
#define STATE_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STATE_PASSTHROUGH 1
#endif
#endif
#ifndef STATE_PASSTHROUGH
#define STATE_PASSTHROUGH 0
#endif
/* One waiter's share of a loop turn: small enough that twenty of them
 * keep a turn to a millisecond or two, large enough to keep a loopback
 * socket busy. */
#define SEND_PIECE ((size_t)64 << 10)
/* All waiters' share of one loop turn.  Sending on loopback runs the
 * receiving side's TCP work inside the sender's write(), so bytes sent
 * cost the loop about twice their copy: twenty waiters taking 256 KiB
 * each made a 10+ ms turn (measured with bench_state's loop-turn line);
 * 512 KiB keeps a turn near a millisecond and the pipe still full. */
#define TURN_BUDGET ((size_t)512 << 10)
/* Waiters in one batch at most (beyond: 503), so a flood of requests
 * cannot grow the master without bound. */
#define MAX_WAITERS 1024


/* A minimal JSON writer straight into the output buffer.  The first
 * version used yajl's generator; it calls back once per token and checks
 * its state machine on every call, and at 400,000 tasks that alone cost
 * more than the 300 ms budget (the bare-yajl baseline of the state
 * benchmark shows it).  Here a token is a few stores into memory reserved
 * once; commas and colons come from a small per-depth state. */
#define JG_DEPTH 32

typedef mesos__chunk chunk;
typedef mesos__chunks chunks; /* sv: where blocks come from and go back */

static char *block_get(struct mesos__state_srv *sv);
static void block_put(struct mesos__state_srv *sv, char *p);

typedef struct jg {
  mesos__buf *out;
  /* Cache mode without chunks (a render into one buffer): where fragments
   * are written before they are copied into their own exact allocation
   * (one buffer, grown once; jg_elem). */
  mesos__buf *scratch;
  chunks *chunks; /* NULL: everything stays in `out` */
  /* With chunks: the block `out` is (NULL: a plain allocation, for a token
   * bigger than a block), how much of it is pushed to the chunks already,
   * and the fragment being captured (jg_elem). */
  mesos__blk *blk;
  size_t seg;
  mesos__capture cap;
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

static void jg_flush(jg *j);
static void jg_big_token(jg *j, size_t n);

/* Room for n more bytes (plus the NUL the buffer keeps), or NULL.  With
 * chunks the buffer is never grown (a block is referenced, not moved):
 * the full block goes out and writing goes on in a fresh one. */
static inline char *jg_room(jg *j, size_t n) {
  mesos__buf *b = j->out;
  if (j->st != MESOS_OK) return NULL;
  if (b->data == NULL || n + 1 > b->cap - b->len) {
    if (j->chunks) {
      jg_flush(j);
      if (j->st == MESOS_OK && n + 1 > b->cap - b->len) jg_big_token(j, n);
      return j->st == MESOS_OK ? b->data + b->len : NULL;
    }
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
  if (n > MESOS__JSON_QUOTE_MAX_IN) {
    j->st = MESOS_ELIMIT;
    return;
  }
  /* Worst case every byte becomes \u00XX; one more for a key's colon. */
  char *p = jg_room(j, MESOS__JSON_QUOTE_ROOM(n) + 1);
  if (p == NULL) return;
  char *end = mesos__json_quote(p, s, n);
  if (key) *end++ = ':';
  j->out->len += (size_t)(end - p);
  j->out->data[j->out->len] = '\0';
}

static void jg_raw(jg *j, const char *s, size_t n) {
  jg_pre(j);
  jg_put(j, s, n);
}

#define KEY(j, k) jg_string((j), (k), sizeof(k) - 1)

/* Always inlined: a literal key's strlen is then folded away. */
static inline __attribute__((always_inline)) void str(jg *j, const char *s) {
  if (s == NULL) s = "";
  jg_string(j, s, strlen(s));
}

static inline __attribute__((always_inline)) void kstr(jg *j, const char *k, const char *v) {
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

static inline __attribute__((always_inline)) void knum(jg *j, const char *k, double x) {
  str(j, k);
  num(j, x);
}

static inline __attribute__((always_inline)) void kint(jg *j, const char *k, long long x) {
  str(j, k);
  char b[32];
  char *p = b + sizeof b;
  unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (x < 0) *--p = '-';
  jg_raw(j, p, (size_t)(b + sizeof b - p));
}

static inline __attribute__((always_inline)) void kbool(jg *j, const char *k, int b) {
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

/* Only the counters: extras are set up as they are added (a summary is
 * ~2 KiB and the snapshot makes several per agent). */
static void summary_init(summary *s) {
  memset(s->std, 0, sizeof s->std);
  s->nextra = 0;
}

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


/* The writer's new current block (with its reference). */
static void jg_new_block(jg *j) {
  mesos__buf *b = j->out;
  b->data = block_get(j->chunks->sv);
  b->len = 0;
  b->cap = b->data ? BLOCK_BYTES : 0;
  j->blk = b->data ? mesos__state_blk_of(b->data) : NULL;
  j->seg = 0;
  if (b->data == NULL) j->st = MESOS_ENOMEM;
  else b->data[0] = '\0';
}

/* Sends what the current block holds beyond what is pushed already to
 * the chunks (a piece of the block, with a reference); the writer goes on
 * in the same block after it. */
static void jg_push(jg *j) {
  mesos__buf *b = j->out;
  if (j->chunks == NULL || j->blk == NULL || j->st != MESOS_OK || b->len == j->seg) return;
  size_t n = b->len - j->seg;
  mesos_status st = mesos__state_chunks_push(j->chunks, b->data + j->seg, n, 0, j->blk);
  if (st != MESOS_OK) {
    j->st = st;
    return;
  }
  mesos__cap_pushed(&j->cap, b->data + j->seg, n, j->blk);
  j->seg = b->len;
}

/* Hands the filled buffer to the chunk list (rendering for the thread
 * pool); the next token starts a fresh block. */
static void jg_flush(jg *j) {
  chunks *c = j->chunks;
  mesos__buf *b = j->out;
  if (c == NULL || j->st != MESOS_OK || b->len == 0) return;
  if (j->blk) {
    jg_push(j);
    if (j->st != MESOS_OK) return;
    mesos__state_blk_done(j->blk, b->len);
    mesos__state_blk_unref(c->sv, j->blk);
  } else {
    /* A plain buffer (a big token) goes out whole. */
    mesos_status st = mesos__state_chunks_push(c, b->data, b->len, b->cap, NULL);
    if (st != MESOS_OK) {
      j->st = st;
      return;
    }
    mesos__cap_pushed(&j->cap, b->data, b->len, NULL);
  }
  /* A whole block: room for a chunk plus the largest usual token. */
  jg_new_block(j);
}

/* A token bigger than a block (the current one is empty): a plain
 * buffer of its own, pushed whole at the next flush. */
static void jg_big_token(jg *j, size_t n) {
  mesos__buf *b = j->out;
  char *p = mesos__malloc(n + 1);
  if (p == NULL) {
    j->st = MESOS_ENOMEM;
    return;
  }
  if (j->blk) mesos__state_blk_unref(j->chunks->sv, j->blk);
  j->blk = NULL;
  j->seg = 0;
  b->data = p;
  b->len = 0;
  b->cap = n + 1;
  p[0] = '\0';
}

/* The writer's current buffer is let go of (the end of a render). */
static void jg_release(jg *j, struct mesos__state_srv *sv) {
  if (j->blk) mesos__state_blk_done(j->blk, j->out->len);
  if (j->blk) mesos__state_blk_unref(sv, j->blk);
  else mesos__free(j->out->data);
  j->blk = NULL;
  j->out->data = NULL;
  j->out->len = j->out->cap = 0;
}

static inline void jg_maybe_flush(jg *j) {
  if (j->chunks && j->out->len >= CHUNK_BYTES) jg_flush(j);
}

/* A buffer that may be a pooled block goes back to the pool. */
static void buf_give_back(struct mesos__state_srv *sv, char *data, size_t cap) {
  if (data && cap == BLOCK_BYTES) block_put(sv, data);
  else mesos__free(data);
}

static void chunks_free(chunks *c) {
  for (size_t i = 0; i < c->n; i++) {
    if (c->v[i].blk) mesos__state_blk_unref(c->sv, c->v[i].blk);
    else mesos__free(c->v[i].data);
  }
  mesos__free(c->v);
  memset(c, 0, sizeof *c);
}

void mesos__state_chunks_free(mesos__chunks *c) { chunks_free(c); }

char *mesos__state_block_get(struct mesos__state_srv *sv) { return block_get(sv); }

void mesos__state_block_put(struct mesos__state_srv *sv, char *data, size_t cap) {
  buf_give_back(sv, data, cap);
}

mesos_status mesos__state_chunks_push(mesos__chunks *c, char *data, size_t len, size_t cap,
                                      mesos__blk *blk) {
  if (len > MESOS__OP_RESPONSE_MAX - c->total) return MESOS_ELIMIT;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 64;
    chunk *v = mesos__realloc(c->v, ncap * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    c->v = v;
    c->cap = ncap;
  }
  if (blk) mesos__state_blk_ref(blk);
  c->v[c->n].data = data;
  c->v[c->n].len = len;
  c->v[c->n].cap = cap;
  c->v[c->n++].blk = blk;
  c->total += len;
  return MESOS_OK;
}

/* ------------------------------------------------------------ snapshot */

/* A resources summary ready to write; `text` is the closed "[a-b, c-d]"
 * or "{a,b}" of a ranges or set resource, NULL for a scalar. */
typedef struct s_extra {
  const char *name;
  int64_t milli;
  const char *text;
} s_extra;

typedef struct s_sum {
  int64_t std[4]; /* cpus gpus mem disk, thousandths */
  s_extra *extra;
  size_t nextra;
} s_sum;

typedef struct s_task {
  /* A live task's body (task_body.h), pinned (see the top of the file):
   * immutable, read off the loop through mesos__task_body_view.  NULL for
   * a completed task, whose Task message is `t`. */
  const mesos__task_body *b;
  const Mesos__V1__Task *t;
  const char *role; /* NULL: not written (completed tasks) */
  /* The task's resources bag (pinned like the Task message: a task freed
   * while a snapshot lives parks it in the graveyard), NULL when the task
   * holds none any more (released); added up off the loop. */
  const mesos__resources *res;
  /* The agent it runs on, only as a key to find the agent's entry in the
   * snapshot (never dereferenced off the loop). */
  const void *agent;
  int32_t state;    /* Task.state when the snapshot was taken */
  int32_t su_state; /* the state of its latest status update */
  int hidden;       /* not for this principal: counted in usage, not written */
} s_task;

typedef struct s_offer {
  const char *id, *agent_id;
  s_sum res;
} s_offer;

typedef struct s_attr {
  const char *name, *text; /* text NULL: a number */
  double num;
} s_attr;

typedef struct s_role {
  const char *role;
  s_sum res;
} s_role;

typedef struct s_agent {
  const void *key; /* the mesos__agent, as a key (s_task.agent) */
  uint64_t gen;          /* cache mode: its generation */
  mesos__frag *hit;      /* cache mode: its element, cached (nothing else is set then) */
  mesos__frag *fresh;    /* cache mode: the element the render made */
  int cacheable;         /* cache mode, not cached: the render makes `fresh` */
  /* Its live tasks' resource bags (pinned), added up off the loop. */
  const mesos__resources **usedv;
  size_t nusedv;
  const char *id, *hostname;
  int port, active;
  double registered, reregistered;
  s_sum total, used, offered, unreserved;
  s_role *reserved;
  size_t nreserved;
  s_attr *attrs;
  size_t nattrs;
} s_agent;

typedef struct s_fw {
  const void *key;       /* the mesos__framework (cache mode) */
  uint64_t gen;
  mesos__frag *hit;      /* cache mode: its element, cached (nothing else is set then) */
  mesos__frag *fresh;
  int cacheable;
  Mesos__V1__FrameworkInfo *info; /* a copy, owned (NULL for /tasks) */
  int active, done;
  /* Not for this principal: only its tasks' usage of the agents counts. */
  int hidden;
  double registered, reregistered, unregistered;
  s_sum used, offered;
  s_task *tasks;
  size_t ntasks;
  /* Completed tasks: their Task messages never change once in a ring, so
   * the snapshot copies the ring's pointers and nothing else. */
  const Mesos__V1__Task **completed;
  size_t ncompleted;
  s_offer *offers;
  size_t noffers;
} s_fw;

/* K_V1: a v1 operator state call (state_v1.c builds and encodes it). */
enum { K_STATE, K_FRAMEWORKS, K_SLAVES, K_TASKS, K_V1 };

/* Bump allocation in pooled blocks; what does not fit a block's quarter
 * is allocated on its own.  Freed as a whole with the snapshot. */
typedef struct s_arena {
  char **blocks;
  size_t nblocks, capblocks;
  void **big;
  size_t nbig, capbig;
  char *cur;
  size_t left;
} s_arena;

typedef struct snapshot {
  int kind;
  int call;          /* K_V1: the call type */
  mesos__media media; /* K_V1: the response's media */
  mesos__v1snap *v1; /* K_V1: the snapshot proper */
  int oom;
  struct mesos__state_srv *sv;
  s_arena arena;
  mesos__buf head; /* K_STATE: "{" and the members before "slaves" */
  s_agent *agents;
  size_t nagents;
  s_fw *fws; /* live frameworks, then completed ones (done) */
  size_t nfws;
  int pinned; /* counted in the service's pins */
  struct mesos__state_srv *cache; /* the fragment cache serves it (endpoints, no view) */
  int usage_done; /* the used resources were added up (usage_compute) */
} snapshot;

static int ptr_push(void ***v, size_t *n, size_t *cap, void *p) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    void **g = mesos__realloc(*v, c * sizeof *g);
    if (g == NULL) return 0;
    *v = g;
    *cap = c;
  }
  (*v)[(*n)++] = p;
  return 1;
}

static void *arena_get(snapshot *s, size_t n, size_t align) {
  s_arena *a = &s->arena;
  size_t pad = (align - ((uintptr_t)a->cur & (align - 1))) & (align - 1);
  if (STATE_PASSTHROUGH || n > BLOCK_BYTES / 4) {
    void *p = mesos__malloc(n ? n : 1);
    if (p && !ptr_push(&a->big, &a->nbig, &a->capbig, p)) {
      mesos__free(p);
      p = NULL;
    }
    return p;
  }
  if (a->cur == NULL || n + pad > a->left) {
    char *b = block_get(s->sv);
    if (b && !ptr_push((void ***)&a->blocks, &a->nblocks, &a->capblocks, b)) {
      block_put(s->sv, b);
      b = NULL;
    }
    if (b == NULL) return NULL;
    a->cur = b;
    a->left = BLOCK_BYTES;
    pad = 0;
  }
  char *p = a->cur + pad;
  a->cur += pad + n;
  a->left -= pad + n;
  return p;
}

static void arena_free(snapshot *s) {
  s_arena *a = &s->arena;
  for (size_t i = 0; i < a->nbig; i++) mesos__free(a->big[i]);
  for (size_t i = 0; i < a->nblocks; i++) block_put(s->sv, a->blocks[i]);
  mesos__free(a->big);
  mesos__free(a->blocks);
  memset(a, 0, sizeof *a);
}

static void *s_alloc(snapshot *s, size_t count, size_t size) {
  size_t n;
  if (!mesos__size_mul(&n, count ? count : 1, size)) {
    s->oom = 1;
    return NULL;
  }
  void *p = arena_get(s, n, 16);
  if (p == NULL) {
    s->oom = 1;
    return NULL;
  }
  memset(p, 0, n);
  return p;
}

static const char *s_str(snapshot *s, const char *src) {
  if (src == NULL) return "";
  size_t n = strlen(src) + 1;
  char *p = arena_get(s, n, 1);
  if (p == NULL) {
    s->oom = 1;
    return "";
  }
  memcpy(p, src, n);
  return p;
}

static void sum_store(snapshot *s, s_sum *d, const summary *src) {
  memcpy(d->std, src->std, sizeof d->std);
  d->nextra = 0;
  if (src->nextra == 0) return;
  d->extra = s_alloc(s, src->nextra, sizeof *d->extra);
  if (d->extra == NULL) return;
  for (size_t i = 0; i < src->nextra; i++) {
    s_extra *e = &d->extra[i];
    e->name = s_str(s, src->extra[i].name);
    e->milli = src->extra[i].milli;
    if (src->extra[i].is_text) {
      char closed[260];
      snprintf(closed, sizeof closed, "%s%s", src->extra[i].text[0] ? src->extra[i].text : "[",
               src->extra[i].text[0] == '{' ? "}" : "]");
      e->text = s_str(s, closed);
    }
  }
  d->nextra = src->nextra;
}

static void sum_of(snapshot *s, s_sum *d, const mesos__resources *r) {
  summary tmp;
  summary_init(&tmp);
  for (size_t i = 0; r && i < r->n; i++) summary_add_res(&tmp, &r->v[i]);
  sum_store(s, d, &tmp);
}

/* Resources in use, added up task by task: scalars straight into the
 * summary; ranges and sets (rare on tasks: ports) merged first, as the
 * summary of the merged bag shows them. */
typedef struct usage {
  summary s;
  mesos__resources other;
} usage;

static void usage_init(usage *u) {
  summary_init(&u->s);
  mesos__resources_init(&u->other);
}

static void usage_add_other(usage *u, const mesos__resources *r);

static void usage_add(usage *u, const mesos__resources *r) {
  int other = 0;
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].type == MESOS__V1__VALUE__TYPE__SCALAR) summary_add_res(&u->s, &r->v[i]);
    else other = 1;
  }
  if (other) usage_add_other(u, r);
}

/* The ranges and sets of `r`, merged into u->other. */
static void usage_add_other(usage *u, const mesos__resources *r) {
  mesos__resources only;
  mesos__resources_init(&only);
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].type == MESOS__V1__VALUE__TYPE__SCALAR) continue;
    Mesos__V1__Resource *p = NULL;
    if (mesos__res_to_proto(&r->v[i], &p) == MESOS_OK) {
      (void)mesos__resources_add(&only, p, NULL);
      mesos__pb_free(p);
    }
  }
  (void)mesos__resources_add_all(&u->other, &only);
  mesos__resources_free(&only);
}

static void usage_store(snapshot *s, s_sum *d, usage *u) {
  for (size_t i = 0; i < u->other.n; i++) summary_add_res(&u->s, &u->other.v[i]);
  sum_store(s, d, &u->s);
  mesos__resources_free(&u->other);
}

/* ---- usage, added up off the loop from the snapshot's tasks */

/* The summary index of a bag entry's name (cpus gpus mem disk), or -1.
 * Read from the identity's packed key, whose first field is the name
 * (tag 0x0a, length, bytes): one cache line instead of the proto and its
 * name string; the key is the interned identity tasks share. */
static int std_index_res(const mesos__res *x) {
  const uint8_t *k = x->key;
  if (k && x->key_len >= 2 && k[0] == 0x0a && k[1] < 0x80 && (size_t)k[1] + 2 <= x->key_len) {
    switch (k[1]) {
      case 3: return memcmp(k + 2, "mem", 3) == 0 ? 2 : -1;
      case 4:
        if (memcmp(k + 2, "cpus", 4) == 0) return 0;
        if (memcmp(k + 2, "gpus", 4) == 0) return 1;
        if (memcmp(k + 2, "disk", 4) == 0) return 3;
        return -1;
      default: return -1;
    }
  }
  return x->proto && x->proto->name ? std_index(x->proto->name) : -1;
}

/* What a set of tasks uses: the four standard scalars as counters; the
 * rest (other scalars, ranges, sets: rare) in a usage allocated when the
 * first such resource shows up, so 20,000 agents cost 20,000 small
 * counters and not 20,000 summaries. */
typedef struct acc {
  int64_t std[4];
  usage *u;
  int oom;
} acc;

static void acc_add(acc *a, const mesos__resources *r) {
  int other = 0;
  for (size_t i = 0; i < r->n; i++) {
    const mesos__res *x = &r->v[i];
    if (x->type != MESOS__V1__VALUE__TYPE__SCALAR) {
      other = 1;
      continue;
    }
    int k = std_index_res(x);
    if (k >= 0) {
      a->std[k] += x->milli;
      continue;
    }
    if (a->u == NULL) {
      if ((a->u = MESOS__NEW(usage)) == NULL) {
        a->oom = 1;
        return;
      }
      usage_init(a->u);
    }
    summary_add_res(&a->u->s, x);
  }
  if (!other) return;
  if (a->u == NULL) {
    if ((a->u = MESOS__NEW(usage)) == NULL) {
      a->oom = 1;
      return;
    }
    usage_init(a->u);
  }
  usage_add_other(a->u, r);
}

/* Stores the summary (the same one usage_store makes of the same tasks)
 * and frees the accumulator. */
static void acc_store(snapshot *s, s_sum *d, acc *a) {
  if (a->oom) s->oom = 1;
  if (a->u == NULL) {
    memcpy(d->std, a->std, sizeof d->std);
    d->nextra = 0;
    return;
  }
  for (int k = 0; k < 4; k++) a->u->s.std[k] += a->std[k];
  usage_store(s, d, a->u);
  mesos__free(a->u);
  a->u = NULL;
}

/* Adds up what the live tasks use, per framework and per agent, into the
 * snapshot (s_fw.used, s_agent.used).  Runs with the render, off the
 * loop: it reads the snapshot and the pinned resource bags only. */
static void usage_compute(snapshot *s) {
  if (s->usage_done) return;
  s->usage_done = 1;
  int fws = s->kind == K_STATE || s->kind == K_FRAMEWORKS;
  for (size_t f = 0; fws && f < s->nfws; f++) {
    s_fw *fw = &s->fws[f];
    if (fw->hidden || fw->done || fw->hit) continue;
    acc mine;
    memset(&mine, 0, sizeof mine);
    for (size_t i = 0; i < fw->ntasks; i++)
      if (fw->tasks[i].res) acc_add(&mine, fw->tasks[i].res);
    acc_store(s, &fw->used, &mine);
  }
  /* Each agent's, in its own task order (snap_agents collected them). */
  for (size_t i = 0; i < s->nagents; i++) {
    s_agent *a = &s->agents[i];
    if (a->hit) continue;
    acc mine;
    memset(&mine, 0, sizeof mine);
    for (size_t k = 0; k < a->nusedv; k++) acc_add(&mine, a->usedv[k]);
    acc_store(s, &a->used, &mine);
  }
}

static void snap_agent(mesos_master *m, snapshot *s, s_agent *d, mesos__agent *a,
                       mesos__map *offered) {
  d->key = a;
  d->id = s_str(s, a->id);
  d->hostname = s_str(s, a->info->hostname);
  d->port = a->info->has_port ? (int)a->info->port : 5051;
  d->active = a->stream != NULL;
  d->registered = a->registered_time;
  d->reregistered = a->reregistered_time;
  const mesos__resources *total = a->total ? &a->total->r : NULL;
  sum_of(s, &d->total, total);
  /* d->used: added up off the loop from the tasks (usage_compute). */
  sum_of(s, &d->offered, offered ? mesos__map_get(offered, a->id) : NULL);
  /* reserved_resources: role -> summary of what is reserved for it. */
  const char *roles[16];
  size_t nroles = 0;
  int reserved = 0;
  for (size_t i = 0; total && i < total->n; i++) {
    const char *role = mesos__resource_role(total->v[i].proto);
    if (strcmp(role, "*") == 0) continue;
    reserved = 1;
    if (!mesos__master_auth_sees_role(m, role)) continue; /* VIEW_ROLE, as Mesos */
    size_t k = 0;
    while (k < nroles && strcmp(roles[k], role) != 0) k++;
    if (k == nroles && nroles < 16) roles[nroles++] = role;
  }
  if (nroles) d->reserved = s_alloc(s, nroles, sizeof *d->reserved);
  for (size_t k = 0; d->reserved && k < nroles; k++) {
    summary r;
    summary_init(&r);
    for (size_t i = 0; i < total->n; i++)
      if (strcmp(mesos__resource_role(total->v[i].proto), roles[k]) == 0)
        summary_add_res(&r, &total->v[i]);
    d->reserved[k].role = s_str(s, roles[k]);
    sum_store(s, &d->reserved[k].res, &r);
    d->nreserved = k + 1;
  }
  if (!reserved) {
    d->unreserved = d->total; /* nothing reserved (the usual case): the same summary */
  } else {
    summary un;
    summary_init(&un);
    for (size_t i = 0; total && i < total->n; i++)
      if (strcmp(mesos__resource_role(total->v[i].proto), "*") == 0)
        summary_add_res(&un, &total->v[i]);
    sum_store(s, &d->unreserved, &un);
  }
  if (a->info->n_attributes) d->attrs = s_alloc(s, a->info->n_attributes, sizeof *d->attrs);
  for (size_t i = 0; d->attrs && i < a->info->n_attributes; i++) {
    const Mesos__V1__Attribute *at = a->info->attributes[i];
    s_attr *x = &d->attrs[d->nattrs++];
    x->name = s_str(s, at->name);
    if (at->type == MESOS__V1__VALUE__TYPE__SCALAR && at->scalar) x->num = at->scalar->value;
    else if (at->type == MESOS__V1__VALUE__TYPE__TEXT && at->text) x->text = s_str(s, at->text->value);
    else x->text = "";
  }
}

static void snap_agents(mesos_master *m, snapshot *s) {
  /* Offers per agent, in one walk over the master's offer table (not one
   * walk per agent). */
  mesos__map offered;
  mesos__map_init(&offered);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->offers, &it, NULL, &v)) {
    mesos__offer *o = v;
    if (o->resources == NULL) continue;
    mesos__resources *r = mesos__map_get(&offered, o->agent->id);
    if (r == NULL) {
      r = MESOS__NEW(mesos__resources);
      if (r == NULL || mesos__map_put(&offered, o->agent->id, r) != MESOS_OK) {
        mesos__free(r);
        s->oom = 1;
        continue;
      }
      mesos__resources_init(r);
    }
    if (mesos__resources_add_all(r, &o->resources->r) != MESOS_OK) s->oom = 1;
  }
  size_t n = mesos__map_count(&m->agents);
  s->agents = s_alloc(s, n, sizeof *s->agents);
  it = 0;
  while (s->agents && s->nagents < n && mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    s_agent *d = &s->agents[s->nagents++];
    if (s->cache) {
      double stamp[3] = {a->stream != NULL, a->registered_time, a->reregistered_time};
      d->key = a;
      d->gen = mesos__frag_gen(s->cache, a, &a->state_gen, stamp);
      if ((d->hit = mesos__frag_get(s->cache, a, d->gen, MESOS__FRAG_STATE)) != NULL) continue;
      d->cacheable = 1;
    }
    snap_agent(m, s, d, a, &offered);
    /* What its live tasks use, added up off the loop (usage_compute). */
    size_t nt = mesos__map_count(&a->tasks);
    if (nt) d->usedv = s_alloc(s, nt, sizeof *d->usedv);
    size_t k = 0;
    void *tv;
    while (d->usedv && d->nusedv < nt && mesos__map_next(&a->tasks, &k, NULL, &tv)) {
      const mesos__task *t = tv;
      if (t->body && !t->released && t->resources) d->usedv[d->nusedv++] = &t->resources->r;
    }
  }
  it = 0;
  while (mesos__map_next(&offered, &it, NULL, &v)) {
    mesos__resources_free(v);
    mesos__free(v);
  }
  mesos__map_free(&offered);
}

static Mesos__V1__FrameworkInfo *info_copy(snapshot *s, const Mesos__V1__FrameworkInfo *fi) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (fi == NULL || mesos__pb_pack(&fi->base, 0, &bytes, &len, NULL) != MESOS_OK ||
      mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy, NULL) !=
          MESOS_OK) {
    mesos__free(bytes);
    s->oom = 1;
    return NULL;
  }
  mesos__free(bytes);
  return (Mesos__V1__FrameworkInfo *)copy;
}

static const char *fw_role(const Mesos__V1__FrameworkInfo *fi) {
  if (fi->n_roles) return fi->roles[0];
  return fi->role ? fi->role : "*";
}

/* The ring's Task pointers, oldest first: two copies, no dereference
 * (the messages are immutable once completed). */
static void snap_ring(snapshot *s, const Mesos__V1__Task ***out, size_t *n,
                      const mesos__op_tasks *ring) {
  *n = 0;
  if (ring == NULL || ring->n == 0) return;
  const Mesos__V1__Task **v = s_alloc(s, ring->n, sizeof *v);
  if (v == NULL) return;
  size_t first = ring->cap - ring->head < ring->n ? ring->cap - ring->head : ring->n;
  memcpy(v, ring->v + ring->head, first * sizeof *v);
  memcpy(v + first, ring->v, (ring->n - first) * sizeof *v);
  *out = v;
  *n = ring->n;
}

/* Every live task of the framework: the Task pointer, its two mutable
 * state fields, its resources bag and agent (usage is added up off the
 * loop), and whether the view shows it.  This walk is what a snapshot
 * costs the loop: a few cache lines per task and no resource arithmetic. */
static void snap_live_tasks(mesos_master *m, snapshot *s, s_fw *d, mesos__framework *fw,
                            int all_hidden) {
  size_t n = mesos__map_count(&fw->tasks);
  if (n == 0) return;
  d->tasks = s_alloc(s, n, sizeof *d->tasks);
  /* Most tasks run in their framework's role: share that string. */
  const char *role = fw->info ? fw_role(fw->info) : "*";
  const char *role_copy = all_hidden ? "" : s_str(s, role);
  int filter = m->view != NULL;
  if (d->tasks == NULL) return;
  /* The records first (the map's slots are one array), then the walk
   * with prefetches two stages ahead: a task's record, then its Task
   * message and role string.  A task costs a few dependent cache misses,
   * and overlapping them is most of what makes the walk fast. */
  mesos__task **v = mesos__malloc(n * sizeof *v);
  if (v == NULL) {
    s->oom = 1;
    return;
  }
  size_t k = 0, it = 0;
  void *val;
  while (k < n && mesos__map_next(&fw->tasks, &it, NULL, &val)) v[k++] = val;
  enum { AHEAD = 8 };
  for (size_t i = 0; i < k; i++) {
    if (i + 2 * AHEAD < k) __builtin_prefetch(v[i + 2 * AHEAD]);
    if (i + AHEAD < k) {
      __builtin_prefetch(v[i + AHEAD]->body);
      __builtin_prefetch(v[i + AHEAD]->role);
    }
    mesos__task *t = v[i];
    if (t->body == NULL) continue;
    s_task *x = &d->tasks[d->ntasks++];
    x->b = t->body;
    x->res = !t->released && t->resources ? &t->resources->r : NULL;
    x->agent = t->agent;
    x->state = t->state;
    x->su_state = t->has_su_state ? t->su_state : t->state;
    if (all_hidden || (filter && !mesos__master_auth_sees_task(m, fw, t))) {
      x->hidden = 1;
      continue;
    }
    x->role = t->role == NULL ? NULL : strcmp(t->role, role) == 0 ? role_copy : s_str(s, t->role);
  }
  mesos__free(v);
}

static void snap_fw(mesos_master *m, snapshot *s, s_fw *d, mesos__framework *fw) {
  d->info = info_copy(s, fw->info);
  d->active = fw->stream != NULL;
  d->registered = fw->registered_time;
  d->reregistered = fw->reregistered_time;
  usage offered;
  usage_init(&offered);
  size_t it = 0;
  void *v;
  snap_live_tasks(m, s, d, fw, 0);
  size_t no = mesos__map_count(&fw->offers);
  if (no) d->offers = s_alloc(s, no, sizeof *d->offers);
  it = 0;
  while (d->offers && d->noffers < no && mesos__map_next(&fw->offers, &it, NULL, &v)) {
    mesos__offer *o = v;
    if (o->resources) usage_add(&offered, &o->resources->r);
    s_offer *x = &d->offers[d->noffers++];
    x->id = s_str(s, o->id);
    x->agent_id = s_str(s, o->agent->id);
    sum_of(s, &x->res, o->resources ? &o->resources->r : NULL);
  }
  /* d->used: added up off the loop (usage_compute). */
  usage_store(s, &d->offered, &offered);
  snap_ring(s, &d->completed, &d->ncompleted, mesos__op_completed_tasks(m, fw->id));
}

static void snap_frameworks(mesos_master *m, snapshot *s) {
  mesos__operator *op = m->op;
  size_t n = mesos__map_count(&m->frameworks) + (op ? op->done_n : 0);
  s->fws = s_alloc(s, n, sizeof *s->fws);
  if (s->fws == NULL) return;
  size_t it = 0;
  void *v;
  while (s->nfws < n && mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    /* (A hidden framework's tasks still use the agents /state shows: the
     * agents add up their own tasks.) */
    if (!mesos__master_auth_sees_framework(m, v)) continue;
    mesos__framework *fw = v;
    s_fw *d = &s->fws[s->nfws++];
    if (s->cache) {
      double stamp[3] = {fw->stream != NULL, fw->registered_time, fw->reregistered_time};
      d->key = fw;
      d->gen = mesos__frag_gen(s->cache, fw, &fw->state_gen, stamp);
      if ((d->hit = mesos__frag_get(s->cache, fw, d->gen, MESOS__FRAG_STATE)) != NULL) continue;
      d->cacheable = 1;
    }
    snap_fw(m, s, d, fw);
  }
  for (size_t i = 0; op && i < op->done_n && s->nfws < n; i++) {
    const mesos__op_done_fw *dn = &op->done[(op->done_head + i) % op->done_cap];
    /* Completed frameworks are filtered like live ones (VIEW_FRAMEWORK). */
    if (m->view && !mesos__auth_view_framework(m->view, dn->info ? dn->info->user : NULL))
      continue;
    s_fw *d = &s->fws[s->nfws++];
    d->done = 1;
    d->info = info_copy(s, dn->info);
    d->registered = dn->registered_time;
    d->unregistered = dn->unregistered_time;
    snap_ring(s, &d->completed, &d->ncompleted, &dn->tasks);
  }
}

/* /tasks: every live task the principal may view, and the completed ones
 * of the frameworks it may view. */
static void snap_tasks(mesos_master *m, snapshot *s) {
  size_t n = mesos__map_count(&m->frameworks);
  s->fws = s_alloc(s, n, sizeof *s->fws);
  size_t it = 0;
  void *v;
  while (s->fws && s->nfws < n && mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    s_fw *d = &s->fws[s->nfws++];
    snap_live_tasks(m, s, d, fw, 0);
    if (mesos__master_auth_sees_framework(m, fw))
      snap_ring(s, &d->completed, &d->ncompleted, mesos__op_completed_tasks(m, fw->id));
  }
}

static void flags_json(jg *j, mesos_master *m);
static void header_json(jg *j, mesos_master *m);

static void snap_free(mesos_master *m, snapshot *s);

/* Takes the snapshot of `kind` for the principal of the view set on the
 * master (if any).  Task messages are pinned when pin is set (the render
 * runs elsewhere; unset for a synchronous render on the loop). */
static mesos_status snap_take(mesos_master *m, snapshot *s, int kind, int pin, int call,
                              mesos__media media);

static void ssum_write(jg *j, const s_sum *s) {
  j_map_open(j);
  for (int k = 0; k < 4; k++) {
    str(j, std_names[k]);
    milli_num(j, s->std[k]);
  }
  for (size_t i = 0; i < s->nextra; i++) {
    str(j, s->extra[i].name);
    if (s->extra[i].text) str(j, s->extra[i].text);
    else milli_num(j, s->extra[i].milli);
  }
  j_map_close(j);
}

/* ------------------------------------------------------------ render */

static const char *task_state_name(int32_t s) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)s);
  return v ? v->name : "TASK_UNKNOWN";
}

static void task_json(jg *j, const s_task *x) {
  Mesos__V1__Task view;
  const Mesos__V1__Task *t = x->t;
  if (x->b) {
    mesos__task_body_view(x->b, x->state, true, x->su_state, &view);
    t = &view;
  }
  j_map_open(j);
  kstr(j, "id", t->task_id ? t->task_id->value : "");
  kstr(j, "name", t->name);
  kstr(j, "framework_id", t->framework_id ? t->framework_id->value : "");
  kstr(j, "executor_id", t->executor_id ? t->executor_id->value : "");
  kstr(j, "slave_id", t->agent_id ? t->agent_id->value : "");
  kstr(j, "state", task_state_name(x->state));
  KEY(j, "resources");
  summary s;
  summary_init(&s);
  for (size_t i = 0; i < t->n_resources; i++) summary_add_proto(&s, t->resources[i]);
  summary_write(j, &s);
  if (x->role) kstr(j, "role", x->role);
  /* The master keeps the latest state, not the update history. */
  KEY(j, "statuses");
  j_array_open(j);
  j_map_open(j);
  kstr(j, "state", task_state_name(x->su_state));
  j_map_close(j);
  j_array_close(j);
  if (t->user) kstr(j, "user", t->user);
  j_map_close(j);
  jg_maybe_flush(j);
}

static void tasks_json(jg *j, const s_task *v, size_t n, const atomic_int *cancel) {
  for (size_t i = 0; i < n && j->st == MESOS_OK; i++) {
    if ((i & 1023) == 1023 && cancel && atomic_load_explicit(cancel, memory_order_relaxed))
      j->st = MESOS_ECLOSED;
    if (!v[i].hidden) task_json(j, &v[i]);
  }
}

/* Completed tasks: their state is read from the (immutable) message. */
static void completed_json(jg *j, const Mesos__V1__Task *const *v, size_t n,
                           const atomic_int *cancel) {
  for (size_t i = 0; i < n && j->st == MESOS_OK; i++) {
    if ((i & 1023) == 1023 && cancel && atomic_load_explicit(cancel, memory_order_relaxed))
      j->st = MESOS_ECLOSED;
    s_task x;
    memset(&x, 0, sizeof x);
    x.t = v[i];
    x.state = v[i]->state;
    x.su_state = v[i]->has_status_update_state ? v[i]->status_update_state : v[i]->state;
    task_json(j, &x);
  }
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

static const s_sum empty_sum;

static void framework_json(jg *j, const s_fw *f, const atomic_int *cancel) {
  if (f->info == NULL || f->hidden) return;
  j_map_open(j);
  framework_info_json(j, f->info);
  kbool(j, "active", f->active);
  kbool(j, "connected", f->active);
  kbool(j, "recovered", 0);
  knum(j, "registered_time", f->registered);
  knum(j, "unregistered_time", f->unregistered);
  if (f->reregistered > 0) knum(j, "reregistered_time", f->reregistered);
  KEY(j, "resources");
  ssum_write(j, f->done ? &empty_sum : &f->used);
  KEY(j, "used_resources");
  ssum_write(j, f->done ? &empty_sum : &f->used);
  KEY(j, "offered_resources");
  ssum_write(j, f->done ? &empty_sum : &f->offered);
  KEY(j, "tasks");
  j_array_open(j);
  tasks_json(j, f->tasks, f->ntasks, cancel);
  j_array_close(j);
  if (!f->done) {
    KEY(j, "unreachable_tasks");
    j_array_open(j);
    j_array_close(j);
  }
  KEY(j, "completed_tasks");
  j_array_open(j);
  completed_json(j, f->completed, f->ncompleted, cancel);
  j_array_close(j);
  KEY(j, "offers");
  j_array_open(j);
  for (size_t i = 0; i < f->noffers; i++) {
    const s_offer *o = &f->offers[i];
    j_map_open(j);
    kstr(j, "id", o->id);
    kstr(j, "framework_id", f->info->id ? f->info->id->value : "");
    kstr(j, "slave_id", o->agent_id);
    KEY(j, "resources");
    ssum_write(j, &o->res);
    j_map_close(j);
  }
  j_array_close(j);
  KEY(j, "executors");
  j_array_open(j);
  j_array_close(j);
  j_map_close(j);
  jg_maybe_flush(j);
}

static void agent_json(jg *j, const s_agent *a) {
  j_map_open(j);
  kstr(j, "id", a->id);
  char pid[320];
  snprintf(pid, sizeof pid, "slave(1)@%s:%d", a->hostname, a->port);
  kstr(j, "pid", pid);
  kstr(j, "hostname", a->hostname);
  kint(j, "port", a->port);
  knum(j, "registered_time", a->registered);
  if (a->reregistered > 0) knum(j, "reregistered_time", a->reregistered);
  KEY(j, "resources");
  ssum_write(j, &a->total);
  KEY(j, "used_resources");
  ssum_write(j, &a->used);
  KEY(j, "offered_resources");
  ssum_write(j, &a->offered);
  KEY(j, "reserved_resources");
  j_map_open(j);
  for (size_t k = 0; k < a->nreserved; k++) {
    str(j, a->reserved[k].role);
    ssum_write(j, &a->reserved[k].res);
  }
  j_map_close(j);
  KEY(j, "unreserved_resources");
  ssum_write(j, &a->unreserved);
  KEY(j, "attributes");
  j_map_open(j);
  for (size_t i = 0; i < a->nattrs; i++) {
    str(j, a->attrs[i].name);
    if (a->attrs[i].text) str(j, a->attrs[i].text);
    else num(j, a->attrs[i].num);
  }
  j_map_close(j);
  kbool(j, "active", a->active);
  kbool(j, "deactivated", 0);
  kstr(j, "version", "1.0.0");
  KEY(j, "capabilities");
  j_array_open(j);
  j_array_close(j);
  j_map_close(j);
  jg_maybe_flush(j);
}

/* ---- fragments (cache mode, see operator_int.h) */

/* Copies n bytes into the output, across blocks (with chunks). */
static void jg_copy(jg *j, const char *p, size_t n) {
  while (n > 0 && j->st == MESOS_OK) {
    mesos__buf *b = j->out;
    size_t room = b->data && b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
    if (j->chunks == NULL || room >= n) {
      jg_put(j, p, n);
      break;
    }
    if (room == 0) {
      jg_flush(j);
      continue;
    }
    jg_put(j, p, room);
    p += room;
    n -= room;
  }
}

/* An element written elsewhere, as the next element of the open array: a
 * big one made into blocks is sent by reference (its pieces go into the
 * chunks as they are), anything else copied. */
static void jg_splice(jg *j, const mesos__frag *f) {
  if (f == NULL || f->len == 0 || j->st != MESOS_OK) return;
  jg_pre(j);
  if (j->chunks && j->blk && f->data == NULL && f->len >= MESOS__FRAG_REF_MIN) {
    jg_push(j);
    for (size_t i = 0; i < f->nseg && j->st == MESOS_OK; i++) {
      mesos_status st = mesos__state_chunks_push(j->chunks, (char *)f->seg[i].data, f->seg[i].len,
                                                 0, f->seg[i].blk);
      if (st != MESOS_OK) j->st = st;
    }
    return;
  }
  if (f->data) {
    jg_copy(j, f->data, f->len);
  } else {
    for (size_t i = 0; i < f->nseg; i++) jg_copy(j, f->seg[i].data, f->seg[i].len);
  }
  jg_maybe_flush(j);
}

typedef void (*elem_fn)(jg *j, const void *x);

/* One array element: cached (`hit`), else written by `fn` -- into its own
 * fragment for the cache when `fresh` is set, else straight out.  With
 * chunks the element is written straight into the output too, and the
 * fragment is the run of block bytes it took (captured): a cold poll
 * costs what a render without the cache does. */
static void jg_elem(jg *j, const mesos__frag *hit, mesos__frag **fresh, elem_fn fn, const void *x) {
  if (j->st != MESOS_OK) return;
  if (hit) {
    jg_splice(j, hit);
    return;
  }
  if (fresh == NULL) {
    fn(j, x);
    return;
  }
  if (j->chunks) {
    /* The separator first (it is not the element's), room for it and the
     * element's first token in this block, then the capture from there;
     * an element that writes nothing takes its separator back. */
    int d = j->depth;
    uint8_t state = j->state[d];
    if (jg_room(j, 16) == NULL) return;
    size_t before = j->out->len;
    jg_pre(j);
    j->state[d] = 0;
    size_t at = j->out->len;
    mesos__cap_begin(&j->cap, j->blk, j->out->data + at);
    fn(j, x);
    if (j->st == MESOS_OK && j->cap.first && j->blk == j->cap.blk0 && j->out->len == at) {
      j->out->len = before;
      j->out->data[before] = '\0';
      j->state[d] = state;
    }
    mesos_status st = MESOS_OK;
    mesos__frag *f = mesos__cap_end(&j->cap, j->chunks->sv, j->out->data + j->seg,
                                    j->out->data + j->out->len, j->blk, &st);
    if (st != MESOS_OK && j->st == MESOS_OK) j->st = st;
    if (f && j->st == MESOS_OK) {
      mesos__frag_unref(*fresh);
      *fresh = f;
    } else {
      mesos__frag_unref(f);
    }
    return;
  }
  mesos__buf local = MESOS__BUF_INIT(STATE_MAX);
  mesos__buf *b = j->scratch ? j->scratch : &local;
  b->len = 0;
  jg sub;
  jg_init(&sub, b);
  sub.depth = 1; /* inside an array, before its first element */
  fn(&sub, x);
  size_t len = b->len;
  char *data = sub.st == MESOS_OK && len ? mesos__malloc(len) : NULL;
  if (data) memcpy(data, b->data, len);
  mesos__buf_free(&local);
  if (sub.st != MESOS_OK) {
    j->st = sub.st;
    return;
  }
  if (len && data == NULL) {
    j->st = MESOS_ENOMEM;
    return;
  }
  mesos__frag *f = mesos__frag_new(data, len);
  if (f == NULL) {
    j->st = MESOS_ENOMEM;
    return;
  }
  mesos__frag_unref(*fresh);
  *fresh = f;
  jg_splice(j, f);
}

static void agent_elem(jg *j, const void *x) { agent_json(j, x); }

typedef struct fw_arg {
  const s_fw *f;
  const atomic_int *cancel;
} fw_arg;

static void framework_elem(jg *j, const void *x) {
  const fw_arg *a = x;
  framework_json(j, a->f, a->cancel);
}

static void agents_array(jg *j, const snapshot *s) {
  KEY(j, "slaves");
  j_array_open(j);
  for (size_t i = 0; i < s->nagents && j->st == MESOS_OK; i++) {
    s_agent *a = &s->agents[i];
    jg_elem(j, a->hit, a->cacheable ? &a->fresh : NULL, agent_elem, a);
  }
  j_array_close(j);
  KEY(j, "recovered_slaves");
  j_array_open(j);
  j_array_close(j);
}

static void frameworks_arrays(jg *j, const snapshot *s, const atomic_int *cancel) {
  KEY(j, "frameworks");
  j_array_open(j);
  for (size_t i = 0; i < s->nfws && j->st == MESOS_OK; i++) {
    s_fw *f = &s->fws[i];
    if (f->done) continue;
    fw_arg arg = {f, cancel};
    if (f->hit || f->cacheable) jg_elem(j, f->hit, &f->fresh, framework_elem, &arg);
    else framework_json(j, f, cancel);
  }
  j_array_close(j);
  KEY(j, "completed_frameworks");
  j_array_open(j);
  for (size_t i = 0; i < s->nfws && j->st == MESOS_OK; i++)
    if (s->fws[i].done) framework_json(j, &s->fws[i], cancel);
  j_array_close(j);
}

/* Writes the document of the snapshot's kind.  Runs on any thread: it
 * reads only the snapshot and the pinned Task messages. */
static void render(jg *j, snapshot *s, const atomic_int *cancel) {
  usage_compute(s);
  if (s->oom) {
    j->st = MESOS_ENOMEM;
    return;
  }
  if (s->kind == K_STATE) {
    /* The head was rendered on the loop as an open object. */
    jg_put(j, s->head.data, s->head.len);
    j->depth = 1;
    j->is_map[1] = 1;
    j->state[1] = 2;
  } else {
    j_map_open(j);
  }
  switch (s->kind) {
    case K_STATE:
      agents_array(j, s);
      frameworks_arrays(j, s, cancel);
      KEY(j, "orphan_tasks");
      j_array_open(j);
      j_array_close(j);
      KEY(j, "unregistered_frameworks");
      j_array_open(j);
      j_array_close(j);
      break;
    case K_FRAMEWORKS:
      frameworks_arrays(j, s, cancel);
      KEY(j, "unregistered_frameworks");
      j_array_open(j);
      j_array_close(j);
      break;
    case K_SLAVES:
      agents_array(j, s);
      break;
    default:
      KEY(j, "tasks");
      j_array_open(j);
      for (size_t i = 0; i < s->nfws && j->st == MESOS_OK; i++) {
        tasks_json(j, s->fws[i].tasks, s->fws[i].ntasks, cancel);
        completed_json(j, s->fws[i].completed, s->fws[i].ncompleted, cancel);
      }
      j_array_close(j);
      break;
  }
  j_map_close(j);
  jg_flush(j);
}

/* ------------------------------------------------------------ header */

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

static void header_json(jg *j, mesos_master *m) {
  char pid[128], date[64];
  master_pid(m, pid, sizeof pid);
  kstr(j, "version", "1.0.0");
  kstr(j, "build_date", mesos__build_date(date, sizeof date));
  knum(j, "build_time", mesos__build_time());
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

/* ------------------------------------------------------------ service */

enum { B_QUEUED, B_RENDERING, B_SENDING };

typedef struct batch batch;

typedef struct waiter {
  mesos__list node;
  mesos__list ready_node; /* in srv->ready: to be fed on the next turn */
  batch *b;
  mesos__http_request *req;
  char cb[128];   /* ?jsonp= callback, "" without */
  size_t piece;   /* 0: the jsonp head, 1..n: chunks, n+1: the jsonp tail */
  size_t off;     /* bytes of that piece already sent */
  int started;
} waiter;

struct batch {
  mesos__list node; /* srv->queued while B_QUEUED, srv->sending while B_SENDING */
  struct mesos__state_srv *srv; /* NULL once the master is gone (a render finishing late) */
  int kind;
  int call;           /* K_V1: the call type */
  mesos__media media; /* K_V1: the response's media */
  char *principal;  /* the batch key with an authorizer; NULL without one */
  mesos__auth_view view; /* a vendor authorizer's, taken by the request (auth) */
  mesos__list waiters;
  size_t nwaiters;
  int phase;
  snapshot snap;
  chunks out;
  mesos_status st;
  uv_work_t work;
  atomic_int cancel;
  double render_ms; /* CPU time of the render (written by the worker) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int worker_done;
};

struct mesos__state_srv {
  mesos_master *m;
  size_t renders;   /* snapshots taken for the endpoints (tests) */
  double snap_ms, render_ms; /* the last ones: loop time, thread-pool CPU time */
  mesos__list queued;
  mesos__list sending;
  batch *rendering; /* the one render in flight (at most one) */
  size_t pins;      /* snapshots alive that pin Task messages */
  Mesos__V1__Task **grave; /* Task messages let go of while pinned */
  size_t ngrave, capgrave;
  mesos_resources **rgrave; /* tasks' resource bags let go of while pinned */
  size_t nrgrave, caprgrave;
  mesos__task_body **bgrave; /* task bodies let go of while pinned */
  size_t nbgrave, capbgrave;
  /* Recycled blocks (render output, snapshots); shared with the render
   * thread, hence the lock. */
  pthread_mutex_t pool_mu;
  char *pool[POOL_MAX];
  size_t npool;
  int pool_used;    /* a render since the last trim tick */
  mesos_timer *trim;
  mesos__list ready; /* waiters whose socket has room: fed on the next turn */
  /* Runs kick_cb once per loop turn while waiters are ready.  Not a
   * 0 ms timer: libuv (1.44) runs a timer restarted from its own callback
   * again in the same turn, so the "next turn" never came and one turn
   * sent every waiter's socket full while no request was read (the
   * health check's p99 of 50-100 ms).  An idle handle runs once per turn
   * and makes the poll not wait. */
  uv_idle_t *kick;
  /* The fragment cache (mesos__frag_*): entries by record address. */
  struct fentry *fv;
  size_t fcap, fn;
  uint64_t gen_seq;   /* generations handed out */
  uint64_t epoch;     /* trim periods: entries not seen in one are dropped */
  size_t frag_bytes;  /* bytes of the cached fragments */
  size_t nfrags;
  int no_cache;       /* tests and benchmarks: renders without the cache */
  struct mesos__fw_usage *usage_tmp; /* mesos__state_fw_usage's last uncached answer */
};

/* A pooled block: this header, then MESOS__STATE_BLOCK bytes.  `live`
 * counts the bytes of fragments in it, so the cache can tell a block kept
 * for a few small fragments (mostly let go of) from a full one. */
struct mesos__blk {
  atomic_size_t refs;
  atomic_size_t live;
  atomic_size_t used; /* bytes the writer filled, set when it moves on */
};
#define BLK_HDR ((size_t)64) /* keeps the bytes 64-byte aligned */

mesos__blk *mesos__state_blk_of(char *data) { return (mesos__blk *)(void *)(data - BLK_HDR); }

static char *blk_data(mesos__blk *b) { return (char *)b + BLK_HDR; }

/* A fresh block's pages, faulted in by one call instead of one trap per
 * 4 KiB as the render first writes them (in a VM a trap costs several
 * microseconds: the first poll of a big cluster wrote ~26,000 pages).
 * Only whole pages inside the block; without MADV_POPULATE_WRITE (Linux
 * before 5.14) the pages simply fault as before. */
static void prefault(char *p, size_t n) {
#ifdef MADV_POPULATE_WRITE
  uintptr_t page = 4096, a = ((uintptr_t)p + page - 1) & ~(page - 1),
            e = ((uintptr_t)p + n) & ~(page - 1);
  if (e > a) (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)n;
#endif
}

static char *block_get(struct mesos__state_srv *sv) {
  char *p = NULL;
  if (sv) {
    pthread_mutex_lock(&sv->pool_mu);
    if (sv->npool) p = sv->pool[--sv->npool];
    pthread_mutex_unlock(&sv->pool_mu);
  }
  if (p == NULL) {
    p = mesos__malloc(BLK_HDR + BLOCK_BYTES);
    if (p == NULL) return NULL;
    prefault(p, BLK_HDR + BLOCK_BYTES);
  }
  mesos__blk *b = (mesos__blk *)(void *)p;
  atomic_init(&b->refs, 1);
  atomic_init(&b->live, 0);
  atomic_init(&b->used, BLOCK_BYTES);
  return blk_data(b);
}

void mesos__state_blk_done(mesos__blk *b, size_t used) {
  atomic_store_explicit(&b->used, used, memory_order_relaxed);
}

void mesos__state_blk_ref(mesos__blk *b) {
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void mesos__state_blk_unref(struct mesos__state_srv *sv, mesos__blk *b) {
  if (b == NULL || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
  if (sv && !STATE_PASSTHROUGH) {
    pthread_mutex_lock(&sv->pool_mu);
    int kept = sv->npool < POOL_MAX;
    if (kept) sv->pool[sv->npool++] = (char *)b;
    pthread_mutex_unlock(&sv->pool_mu);
    if (kept) return;
  }
  mesos__free(b);
}

static void block_put(struct mesos__state_srv *sv, char *p) {
  if (p) mesos__state_blk_unref(sv, mesos__state_blk_of(p));
}

static void pool_empty(struct mesos__state_srv *sv) {
  pthread_mutex_lock(&sv->pool_mu);
  while (sv->npool) mesos__free(sv->pool[--sv->npool]);
  pthread_mutex_unlock(&sv->pool_mu);
}

static int ftab_rebuild(struct mesos__state_srv *sv, size_t cap, int only_seen);

/* Gives the pooled blocks back once state is not polled any more. */
static void trim_cb(mesos_timer *t, void *ud) {
  (void)t;
  struct mesos__state_srv *sv = ud;
  if (!sv->pool_used && sv->rendering == NULL) pool_empty(sv);
  sv->pool_used = 0;
  /* Fragments of records no snapshot looked at during the last period
   * (records gone, or state not polled any more) are let go. */
  if (sv->fn) {
    size_t cap = 1024;
    while (cap < sv->fn * 2) cap <<= 1;
    if (!ftab_rebuild(sv, cap, 1)) (void)ftab_rebuild(sv, 0, 0);
  }
  sv->epoch++;
}

static struct mesos__state_srv *srv_of(mesos_master *m) { return m->op ? m->op->state : NULL; }

/* ------------------------------------------------------------ fragments */

/* Bytes the cache holds at most (a 20k-agent cluster polled in all three
 * forms needs ~300 MB); past it new fragments are simply not kept. */
#define FRAG_MAX ((size_t)1 << 30)
/* Records the cache tracks at most. */
#define FRAG_ENTRIES_MAX ((size_t)1 << 22)

typedef struct fentry {
  const void *rec; /* NULL: a free slot */
  uint64_t gen;
  double stamp[3];
  uint64_t seen;   /* the trim period it was last looked up in */
  mesos__frag *f[MESOS__FRAG_SLOTS];
  mesos__fw_usage *usage; /* a framework's (mesos__state_fw_usage) */
} fentry;

static void usage_free(mesos__fw_usage *u) {
  if (u == NULL) return;
  for (size_t i = 0; i < u->n; i++) {
    mesos__free(u->v[i].role);
    mesos_resources_free(u->v[i].used);
  }
  mesos__free(u->v);
  mesos_resources_free(u->all);
  mesos__free(u);
}

mesos__frag *mesos__frag_new(char *data, size_t len) {
  mesos__frag *f = MESOS__NEW(mesos__frag);
  if (f == NULL) {
    mesos__free(data);
    return NULL;
  }
  f->refs = 1;
  f->len = len;
  f->data = data;
  return f;
}

void mesos__frag_unref(mesos__frag *f) {
  if (f == NULL || --f->refs > 0) return;
  mesos__free(f->data);
  for (size_t i = 0; i < f->nseg; i++) {
    atomic_fetch_sub_explicit(&f->seg[i].blk->live, f->seg[i].len, memory_order_relaxed);
    mesos__state_blk_unref(f->sv, f->seg[i].blk);
  }
  mesos__free(f);
}

/* ---- capture (operator_int.h) */

static void cap_drop(mesos__capture *c, struct mesos__state_srv *sv) {
  for (size_t i = 0; i < c->n; i++) mesos__state_blk_unref(sv, c->v[i].blk);
  mesos__free(c->v);
  memset(c, 0, sizeof *c);
}

static void cap_add(mesos__capture *c, const char *p, size_t len, mesos__blk *blk) {
  if (len == 0) return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    mesos__frag_seg *v = mesos__realloc(c->v, cap * sizeof *v);
    if (v == NULL) {
      c->fail = 2; /* out of memory */
      return;
    }
    c->v = v;
    c->cap = cap;
  }
  mesos__state_blk_ref(blk);
  c->v[c->n].data = p;
  c->v[c->n].len = len;
  c->v[c->n++].blk = blk;
}

void mesos__cap_begin(mesos__capture *c, mesos__blk *blk, const char *p0) {
  memset(c, 0, sizeof *c);
  c->on = 1;
  c->first = 1;
  c->blk0 = blk;
  c->p0 = p0;
  if (blk == NULL) c->fail = 1;
}

void mesos__cap_pushed(mesos__capture *c, const char *p, size_t len, mesos__blk *blk) {
  if (!c->on || c->fail) return;
  if (blk == NULL) {
    c->fail = 1;
    return;
  }
  if (c->first && c->blk0) {
    /* The first piece holds the start (the writer had room for it). */
    if (blk != c->blk0 || c->p0 < p || c->p0 > p + len) {
      c->fail = 1;
      return;
    }
    if (c->p0 == p + len) { /* all before the start: it begins with the next piece */
      c->blk0 = NULL;
      return;
    }
    cap_add(c, c->p0, (size_t)(p + len - c->p0), blk);
    c->first = 0;
    return;
  }
  c->first = 0;
  cap_add(c, p, len, blk);
}

mesos__frag *mesos__cap_end(mesos__capture *c, struct mesos__state_srv *sv, const char *start,
                            const char *end, mesos__blk *blk, mesos_status *st) {
  mesos__frag *f = NULL;
  if (c->on && !c->fail) {
    if (c->first && c->blk0) {
      if (blk != c->blk0) c->fail = 1;
      else if (end > c->p0) cap_add(c, c->p0, (size_t)(end - c->p0), blk);
    } else if (end > start) {
      if (blk == NULL) c->fail = 1;
      else cap_add(c, start, (size_t)(end - start), blk);
    }
  }
  if (c->on && !c->fail) {
    size_t bytes;
    if (mesos__size_mul(&bytes, c->n, sizeof(mesos__frag_seg)) &&
        (f = mesos__malloc(sizeof *f + bytes)) != NULL) {
      memset(f, 0, sizeof *f);
      f->refs = 1;
      f->sv = sv;
      f->nseg = c->n;
      for (size_t i = 0; i < c->n; i++) {
        f->seg[i] = c->v[i];
        f->len += c->v[i].len;
        atomic_fetch_add_explicit(&c->v[i].blk->live, c->v[i].len, memory_order_relaxed);
      }
      c->n = 0; /* the references are the fragment's now */
    } else {
      c->fail = 2;
    }
  }
  if (c->fail == 2) *st = MESOS_ENOMEM;
  cap_drop(c, sv);
  return f;
}

static void fentry_clear(struct mesos__state_srv *sv, fentry *e) {
  usage_free(e->usage);
  e->usage = NULL;
  for (int i = 0; i < MESOS__FRAG_SLOTS; i++)
    if (e->f[i]) {
      sv->frag_bytes -= e->f[i]->len;
      sv->nfrags--;
      mesos__frag_unref(e->f[i]);
      e->f[i] = NULL;
    }
}

/* The slot of `rec` (linear probing on a hashed address), or of the free
 * slot where it would go. */
static fentry *ftab_slot(fentry *v, size_t cap, const void *rec) {
  uint64_t x = (uint64_t)(uintptr_t)rec;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  size_t mask = cap - 1, h = (size_t)x & mask;
  while (v[h].rec && v[h].rec != rec) h = (h + 1) & mask;
  return &v[h];
}

/* Rebuilds the table at `cap` slots keeping the entries `keep` says (the
 * others' fragments are let go).  0 when out of memory (nothing changed). */
static int ftab_rebuild(struct mesos__state_srv *sv, size_t cap, int only_seen) {
  fentry *v = cap ? mesos__calloc(cap, sizeof *v) : NULL;
  if (cap && v == NULL) return 0;
  size_t n = 0;
  for (size_t i = 0; i < sv->fcap; i++) {
    fentry *e = &sv->fv[i];
    if (e->rec == NULL) continue;
    if (cap == 0 || (only_seen && e->seen != sv->epoch)) {
      fentry_clear(sv, e);
      continue;
    }
    *ftab_slot(v, cap, e->rec) = *e;
    n++;
  }
  mesos__free(sv->fv);
  sv->fv = v;
  sv->fcap = cap;
  sv->fn = n;
  return 1;
}

static fentry *ftab_find(struct mesos__state_srv *sv, const void *rec) {
  if (sv->fcap == 0) return NULL;
  fentry *e = ftab_slot(sv->fv, sv->fcap, rec);
  return e->rec ? e : NULL;
}

struct mesos__state_srv *mesos__frag_cache(mesos_master *m) {
  struct mesos__state_srv *sv = srv_of(m);
  return m->view == NULL && sv && !sv->no_cache ? sv : NULL;
}

void mesos__state_test_cache(mesos_master *m, int on) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv) sv->no_cache = !on;
}

uint64_t mesos__frag_gen(struct mesos__state_srv *sv, const void *rec, uint64_t *gen,
                         const double stamp[3]) {
  fentry *e = ftab_find(sv, rec);
  if (e == NULL && sv->fn < FRAG_ENTRIES_MAX) {
    if ((sv->fn + 1) * 2 > sv->fcap) (void)ftab_rebuild(sv, sv->fcap ? sv->fcap * 2 : 1024, 0);
    if ((sv->fn + 1) * 2 <= sv->fcap) {
      e = ftab_slot(sv->fv, sv->fcap, rec);
      e->rec = rec;
      sv->fn++;
    }
  }
  int moved = e && memcmp(e->stamp, stamp, sizeof e->stamp) != 0;
  if (*gen == 0 || moved) *gen = ++sv->gen_seq;
  if (e == NULL) return *gen;
  if (e->gen != *gen) {
    fentry_clear(sv, e);
    e->gen = *gen;
    memcpy(e->stamp, stamp, sizeof e->stamp);
  }
  e->seen = sv->epoch;
  return *gen;
}

mesos__frag *mesos__frag_get(struct mesos__state_srv *sv, const void *rec, uint64_t gen, int slot) {
  fentry *e = ftab_find(sv, rec);
  if (e == NULL || e->gen != gen || e->f[slot] == NULL) return NULL;
  mesos__frag *f = e->f[slot];
  /* A small fragment whose block is mostly let go of (the records around
   * it changed, or the rest was never cached) is rendered again, into
   * dense blocks, so a block is not kept for a few small fragments.  A
   * big one (a third of a block or more) is kept where it is: rendering
   * it again would cost more than the block's dead bytes, and a big
   * fragment keeps at most the two blocks at its ends partly dead. */
  for (size_t i = 0; i < f->nseg; i++) {
    mesos__blk *b = f->seg[i].blk;
    size_t used = atomic_load_explicit(&b->used, memory_order_relaxed);
    if (f->len * 3 < used && atomic_load_explicit(&b->live, memory_order_relaxed) * 3 < used)
      return NULL;
  }
  f->refs++;
  return f;
}

void mesos__frag_put(struct mesos__state_srv *sv, const void *rec, uint64_t gen, int slot,
                     mesos__frag *f) {
  fentry *e = ftab_find(sv, rec);
  if (f == NULL || e == NULL || e->gen != gen) return;
  size_t old = e->f[slot] ? e->f[slot]->len : 0;
  if (sv->frag_bytes - old + f->len > FRAG_MAX) return;
  if (e->f[slot]) {
    sv->frag_bytes -= old;
    sv->nfrags--;
    mesos__frag_unref(e->f[slot]);
  }
  f->refs++;
  e->f[slot] = f;
  sv->frag_bytes += f->len;
  sv->nfrags++;
}

/* Walks the framework's tasks (on the loop; a few hundred nanoseconds a
 * task, so only for frameworks that changed since the last poll). */
static mesos__fw_usage *usage_of(mesos__framework *fw) {
  mesos__fw_usage *u = MESOS__NEW(mesos__fw_usage);
  if (u == NULL || mesos_resources_new(&u->all, NULL) != MESOS_OK) {
    mesos__free(u);
    return NULL;
  }
  size_t it = 0;
  void *v;
  int ok = 1;
  while (ok && mesos__map_next(&fw->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (t->released || t->resources == NULL) continue;
    ok = mesos__resources_add_all(&u->all->r, &t->resources->r) == MESOS_OK;
    if (!ok || t->role == NULL) continue;
    size_t k = 0;
    while (k < u->n && strcmp(u->v[k].role, t->role) != 0) k++;
    if (k == u->n) {
      mesos__role_use *g = mesos__realloc(u->v, (u->n + 1) * sizeof *g);
      if (g == NULL) {
        ok = 0;
        break;
      }
      u->v = g;
      g[k].used = NULL;
      g[k].role = mesos__strdup(t->role);
      if (g[k].role == NULL || mesos_resources_new(&g[k].used, NULL) != MESOS_OK) {
        mesos__free(g[k].role);
        ok = 0;
        break;
      }
      u->n++;
    }
    ok = mesos__resources_add_all(&u->v[k].used->r, &t->resources->r) == MESOS_OK;
  }
  if (!ok) {
    usage_free(u);
    return NULL;
  }
  return u;
}

const mesos__fw_usage *mesos__state_fw_usage(mesos_master *m, mesos__framework *fw) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv == NULL) return NULL;
  fentry *e = NULL;
  if (!sv->no_cache) {
    double stamp[3] = {fw->stream != NULL, fw->registered_time, fw->reregistered_time};
    uint64_t gen = mesos__frag_gen(sv, fw, &fw->state_gen, stamp);
    e = ftab_find(sv, fw);
    if (e && e->gen != gen) e = NULL;
    if (e && e->usage) return e->usage;
  }
  mesos__fw_usage *u = usage_of(fw);
  if (u == NULL) return NULL;
  if (e) {
    e->usage = u;
  } else {
    /* Not cached (the table is full, or the cache is off): kept until the
     * next call. */
    usage_free(sv->usage_tmp);
    sv->usage_tmp = u;
  }
  return u;
}

void mesos__frag_stats(mesos_master *m, size_t *frags, size_t *bytes) {
  struct mesos__state_srv *sv = srv_of(m);
  *frags = sv ? sv->nfrags : 0;
  *bytes = sv ? sv->frag_bytes : 0;
}

static void grave_empty(struct mesos__state_srv *sv) {
  for (size_t i = 0; i < sv->ngrave; i++) mesos__pb_free(sv->grave[i]);
  sv->ngrave = 0;
  if (sv->capgrave > 4096) {
    mesos__free(sv->grave);
    sv->grave = NULL;
    sv->capgrave = 0;
  }
  for (size_t i = 0; i < sv->nbgrave; i++) mesos__task_body_free(sv->m, sv->bgrave[i]);
  sv->nbgrave = 0;
  if (sv->capbgrave > 4096) {
    mesos__free(sv->bgrave);
    sv->bgrave = NULL;
    sv->capbgrave = 0;
  }
  for (size_t i = 0; i < sv->nrgrave; i++) mesos_resources_free(sv->rgrave[i]);
  sv->nrgrave = 0;
  if (sv->caprgrave > 4096) {
    mesos__free(sv->rgrave);
    sv->rgrave = NULL;
    sv->caprgrave = 0;
  }
}

static void wait_render(batch *b) {
  pthread_mutex_lock(&b->mu);
  while (!b->worker_done) pthread_cond_wait(&b->cv, &b->mu);
  pthread_mutex_unlock(&b->mu);
}

int mesos__state_retire_task(mesos_master *m, Mesos__V1__Task *t) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv == NULL || sv->pins == 0 || t == NULL) return 0;
  if (sv->ngrave == sv->capgrave) {
    size_t cap = sv->capgrave ? sv->capgrave * 2 : 256;
    Mesos__V1__Task **g = mesos__realloc(sv->grave, cap * sizeof *g);
    if (g == NULL) {
      /* No room to park it: wait for the render that may read it, then
       * let the caller free it.  Bounded by one render. */
      if (sv->rendering) wait_render(sv->rendering);
      return 0;
    }
    sv->grave = g;
    sv->capgrave = cap;
  }
  sv->grave[sv->ngrave++] = t;
  return 1;
}

int mesos__state_retire_resources(mesos_master *m, mesos_resources *r) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv == NULL || sv->pins == 0 || r == NULL) return 0;
  if (sv->nrgrave == sv->caprgrave) {
    size_t cap = sv->caprgrave ? sv->caprgrave * 2 : 256;
    mesos_resources **g = mesos__realloc(sv->rgrave, cap * sizeof *g);
    if (g == NULL) {
      if (sv->rendering) wait_render(sv->rendering); /* as mesos__state_retire_task */
      return 0;
    }
    sv->rgrave = g;
    sv->caprgrave = cap;
  }
  sv->rgrave[sv->nrgrave++] = r;
  return 1;
}

static void snap_keep(mesos_master *m, snapshot *s) {
  if (s->v1) mesos__v1snap_keep(m, s->v1);
  if (s->cache == NULL) return;
  for (size_t i = 0; i < s->nagents; i++)
    if (s->agents[i].fresh)
      mesos__frag_put(s->cache, s->agents[i].key, s->agents[i].gen, MESOS__FRAG_STATE,
                      s->agents[i].fresh);
  for (size_t i = 0; i < s->nfws; i++)
    if (s->fws[i].fresh)
      mesos__frag_put(s->cache, s->fws[i].key, s->fws[i].gen, MESOS__FRAG_STATE, s->fws[i].fresh);
}

int mesos__state_retire_body(mesos_master *m, mesos__task_body *b) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv == NULL || sv->pins == 0 || b == NULL) return 0;
  if (sv->nbgrave == sv->capbgrave) {
    size_t cap = sv->capbgrave ? sv->capbgrave * 2 : 256;
    mesos__task_body **g = mesos__realloc(sv->bgrave, cap * sizeof *g);
    if (g == NULL) {
      if (sv->rendering) wait_render(sv->rendering); /* as mesos__state_retire_task */
      return 0;
    }
    sv->bgrave = g;
    sv->capbgrave = cap;
  }
  sv->bgrave[sv->nbgrave++] = b;
  return 1;
}

static void snap_free(mesos_master *m, snapshot *s) {
  mesos__v1snap_free(s->v1);
  for (size_t i = 0; i < s->nfws; i++) {
    mesos__pb_free(s->fws[i].info);
    mesos__frag_unref(s->fws[i].hit);
    mesos__frag_unref(s->fws[i].fresh);
  }
  for (size_t i = 0; i < s->nagents; i++) {
    mesos__frag_unref(s->agents[i].hit);
    mesos__frag_unref(s->agents[i].fresh);
  }
  arena_free(s);
  mesos__buf_free(&s->head);
  if (s->pinned) {
    struct mesos__state_srv *sv = m ? srv_of(m) : NULL;
    if (sv && sv->pins && --sv->pins == 0) grave_empty(sv);
  }
  memset(s, 0, sizeof *s);
}

static mesos_status snap_take(mesos_master *m, snapshot *s, int kind, int pin, int call,
                              mesos__media media) {
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->call = call;
  s->media = media;
  mesos__buf_init(&s->head, (size_t)1 << 24);
  s->sv = srv_of(m);
  /* The endpoints' renders (pinned) of the documents made of agent and
   * framework elements use the fragment cache. */
  if (pin && (kind == K_STATE || kind == K_FRAMEWORKS || kind == K_SLAVES))
    s->cache = mesos__frag_cache(m);
  if (pin) {
    struct mesos__state_srv *sv = srv_of(m);
    if (sv) {
      sv->pins++;
      s->pinned = 1;
    }
  }
  if (kind == K_STATE) {
    jg h;
    jg_init(&h, &s->head);
    j_map_open(&h);
    header_json(&h, m);
    KEY(&h, "flags");
    flags_json(&h, m);
    if (h.st != MESOS_OK) s->oom = 1;
  }
  if (kind == K_STATE || kind == K_SLAVES) snap_agents(m, s);
  if (kind == K_STATE || kind == K_FRAMEWORKS) snap_frameworks(m, s);
  if (kind == K_TASKS) snap_tasks(m, s);
  if (kind == K_V1) {
    mesos_status st = MESOS_OK;
    /* The endpoints' renders (pinned) use the fragment cache. */
    s->v1 = pin ? mesos__v1snap_take_cached(m, call, media, &st) : mesos__v1snap_take(m, call, &st);
    if (st != MESOS_OK) s->oom = 1;
  }
  return s->oom ? MESOS_ENOMEM : MESOS_OK;
}

/* Tests: /state (0), /frameworks (1), /slaves (2), /tasks (3) or
 * /state-summary (4) into one buffer, synchronously, as the endpoints render it (`cached`: through
 * the fragment cache, keeping what the render made) or without it. */
static void summary_doc(mesos_master *m, jg *j, int cached);
static void roles_doc(mesos_master *m, mesos_authz_approver *view_role, jg *jp);

mesos_status mesos__state_doc(mesos_master *m, int which, int cached, mesos__buf *out) {
  static const int kinds[] = {K_STATE, K_FRAMEWORKS, K_SLAVES, K_TASKS};
  if (which == 5) {
    struct mesos__state_srv *sv = srv_of(m);
    int was = sv ? sv->no_cache : 0;
    if (sv) sv->no_cache = !cached;
    jg j;
    jg_init(&j, out);
    roles_doc(m, NULL, &j);
    if (sv) sv->no_cache = was;
    return j.st;
  }
  mesos__buf scratch = MESOS__BUF_INIT(STATE_MAX);
  if (which == 4) {
    jg j;
    jg_init(&j, out);
    j.scratch = &scratch;
    summary_doc(m, &j, cached);
    mesos__buf_free(&scratch);
    return j.st;
  }
  if (which < 0 || which > 3) return MESOS_EINVAL;
  snapshot s;
  mesos_status st = snap_take(m, &s, kinds[which], cached, 0, MESOS__MEDIA_JSON);
  if (st == MESOS_OK) {
    jg j;
    jg_init(&j, out);
    j.scratch = &scratch;
    render(&j, &s, NULL);
    st = j.st;
  }
  mesos__buf_free(&scratch);
  if (st == MESOS_OK) snap_keep(m, &s);
  snap_free(m, &s);
  return st;
}

mesos_status mesos__state_doc_chunks(mesos_master *m, int which, mesos__chunks *out) {
  static const int kinds[] = {K_STATE, K_FRAMEWORKS, K_SLAVES};
  memset(out, 0, sizeof *out);
  if (which < 0 || which > 2) return MESOS_EINVAL;
  snapshot s;
  mesos_status st = snap_take(m, &s, kinds[which], 1, 0, MESOS__MEDIA_JSON);
  if (st == MESOS_OK) {
    mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
    jg j;
    jg_init(&j, &b);
    out->sv = s.sv;
    j.chunks = out;
    jg_new_block(&j);
    if (j.st == MESOS_OK) render(&j, &s, NULL);
    jg_release(&j, s.sv);
    st = j.st;
  }
  if (st == MESOS_OK) snap_keep(m, &s);
  else mesos__state_chunks_free(out);
  snap_free(m, &s);
  return st;
}

/* The whole /state into one buffer, synchronously (also used by the
 * benchmark to time the render alone). */
mesos_status mesos__state_json(mesos_master *m, mesos__buf *out) {
  snapshot s;
  mesos_status st = snap_take(m, &s, K_STATE, 0, 0, MESOS__MEDIA_JSON);
  if (st == MESOS_OK) {
    jg j;
    jg_init(&j, out);
    render(&j, &s, NULL);
    st = j.st;
  }
  snap_free(m, &s);
  return st;
}

static void batch_free(batch *b) {
  mesos__auth_view_free(&b->view);
  snap_free(b->srv ? b->srv->m : NULL, &b->snap);
  b->out.sv = b->srv;
  chunks_free(&b->out);
  mesos__free(b->principal);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  mesos__free(b);
}

static size_t pump(waiter *w, size_t allowance);
static void kick_cb(uv_idle_t *h);
static void queue_waiter(waiter *w);
static void start_next(struct mesos__state_srv *sv);

static void waiter_done(waiter *w) {
  batch *b = w->b;
  mesos__list_remove(&w->ready_node);
  mesos__list_remove(&w->node);
  b->nwaiters--;
  mesos__free(w);
  if (b->nwaiters == 0 && b->phase != B_RENDERING) {
    mesos__list_remove(&b->node);
    batch_free(b);
  }
}

/* A batch of operator SUBSCRIBE requests: the body is the SUBSCRIBED
 * record on a stream that stays open; once it is sent, operator.c takes
 * the request over (mesos__op_sub_ready) and the queued events follow. */
static int is_sub(const batch *b) {
  return b->kind == K_V1 && b->call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE;
}

static void waiter_aborted(mesos__http_request *req, void *ud) {
  waiter *w = ud;
  if (is_sub(w->b) && w->b->srv) mesos__op_sub_forget(w->b->srv->m, req);
  waiter_done(w);
}

static void waiter_drained(mesos__http_request *req, void *ud) {
  (void)req;
  /* Its socket has room again: served within the next turn's budget. */
  queue_waiter(ud);
}

/* The bytes of piece `i` of a waiter's body. */
static const char *piece_of(waiter *w, size_t i, size_t *len) {
  batch *b = w->b;
  static const char tail[] = ");";
  if (i == 0) { /* "cb(" once started */
    *len = strlen(w->cb);
    return w->cb;
  }
  if (i <= b->out.n) {
    *len = b->out.v[i - 1].len;
    return b->out.v[i - 1].data;
  }
  *len = w->cb[0] ? 2 : 0;
  return tail;
}

/* Queues the waiter for the next turn (kick_cb) unless it is queued. */
static void queue_waiter(waiter *w) {
  struct mesos__state_srv *sv = w->b->srv;
  if (!mesos__list_empty(&w->ready_node)) return;
  mesos__list_insert_tail(&sv->ready, &w->ready_node);
  if (!uv_is_active((uv_handle_t *)sv->kick)) uv_idle_start(sv->kick, kick_cb);
}

/* Feeds at most `allowance` bytes to the waiter's connection if nothing
 * is queued there; then waits for the drain callback (socket full) or the
 * next turn.  Returns the bytes sent. */
static size_t pump(waiter *w, size_t allowance) {
  batch *b = w->b;
  mesos__http_request *req = w->req;
  size_t npieces = b->out.n + 2;
  mesos__list_remove(&w->ready_node);
  if (mesos__http_request_pending(req) > 0) return 0; /* the drain callback resumes */
  size_t budget = allowance;
  while (w->piece < npieces && budget > 0) {
    size_t len;
    const char *p = piece_of(w, w->piece, &len);
    size_t n = len - w->off;
    if (n > budget) n = budget;
    if (n && mesos__http_stream_send(req, p + w->off, n) != MESOS_OK) {
      /* The connection is gone or closing: the abort callback follows. */
      return allowance - budget;
    }
    budget -= n;
    w->off += n;
    if (w->off == len) {
      w->piece++;
      w->off = 0;
    }
  }
  size_t sent = allowance - budget;
  if (w->piece < npieces) {
    /* All taken by the kernel: more on a later turn (round-robin). */
    if (mesos__http_request_pending(req) == 0) queue_waiter(w);
    return sent;
  }
  mesos__http_request_on_abort(req, NULL, NULL);
  mesos__http_request_on_drain(req, NULL, NULL);
  if (is_sub(b)) mesos__op_sub_ready(b->srv->m, req); /* the stream goes on */
  else mesos__http_stream_end(req);
  waiter_done(w);
  return sent;
}

/* The next turn: a piece for each waiter that had room, oldest first,
 * until TURN_BUDGET is spent; the rest (and those served, at the tail)
 * wait for the turn after. */
static void kick_cb(uv_idle_t *h) {
  struct mesos__state_srv *sv = h->data;
  size_t queued = 0, spent = 0;
  mesos__list *it;
  for (it = sv->ready.next; it != &sv->ready; it = it->next) queued++;
  /* Few waiters share the budget in larger pieces (one alone gets all). */
  size_t allowance = queued ? TURN_BUDGET / queued : TURN_BUDGET;
  if (allowance < SEND_PIECE) allowance = SEND_PIECE;
  while (queued-- > 0 && spent < TURN_BUDGET && !mesos__list_empty(&sv->ready)) {
    waiter *w = mesos__container_of(sv->ready.next, waiter, ready_node);
    spent += pump(w, allowance); /* takes w off the list first; may queue it again */
  }
  if (mesos__list_empty(&sv->ready)) uv_idle_stop(sv->kick);
}

static void waiter_start(waiter *w) {
  batch *b = w->b;
  mesos__http_request *req = w->req;
  if (b->st != MESOS_OK) {
    mesos__http_request_on_abort(req, NULL, NULL);
    if (is_sub(b)) mesos__op_sub_forget(b->srv->m, req);
    mesos__http_respond_text(req, b->st == MESOS_ENOMEM ? 503 : 500,
                             b->st == MESOS_ENOMEM ? "Out of memory while rendering the state"
                                                   : "Failed to render the state");
    waiter_done(w);
    return;
  }
  /* The jsonp head "cb(" is kept in cb (jsonp_callback left room for the
   * parenthesis); the tail is ");". */
  if (w->cb[0]) {
    size_t n = strlen(w->cb);
    w->cb[n] = '(';
    w->cb[n + 1] = '\0';
  }
  uint64_t total = b->out.total;
  if (w->cb[0]) total += strlen(w->cb) + 2;
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  const char *ctype = w->cb[0] ? "text/javascript" : "application/json";
  if (b->kind == K_V1)
    ctype = b->media == MESOS__MEDIA_PROTOBUF ? MESOS__MEDIA_TYPE_PROTOBUF : MESOS__MEDIA_TYPE_JSON;
  mesos__http_headers_set(&h, "Content-Type", ctype);
  mesos_status st = is_sub(b) ? mesos__http_stream_start(req, 200, &h)
                              : mesos__http_stream_start_length(req, 200, &h, total);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) {
    mesos__http_request_on_abort(req, NULL, NULL);
    if (is_sub(b)) mesos__op_sub_forget(b->srv->m, req);
    if (st != MESOS_ECLOSED) mesos__http_respond_text(req, 500, "Failed to send the state");
    waiter_done(w);
    return;
  }
  w->started = 1;
  mesos__http_request_on_drain(req, waiter_drained, w);
  queue_waiter(w);
}

/* Tests hold renders to prove the loop serves meanwhile (process-wide). */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_hold;

void mesos__state_test_hold(int hold) {
  pthread_mutex_lock(&gate_mu);
  gate_hold = hold;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

size_t mesos__state_test_renders(mesos_master *m) {
  struct mesos__state_srv *sv = srv_of(m);
  return sv ? sv->renders : 0;
}

void mesos__state_last_times(mesos_master *m, double *snapshot_ms, double *render_ms) {
  struct mesos__state_srv *sv = srv_of(m);
  *snapshot_ms = sv ? sv->snap_ms : 0;
  *render_ms = sv ? sv->render_ms : 0;
}

/* A v1 response: written by state_v1.c straight into the chunks (the
 * waiters send them in pieces like any other). */
static void render_v1(jg *j, snapshot *s) {
  j->st = mesos__v1snap_render_chunks(s->v1, s->media, j->chunks);
}

static void render_work(uv_work_t *wk) {
  batch *b = wk->data;
  pthread_mutex_lock(&gate_mu);
  while (gate_hold && !atomic_load(&b->cancel)) pthread_cond_wait(&gate_cv, &gate_mu);
  pthread_mutex_unlock(&gate_mu);
  mesos__buf out = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  jg_init(&j, &out);
  b->out.sv = b->snap.sv;
  j.chunks = &b->out;
  jg_new_block(&j);
  struct timespec t0, t1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  if (b->snap.kind == K_V1 && j.st == MESOS_OK) render_v1(&j, &b->snap);
  else render(&j, &b->snap, &b->cancel);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  b->render_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  b->st = j.st;
  jg_release(&j, b->snap.sv);
  pthread_mutex_lock(&b->mu);
  b->worker_done = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* The render of `b` is over (or failed): answer its waiters. */
static void rendered(batch *b) {
  struct mesos__state_srv *sv = b->srv;
  sv->rendering = NULL;
  sv->render_ms = b->render_ms;
  /* The fragments it made serve the next polls. */
  if (b->st == MESOS_OK) snap_keep(sv->m, &b->snap);
  /* The snapshot is not needed any more: unpin as early as possible. */
  snap_free(sv->m, &b->snap);
  b->phase = B_SENDING;
  if (b->nwaiters == 0) { /* every client left meanwhile */
    batch_free(b);
    return;
  }
  mesos__list_insert_tail(&sv->sending, &b->node);
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &b->waiters) {
    waiter *w = mesos__container_of(it, waiter, node);
    /* The batch may be freed by the last waiter_done: stop then. */
    int last = tmp == &b->waiters;
    waiter_start(w);
    if (last) break;
  }
}

static void render_done(uv_work_t *wk, int status) {
  (void)status;
  batch *b = wk->data;
  if (b->srv == NULL) { /* the master went away meanwhile */
    batch_free(b);
    return;
  }
  struct mesos__state_srv *sv = b->srv;
  rendered(b);
  start_next(sv);
}

/* Starts the oldest queued batch when no render is in flight. */
static void start_next(struct mesos__state_srv *sv) {
  while (sv->rendering == NULL && !mesos__list_empty(&sv->queued)) {
    batch *b = mesos__container_of(sv->queued.next, batch, node);
    mesos__list_remove(&b->node);
    waiter *first = mesos__container_of(b->waiters.next, waiter, node);
    mesos_master *m = sv->m;
    mesos__auth_view *view = &b->view;
    mesos__master_auth_view_begin(m, first->req, view);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mesos_status st = snap_take(m, &b->snap, b->kind, 1, b->call, b->media);
    if (is_sub(b)) {
      /* Events from now on follow SUBSCRIBED (earlier ones are in it). */
      mesos__list *it;
      for (it = b->waiters.next; it != &b->waiters; it = it->next)
        mesos__op_sub_snapshotted(m, mesos__container_of(it, waiter, node)->req);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sv->snap_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    LOG_DEBUG("state: snapshot for %zu waiting request(s) took %.1f ms of the loop", b->nwaiters,
              sv->snap_ms);
    sv->renders++;
    sv->pool_used = 1;
    mesos__master_auth_view_end(m, view);
    b->phase = B_RENDERING;
    sv->rendering = b;
    b->work.data = b;
    if (st != MESOS_OK) {
      b->st = st;
      b->worker_done = 1;
      rendered(b);
      continue;
    }
    if (uv_queue_work(mesos__loop_uv(m->loop), &b->work, render_work, render_done) != 0) {
      render_work(&b->work); /* no thread pool: render here */
      rendered(b);
    }
  }
}

static batch *batch_new(struct mesos__state_srv *srv, int kind, int call, mesos__media media,
                        const char *principal) {
  batch *b = MESOS__NEW(batch);
  if (b == NULL) return NULL;
  if (principal && (b->principal = mesos__strdup(principal)) == NULL) {
    mesos__free(b);
    return NULL;
  }
  b->srv = srv;
  b->kind = kind;
  b->call = call;
  b->media = media;
  mesos__list_init(&b->waiters);
  mesos__list_init(&b->node);
  atomic_init(&b->cancel, 0);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  return b;
}

/* Parses ?jsonp=callback into cb ("" without); 0 when the name is bad.
 * The name is restricted to identifier characters so nothing can be
 * injected into the page that loads it. */
static int jsonp_callback(mesos__http_request *req, char *cb, size_t cap) {
  const char *q = mesos__http_request_query(req);
  const char *p = strstr(q, "jsonp=");
  size_t n = 0;
  cb[0] = '\0';
  while (p && p != q && p[-1] != '&') p = strstr(p + 1, "jsonp=");
  if (p == NULL) return 1;
  for (p += 6; *p && *p != '&' && n + 2 < cap; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == '$'))
      return 0;
    cb[n++] = c;
  }
  cb[n] = '\0';
  return 1;
}

static void serve_call(mesos_master *m, mesos__http_request *req, int kind, int call,
                       mesos__media media) {
  struct mesos__state_srv *sv = srv_of(m);
  char cb[128];
  cb[0] = '\0';
  /* ?jsonp= wraps the classic endpoints only. */
  if (kind != K_V1 && !jsonp_callback(req, cb, sizeof cb)) {
    mesos__http_respond_text(req, 400, "Invalid 'jsonp' callback name");
    return;
  }
  if (sv == NULL) {
    mesos__http_respond_text(req, 503, "The master is shutting down");
    return;
  }
  /* A vendor authorizer's view is asked for here, in the request's own
   * pass (it may answer later: the request is then replayed). */
  mesos__auth_view view;
  if (!mesos__master_auth_view_take(m, req, &view)) return;
  /* Batches are per endpoint and, with an authorizer, per principal
   * (what one may view another may not). */
  const char *principal = NULL;
  if (mesos__auth_has_authorizer(m->auth)) {
    principal = mesos__http_request_principal(req);
    if (principal == NULL) principal = "";
  }
  batch *b = NULL;
  mesos__list *it;
  for (it = sv->queued.next; it != &sv->queued; it = it->next) {
    batch *x = mesos__container_of(it, batch, node);
    if (x->kind == kind && x->call == call && x->media == media && x->nwaiters < MAX_WAITERS &&
        ((x->principal == NULL && principal == NULL) ||
         (x->principal && principal && strcmp(x->principal, principal) == 0))) {
      b = x;
      break;
    }
  }
  waiter *w = MESOS__NEW(waiter);
  if (b == NULL && w) {
    b = batch_new(sv, kind, call, media, principal);
    if (b) mesos__list_insert_tail(&sv->queued, &b->node);
  }
  if (w == NULL || b == NULL) {
    mesos__free(w);
    mesos__auth_view_free(&view);
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  if (view.set && !b->view.set) b->view = view; /* the batch's principal's */
  else mesos__auth_view_free(&view);
  w->b = b;
  w->req = req;
  mesos__list_init(&w->ready_node);
  memcpy(w->cb, cb, sizeof cb);
  mesos__list_insert_tail(&b->waiters, &w->node);
  b->nwaiters++;
  mesos__http_request_on_abort(req, waiter_aborted, w);
  start_next(sv);
}

static void kick_close_cb(uv_handle_t *h) { mesos__free(h); }

/* Closed like the loop's own handles: freed on the loop's next turn (or
 * by mesos_loop_free). */
static void kick_free(uv_idle_t *h) {
  if (h) uv_close((uv_handle_t *)h, kick_close_cb);
}

static void serve(mesos_master *m, mesos__http_request *req, int kind) {
  serve_call(m, req, kind, 0, MESOS__MEDIA_JSON);
}

void mesos__state_v1_serve(mesos_master *m, mesos__http_request *req, int call,
                           mesos__media media) {
  serve_call(m, req, K_V1, call, media);
}

static mesos_status state_init(mesos_master *m) {
  if (m->op == NULL) return MESOS_EINVAL;
  struct mesos__state_srv *sv = MESOS__NEW(struct mesos__state_srv);
  if (sv == NULL) return MESOS_ENOMEM;
  sv->m = m;
  mesos__list_init(&sv->queued);
  mesos__list_init(&sv->sending);
  mesos__list_init(&sv->ready);
  pthread_mutex_init(&sv->pool_mu, NULL);
  sv->kick = MESOS__NEW(uv_idle_t);
  if (sv->kick) {
    uv_idle_init(mesos__loop_uv(m->loop), sv->kick);
    sv->kick->data = sv;
  }
  if (sv->kick == NULL || mesos_timer_new(&sv->trim, m->loop, trim_cb, sv, NULL) != MESOS_OK ||
      mesos_timer_start(sv->trim, TRIM_MS, TRIM_MS) != MESOS_OK) {
    mesos_timer_free(sv->trim);
    kick_free(sv->kick);
    pthread_mutex_destroy(&sv->pool_mu);
    mesos__free(sv);
    return MESOS_ENOMEM;
  }
  m->op->state = sv;
  return MESOS_OK;
}

static void detach_waiters(batch *b) {
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &b->waiters) {
    waiter *w = mesos__container_of(it, waiter, node);
    mesos__http_request_on_abort(w->req, NULL, NULL);
    if (w->started) mesos__http_request_on_drain(w->req, NULL, NULL);
    mesos__list_remove(&w->ready_node);
    mesos__list_remove(&w->node);
    mesos__free(w);
  }
  b->nwaiters = 0;
}

void mesos__state_fini(mesos_master *m) {
  struct mesos__state_srv *sv = srv_of(m);
  if (sv == NULL) return;
  /* A render in flight reads pinned Task messages the master is about to
   * free: stop it (it checks the flag every 1,024 tasks) and wait. */
  batch *r = sv->rendering;
  if (r) {
    atomic_store(&r->cancel, 1);
    pthread_mutex_lock(&gate_mu);
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    /* Not started yet: it never will (render_done still runs, cancelled). */
    if (uv_cancel((uv_req_t *)&r->work) != 0) wait_render(r);
    detach_waiters(r);
    snap_free(m, &r->snap);
    r->srv = NULL; /* render_done frees it */
  }
  mesos__list *lists[2] = {&sv->queued, &sv->sending};
  for (int i = 0; i < 2; i++) {
    while (!mesos__list_empty(lists[i])) {
      batch *b = mesos__container_of(lists[i]->next, batch, node);
      mesos__list_remove(&b->node);
      detach_waiters(b);
      batch_free(b);
    }
  }
  /* Unanswered requests are closed by the server as it goes. */
  sv->pins = 0;
  grave_empty(sv);
  mesos__free(sv->grave);
  mesos__free(sv->rgrave);
  mesos__free(sv->bgrave);
  mesos_timer_free(sv->trim);
  kick_free(sv->kick);
  (void)ftab_rebuild(sv, 0, 0);
  usage_free(sv->usage_tmp);
  pool_empty(sv);
  pthread_mutex_destroy(&sv->pool_mu);
  mesos__free(sv);
  m->op->state = NULL;
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
  if (m->op && !mesos__auth_replaying(m->auth)) m->op->c.state_requests++;
  serve(m, req, K_STATE);
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
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
      if (t->state == (int32_t)states[i]) counts[i]++;
  }
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
    kint(j, task_state_name(states[i]), (long long)counts[i]);
}

/* /state-summary's elements, written on the loop from the live records. */
static void agent_summary_json(jg *j, const void *x) {
  mesos__agent *a = (mesos__agent *)x;
  j_map_open(j);
  kstr(j, "id", a->id);
  kstr(j, "hostname", a->info->hostname);
  knum(j, "registered_time", a->registered_time);
  KEY(j, "resources");
  resources_json(j, &a->total->r);
  kbool(j, "active", a->stream != NULL);
  task_counts(j, &a->tasks);
  KEY(j, "framework_ids");
  j_array_open(j);
  mesos__map seen;
  mesos__map_init(&seen);
  size_t k = 0;
  void *tv;
  while (mesos__map_next(&a->tasks, &k, NULL, &tv)) {
    mesos__task *t = tv;
    if (!mesos__map_get(&seen, t->fw->id) && mesos__map_put(&seen, t->fw->id, t) == MESOS_OK)
      str(j, t->fw->id);
  }
  mesos__map_free(&seen);
  j_array_close(j);
  j_map_close(j);
}

static void framework_summary_json(jg *j, const void *x) {
  mesos__framework *fw = (mesos__framework *)x;
  j_map_open(j);
  framework_info_json(j, fw->info);
  kbool(j, "active", fw->stream != NULL);
  kbool(j, "connected", fw->stream != NULL);
  task_counts(j, &fw->tasks);
  KEY(j, "slave_ids");
  j_array_open(j);
  mesos__map seen;
  mesos__map_init(&seen);
  size_t k = 0;
  void *tv;
  while (mesos__map_next(&fw->tasks, &k, NULL, &tv)) {
    mesos__task *t = tv;
    if (!mesos__map_get(&seen, t->agent->id) && mesos__map_put(&seen, t->agent->id, t) == MESOS_OK)
      str(j, t->agent->id);
  }
  mesos__map_free(&seen);
  j_array_close(j);
  j_map_close(j);
}

/* An agent's (agent) or framework's element of /state-summary, from the
 * fragment cache when the record has not changed since it was written
 * (the same generations as /state: task counts and ids change with the
 * tasks, which reset them). */
static void summary_elem(mesos_master *m, jg *j, void *rec, int agent, int cached) {
  struct mesos__state_srv *c = cached ? mesos__frag_cache(m) : NULL;
  elem_fn fn = agent ? agent_summary_json : framework_summary_json;
  if (c == NULL) {
    fn(j, rec);
    return;
  }
  mesos__agent *a = rec;
  mesos__framework *fw = rec;
  double stamp[3] = {agent ? a->stream != NULL : fw->stream != NULL,
                     agent ? a->registered_time : fw->registered_time,
                     agent ? a->reregistered_time : fw->reregistered_time};
  uint64_t gen = mesos__frag_gen(c, rec, agent ? &a->state_gen : &fw->state_gen, stamp);
  mesos__frag *hit = mesos__frag_get(c, rec, gen, MESOS__FRAG_SUMMARY), *fresh = NULL;
  jg_elem(j, hit, &fresh, fn, rec);
  if (fresh) mesos__frag_put(c, rec, gen, MESOS__FRAG_SUMMARY, fresh);
  mesos__frag_unref(fresh);
  mesos__frag_unref(hit);
}

static void summary_doc(mesos_master *m, jg *j, int cached) {
  j_map_open(j);
  kstr(j, "hostname", m->hostname);
  const char *cluster = mesos__flags_get(m->flags, "cluster");
  if (cluster) kstr(j, "cluster", cluster);
  KEY(j, "slaves");
  j_array_open(j);
  size_t it = 0;
  void *v;
  while (j->st == MESOS_OK && mesos__map_next(&m->agents, &it, NULL, &v))
    summary_elem(m, j, v, 1, cached);
  j_array_close(j);
  KEY(j, "frameworks");
  j_array_open(j);
  it = 0;
  while (j->st == MESOS_OK && mesos__map_next(&m->frameworks, &it, NULL, &v))
    if (mesos__master_auth_sees_framework(m, v)) summary_elem(m, j, v, 0, cached);
  j_array_close(j);
  j_map_close(j);
}

/* Frameworks are filtered by VIEW_FRAMEWORK as in /state (spec
 * authorization.md: "/state-summary ... filtered"); an element's bytes do
 * not depend on the viewer, so the cache serves every view. */
static void state_summary_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__auth_view view;
  if (!mesos__master_auth_view_take(m, req, &view)) return; /* parked: replayed */
  mesos__buf b = MESOS__BUF_INIT(STATE_MAX);
  jg j;
  if (!jg_init(&j, &b)) {
    mesos__auth_view_free(&view);
    mesos__http_respond_text(req, 503, "Out of memory");
    return;
  }
  mesos__buf scratch = MESOS__BUF_INIT(STATE_MAX);
  j.scratch = &scratch;
  mesos__master_auth_view_begin(m, req, &view);
  summary_doc(m, &j, 1);
  mesos__master_auth_view_end(m, &view);
  mesos__buf_free(&scratch);
  finish(req, &j, &b);
}

static void frameworks_handler(mesos__http_request *req, void *ud) {
  serve(ud, req, K_FRAMEWORKS);
}

static void slaves_handler(mesos__http_request *req, void *ud) { serve(ud, req, K_SLAVES); }

static void tasks_handler(mesos__http_request *req, void *ud) { serve(ud, req, K_TASKS); }

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

/* /roles: the roles `view_role` approves (NULL: all), on the loop.  What
 * each uses is its frameworks' tasks' resources, added up per framework
 * once per change of the framework (mesos__state_fw_usage): a poll of an
 * unchanged master costs a walk over the frameworks, not the tasks. */
static void roles_doc(mesos_master *m, mesos_authz_approver *view_role, jg *jp) {
  jg j = *jp;
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
    if (!mesos__auth_approved(view_role, name)) continue;
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
      /* What its tasks hold, added up once per change of the framework. */
      const mesos__fw_usage *u = mesos__state_fw_usage(m, fw);
      if (u == NULL || mesos__resources_add_all(&used, &u->all->r) != MESOS_OK)
        j.st = MESOS_ENOMEM;
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
  *jp = j;
}

static void roles_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  /* VIEW_ROLE: only the roles the principal may view (NULL: no ACLs). */
  mesos_authz_approver *view_role =
      mesos__auth_approver(m->auth, mesos__http_request_principal(req), MESOS_AUTHZ_VIEW_ROLE);
  if (mesos__auth_parked(m->auth)) { /* a late authorizer: replayed with the answer */
    mesos_authz_approver_free(view_role);
    return;
  }
  mesos__buf b = MESOS__BUF_INIT(1 << 24);
  jg j;
  jg_init(&j, &b);
  roles_doc(m, view_role, &j);
  mesos_authz_approver_free(view_role);
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
  mesos_status st = m->op && m->op->state ? MESOS_OK : state_init(m);
  for (size_t i = 0; st == MESOS_OK && i < sizeof routes / sizeof routes[0]; i++)
    /* Read-only realm (never /redirect); /flags also needs VIEW_FLAGS. */
    st = mesos__auth_route(m->auth, m->http, "GET", routes[i].path, 0,
                           routes[i].fn == redirect_handler ? MESOS__REALM_NONE
                                                            : MESOS__REALM_READONLY,
                           routes[i].fn == flags_handler ? MESOS_AUTHZ_VIEW_FLAGS : 0, NULL,
                           routes[i].fn, m);
  return st;
}
