/* A fake master for the allocator tests: records every offer and inverse
 * offer, owns the resources the tests create, and controls the clock. */
#ifndef MESOS_TEST_ALLOC_FAKE_MASTER_H
#define MESOS_TEST_ALLOC_FAKE_MASTER_H

#include <string.h>

#include "mesos/sys/allocator.h"
#include "support/testutil.h"

#define FM_MAX 256

typedef struct fm_offer {
  char fw[64], role[64], agent[64];
  mesos_resources *res;
} fm_offer;

typedef struct fake_master {
  mesos_allocator *a;
  fm_offer offers[FM_MAX];
  int noffers;
  char inv_fw[FM_MAX][64], inv_agent[FM_MAX][64];
  int ninverse;
  mesos_resources *owned[FM_MAX];
  int nowned;
  uint64_t now_ns;
} fake_master;

static inline void fm_offer_cb(const char *fw, const char *role, const char *agent,
                        const mesos_resources *res, void *ud) {
  fake_master *m = ud;
  ck_assert_int_lt(m->noffers, FM_MAX);
  fm_offer *o = &m->offers[m->noffers++];
  snprintf(o->fw, sizeof o->fw, "%s", fw);
  snprintf(o->role, sizeof o->role, "%s", role);
  snprintf(o->agent, sizeof o->agent, "%s", agent);
  ck_assert_int_eq(mesos_resources_clone(&o->res, res, NULL), MESOS_OK);
}

static inline void fm_inverse_cb(const char *fw, const char *agent,
                          const mesos_allocator_unavailability *u, void *ud) {
  fake_master *m = ud;
  (void)u;
  ck_assert_int_lt(m->ninverse, FM_MAX);
  snprintf(m->inv_fw[m->ninverse], 64, "%s", fw);
  snprintf(m->inv_agent[m->ninverse], 64, "%s", agent);
  m->ninverse++;
}

static inline uint64_t fm_clock(void *ud) { return ((fake_master *)ud)->now_ns; }

static inline void fm_clear(fake_master *m) {
  for (int i = 0; i < m->noffers; i++) mesos_resources_free(m->offers[i].res);
  m->noffers = 0;
  m->ninverse = 0;
}

/* Creates the built-in allocator with `opts` (NULL: defaults plus the fake
 * clock). */
static inline void fm_init(fake_master *m, mesos_hierarchical_allocator_options *opts) {
  memset(m, 0, sizeof *m);
  m->now_ns = 1000000000ull;
  mesos_hierarchical_allocator_options o = MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_INIT;
  if (opts) o = *opts;
  o.clock_ns = fm_clock;
  o.clock_ud = m;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_hierarchical_allocator_new(&m->a, &o, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_initialize(m->a, fm_offer_cb, fm_inverse_cb, m, &err),
                     &err);
}

static inline void fm_fini(fake_master *m) {
  fm_clear(m);
  for (int i = 0; i < m->nowned; i++) mesos_resources_free(m->owned[i]);
  mesos_allocator_free(m->a);
}

/* Resources from --resources text, freed by fm_fini. */
static inline mesos_resources *fm_res(fake_master *m, const char *text) {
  mesos_resources *r = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_resources_new(&r, &err), &err);
  ck_assert_mesos_ok(mesos_resources_parse(r, text, NULL, &err), &err);
  ck_assert_int_lt(m->nowned, FM_MAX);
  m->owned[m->nowned++] = r;
  return r;
}

static inline void fm_add_fw_caps(fake_master *m, const char *id, const char *role, uint32_t caps) {
  const char *roles[] = {role};
  mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  fw.id = id;
  fw.roles = roles;
  fw.nroles = 1;
  fw.capabilities = caps;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_framework(m->a, &fw, 1, &err), &err);
}

static inline void fm_add_fw(fake_master *m, const char *id, const char *role) {
  fm_add_fw_caps(m, id, role, 0);
}

static inline void fm_add_agent(fake_master *m, const char *id, const char *text) {
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = id;
  ag.total = fm_res(m, text);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m->a, &ag, &err), &err);
}

/* Runs one cycle after forgetting the previous offers (the allocator still
 * counts them as allocated). */
static inline void fm_cycle(fake_master *m) {
  fm_clear(m);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_allocate(m->a, &err), &err);
}

static inline int fm_count(const fake_master *m, const char *fw) {
  int n = 0;
  for (int i = 0; i < m->noffers; i++) n += strcmp(m->offers[i].fw, fw) == 0;
  return n;
}

static inline const fm_offer *fm_find(const fake_master *m, const char *fw, const char *agent) {
  for (int i = 0; i < m->noffers; i++)
    if (strcmp(m->offers[i].fw, fw) == 0 && strcmp(m->offers[i].agent, agent) == 0)
      return &m->offers[i];
  return NULL;
}

static inline double fm_scalar(const fake_master *m, const char *fw, const char *name) {
  double s = 0;
  for (int i = 0; i < m->noffers; i++)
    if (strcmp(m->offers[i].fw, fw) == 0) s += mesos_resources_scalar(m->offers[i].res, name);
  return s;
}

/* Declines offer i with `refuse` seconds. */
static inline void fm_decline(fake_master *m, int i, double refuse) {
  mesos_error *err = NULL;
  fm_offer *o = &m->offers[i];
  ck_assert_mesos_ok(mesos_allocator_recover_resources(m->a, o->fw, o->agent, o->role, o->res,
                                                       refuse, &err),
                     &err);
}

static inline void fm_decline_all(fake_master *m, double refuse) {
  for (int i = 0; i < m->noffers; i++) fm_decline(m, i, refuse);
}

#endif
