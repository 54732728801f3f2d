/*
 * embed_master: a host program that runs a Mesos master inside itself.
 *
 *  - The host owns the event loop: it polls mesos_loop_fd() with its own
 *    poll(2), waits at most mesos_loop_timeout_ms(), and calls
 *    mesos_loop_run_once(), which never blocks (mesos/loop.h).
 *  - The host decides who gets resources: it passes its own allocator to
 *    the master through the public allocator table (mesos/sys/allocator.h,
 *    mesos_master_options.allocator).  The policy here is deliberately tiny
 *    and easy to follow: first fit, round robin, and an agent is offered to
 *    one framework at a time: until that framework gives the rest back, no
 *    one else sees the agent.
 *  - An agent runs in the same process and loop (mesos_agent_new), and two
 *    frameworks subscribe through the C scheduler client; each launches one
 *    task.  The program exits 0 once both tasks finished.
 *
 * Build: cc embed_master.c $(pkg-config --cflags --libs libmesos-core)
 * Run:   ./embed_master            (about two seconds)
 */
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mesos/mesos.h>
#include <mesos/sys/allocator.h>

/* ------------------------------------------------------------ the allocator */

#define MAX_FRAMEWORKS 16
#define MAX_AGENTS 16
#define MAX_ID 256 /* Mesos ids are at most 255 bytes */

typedef struct fw_entry {
  char id[MAX_ID];
  char role[MAX_ID];
  int active, suppressed, used;
} fw_entry;

/* What one framework holds on one agent. */
typedef struct holding {
  char framework[MAX_ID];
  mesos_resources *res;
} holding;

typedef struct agent_entry {
  char id[MAX_ID];
  int active, used;
  mesos_resources *available;    /* not allocated to anyone */
  holding held[MAX_FRAMEWORKS];  /* allocated, per framework */
  char offered_to[MAX_ID];       /* "" when nobody holds an offer for it */
  char refused_by[MAX_ID];       /* declined with refuse_seconds ... */
  time_t refused_until;          /* ... until then */
} agent_entry;

typedef struct first_fit {
  mesos_allocator_offer_fn offer;
  void *offer_ud;
  fw_entry fws[MAX_FRAMEWORKS];
  agent_entry agents[MAX_AGENTS];
  size_t next_fw; /* round robin: where the next search starts */
  unsigned offers_made;
} first_fit;

