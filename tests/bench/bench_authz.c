/*
 * Authorization benchmarks (issue 8):
 *
 *  authz-checks: the local authorizer with 1,000 run_tasks rules (one per
 *    principal p0..p999, each naming one of 50 users, with an ANY-subject
 *    rule every 100 rules and permissive false) answers 1,000,000 requests
 *    through the public mesos_authorizer_authorized() for principals
 *    p0..p1199 (200 of them named by no rule) and users u0..u59, in a
 *    fixed pseudo-random order.  Baseline, same process: the same number
 *    of plain hash lookups of the principal in a map of the 1,000
 *    principals -- the floor of any per-principal rule index.
 *
 *  authz-filtered-getstate: 100,000 tasks (1,000 frameworks of 100 tasks)
 *    rendered to JSON as GET_STATE renders them (mesos.v1.Task through the
 *    JSON codec), once unfiltered and once filtered for one principal
 *    under 1,000 view_tasks / view_frameworks rules through approvers
 *    (one approver per action per request, one approval per object).
 *    This one is `authz-filtered-codec`; `authz-filtered-getstate` below
 *    runs the master's own /state renderer.
 *
 *  authz-filtered-getstate: an in-process master (local authorizer, 1,000
 *    view_frameworks and 1,000 view_tasks rules) holding 1,000 frameworks
 *    with 100 tasks each; /state rendered for a principal that may view
 *    everything (an ANY rule at the end; every decision is made and every
 *    task rendered) versus rendered with no authorization at all, best of
 *    9 interleaved runs each.  Target: within 1.2x.  Such a principal's
 *    approvers know at creation that no task changes their answer
 *    (mesos__acls_bind_precompute), so no task's user is even read.
 *
 *  authz-filtered-getstate-varying: the same with a principal whose
 *    answer depends on each framework's user (rules naming 25 of the 50
 *    users, then ANY): every task is decided on its user, half are shown.
 *
 * --quick runs tiny sizes so the test suite can prove the program works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/map.h"
#include "codec/json.h"
#include "master/master_auth.h"
#include "master/master_int.h"
#include "master/operator_int.h"
#include "mesos/mesos.h"
#include "mesos/v1/mesos.pb-c.h"

static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;
static int quick_run; /* --quick */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, mesos_status st, mesos_error *err) {
  fprintf(stderr, "bench_authz: %s: %s: %s\n", what, mesos_status_name(st),
          err ? mesos_error_message(err) : "");
  exit(1);
}

static char *rules_json(const char *key, const char *objfield, size_t nrules, int nusers) {
  size_t cap = nrules * 128 + 128, o = 0;
  char *j = malloc(cap);
  if (!j) exit(1);
  o += (size_t)snprintf(j + o, cap - o, "{\"permissive\": false, \"%s\": [", key);
  for (size_t i = 0; i < nrules; i++) {
    if (i % 100 == 99)
      o += (size_t)snprintf(j + o, cap - o,
                            "%s{\"principals\": {\"type\": \"ANY\"}, \"%s\": {\"values\": "
                            "[\"u%d\"]}}", i ? "," : "", objfield, (int)(i % (size_t)nusers));
    else
      o += (size_t)snprintf(j + o, cap - o,
                            "%s{\"principals\": {\"values\": [\"p%zu\"]}, \"%s\": {\"values\": "
                            "[\"u%d\"]}}", i ? "," : "", i, objfield, (int)(i % (size_t)nusers));
  }
  snprintf(j + o, cap - o, "]}");
  return j;
}

static void count_answer(mesos_status st, int allowed, void *ud) {
  if (st == MESOS_OK && allowed) ++*(size_t *)ud;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
  rng = rng * 1103515245u + 12345u;
  return rng >> 8;
}

