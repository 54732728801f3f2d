/* Random sequences of allocator calls (fixed seeds), checking after every
 * step that the built-in allocator's books balance: on every agent the
 * available resources plus everything allocated equal the total; every
 * sorter node holds exactly what its subtree holds and its children stay
 * sorted; the eligible counts and the unreserved-available sum match a
 * recount.  Catches accounting drift no single-scenario test would. */
#include "allocator/hierarchical_int.h"
#include "unit/allocator/alloc_fake_master.h"

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33) % n;
}

static void check_node(const h_alloc *h, const mesos__snode *n, int depth) {
  ck_assert_int_lt(depth, 64);
  uint32_t eligible = 0;
  mesos__qv sum;
  memset(&sum, 0, sizeof sum);
  for (uint32_t i = 0; i < n->nkids; i++) {
    const mesos__snode *k = n->kids[i];
    ck_assert_ptr_eq(k->parent, n);
    if (i > 0) {
      const mesos__snode *p = n->kids[i - 1];
      /* The sorter's order: share, then allocations made, then name. */
      ck_assert_msg(p->share < k->share ||
                        (p->share == k->share &&
                         (p->count < k->count ||
                          (p->count == k->count && strcmp(p->name, k->name) < 0))),
                    "children of '%s' out of order", n->name);
    }
    check_node(h, k, depth + 1);
    eligible += k->eligible;
    mesos__qv_add(&sum, &k->alloc, h->sorter.nnames, 1);
  }
  if (n->kind == MESOS__SNODE_LEAF) {
    ck_assert_uint_le(n->eligible, 1);
    return;
  }
  ck_assert_uint_eq(eligible, n->eligible);
  /* A SELF node holds its role's own allocations, not the sum of its
   * subscribed frameworks (some holders may not be subscribed). */
  if (n->kind != MESOS__SNODE_SELF)
    for (uint32_t i = 0; i < h->sorter.nnames; i++)
      ck_assert_int_eq(sum.v[i], n->alloc.v[i]);
}

static void check_books(fake_master *m) {
  h_alloc *h = mesos_allocator_userdata(m->a);
  mesos__qv unres;
  memset(&unres, 0, sizeof unres);
  for (uint32_t a = 0; a < h->nagents; a++) {
    h_agent *ag = h->agents[a];
    ck_assert_uint_eq(ag->idx, a);
    mesos__resources sum;
    ck_assert_int_eq(mesos__resources_copy(&sum, &ag->avail.r), MESOS_OK);
    for (uint32_t c = 0; c < ag->nchunks; c++)
      ck_assert_int_eq(mesos__resources_add_all(&sum, &ag->chunks[c].res.r), MESOS_OK);
    ck_assert_msg(mesos__resources_equal(&sum, &ag->total.r), "agent %s: books do not balance",
                  ag->id);
    mesos__resources_free(&sum);
    if (ag->active) mesos__qv_add(&unres, &ag->unres_q, h->sorter.nnames, 1);
  }
  for (uint32_t i = 0; i < h->sorter.nnames; i++)
    ck_assert_int_eq(unres.v[i], h->unres_avail.v[i]);
  if (!h->sorter.stale) check_node(h, &h->sorter.root, 0);
}

static const char *const role_names[] = {"*", "eng", "eng/web", "eng/db", "ops"};
static const char *const agent_texts[] = {
    "cpus:4;mem:1024;ports:[31000-31009]", "cpus:2;mem:512;gpus:1",
    "cpus(ops):2;mem(ops):256;cpus:1;mem:256", "cpus(eng):1;mem(eng):128;disk:100"};