/* Ids are at most 255 bytes (Mesos validates them), so they fit. */
static void copy_id(char *dst, const char *src) {
  size_t n = strnlen(src, MAX_ID - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static fw_entry *find_fw(first_fit *ff, const char *id) {
  for (int i = 0; i < MAX_FRAMEWORKS; i++)
    if (ff->fws[i].used && strcmp(ff->fws[i].id, id) == 0) return &ff->fws[i];
  return NULL;
}

static agent_entry *find_agent(first_fit *ff, const char *id) {
  for (int i = 0; i < MAX_AGENTS; i++)
    if (ff->agents[i].used && strcmp(ff->agents[i].id, id) == 0) return &ff->agents[i];
  return NULL;
}

/* The framework's holding on the agent, created empty when `create`. */
static holding *find_holding(agent_entry *a, const char *fw, int create) {
  for (int i = 0; i < MAX_FRAMEWORKS; i++)
    if (a->held[i].res && strcmp(a->held[i].framework, fw) == 0) return &a->held[i];
  if (!create) return NULL;
  for (int i = 0; i < MAX_FRAMEWORKS; i++) {
    if (a->held[i].res == NULL) {
      if (mesos_resources_new(&a->held[i].res, NULL) != MESOS_OK) return NULL;
      copy_id(a->held[i].framework, fw);
      return &a->held[i];
    }
  }
  return NULL;
}

static void drop_holding(holding *h) {
  mesos_resources_free(h->res);
  memset(h, 0, sizeof *h);
}

static mesos_status ff_initialize(void *ud, mesos_allocator_offer_fn offer,
                                  mesos_allocator_inverse_offer_fn inverse, void *cb_ud,
                                  mesos_error **err) {
  (void)inverse, (void)err; /* no maintenance support in this policy */
  first_fit *ff = ud;
  ff->offer = offer;
  ff->offer_ud = cb_ud;
  return MESOS_OK;
}

static mesos_status ff_add_framework(void *ud, const mesos_allocator_framework *fw, int active,
                                     mesos_error **err) {
  first_fit *ff = ud;
  (void)err;
  if (find_fw(ff, fw->id)) return MESOS_EEXIST;
  for (int i = 0; i < MAX_FRAMEWORKS; i++) {
    fw_entry *f = &ff->fws[i];
    if (f->used) continue;
    memset(f, 0, sizeof *f);
    f->used = 1;
    f->active = active;
    copy_id(f->id, fw->id);
    copy_id(f->role, fw->nroles ? fw->roles[0] : "*");
    return MESOS_OK;
  }
  return MESOS_ELIMIT;
}

/* Gives everything `fw` holds on every agent back to the agents. */
static mesos_status ff_remove_framework(void *ud, const char *fw, mesos_error **err) {
  first_fit *ff = ud;
  fw_entry *f = find_fw(ff, fw);
  if (f == NULL) return MESOS_ENOTFOUND;
  for (int i = 0; i < MAX_AGENTS; i++) {
    agent_entry *a = &ff->agents[i];
    if (!a->used) continue;
    holding *h = find_holding(a, fw, 0);
    if (h) {
      mesos_resources_add(a->available, h->res, err);
      drop_holding(h);
    }
    if (strcmp(a->offered_to, fw) == 0) a->offered_to[0] = '\0';
  }
  f->used = 0;
  return MESOS_OK;
}

static mesos_status ff_set_fw_active(first_fit *ff, const char *fw, int active) {
  fw_entry *f = find_fw(ff, fw);
  if (f == NULL) return MESOS_ENOTFOUND;
  f->active = active;
  return MESOS_OK;
}
static mesos_status ff_activate_framework(void *ud, const char *fw, mesos_error **err) {
  (void)err;
  return ff_set_fw_active(ud, fw, 1);
}
static mesos_status ff_deactivate_framework(void *ud, const char *fw, mesos_error **err) {
  (void)err;
  return ff_set_fw_active(ud, fw, 0);
}

static mesos_status ff_add_agent(void *ud, const mesos_allocator_agent *ag, mesos_error **err) {
  first_fit *ff = ud;
  if (find_agent(ff, ag->id)) return MESOS_EEXIST;
  for (int i = 0; i < MAX_AGENTS; i++) {
    agent_entry *a = &ff->agents[i];
    if (a->used) continue;
    memset(a, 0, sizeof *a);
    mesos_status st = mesos_resources_clone(&a->available, ag->total, err);
    /* Tasks already running there (a master fail-over) stay allocated. */
    for (size_t k = 0; st == MESOS_OK && k < ag->nused; k++) {
      holding *h = find_holding(a, ag->used[k].framework_id, 1);
      st = h ? mesos_resources_add(h->res, ag->used[k].resources, err) : MESOS_ENOMEM;
      if (st == MESOS_OK) st = mesos_resources_subtract(a->available, ag->used[k].resources, err);
    }
    if (st != MESOS_OK) {
      for (int k = 0; k < MAX_FRAMEWORKS; k++) drop_holding(&a->held[k]);
      mesos_resources_free(a->available);
      memset(a, 0, sizeof *a);
      return st;
    }
    copy_id(a->id, ag->id);
    a->used = a->active = 1;
    return MESOS_OK;
  }
  return MESOS_ELIMIT;
}

static mesos_status ff_remove_agent(void *ud, const char *id, mesos_error **err) {
  (void)err;
  agent_entry *a = find_agent(ud, id);
  if (a == NULL) return MESOS_ENOTFOUND;
  for (int k = 0; k < MAX_FRAMEWORKS; k++) drop_holding(&a->held[k]);
  mesos_resources_free(a->available);
  memset(a, 0, sizeof *a);
  return MESOS_OK;
}

static mesos_status ff_set_agent_active(first_fit *ff, const char *id, int active) {
  agent_entry *a = find_agent(ff, id);
  if (a == NULL) return MESOS_ENOTFOUND;
  a->active = active;
  return MESOS_OK;
}
static mesos_status ff_activate_agent(void *ud, const char *id, mesos_error **err) {
  (void)err;
  return ff_set_agent_active(ud, id, 1);
}
static mesos_status ff_deactivate_agent(void *ud, const char *id, mesos_error **err) {
  (void)err;
  return ff_set_agent_active(ud, id, 0);
}

/* Replaces `consumed` by `converted` in `r`, all or nothing. */
static mesos_status convert(mesos_resources *r, const mesos_allocator_conversion *ops, size_t n,
                            mesos_error **err) {
  mesos_resources *tmp = NULL;
  mesos_status st = mesos_resources_clone(&tmp, r, err);
  for (size_t i = 0; st == MESOS_OK && i < n; i++) {
    if (!mesos_resources_contains(tmp, ops[i].consumed)) st = MESOS_EINVAL;
    if (st == MESOS_OK) st = mesos_resources_subtract(tmp, ops[i].consumed, err);
    if (st == MESOS_OK) st = mesos_resources_add(tmp, ops[i].converted, err);
  }
  if (st == MESOS_OK) {
    /* r = tmp, keeping the caller's handle. */
    mesos_resources *old = NULL;
    st = mesos_resources_clone(&old, r, err);
    if (st == MESOS_OK) st = mesos_resources_subtract(r, old, err);
    if (st == MESOS_OK) st = mesos_resources_add(r, tmp, err);
    mesos_resources_free(old);
  }
  mesos_resources_free(tmp);
  return st;
}

static mesos_status ff_update_allocation(void *ud, const char *fw, const char *agent,
                                         const char *role, const mesos_allocator_conversion *ops,
                                         size_t n, mesos_error **err) {
  (void)role;
  agent_entry *a = find_agent(ud, agent);
  holding *h = a ? find_holding(a, fw, 0) : NULL;
  if (h == NULL) return MESOS_ENOTFOUND;
  return convert(h->res, ops, n, err);
}

static mesos_status ff_update_available(void *ud, const char *agent,
                                        const mesos_allocator_conversion *ops, size_t n,
                                        mesos_error **err) {
  agent_entry *a = find_agent(ud, agent);
  if (a == NULL) return MESOS_ENOTFOUND;
  return convert(a->available, ops, n, err);
}

/* Resources come back: a declined or partly used offer, or a task that
 * ended.  The agent is free for the next framework. */
static mesos_status ff_recover_resources(void *ud, const char *fw, const char *agent,
                                         const char *role, const mesos_resources *res,
                                         double refuse_seconds, mesos_error **err) {
  (void)role;
  agent_entry *a = find_agent(ud, agent);
  holding *h = a ? find_holding(a, fw, 0) : NULL;
  if (a == NULL || h == NULL) return MESOS_OK; /* already gone: nothing to do */
  if (!mesos_resources_contains(h->res, res)) return MESOS_EINVAL;
  mesos_status st = mesos_resources_subtract(h->res, res, err);
  if (st == MESOS_OK) st = mesos_resources_add(a->available, res, err);
  if (mesos_resources_is_empty(h->res)) drop_holding(h);
  if (strcmp(a->offered_to, fw) == 0) a->offered_to[0] = '\0';
  if (refuse_seconds > 0) {
    copy_id(a->refused_by, fw);
    a->refused_until = time(NULL) + (time_t)(refuse_seconds < 3600 ? refuse_seconds : 3600);
  }
  return st;
}

static mesos_status ff_suppress(void *ud, const char *fw, const char *role, mesos_error **err) {
  (void)role, (void)err;
  fw_entry *f = find_fw(ud, fw);
  if (f == NULL) return MESOS_ENOTFOUND;
  f->suppressed = 1;
  return MESOS_OK;
}

static mesos_status ff_revive(void *ud, const char *fw, const char *role, mesos_error **err) {
  (void)role, (void)err;
  first_fit *ff = ud;
  fw_entry *f = find_fw(ff, fw);
  if (f == NULL) return MESOS_ENOTFOUND;
  f->suppressed = 0;
  for (int i = 0; i < MAX_AGENTS; i++)
    if (strcmp(ff->agents[i].refused_by, fw) == 0) ff->agents[i].refused_by[0] = '\0';
  return MESOS_OK;
}

/* One cycle: each free agent goes whole to the first framework, in round
 * robin order, that wants offers and has not refused it. */
static mesos_status ff_allocate(void *ud, mesos_error **err) {
  first_fit *ff = ud;
  (void)err;
  time_t now = time(NULL);
  for (int i = 0; i < MAX_AGENTS; i++) {
    agent_entry *a = &ff->agents[i];
    if (!a->used || !a->active || a->offered_to[0] || mesos_resources_is_empty(a->available))
      continue;
    for (size_t k = 0; k < MAX_FRAMEWORKS; k++) {
      fw_entry *f = &ff->fws[(ff->next_fw + k) % MAX_FRAMEWORKS];
      if (!f->used || !f->active || f->suppressed) continue;
      if (strcmp(a->refused_by, f->id) == 0 && now < a->refused_until) continue;
      holding *h = find_holding(a, f->id, 1);
      if (h == NULL) return MESOS_ENOMEM;
      mesos_resources *offer = a->available;
      if (mesos_resources_new(&a->available, err) != MESOS_OK) {
        a->available = offer;
        return MESOS_ENOMEM;
      }
      mesos_resources_add(h->res, offer, err);
      copy_id(a->offered_to, f->id);
      ff->next_fw = (ff->next_fw + k + 1) % MAX_FRAMEWORKS;
      ff->offers_made++;
      ff->offer(f->id, f->role, a->id, offer, ff->offer_ud);
      mesos_resources_free(offer);
      break;
    }
  }
  return MESOS_OK;
}

static void ff_destroy(void *ud) {
  first_fit *ff = ud;
  for (int i = 0; i < MAX_AGENTS; i++)
    if (ff->agents[i].used) ff_remove_agent(ff, ff->agents[i].id, NULL);
}

static const mesos_allocator_ops first_fit_ops = {
    .version = MESOS_ALLOCATOR_OPS_VERSION,
    .initialize = ff_initialize,
    .destroy = ff_destroy,
    .add_framework = ff_add_framework,
    .remove_framework = ff_remove_framework,
    .activate_framework = ff_activate_framework,
    .deactivate_framework = ff_deactivate_framework,
    .add_agent = ff_add_agent,
    .remove_agent = ff_remove_agent,
    .activate_agent = ff_activate_agent,
    .deactivate_agent = ff_deactivate_agent,
    .update_allocation = ff_update_allocation,
    .update_available = ff_update_available,
    .recover_resources = ff_recover_resources,
    .suppress = ff_suppress,
    .revive = ff_revive,
    .allocate = ff_allocate,
    /* The optional members (weights, quota, maintenance, stats) stay NULL:
     * the master gets MESOS_EUNSUPPORTED for them. */
};

/* ------------------------------------------------------------ the frameworks */

typedef struct framework {
  const char *name;
  mesos_scheduler *sched;
  int launched, finished, failed;
} framework;

static void on_call_done(mesos_scheduler *s, mesos_status st, int http_status, const char *msg,
                         void *ud) {
  (void)s;
  framework *fw = ud;
  if (st != MESOS_OK || http_status >= 400) {
    fprintf(stderr, "[%s] ACCEPT failed: %d %s\n", fw->name, http_status, msg ? msg : "");
    fw->failed = 1;
  }
}

static void on_offers(framework *fw, const uint8_t *event, size_t len) {
  mesos_scheduler_offer *offers = NULL;
  size_t n = 0;
  mesos_error *err = NULL;
  if (mesos_scheduler_event_offers(event, len, &offers, &n, &err) != MESOS_OK) {
    fprintf(stderr, "[%s] bad OFFERS: %s\n", fw->name, mesos_error_message(err));
    mesos_error_free(err);
    fw->failed = 1;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    printf("[%s] offer of %s: cpus %g mem %g\n", fw->name, offers[i].hostname, offers[i].cpus,
           offers[i].mem);
    if (fw->launched) {
      mesos_scheduler_decline(fw->sched, offers[i].id, 0, NULL);
      continue;
    }
    /* Use a little and give the rest back at once (refuse_seconds 0), so
     * the allocator can offer the agent to the other framework. */
    char call[2048];
    snprintf(call, sizeof call,
             "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
             "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"%s\","
             "\"task_id\":{\"value\":\"%s-task\"},\"agent_id\":{\"value\":\"%s\"},"
             "\"command\":{\"value\":\"echo hello from %s\"},\"resources\":["
             "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"
             "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]}]}}],"
             "\"filters\":{\"refuse_seconds\":0}}}",
             offers[i].id, fw->name, fw->name, offers[i].agent_id, fw->name);
    if (mesos_scheduler_call_json(fw->sched, call, on_call_done, fw, &err) != MESOS_OK) {
      fprintf(stderr, "[%s] accept: %s\n", fw->name, mesos_error_message(err));
      mesos_error_free(err);
      fw->failed = 1;
    } else {
      fw->launched = 1;
    }
  }
  mesos_free(offers);
}

static void on_update(framework *fw, const uint8_t *event, size_t len) {
  mesos_scheduler_task_status *st = NULL;
  mesos_error *err = NULL;
  if (mesos_scheduler_event_update(event, len, &st, &err) != MESOS_OK) {
    fprintf(stderr, "[%s] bad UPDATE: %s\n", fw->name, mesos_error_message(err));
    mesos_error_free(err);
    fw->failed = 1;
    return;
  }
  printf("[%s] task %s: %s\n", fw->name, st->task_id, st->state);
  if (st->has_uuid) mesos_scheduler_acknowledge(fw->sched, st->agent_id, st->task_id, st->uuid, NULL);
  if (st->terminal) {
    if (strcmp(st->state, "TASK_FINISHED") == 0) fw->finished = 1;
    else fw->failed = 1;
  }
  mesos_free(st);
}

static void on_event(mesos_scheduler *s, const char *type, const uint8_t *event, size_t len,
                     void *ud) {
  (void)s;
  if (strcmp(type, "OFFERS") == 0) on_offers(ud, event, len);
  else if (strcmp(type, "UPDATE") == 0) on_update(ud, event, len);
}

static int start_framework(framework *fw, mesos_loop *loop, const char *masters) {
  char info[256];
  snprintf(info, sizeof info, "{\"user\":\"nobody\",\"name\":\"%s\"}", fw->name);
  mesos_scheduler_options o = MESOS_SCHEDULER_OPTIONS_INIT;
  o.masters = masters;
  o.content_type = MESOS_SCHEDULER_CONTENT_JSON;
  o.framework_info_json = info;
  o.on_event = on_event;
  o.ud = fw;
  mesos_error *err = NULL;
  if (mesos_scheduler_new(&fw->sched, loop, &o, &err) != MESOS_OK) {
    fprintf(stderr, "scheduler: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ the host */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
  int rc = 1;
  mesos_error *err = NULL;
  mesos_loop *loop = NULL;
  mesos_allocator *alloc = NULL;
  mesos_master *master = NULL;
  mesos_agent *agent = NULL;
  first_fit policy;
  memset(&policy, 0, sizeof policy);
  framework fws[2] = {{"alpha", NULL, 0, 0, 0}, {"beta", NULL, 0, 0, 0}};
  char work_dir[] = "/tmp/embed-master-XXXXXX";
  if (mkdtemp(work_dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  mesos_log_set_level(MESOS_LOG_WARNING);

  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK) goto fail;
  if (mesos_allocator_new(&alloc, &first_fit_ops, &policy, &err) != MESOS_OK) goto fail;

  mesos_master_options mo = MESOS_MASTER_OPTIONS_INIT;
  mo.ip = "127.0.0.1";
  mo.port = 0;
  mo.hostname = "embedded-master";
  mo.allocator = alloc; /* the master owns it from here on */
  alloc = NULL;
  if (mesos_master_new(&master, loop, &mo, NULL, &err) != MESOS_OK) goto fail;
  char master_addr[64], masters[80];
  snprintf(master_addr, sizeof master_addr, "127.0.0.1:%u", (unsigned)mesos_master_port(master));
  snprintf(masters, sizeof masters, "http://%s", master_addr);
  printf("master on %s with the first-fit allocator\n", master_addr);

  char agent_dir[64];
  snprintf(agent_dir, sizeof agent_dir, "%s/agent", work_dir);
  mesos_agent_options ao = MESOS_AGENT_OPTIONS_INIT;
  ao.master = master_addr;
  ao.work_dir = agent_dir;
  ao.ip = "127.0.0.1";
  ao.port = 0;
  ao.hostname = "embedded-agent";
  ao.resources = "cpus:1;mem:256;disk:64";
  if (mesos_agent_new(&agent, loop, &ao, NULL, &err) != MESOS_OK) goto fail;

  for (int i = 0; i < 2; i++)
    if (start_framework(&fws[i], loop, masters) != 0) goto fail;

  /* The host's own loop.  A real host would add its own descriptors to
   * the poll set; the library needs only its one fd and the timeout. */
  struct pollfd pfd = {mesos_loop_fd(loop), POLLIN, 0};
  long long deadline = now_ms() + 30000;
  while (!(fws[0].finished && fws[1].finished) && !fws[0].failed && !fws[1].failed) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      fprintf(stderr, "timed out\n");
      goto fail;
    }
    int t = mesos_loop_timeout_ms(loop);
    poll(&pfd, 1, t < 0 || t > left ? (int)left : t);
    if (mesos_loop_run_once(loop) < 0) goto fail;
  }
  if (fws[0].failed || fws[1].failed) goto fail;
  printf("both tasks finished; the allocator made %u offers\n", policy.offers_made);
  rc = 0;

fail:
  if (err) {
    fprintf(stderr, "error: %s\n", mesos_error_message(err));
    mesos_error_free(err);
  }
  for (int i = 0; i < 2; i++) mesos_scheduler_free(fws[i].sched);
  mesos_agent_free(agent);
  mesos_master_free(master); /* frees the allocator too */
  mesos_allocator_free(alloc); /* only if the master never took it */
  if (loop) {
    for (int i = 0; i < 20; i++) mesos_loop_run_once(loop);
    mesos_loop_free(loop);
  }
  nftw(work_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return rc;
}