static void bench_checks(size_t nrules, size_t nchecks) {
  char *json = rules_json("run_tasks", "users", nrules, 50);
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_local_authorizer_new(&az, json, &err);
  if (st != MESOS_OK) die("local authorizer", st, err);
  free(json);

  /* Requests prepared up front so only the decisions are timed. */
  size_t nprin = nrules + nrules / 5;
  char (*prin)[24] = malloc(nprin * sizeof *prin);
  char users[60][16];
  for (size_t i = 0; i < nprin; i++) snprintf(prin[i], sizeof prin[i], "p%zu", i);
  for (int i = 0; i < 60; i++) snprintf(users[i], sizeof users[i], "u%d", i);
  uint32_t *pick = malloc(nchecks * sizeof *pick);
  for (size_t i = 0; i < nchecks; i++) pick[i] = next_rand();

  mesos_authz_object obj = MESOS_AUTHZ_OBJECT_INIT;
  mesos_authz_request req = MESOS_AUTHZ_REQUEST_INIT;
  req.action = MESOS_AUTHZ_RUN_TASK;
  req.object = &obj;
  size_t allowed = 0;
  double t0 = now_ms();
  for (size_t i = 0; i < nchecks; i++) {
    req.subject = prin[pick[i] % nprin];
    obj.value = users[(pick[i] >> 12) % 60];
    mesos_authorizer_authorized(az, &req, count_answer, &allowed);
  }
  double t_checks = now_ms() - t0;

  mesos__map m;
  mesos__map_init(&m);
  for (size_t i = 0; i < nrules; i++) mesos__map_put(&m, prin[i], prin[i]);
  size_t hits = 0;
  t0 = now_ms();
  for (size_t i = 0; i < nchecks; i++) {
    const char *key = prin[pick[i] % nprin];
    const char *u = users[(pick[i] >> 12) % 60];
    hits += mesos__map_get(&m, key) != NULL && u[0] == 'u';
  }
  double t_base = now_ms() - t0;
  mesos__map_free(&m);

  double rate = t_checks > 0 ? nchecks / (t_checks / 1e3) : 0;
  double base = t_base > 0 ? nchecks / (t_base / 1e3) : 0;
  printf("# authz-checks: %zu rules, %zu checks, %zu allowed (%zu known principals looked up)\n",
         nrules, nchecks, allowed, hits);
  printf("bench: authz-checks %.0f checks/s baseline map-lookups %.0f lookups/s ratio %.2f\n",
         rate, base, base > 0 ? rate / base : 0);
  mesos_authorizer_free(az);
  free(prin);
  free(pick);
}

static void got_approver(mesos_status st, mesos_authz_approver *ap, void *ud) {
  if (st != MESOS_OK) die("approver", st, NULL);
  *(mesos_authz_approver **)ud = ap;
}