static void run(uint64_t seed, int steps) {
  rng_state = seed;
  fake_master m;
  fm_init(&m, NULL);
  mesos_error *err = NULL;
  int nagent_ids = 0, nfw_ids = 0;
  for (int step = 0; step < steps; step++) {
    char id[32];
    switch (rnd(12)) {
      case 0: /* add a framework */
        snprintf(id, sizeof id, "f%d", nfw_ids++);
        fm_add_fw_caps(&m, id, role_names[rnd(5)], rnd(2) ? MESOS_ALLOCATOR_CAP_GPU_RESOURCES : 0);
        break;
      case 1: /* add an agent */
        snprintf(id, sizeof id, "a%d", nagent_ids++);
        fm_add_agent(&m, id, agent_texts[rnd(4)]);
        break;
      case 2:
      case 3:
      case 4:
        fm_cycle(&m);
        break;
      case 5:
      case 6: /* decline or give back some offers */
        for (int i = 0; i < m.noffers; i++) {
          if (rnd(2)) continue;
          double refuse = rnd(3) == 0 ? MESOS_ALLOCATOR_REFUSE_FOREVER : rnd(3);
          mesos_status st = mesos_allocator_recover_resources(m.a, m.offers[i].fw,
                                                              m.offers[i].agent, m.offers[i].role,
                                                              m.offers[i].res, refuse, &err);
          /* Already given back, or the framework/agent is gone: both fine. */
          ck_assert(st == MESOS_OK || st == MESOS_EINVAL);
          mesos_error_free(err);
          err = NULL;
        }
        break;
      case 7: /* remove a framework or an agent */
        if (rnd(2) && nfw_ids) {
          snprintf(id, sizeof id, "f%d", (int)rnd((uint32_t)nfw_ids));
          mesos_allocator_remove_framework(m.a, id, NULL);
        } else if (nagent_ids) {
          snprintf(id, sizeof id, "a%d", (int)rnd((uint32_t)nagent_ids));
          mesos_allocator_remove_agent(m.a, id, NULL);
        }
        break;
      case 8: /* suppress / revive */
        if (nfw_ids) {
          snprintf(id, sizeof id, "f%d", (int)rnd((uint32_t)nfw_ids));
          if (rnd(2)) mesos_allocator_suppress(m.a, id, NULL, NULL);
          else mesos_allocator_revive(m.a, id, NULL, NULL);
        }
        break;
      case 9: { /* weights and quota */
        const char *r = role_names[1 + rnd(4)];
        double w = 1 + rnd(4);
        mesos_allocator_update_weights(m.a, &r, &w, 1, NULL);
        if (rnd(2)) mesos_allocator_set_quota(m.a, r, fm_res(&m, rnd(2) ? "cpus:3" : "cpus:1;mem:100"), NULL);
        else mesos_allocator_remove_quota(m.a, r, NULL);
        break;
      }
      case 10: /* time passes, agents come and go */
        m.now_ns += rnd(3) * 1000000000ull;
        if (nagent_ids) {
          snprintf(id, sizeof id, "a%d", (int)rnd((uint32_t)nagent_ids));
          if (rnd(2)) mesos_allocator_deactivate_agent(m.a, id, NULL);
          else mesos_allocator_activate_agent(m.a, id, NULL);
        }
        break;
      case 11: /* operator reserves on available resources */
        if (nagent_ids) {
          snprintf(id, sizeof id, "a%d", (int)rnd((uint32_t)nagent_ids));
          mesos_allocator_conversion c = {fm_res(&m, "mem:64"), fm_res(&m, "mem(ops):64")};
          mesos_status st = mesos_allocator_update_available(m.a, id, &c, 1, &err);
          ck_assert(st == MESOS_OK || st == MESOS_EINVAL || st == MESOS_ENOTFOUND);
          mesos_error_free(err);
          err = NULL;
        }
        break;
    }
    if (m.nowned > FM_MAX - 8) { /* keep the fake master's table small */
      for (int i = 0; i < m.nowned; i++) mesos_resources_free(m.owned[i]);
      m.nowned = 0;
    }
    check_books(&m);
  }
  fm_fini(&m);
}

START_TEST(test_invariants__random_call_sequences_keep_the_books_balanced) {
  for (uint64_t seed = 1; seed <= 12; seed++) run(seed, 300);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("allocator/invariants");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_invariants__random_call_sequences_keep_the_books_balanced);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
