/*
 * Allocator benchmarks, after Mesos's own (src/tests/
 * hierarchical_allocator_tests.cpp DeclineOffers and
 * hierarchical_allocator_benchmarks.cpp LargeAndSmallQuota):
 *
 *  allocator-decline-AxF: A agents (cpus:24;mem:4096;disk:4096;
 *    ports:[31000-32000]), F frameworks all in role "*", each agent with
 *    cpus:16;mem:2014;disk:1024 and 16 ports already used by framework
 *    i % F.  Every offer is declined with a refuse filter that never
 *    expires; the median cycle after the first is reported.  Mesos's best
 *    published figure: 1.06 s (10k x 1k), about 3.8 s (20k x 2k).
 *  allocator-quota-3k: 3,000 agents (cpus:2;mem:2048;disk:2048), 2,500
 *    roles with quota cpus:1;mem:1024;disk:1024 and 500 with
 *    cpus:4;mem:4096;disk:4096, one framework per role; the one cycle that
 *    hands the cluster out is timed.  Mesos: 15.4 s.
 *
 * Baseline, run in the same process: one plain pass over every agent x
 * framework (or role) pair doing nothing but touching the pair -- the cost
 * floor of any allocator that looks at every pair once per cycle.
 *
 * A cycle's time includes the offer callback, which clones each offer as a
 * master would.  Declining (recover_resources) happens between cycles and
 * is reported separately on a "#" line.
 *
 * --quick runs tiny sizes so the test suite can prove the program works.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesos/mesos.h"
#include "mesos/sys/allocator.h"

/* Times are this thread's CPU time, not wall time: the benchmark often
 * shares a small machine with other work, and CPU time is what a cycle
 * costs.  MESOS_BENCH_WALL=1 switches to the monotonic wall clock. */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, mesos_status st, mesos_error *err) {
  fprintf(stderr, "bench_allocator: %s: %s: %s\n", what, mesos_status_name(st),
          err ? mesos_error_message(err) : "");
  exit(1);
}

#define CHECK(expr)                                   \
  do {                                                \
    mesos_error *e_ = NULL;                           \
    mesos_status s_ = (expr);                         \
    if (s_ != MESOS_OK) die(#expr, s_, e_);           \
  } while (0)
#define CHECKE(expr)                                  \
  do {                                                \
    mesos_status s_ = (expr);                         \
    if (s_ != MESOS_OK) die(#expr, s_, err);          \
  } while (0)

typedef struct offer {
  char fw[32], agent[32], role[64];
  mesos_resources *res;
} offer;

typedef struct recorder {
  offer *v;
  size_t n, cap;
} recorder;

static void record(const char *fw, const char *role, const char *agent,
                   const mesos_resources *res, void *ud) {
  recorder *r = ud;
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 1024;
    r->v = realloc(r->v, r->cap * sizeof *r->v);
    if (r->v == NULL) abort();
  }
  offer *o = &r->v[r->n++];
  snprintf(o->fw, sizeof o->fw, "%s", fw);
  snprintf(o->agent, sizeof o->agent, "%s", agent);
  snprintf(o->role, sizeof o->role, "%s", role);
  if (mesos_resources_clone(&o->res, res, NULL) != MESOS_OK) abort();
}

/* What the callback's cloning costs, measured apart (timing each call
 * would cost more than the clone on some clocks). */
static double clone_ms(const recorder *r) {
  double t0 = now_ms();
  for (size_t i = 0; i < r->n; i++) {
    mesos_resources *c = NULL;
    if (mesos_resources_clone(&c, r->v[i].res, NULL) != MESOS_OK) abort();
    mesos_resources_free(c);
  }
  return now_ms() - t0;
}

static void recorder_clear(recorder *r) {
  for (size_t i = 0; i < r->n; i++) mesos_resources_free(r->v[i].res);
  r->n = 0;
}

static int dbl_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, dbl_cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The cost floor: touch every (agent, framework) pair once. */
static double pair_pass_ms(size_t agents, size_t fws) {
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now_ms();
    size_t acc = 0;
    for (size_t a = 0; a < agents; a++)
      for (size_t f = 0; f < fws; f++) {
        acc += a ^ f;
        __asm__ volatile("" : "+r"(acc));
      }
    double t = now_ms() - t0;
    if (t < best) best = t;
  }
  return best;
}