static void bench_getstate(size_t nframeworks, size_t per_fw, size_t nrules) {
  size_t ntasks = nframeworks * per_fw;
  Mesos__V1__Task *tasks = calloc(ntasks, sizeof *tasks);
  Mesos__V1__TaskID *tids = calloc(ntasks, sizeof *tids);
  Mesos__V1__FrameworkID *fids = calloc(nframeworks, sizeof *fids);
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = "0a1b2c3d-agent-S0";
  char (*names)[48] = malloc(ntasks * sizeof *names);
  char (*fidv)[48] = malloc(nframeworks * sizeof *fidv);
  char (*fuser)[24] = malloc(nframeworks * sizeof *fuser);
  for (size_t f = 0; f < nframeworks; f++) {
    mesos__v1__framework_id__init(&fids[f]);
    snprintf(fidv[f], sizeof fidv[f], "6f1d-framework-%04zu", f);
    snprintf(fuser[f], sizeof fuser[f], "u%zu", f % 50);
    fids[f].value = fidv[f];
  }
  for (size_t i = 0; i < ntasks; i++) {
    mesos__v1__task__init(&tasks[i]);
    mesos__v1__task_id__init(&tids[i]);
    snprintf(names[i], sizeof names[i], "task-%zu", i);
    tids[i].value = names[i];
    tasks[i].name = names[i];
    tasks[i].task_id = &tids[i];
    tasks[i].framework_id = &fids[i / per_fw];
    tasks[i].agent_id = &aid;
    tasks[i].state = MESOS__V1__TASK_STATE__TASK_RUNNING;
    tasks[i].user = fuser[i / per_fw];
  }

  /* ACLs with 1,000 view_tasks and 1,000 view_frameworks rules. */
  char *vt = rules_json("view_tasks", "users", nrules, 50);
  char *vf = rules_json("view_frameworks", "users", nrules, 50);
  size_t cap = strlen(vt) + strlen(vf) + 64;
  char *json = malloc(cap);
  /* Merge the two documents: drop vt's closing brace and vf's permissive. */
  vt[strlen(vt) - 1] = '\0';
  snprintf(json, cap, "%s, %s", vt, strstr(vf, "\"view_frameworks\""));
  free(vt);
  free(vf);
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_local_authorizer_new(&az, json, &err);
  if (st != MESOS_OK) die("local authorizer (getstate)", st, err);
  free(json);

  mesos__buf out;
  mesos__buf_init(&out, (size_t)1 << 30);
  double best_plain = 1e30, best_filtered = 1e30;
  size_t shown = 0;
  for (int rep = 0; rep < 3; rep++) {
    mesos__buf_clear(&out);
    double t0 = now_ms();
    for (size_t i = 0; i < ntasks; i++) {
      if (mesos__json_encode(&tasks[i].base, &out, NULL) != MESOS_OK) die("encode", -1, NULL);
      mesos__buf_putc(&out, ',');
    }
    double t = now_ms() - t0;
    if (t < best_plain) best_plain = t;

    mesos__buf_clear(&out);
    shown = 0;
    t0 = now_ms();
    mesos_authz_approver *vtask = NULL, *vfw = NULL;
    mesos_authorizer_approver(az, "p7", MESOS_AUTHZ_VIEW_TASK, got_approver, &vtask);
    mesos_authorizer_approver(az, "p7", MESOS_AUTHZ_VIEW_FRAMEWORK, got_approver, &vfw);
    mesos_authz_object o = MESOS_AUTHZ_OBJECT_INIT;
    for (size_t f = 0; f < nframeworks; f++) {
      o.value = fuser[f];
      if (!mesos_authz_approver_approved(vfw, &o)) continue;
      for (size_t i = f * per_fw; i < (f + 1) * per_fw; i++) {
        o.value = tasks[i].user;
        if (!mesos_authz_approver_approved(vtask, &o)) continue;
        if (mesos__json_encode(&tasks[i].base, &out, NULL) != MESOS_OK) die("encode", -1, NULL);
        mesos__buf_putc(&out, ',');
        shown++;
      }
    }
    mesos_authz_approver_free(vtask);
    mesos_authz_approver_free(vfw);
    t = now_ms() - t0;
    if (t < best_filtered) best_filtered = t;
  }
  /* The principal sees little; what it costs to decide for every task is
   * the point, so also time the decisions alone for a principal that may
   * see everything (worst case: every task rendered and checked). */
  printf("# authz-filtered-codec: %zu tasks, %zu shown to p7\n", ntasks, shown);
  printf("bench: authz-filtered-codec %.2f ms baseline unfiltered-codec %.2f ms ratio %.2f\n",
         best_filtered, best_plain, best_plain > 0 ? best_filtered / best_plain : 0);

  /* Worst case: a principal under an ANY rule that sees every task. */
  double best_all = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    mesos__buf_clear(&out);
    double t0 = now_ms();
    mesos_authz_approver *vtask = NULL, *vfw = NULL;
    mesos_authorizer_approver(az, NULL, MESOS_AUTHZ_VIEW_TASK, got_approver, &vtask);
    mesos_authorizer_approver(az, NULL, MESOS_AUTHZ_VIEW_FRAMEWORK, got_approver, &vfw);
    mesos_authz_object o = MESOS_AUTHZ_OBJECT_INIT;
    for (size_t f = 0; f < nframeworks; f++) {
      o.value = fuser[f];
      (void)mesos_authz_approver_approved(vfw, &o);
      for (size_t i = f * per_fw; i < (f + 1) * per_fw; i++) {
        o.value = tasks[i].user;
        (void)mesos_authz_approver_approved(vtask, &o);
        if (mesos__json_encode(&tasks[i].base, &out, NULL) != MESOS_OK) die("encode", -1, NULL);
        mesos__buf_putc(&out, ',');
      }
    }
    mesos_authz_approver_free(vtask);
    mesos_authz_approver_free(vfw);
    double t = now_ms() - t0;
    if (t < best_all) best_all = t;
  }
  printf("bench: authz-filtered-codec-all %.2f ms baseline unfiltered-codec %.2f ms ratio %.2f\n",
         best_all, best_plain, best_plain > 0 ? best_all / best_plain : 0);
  mesos__buf_free(&out);
  mesos_authorizer_free(az);
  free(tasks);
  free(tids);
  free(fids);
  free(names);
  free(fidv);
  free(fuser);
}

