/* Builders of registry operations on the stack, for the registry tests. */
#ifndef MESOS_TEST_REGOPS_H
#define MESOS_TEST_REGOPS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesos/internal/registry.pb-c.h"

typedef Mesos__Internal__RegistryOperation Op;
typedef Mesos__Internal__Registry Registry;

#define T(x) MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__##x

/* Storage for one operation built on the stack. */
typedef struct {
  Op op;
  Mesos__V1__AgentInfo info;
  Mesos__V1__AgentID id;
  Mesos__V1__TimeInfo ts;
  Mesos__V1__Resource res;
  Mesos__V1__Resource *res_ptr;
  Mesos__V1__Value__Scalar scalar;
  Mesos__V1__WeightInfo w[4];
  Mesos__V1__WeightInfo *wp[4];
  Mesos__V1__Quota__QuotaConfig q;
  Mesos__V1__Quota__QuotaConfig *qp;
  Mesos__V1__Quota__QuotaConfig__GuaranteesEntry g;
  Mesos__V1__Quota__QuotaConfig__GuaranteesEntry *gp;
  Mesos__V1__Quota__QuotaConfig__LimitsEntry l;
  Mesos__V1__Quota__QuotaConfig__LimitsEntry *lp;
  Mesos__V1__Value__Scalar gs, ls;
  Mesos__V1__Maintenance__Schedule sched;
  Mesos__V1__Maintenance__Window win[2];
  Mesos__V1__Maintenance__Window *winp[2];
  Mesos__V1__Unavailability unavail;
  Mesos__V1__TimeInfo start;
  Mesos__V1__MachineID m[4];
  Mesos__V1__MachineID *mp[4];
  char hostname[128];
} opbuf;

static inline Op *op_init(opbuf *b, int type) {
  memset(b, 0, sizeof *b);
  b->op = (Op)MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  b->op.has_type = 1;
  b->op.type = type;
  return &b->op;
}

/* ADMIT, READMIT, UPDATE: agent_info; the others: agent_id (+ timestamp). */
static inline Op *agent_op(opbuf *b, int type, const char *id) {
  Op *op = op_init(b, type);
  mesos__v1__agent_id__init(&b->id);
  b->id.value = (char *)id;
  mesos__v1__agent_info__init(&b->info);
  if (snprintf(b->hostname, sizeof b->hostname, "host-%s", id) >= (int)sizeof b->hostname)
    abort();
  b->info.hostname = b->hostname;
  b->info.id = &b->id;
  mesos__v1__time_info__init(&b->ts);
  b->ts.nanoseconds = 1234567;
  if (type == T(ADMIT_AGENT) || type == T(READMIT_AGENT) || type == T(UPDATE_AGENT)) {
    op->agent_info = &b->info;
  } else {
    op->agent_id = &b->id;
    op->timestamp = &b->ts;
  }
  return op;
}

static inline Op *update_agent_op(opbuf *b, const char *id, double cpus, int deactivated) {
  Op *op = agent_op(b, T(UPDATE_AGENT), id);
  mesos__v1__resource__init(&b->res);
  mesos__v1__value__scalar__init(&b->scalar);
  b->res.name = "cpus";
  b->res.type = MESOS__V1__VALUE__TYPE__SCALAR;
  b->scalar.value = cpus;
  b->res.scalar = &b->scalar;
  b->res_ptr = &b->res;
  op->n_resources = 1;
  op->resources = &b->res_ptr;
  op->has_deactivated = 1;
  op->deactivated = deactivated;
  return op;
}

static inline Op *weights_op(opbuf *b, int n, const char *const *roles, const double *weights) {
  Op *op = op_init(b, T(UPDATE_WEIGHTS));
  for (int i = 0; i < n; i++) {
    mesos__v1__weight_info__init(&b->w[i]);
    b->w[i].role = (char *)roles[i];
    b->w[i].weight = weights[i];
    b->wp[i] = &b->w[i];
  }
  op->n_weights = (size_t)n;
  op->weights = b->wp;
  return op;
}

/* guarantee/limit < 0: not set. */
static inline Op *quota_op(opbuf *b, const char *role, double guarantee, double limit) {
  Op *op = op_init(b, T(UPDATE_QUOTA));
  mesos__v1__quota__quota_config__init(&b->q);
  b->q.role = (char *)role;
  mesos__v1__value__scalar__init(&b->gs);
  mesos__v1__value__scalar__init(&b->ls);
  if (guarantee >= 0) {
    mesos__v1__quota__quota_config__guarantees_entry__init(&b->g);
    b->g.key = "cpus";
    b->gs.value = guarantee;
    b->g.value = &b->gs;
    b->gp = &b->g;
    b->q.n_guarantees = 1;
    b->q.guarantees = &b->gp;
  }
  if (limit >= 0) {
    mesos__v1__quota__quota_config__limits_entry__init(&b->l);
    b->l.key = "cpus";
    b->ls.value = limit;
    b->l.value = &b->ls;
    b->lp = &b->l;
    b->q.n_limits = 1;
    b->q.limits = &b->lp;
  }
  b->qp = &b->q;
  op->n_quotas = 1;
  op->quotas = &b->qp;
  return op;
}

static inline void machine(opbuf *b, int i, const char *host) {
  mesos__v1__machine_id__init(&b->m[i]);
  b->m[i].hostname = (char *)host;
  b->mp[i] = &b->m[i];
}

/* Window 0 holds hosts[0..split), window 1 hosts[split..n). */
static inline Op *schedule_op(opbuf *b, int n, const char *const *hosts, int split) {
  Op *op = op_init(b, T(UPDATE_SCHEDULE));
  mesos__v1__maintenance__schedule__init(&b->sched);
  mesos__v1__unavailability__init(&b->unavail);
  mesos__v1__time_info__init(&b->start);
  b->start.nanoseconds = 1000000000;
  b->unavail.start = &b->start;
  for (int i = 0; i < n; i++) machine(b, i, hosts[i]);
  int nw = 0;
  if (split > 0) {
    mesos__v1__maintenance__window__init(&b->win[nw]);
    b->win[nw].n_machine_ids = (size_t)split;
    b->win[nw].machine_ids = b->mp;
    b->win[nw].unavailability = &b->unavail;
    b->winp[nw] = &b->win[nw];
    nw++;
  }
  if (n > split) {
    mesos__v1__maintenance__window__init(&b->win[nw]);
    b->win[nw].n_machine_ids = (size_t)(n - split);
    b->win[nw].machine_ids = b->mp + split;
    b->win[nw].unavailability = &b->unavail;
    b->winp[nw] = &b->win[nw];
    nw++;
  }
  b->sched.n_windows = (size_t)nw;
  b->sched.windows = b->winp;
  op->schedule = &b->sched;
  return op;
}

static inline Op *maintenance_op(opbuf *b, int type, int n, const char *const *hosts) {
  Op *op = op_init(b, type);
  for (int i = 0; i < n; i++) machine(b, i, hosts[i]);
  op->n_machines = (size_t)n;
  op->machines = b->mp;
  return op;
}

#endif