static void decline_bench(const char *name, size_t nagents, size_t nfws, int rounds,
                          double mesos_ms) {
  mesos_error *err = NULL;
  mesos_allocator *a = NULL;
  recorder rec = {0};
  CHECKE(mesos_hierarchical_allocator_new(&a, NULL, &err));
  CHECKE(mesos_allocator_initialize(a, record, NULL, &rec, &err));

  char id[32];
  const char *roles[] = {"*"};
  char (*fwids)[32] = calloc(nfws, sizeof *fwids);
  for (size_t i = 0; i < nfws; i++) {
    snprintf(fwids[i], sizeof fwids[i], "fw-%zu", i);
    mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
    fw.id = fwids[i];
    fw.roles = roles;
    fw.nroles = 1;
    CHECKE(mesos_allocator_add_framework(a, &fw, 1, &err));
  }
  mesos_resources *total = NULL, *used = NULL;
  CHECK(mesos_resources_new(&total, NULL));
  CHECK(mesos_resources_parse(total, "cpus:24;mem:4096;disk:4096;ports:[31000-32000]", NULL, NULL));
  CHECK(mesos_resources_new(&used, NULL));
  /* 16 tasks: 16 cpus and 16 non-adjacent ports, as Mesos's fragment(). */
  char usedtxt[512] = "cpus:16;mem:2014;disk:1024;ports:[";
  for (int p = 0; p < 16; p++) {
    char one[32];
    snprintf(one, sizeof one, "%s%d-%d", p ? "," : "", 31000 + 2 * p, 31000 + 2 * p);
    strncat(usedtxt, one, sizeof usedtxt - strlen(usedtxt) - 1);
  }
  strncat(usedtxt, "]", sizeof usedtxt - strlen(usedtxt) - 1);
  CHECK(mesos_resources_parse(used, usedtxt, NULL, NULL));

  double t0 = now_ms();
  for (size_t i = 0; i < nagents; i++) {
    snprintf(id, sizeof id, "agent-%zu", i);
    mesos_allocator_allocation u = {fwids[i % nfws], NULL, "*", used};
    mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
    ag.id = id;
    ag.total = total;
    ag.used = &u;
    ag.nused = 1;
    CHECKE(mesos_allocator_add_agent(a, &ag, &err));
  }
  double setup = now_ms() - t0;

  double *cycles = calloc((size_t)rounds, sizeof *cycles);
  double decline_total = 0, cb_total = 0;
  size_t offers_total = 0;
  for (int r = 0; r < rounds; r++) {
    double d0 = now_ms();
    for (size_t i = 0; i < rec.n; i++)
      CHECKE(mesos_allocator_recover_resources(a, rec.v[i].fw, rec.v[i].agent, rec.v[i].role,
                                               rec.v[i].res, MESOS_ALLOCATOR_REFUSE_FOREVER,
                                               &err));
    if (r > 0) decline_total += now_ms() - d0;
    recorder_clear(&rec);
    double c0 = now_ms();
    CHECKE(mesos_allocator_allocate(a, &err));
    cycles[r] = now_ms() - c0;
    if (r > 0) offers_total += rec.n, cb_total += clone_ms(&rec);
    if (rec.n != nagents) {
      fprintf(stderr, "bench_allocator: %s round %d made %zu offers, expected %zu\n", name, r,
              rec.n, nagents);
      exit(1);
    }
  }
  double med = median(cycles + 1, rounds - 1);
  double base = pair_pass_ms(nagents, nfws);
  printf("# %s: setup %.1f ms, first cycle %.1f ms, %zu offers per cycle of which the "
         "callback cloning each offer takes about %.1f ms, decline %.1f ms per round (%d timed "
         "cycles; Mesos: %.0f ms per cycle)\n",
         name, setup, cycles[0], offers_total / (size_t)(rounds - 1), cb_total / (rounds - 1),
         decline_total / (rounds - 1), rounds - 1, mesos_ms);
  printf("bench: %s %.2f ms baseline pair-pass-%zux%zu %.2f ms ratio %.2f\n", name, med, nagents,
         nfws, base, med / base);
  fflush(stdout);
  recorder_clear(&rec);
  free(rec.v);
  free(cycles);
  free(fwids);
  mesos_resources_free(total);
  mesos_resources_free(used);
  mesos_allocator_free(a);
}