static void bench_master_state(size_t nframeworks, size_t per_fw, size_t nrules) {
  /* ACLs: per-principal rules, then "ops may view anything". */
  char *vt = rules_json("view_tasks", "users", nrules, 50);
  char *vf = rules_json("view_frameworks", "users", nrules, 50);
  size_t cap = strlen(vt) + strlen(vf) + 512;
  char *json = malloc(cap);
  vt[strlen(vt) - 2] = '\0'; /* drop "]}" */
  vf[strlen(vf) - 2] = '\0';
  /* dev may view exactly the 50 users the frameworks run as: it sees
   * everything too, but only by deciding on each user. */
  char dev[1024];
  size_t dl = (size_t)snprintf(dev, sizeof dev,
                               "{\"principals\": {\"values\": [\"dev\"]}, \"users\": {\"values\": [");
  for (int u = 0; u < 50; u++)
    dl += (size_t)snprintf(dev + dl, sizeof dev - dl, "%s\"u%d\"", u ? "," : "", u);
  snprintf(dev + dl, sizeof dev - dl,
           "]}}, {\"principals\": {\"values\": [\"dev\"]}, \"users\": {\"type\": \"NONE\"}}");
  cap += 2 * sizeof dev;
  json = realloc(json, cap);
  snprintf(json, cap,
           "%s, %s, {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}}], "
           "%s, %s, {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}}]}",
           vt, dev, strstr(vf, "\"view_frameworks\""), dev);
  free(vt);
  free(vf);
  char dir[] = "/tmp/bench-authz-XXXXXX";
  if (!mkdtemp(dir)) die("mkdtemp", MESOS_EIO, NULL);
  size_t alen = strlen(json) + 16;
  char *acls_arg = malloc(alen), wd_arg[64];
  snprintf(acls_arg, alen, "--acls=%s", json);
  free(json);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", dir);
  char *argv[] = {"bench", "--ip=127.0.0.1", "--port=0", wd_arg, acls_arg, NULL};
  mesos_loop *loop = NULL;
  mesos_master_flags *flags = NULL;
  mesos_master *m = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_loop_new(&loop, NULL, &err);
  if (st == MESOS_OK) st = mesos_master_flags_parse(&flags, 5, argv, NULL, &err);
  if (st == MESOS_OK) st = mesos_master_new(&m, loop, NULL, flags, &err);
  if (st != MESOS_OK) die("master", st, err);
  free(acls_arg);

  /* An agent record the tasks point at (never registered, never shown). */
  mesos__agent *a = MESOS__NEW(mesos__agent);
  a->master = m;
  a->id = mesos__strdup("bench-agent-S0");
  mesos__map_init(&a->tasks);
  mesos__map_init(&a->executors);
  mesos_resources *res = NULL;
  mesos_resources_new(&res, NULL);
  mesos_resources_parse(res, "cpus:0.1;mem:32", NULL, NULL);
  for (size_t f = 0; f < nframeworks; f++) {
    char id[64], user[24];
    snprintf(id, sizeof id, "%s-%04zu", m->id, f);
    snprintf(user, sizeof user, "u%zu", f % 50);
    Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
    fi.user = user;
    fi.name = "bench framework";
    mesos__framework *fw = NULL;
    if ((st = mesos__framework_new(&fw, m, id, &fi)) != MESOS_OK) die("framework", st, NULL);
    for (size_t i = 0; i < per_fw; i++) {
      char tid[48];
      snprintf(tid, sizeof tid, "task-%zu-%zu", f, i);
      Mesos__V1__TaskID t_id = MESOS__V1__TASK_ID__INIT;
      t_id.value = tid;
      Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
      ti.name = "t";
      ti.task_id = &t_id;
      mesos__task *t = NULL;
      if ((st = mesos__task_new(&t, fw, a, &ti, "*", res)) != MESOS_OK) die("task", st, NULL);
    }
  }
  mesos__buf out;
  mesos__buf_init(&out, (size_t)1 << 31);
  double best_plain = 1e30, best_filtered = 1e30, best_varying = 1e30;
  size_t len_plain = 0, len_filtered = 0, len_varying = 0;
  /* Best of 9 each, the two kinds interleaved and their order swapped
   * every round, so that load on a shared machine and cache warmth fall
   * on both alike (the difference measured is a few per cent). */
  for (int rep = 0; rep < (quick_run ? 2 : 9); rep++) {
    for (int k = 0; k < 3; k++) {
      int kind = (k + rep) % 3; /* 0 plain, 1 ops, 2 dev */
      mesos__buf_clear(&out);
      double t0 = now_ms();
      mesos__auth_view v;
      if (kind) {
        mesos__auth_view_init(&v, m->auth, kind == 1 ? "ops" : "dev");
        m->view = &v;
      }
      if (mesos__state_json(m, &out) != MESOS_OK) die("state", -1, NULL);
      if (kind) {
        m->view = NULL;
        mesos__auth_view_free(&v);
      }
      double t = now_ms() - t0;
      double *best = kind == 0 ? &best_plain : kind == 1 ? &best_filtered : &best_varying;
      size_t *len = kind == 0 ? &len_plain : kind == 1 ? &len_filtered : &len_varying;
      if (t < *best) *best = t;
      *len = out.len;
    }
  }
  printf("# authz-filtered-getstate: %zu tasks, /state %zu bytes unfiltered, %zu filtered\n",
         nframeworks * per_fw, len_plain, len_filtered);
  if (len_filtered + 64 < len_plain || len_filtered > len_plain + 64) die("filtered /state differs for a principal that sees all", -1,
                                     NULL);
  printf("bench: authz-filtered-getstate %.2f ms baseline unfiltered-getstate %.2f ms ratio %.2f\n",
         best_filtered, best_plain, best_plain > 0 ? best_filtered / best_plain : 0);
  /* The byte count differs only by the timestamps' digits. */
  if (len_varying + 64 < len_plain || len_varying > len_plain + 64)
    die("dev does not see every task", -1, NULL);
  printf("bench: authz-filtered-getstate-varying %.2f ms baseline unfiltered-getstate %.2f ms "
         "ratio %.2f\n",
         best_varying, best_plain, best_plain > 0 ? best_varying / best_plain : 0);
  mesos__buf_free(&out);
  mesos_master_free(m);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos__map_free(&a->tasks);
  mesos__map_free(&a->executors);
  mesos__free(a->id);
  mesos__free(a);
  mesos_resources_free(res);
  mesos_master_flags_free(flags);
  mesos_loop_free(loop);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_authz: could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  if (argc > 2 || (argc == 2 && !quick)) {
    fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
    return 2;
  }
  if (getenv("MESOS_BENCH_WALL")) bench_clock = CLOCK_MONOTONIC;
  mesos_log_set_level(MESOS_LOG_ERROR);
  quick_run = quick;
  if (quick) {
    bench_checks(100, 10000);
    bench_getstate(10, 10, 100);
    bench_master_state(10, 10, 100);
  } else {
    bench_checks(1000, 1000000);
    bench_getstate(1000, 100, 1000);
    bench_master_state(1000, 100, 1000);
  }
  return 0;
}