static void quota_bench(const char *name, size_t nsmall, size_t nlarge, double mesos_ms) {
  mesos_error *err = NULL;
  mesos_allocator *a = NULL;
  recorder rec = {0};
  CHECKE(mesos_hierarchical_allocator_new(&a, NULL, &err));
  CHECKE(mesos_allocator_initialize(a, record, NULL, &rec, &err));
  size_t nroles = nsmall + nlarge;
  size_t nagents = nsmall / 5 + nlarge * 5;
  mesos_resources *agent = NULL, *small = NULL, *large = NULL;
  CHECK(mesos_resources_new(&agent, NULL));
  CHECK(mesos_resources_parse(agent, "cpus:2;mem:2048;disk:2048", NULL, NULL));
  CHECK(mesos_resources_new(&small, NULL));
  CHECK(mesos_resources_parse(small, "cpus:1;mem:1024;disk:1024", NULL, NULL));
  CHECK(mesos_resources_new(&large, NULL));
  CHECK(mesos_resources_parse(large, "cpus:4;mem:4096;disk:4096", NULL, NULL));
  char id[64], role[64];
  double t0 = now_ms();
  for (size_t i = 0; i < nroles; i++) {
    bool is_small = i < nsmall;
    snprintf(role, sizeof role, is_small ? "smallQuotaRole%zu" : "largeQuotaRole%zu",
             is_small ? i : i - nsmall);
    snprintf(id, sizeof id, "framework-%zu", i);
    const char *roles[] = {role};
    mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
    fw.id = id;
    fw.roles = roles;
    fw.nroles = 1;
    CHECKE(mesos_allocator_add_framework(a, &fw, 1, &err));
  }
  for (size_t i = 0; i < nagents; i++) {
    snprintf(id, sizeof id, "agent-%zu", i);
    mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
    ag.id = id;
    ag.total = agent;
    CHECKE(mesos_allocator_add_agent(a, &ag, &err));
  }
  for (size_t i = 0; i < nroles; i++) {
    bool is_small = i < nsmall;
    snprintf(role, sizeof role, is_small ? "smallQuotaRole%zu" : "largeQuotaRole%zu",
             is_small ? i : i - nsmall);
    CHECKE(mesos_allocator_set_quota(a, role, is_small ? small : large, &err));
  }
  double setup = now_ms() - t0;
  double c0 = now_ms();
  CHECKE(mesos_allocator_allocate(a, &err));
  double cycle = now_ms() - c0;
  size_t offers = rec.n;
  /* Every quota must be met: sum what each role received. */
  double cpus = 0;
  for (size_t i = 0; i < rec.n; i++) cpus += mesos_resources_scalar(rec.v[i].res, "cpus");
  recorder_clear(&rec);
  double c1 = now_ms();
  CHECKE(mesos_allocator_allocate(a, &err));
  double second = now_ms() - c1;
  if (rec.n != 0 || cpus + 1e-6 < (double)(nsmall * 1 + nlarge * 4)) {
    fprintf(stderr, "bench_allocator: %s: %zu offers with %.1f cpus, then %zu more\n", name,
            offers, cpus, rec.n);
    exit(1);
  }
  double base = pair_pass_ms(nagents, nroles);
  printf("# %s: %zu agents, %zu roles with quota; setup %.1f ms, %zu offers (%.0f cpus) in the "
         "cycle, next cycle %.2f ms (Mesos: %.0f ms per cycle)\n",
         name, nagents, nroles, setup, offers, cpus, second, mesos_ms);
  printf("bench: %s %.2f ms baseline pair-pass-%zux%zu %.2f ms ratio %.2f\n", name, cycle,
         nagents, nroles, base, cycle / base);
  fflush(stdout);
  recorder_clear(&rec);
  free(rec.v);
  mesos_resources_free(agent);
  mesos_resources_free(small);
  mesos_resources_free(large);
  mesos_allocator_free(a);
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const char *wall = getenv("MESOS_BENCH_WALL");
  if (wall && strcmp(wall, "1") == 0) bench_clock = CLOCK_MONOTONIC;
  printf("# bench_allocator: times are %s%s\n",
         bench_clock == CLOCK_MONOTONIC ? "wall clock" : "this thread's CPU time",
         quick ? " (--quick: tiny sizes, the numbers mean nothing)" : "");
  if (argc > 1 && !quick) {
    fprintf(stderr, "usage: bench_allocator [--quick]\n");
    return 2;
  }
  /* MESOS_BENCH_ONLY=<name> runs one benchmark (for perf record). */
  const char *only = getenv("MESOS_BENCH_ONLY");
#define WANT(name) (only == NULL || strcmp(only, name) == 0)
  if (WANT("allocator-decline-10kx1k"))
    decline_bench("allocator-decline-10kx1k", quick ? 200 : 10000, quick ? 20 : 1000,
                  quick ? 4 : 6, 1060);
  if (WANT("allocator-decline-20kx2k"))
    decline_bench("allocator-decline-20kx2k", quick ? 400 : 20000, quick ? 40 : 2000,
                  quick ? 3 : 4, 3800);
  if (WANT("allocator-quota-3k"))
    quota_bench("allocator-quota-3k", quick ? 25 : 2500, quick ? 5 : 500, 15400);
  return 0;
}
