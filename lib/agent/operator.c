/*
 * The agent's operator side: POST /api/v1 (spec/http-api.md 4.2), the
 * classic endpoints (/state, /flags, /metrics/snapshot, /monitor/statistics,
 * /containers) and the files service over the agent's sandboxes (the /files/
 * endpoints, LIST_FILES, READ_FILE).
 *
 * What the answers are made of: the agent's live tasks (a->tasks; a task
 * leaves the map once its terminal update is acknowledged and its process
 * is gone, so "terminated" tasks are the ones still waiting for that and
 * there are no completed ones yet), its frameworks (a->frameworks), its
 * AgentInfo and flags.  Executors are shown as Mesos shows command
 * executors: one per task, the executor id being the task id, the
 * container id the task's.  Resource statistics come from /proc (CPU times
 * and RSS of the executor's session) until the containerizer supplies
 * cgroup figures.
 *
 * Sandboxes are never attached one by one: a files resolver maps
 * /frameworks/<f>/executors/<e>/runs/<latest|container> and the sandbox's
 * real path under <work_dir>/slaves/ on demand, so a sandbox stays
 * browsable after its task is gone, as in Mesos until garbage collection.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent/agent_auth.h"
#include "agent/agent_int.h"
#include "agent/volumes.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "codec/json.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "files/files.h"
#include "http/query.h"
#include "http/call.h"
#include "mesos/log.h"
#include "mesos/v1/agent.pb-c.h"
#include "mesos/version.h"
#include "registry/agent_paths.h"
#include "resources/resources.h"

/* Largest operator answer: GET_STATE of MESOS__AGENT_MAX_TASKS tasks with
 * their resources is a few MiB; 64 MiB leaves room for big labels. */
#define ANSWER_MAX ((size_t)64 << 20)

/* glog verbosity levels an operator may ask for: 0 is INFO, 1 DEBUG and
 * anything above TRACE (our most verbose level). */
#define MAX_VERBOSITY 2u

/* Completed tasks kept for GET_TASKS, GET_EXECUTORS, /state and the
 * sandbox path "runs/latest": the newest 1000, oldest dropped first.
 * Mesos keeps up to 150 completed executors per framework with 200 tasks
 * each; one bound for the whole agent keeps the memory (a TaskInfo and a
 * few ids each, ~1 KiB) predictable whatever the frameworks do. */
#define MAX_COMPLETED 1000u

struct mesos__agent_operator {
  mesos_agent *a;
  mesos__files *files;
  double start_time;
  mesos_timer *log_revert;   /* SET_LOGGING_LEVEL's duration */
  mesos_log_level base_level; /* the level to go back to */
  int reverting;              /* log_revert is pending */
  /* Ring of completed tasks: copies made by us (see task_done), in
   * completion order from `done_head`. */
  mesos__agent_task *done[MAX_COMPLETED];
  size_t done_head, done_count;
  /* Terminal states of tasks no longer tracked, since start-up, by
   * TaskState (Mesos's cumulative slave/tasks_* counters). */
  uint64_t terminal[16];
  uint64_t completed_total;
};

static mesos__agent_task *completed_at(const mesos__agent_operator *op, size_t i) {
  return op->done[(op->done_head + i) % MAX_COMPLETED];
}

static void completed_free(mesos__agent_task *c) {
  if (c == NULL) return;
  mesos__pb_free(c->info);
  mesos__free(c->key);
  mesos__free(c->framework_id);
  mesos__free(c->task_id);
  mesos__free(c->executor_id);
  mesos__free(c->container_id);
  mesos__free(c->sandbox);
  mesos__free(c);
}

/* A copy of what the answers show of a task (never its process state). */
static mesos__agent_task *completed_copy(mesos_agent *a, const mesos__agent_task *t) {
  mesos__agent_task *c = MESOS__NEW(mesos__agent_task);
  if (c == NULL) return NULL;
  c->agent = a;
  c->state = t->state;
  c->key = mesos__strdup(t->key ? t->key : "");
  c->framework_id = mesos__strdup(t->framework_id ? t->framework_id : "");
  c->task_id = mesos__strdup(t->task_id ? t->task_id : "");
  c->executor_id = mesos__strdup(t->executor_id ? t->executor_id : "");
  c->container_id = t->container_id ? mesos__strdup(t->container_id) : NULL;
  c->sandbox = t->sandbox ? mesos__strdup(t->sandbox) : NULL;
  int bad = !c->key || !c->framework_id || !c->task_id || !c->executor_id ||
            (t->container_id && !c->container_id) || (t->sandbox && !c->sandbox);
  if (!bad && t->info) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    ProtobufCMessage *copy = NULL;
    bad = mesos__pb_pack(&t->info->base, 0, &bytes, &len, NULL) != MESOS_OK ||
          mesos__pb_unpack(&mesos__v1__task_info__descriptor, bytes, len, 0, 0, &copy, NULL) !=
              MESOS_OK;
    mesos__free(bytes);
    c->info = (Mesos__V1__TaskInfo *)copy;
  }
  if (bad) {
    completed_free(c);
    return NULL;
  }
  return c;
}

void mesos__agent_operator_task_done(mesos_agent *a, const mesos__agent_task *t) {
  mesos__agent_operator *op = a ? a->op : NULL;
  if (op == NULL || t == NULL) return;
  if ((unsigned)t->state < 16) op->terminal[t->state]++;
  op->completed_total++;
  mesos__agent_task *c = completed_copy(a, t);
  if (c == NULL) {
    LOG_WARN("task %s: out of memory keeping it as completed", t->key ? t->key : "");
    return;
  }
  if (op->done_count == MAX_COMPLETED) {
    completed_free(op->done[op->done_head]);
    op->done[op->done_head] = c;
    op->done_head = (op->done_head + 1) % MAX_COMPLETED;
  } else {
    op->done[(op->done_head + op->done_count++) % MAX_COMPLETED] = c;
  }
}

/* ------------------------------------------------------------ scratch */

/* Response messages are assembled from many small pieces that point at
 * the agent's own data; the pieces are collected here and freed together. */
typedef struct scratch {
  void **p;
  size_t n, cap;
  int failed;
} scratch;

static void *sc_alloc(scratch *s, size_t size) {
  if (s->failed) return NULL;
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 64, bytes;
    void **g = NULL;
    if (mesos__size_mul(&bytes, ncap, sizeof *g)) g = mesos__realloc(s->p, bytes);
    if (g == NULL) {
      s->failed = 1;
      return NULL;
    }
    s->p = g;
    s->cap = ncap;
  }
  void *m = mesos__calloc(1, size ? size : 1);
  if (m == NULL) {
    s->failed = 1;
    return NULL;
  }
  s->p[s->n++] = m;
  return m;
}

/* Makes `p` (from mesos__malloc) one of the pieces freed with the rest. */
static int sc_adopt(scratch *s, void *p) {
  void **slot = sc_alloc(s, 1);
  if (slot == NULL) return -1;
  mesos__free(s->p[s->n - 1]);
  s->p[s->n - 1] = p;
  return 0;
}

static char *sc_strdup(scratch *s, const char *str) {
  size_t n = strlen(str) + 1;
  char *c = sc_alloc(s, n);
  if (c) memcpy(c, str, n);
  return c;
}

static void sc_free(scratch *s) {
  for (size_t i = 0; i < s->n; i++) mesos__free(s->p[i]);
  mesos__free(s->p);
}

#define SC_NEW(s, type, init) \
  ({ type *m_ = sc_alloc((s), sizeof(type)); if (m_) init(m_); m_; })

/* ------------------------------------------------------------ helpers */

static double now_secs(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int state_terminal(Mesos__V1__TaskState s) {
  switch (s) {
    case MESOS__V1__TASK_STATE__TASK_FINISHED:
    case MESOS__V1__TASK_STATE__TASK_FAILED:
    case MESOS__V1__TASK_STATE__TASK_KILLED:
    case MESOS__V1__TASK_STATE__TASK_LOST:
    case MESOS__V1__TASK_STATE__TASK_ERROR:
    case MESOS__V1__TASK_STATE__TASK_DROPPED:
    case MESOS__V1__TASK_STATE__TASK_GONE:
    case MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR:
      return 1;
    default:
      return 0;
  }
}

/* Sum of the scalar resource `name` in `r`. */
static double scalar_sum(Mesos__V1__Resource *const *r, size_t n, const char *name) {
  double v = 0;
  for (size_t i = 0; i < n; i++)
    if (r[i]->name && strcmp(r[i]->name, name) == 0 && r[i]->scalar) v += r[i]->scalar->value;
  return v;
}

/* Tasks sorted by key, so answers are stable between calls. */
static int task_cmp(const void *x, const void *y) {
  const mesos__agent_task *a = *(mesos__agent_task *const *)x;
  const mesos__agent_task *b = *(mesos__agent_task *const *)y;
  return strcmp(a->key, b->key);
}

static mesos__agent_task **sorted_tasks(mesos_agent *a, size_t *n) {
  size_t count = mesos__map_count(&a->tasks);
  mesos__agent_task **v = mesos__calloc(count ? count : 1, sizeof *v);
  if (v == NULL) return NULL;
  size_t it = 0, k = 0;
  void *val;
  while (mesos__map_next(&a->tasks, &it, NULL, &val) && k < count) v[k++] = val;
  qsort(v, k, sizeof *v, task_cmp);
  *n = k;
  return v;
}

/* ------------------------------------------------------------ /proc */

/* CPU times and RSS of the processes in session `sid` (the executor and
 * everything it started that stayed in its session), read from /proc. */
typedef struct proc_usage {
  double user_secs, system_secs;
  uint64_t rss_bytes;
  int found;
} proc_usage;

static int read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return 0;
}

/* Fields of /proc/<pid>/stat after the command name (which may hold spaces
 * and parentheses, hence the last ')'): state is field 3, session 6, utime
 * 14, stime 15, rss 24 (in pages). */
static int parse_stat(const char *text, long long *session, unsigned long long *ut,
                      unsigned long long *st, long long *rss) {
  const char *p = strrchr(text, ')');
  if (p == NULL) return -1;
  p++;
  int field = 2;
  char *end;
  while (*p && field < 24) {
    while (*p == ' ') p++;
    field++;
    if (field == 6) *session = strtoll(p, &end, 10);
    else if (field == 14) *ut = strtoull(p, &end, 10);
    else if (field == 15) *st = strtoull(p, &end, 10);
    else if (field == 24) {
      *rss = strtoll(p, &end, 10);
      return 0;
    }
    while (*p && *p != ' ') p++;
  }
  return -1;
}

static void usage_of_session(int32_t sid, proc_usage *u) {
  memset(u, 0, sizeof *u);
  if (sid <= 0) return;
  long tck = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  if (tck <= 0) tck = 100;
  if (page <= 0) page = 4096;
  DIR *d = opendir("/proc");
  if (d == NULL) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%.20s/stat", de->d_name);
    if (read_small(path, text, sizeof text) != 0) continue;
    long long session = -1, rss = 0;
    unsigned long long ut = 0, st = 0;
    if (parse_stat(text, &session, &ut, &st, &rss) != 0) continue;
    if (session != sid && strtoll(de->d_name, NULL, 10) != sid) continue;
    u->found = 1;
    u->user_secs += (double)ut / (double)tck;
    u->system_secs += (double)st / (double)tck;
    if (rss > 0) u->rss_bytes += (uint64_t)rss * (uint64_t)page;
  }
  closedir(d);
}

static Mesos__V1__ResourceStatistics *task_statistics(scratch *s, const mesos__agent_task *t) {
  Mesos__V1__ResourceStatistics *rs =
      SC_NEW(s, Mesos__V1__ResourceStatistics, mesos__v1__resource_statistics__init);
  if (rs == NULL) return NULL;
  /* A task in a container: its cgroups know better (containers.c). */
  if (mesos__agent_container_statistics(t->agent, t, rs)) return rs;
  proc_usage u;
  usage_of_session(t->pid, &u);
  rs->timestamp = now_secs();
  rs->has_cpus_user_time_secs = rs->has_cpus_system_time_secs = rs->has_mem_rss_bytes = 1;
  rs->cpus_user_time_secs = u.user_secs;
  rs->cpus_system_time_secs = u.system_secs;
  rs->mem_rss_bytes = u.rss_bytes;
  if (t->info) {
    double cpus = scalar_sum(t->info->resources, t->info->n_resources, "cpus");
    double mem = scalar_sum(t->info->resources, t->info->n_resources, "mem");
    if (cpus > 0) {
      rs->has_cpus_limit = 1;
      rs->cpus_limit = cpus;
    }
    if (mem > 0) {
      rs->has_mem_limit_bytes = 1;
      rs->mem_limit_bytes = (uint64_t)(mem * 1024 * 1024);
    }
  }
  return rs;
}

/* ------------------------------------------------------------ messages */

static Mesos__V1__Task *task_msg(scratch *s, mesos_agent *a, const mesos__agent_task *t) {
  Mesos__V1__Task *m = SC_NEW(s, Mesos__V1__Task, mesos__v1__task__init);
  Mesos__V1__TaskID *tid = SC_NEW(s, Mesos__V1__TaskID, mesos__v1__task_id__init);
  Mesos__V1__FrameworkID *fid = SC_NEW(s, Mesos__V1__FrameworkID, mesos__v1__framework_id__init);
  Mesos__V1__ExecutorID *eid = SC_NEW(s, Mesos__V1__ExecutorID, mesos__v1__executor_id__init);
  Mesos__V1__AgentID *aid = SC_NEW(s, Mesos__V1__AgentID, mesos__v1__agent_id__init);
  if (m == NULL || tid == NULL || fid == NULL || eid == NULL || aid == NULL) return NULL;
  tid->value = t->task_id;
  fid->value = t->framework_id;
  eid->value = t->executor_id;
  aid->value = a->id ? a->id : (char *)"";
  m->name = t->info && t->info->name ? t->info->name : (char *)"";
  m->task_id = tid;
  m->framework_id = fid;
  m->executor_id = eid;
  m->agent_id = aid;
  m->state = t->state;
  if (t->info) {
    m->n_resources = t->info->n_resources;
    m->resources = t->info->resources;
    m->labels = t->info->labels;
    m->discovery = t->info->discovery;
    m->container = t->info->container;
  }
  return m;
}

static Mesos__V1__ExecutorInfo *executor_msg(scratch *s, const mesos__agent_task *t) {
  Mesos__V1__ExecutorInfo *e = SC_NEW(s, Mesos__V1__ExecutorInfo, mesos__v1__executor_info__init);
  Mesos__V1__ExecutorID *eid = SC_NEW(s, Mesos__V1__ExecutorID, mesos__v1__executor_id__init);
  Mesos__V1__FrameworkID *fid = SC_NEW(s, Mesos__V1__FrameworkID, mesos__v1__framework_id__init);
  Mesos__V1__CommandInfo *cmd = SC_NEW(s, Mesos__V1__CommandInfo, mesos__v1__command_info__init);
  if (e == NULL || eid == NULL || fid == NULL || cmd == NULL) return NULL;
  eid->value = t->executor_id;
  fid->value = t->framework_id;
  e->executor_id = eid;
  e->framework_id = fid;
  char name[512];
  snprintf(name, sizeof name, "Command Executor (Task: %s) (Command: sh -c '%.200s')",
           t->task_id,
           t->info && t->info->command && t->info->command->value ? t->info->command->value : "");
  e->name = sc_strdup(s, name);
  e->source = t->task_id;
  cmd->value = t->agent->executor_path ? t->agent->executor_path : (char *)"mesos-executor";
  e->command = cmd;
  e->has_type = 1;
  e->type = MESOS__V1__EXECUTOR_INFO__TYPE__CUSTOM;
  if (t->info) {
    e->n_resources = t->info->n_resources;
    e->resources = t->info->resources;
  }
  return e->name ? e : NULL;
}

typedef struct task_lists {
  Mesos__V1__Agent__Response__GetTasks *tasks;
  Mesos__V1__Agent__Response__GetExecutors *executors;
  Mesos__V1__Agent__Response__GetFrameworks *frameworks;
} task_lists;

/* The three lists GET_STATE bundles, as `view` lets the principal see
 * them.  0 on success. */
static int build_lists(scratch *s, mesos_agent *a, task_lists *out,
                       const mesos__agent_view *view) {
  out->tasks = SC_NEW(s, Mesos__V1__Agent__Response__GetTasks,
                      mesos__v1__agent__response__get_tasks__init);
  out->executors = SC_NEW(s, Mesos__V1__Agent__Response__GetExecutors,
                          mesos__v1__agent__response__get_executors__init);
  out->frameworks = SC_NEW(s, Mesos__V1__Agent__Response__GetFrameworks,
                           mesos__v1__agent__response__get_frameworks__init);
  if (out->tasks == NULL || out->executors == NULL || out->frameworks == NULL) return -1;
  size_t n = 0;
  mesos__agent_task **v = sorted_tasks(a, &n);
  if (v == NULL) return -1;
  Mesos__V1__Task **launched = sc_alloc(s, (n + 1) * sizeof *launched);
  Mesos__V1__Task **terminated = sc_alloc(s, (n + 1) * sizeof *terminated);
  Mesos__V1__Agent__Response__GetExecutors__Executor **ex = sc_alloc(s, (n + 1) * sizeof *ex);
  mesos__agent_operator *op = a->op;
  size_t nd = op->done_count;
  Mesos__V1__Task **completed = sc_alloc(s, (nd + 1) * sizeof *completed);
  Mesos__V1__Agent__Response__GetExecutors__Executor **cex = sc_alloc(s, (nd + 1) * sizeof *cex);
  if (launched == NULL || terminated == NULL || ex == NULL || completed == NULL || cex == NULL) {
    mesos__free(v);
    return -1;
  }
  size_t nct = 0, nce = 0;
  for (size_t i = 0; i < nd; i++) {
    const mesos__agent_task *c = completed_at(op, i);
    if (mesos__agent_view_task(view, a, c)) {
      if ((completed[nct] = task_msg(s, a, c)) == NULL) {
        mesos__free(v);
        return -1;
      }
      nct++;
    }
    if (!mesos__agent_view_executor(view, a, c)) continue;
    Mesos__V1__Agent__Response__GetExecutors__Executor *e =
        SC_NEW(s, Mesos__V1__Agent__Response__GetExecutors__Executor,
               mesos__v1__agent__response__get_executors__executor__init);
    if (e == NULL || (e->executor_info = executor_msg(s, c)) == NULL) {
      mesos__free(v);
      return -1;
    }
    cex[nce++] = e;
  }
  out->tasks->completed_tasks = completed;
  out->tasks->n_completed_tasks = nct;
  out->executors->completed_executors = cex;
  out->executors->n_completed_executors = nce;
  for (size_t i = 0; i < n; i++) {
    if (mesos__agent_view_task(view, a, v[i])) {
      Mesos__V1__Task *t = task_msg(s, a, v[i]);
      if (t == NULL) {
        mesos__free(v);
        return -1;
      }
      if (state_terminal(v[i]->state))
        terminated[out->tasks->n_terminated_tasks++] = t;
      else
        launched[out->tasks->n_launched_tasks++] = t;
    }
    if (!mesos__agent_view_executor(view, a, v[i])) continue;
    Mesos__V1__Agent__Response__GetExecutors__Executor *e =
        SC_NEW(s, Mesos__V1__Agent__Response__GetExecutors__Executor,
               mesos__v1__agent__response__get_executors__executor__init);
    if (e == NULL || (e->executor_info = executor_msg(s, v[i])) == NULL) {
      mesos__free(v);
      return -1;
    }
    ex[out->executors->n_executors++] = e;
  }
  mesos__free(v);
  out->tasks->launched_tasks = launched;
  out->tasks->terminated_tasks = terminated;
  out->executors->executors = ex;
  size_t nf = mesos__map_count(&a->frameworks), k = 0;
  Mesos__V1__Agent__Response__GetFrameworks__Framework **fw = sc_alloc(s, (nf + 1) * sizeof *fw);
  if (fw == NULL) return -1;
  size_t it = 0;
  void *val;
  const char *fid;
  while (mesos__map_next(&a->frameworks, &it, &fid, &val) && k < nf) {
    if (!mesos__agent_view_framework(view, a, fid)) continue;
    Mesos__V1__Agent__Response__GetFrameworks__Framework *f =
        SC_NEW(s, Mesos__V1__Agent__Response__GetFrameworks__Framework,
               mesos__v1__agent__response__get_frameworks__framework__init);
    if (f == NULL) return -1;
    f->framework_info = val;
    fw[k++] = f;
  }
  out->frameworks->frameworks = fw;
  out->frameworks->n_frameworks = k;
  return s->failed ? -1 : 0;
}

/* ------------------------------------------------------------ metrics */

typedef struct metric {
  const char *name;
  double value;
} metric;

#define NMETRICS 48

/* Mesos's agent metric names.  The task and executor counts are those of
 * the tasks the agent tracks now (Mesos counts terminal states since
 * start-up; ours drop a task once its terminal update is acknowledged). */
static size_t collect_metrics(mesos__agent_operator *op, metric *m) {
  mesos_agent *a = op->a;
  size_t n = 0;
  double counts[16];
  memset(counts, 0, sizeof counts);
  double cpus_used = 0, mem_used = 0, disk_used = 0, gpus_used = 0;
  size_t executors_running = 0, executors_registering = 0, executors_terminating = 0;
  size_t it = 0;
  void *val;
  while (mesos__map_next(&a->tasks, &it, NULL, &val)) {
    const mesos__agent_task *t = val;
    if ((unsigned)t->state < 16) counts[t->state] += 1;
    if (!state_terminal(t->state) && t->info) {
      cpus_used += scalar_sum(t->info->resources, t->info->n_resources, "cpus");
      mem_used += scalar_sum(t->info->resources, t->info->n_resources, "mem");
      disk_used += scalar_sum(t->info->resources, t->info->n_resources, "disk");
      gpus_used += scalar_sum(t->info->resources, t->info->n_resources, "gpus");
    }
    if (t->pid > 0 && t->killing) executors_terminating++;
    else if (t->pid > 0 && t->use_executor && t->exec_stream == NULL) executors_registering++;
    else if (t->pid > 0) executors_running++;
  }
  Mesos__V1__Resource **r = a->info->resources;
  size_t nr = a->info->n_resources;
  double cpus_total = scalar_sum(r, nr, "cpus"), mem_total = scalar_sum(r, nr, "mem");
  double disk_total = scalar_sum(r, nr, "disk"), gpus_total = scalar_sum(r, nr, "gpus");
#define M(nm, v) m[n++] = (metric){(nm), (double)(v)}
  M("slave/uptime_secs", now_secs() - op->start_time);
  M("slave/registered", a->registered ? 1 : 0);
  M("slave/recovery_errors", 0);
  M("slave/frameworks_active", mesos__map_count(&a->frameworks));
  M("slave/tasks_staging", counts[MESOS__V1__TASK_STATE__TASK_STAGING]);
  M("slave/tasks_starting", counts[MESOS__V1__TASK_STATE__TASK_STARTING]);
  M("slave/tasks_running", counts[MESOS__V1__TASK_STATE__TASK_RUNNING]);
  M("slave/tasks_killing", counts[MESOS__V1__TASK_STATE__TASK_KILLING]);
  /* Terminal counts are cumulative, as in Mesos: the tracked tasks in
   * that state plus those completed since start-up. */
  for (size_t k = 0; k < 16; k++)
    if (state_terminal((Mesos__V1__TaskState)k)) counts[k] += (double)op->terminal[k];
  M("slave/tasks_finished", counts[MESOS__V1__TASK_STATE__TASK_FINISHED]);
  M("slave/tasks_failed", counts[MESOS__V1__TASK_STATE__TASK_FAILED]);
  M("slave/tasks_killed", counts[MESOS__V1__TASK_STATE__TASK_KILLED]);
  M("slave/tasks_lost", counts[MESOS__V1__TASK_STATE__TASK_LOST]);
  M("slave/tasks_gone", counts[MESOS__V1__TASK_STATE__TASK_GONE]);
  M("slave/tasks_dropped", counts[MESOS__V1__TASK_STATE__TASK_DROPPED]);
  M("slave/executors_registering", executors_registering);
  M("slave/executors_running", executors_running);
  M("slave/executors_terminating", executors_terminating);
  M("slave/executors_terminated", op->completed_total);
  M("slave/executors_preempted", 0);
  M("slave/cpus_total", cpus_total);
  M("slave/cpus_used", cpus_used);
  M("slave/cpus_percent", cpus_total > 0 ? cpus_used / cpus_total : 0);
  M("slave/mem_total", mem_total);
  M("slave/mem_used", mem_used);
  M("slave/mem_percent", mem_total > 0 ? mem_used / mem_total : 0);
  M("slave/disk_total", disk_total);
  M("slave/disk_used", disk_used);
  M("slave/disk_percent", disk_total > 0 ? disk_used / disk_total : 0);
  M("slave/gpus_total", gpus_total);
  M("slave/gpus_used", gpus_used);
  M("slave/gpus_percent", gpus_total > 0 ? gpus_used / gpus_total : 0);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  M("system/cpus_total", ncpu > 0 ? ncpu : 0);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) memset(load, 0, sizeof load);
  M("system/load_1min", load[0]);
  M("system/load_5min", load[1]);
  M("system/load_15min", load[2]);
  long pages = sysconf(_SC_PHYS_PAGES), avpages = sysconf(_SC_AVPHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  M("system/mem_total_bytes", pages > 0 && page > 0 ? (double)pages * (double)page : 0);
  M("system/mem_free_bytes", avpages > 0 && page > 0 ? (double)avpages * (double)page : 0);
#undef M
  return n;
}

/* ------------------------------------------------------------ answers */

static void respond_buf(mesos__http_request *req, int status, const char *ctype, mesos__buf *b) {
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", ctype);
  mesos__http_respond(req, status, &h, b->data ? b->data : "", b->len);
  mesos__http_headers_free(&h);
}

/* Encodes `resp` in the negotiated media type and answers 200. */
static void respond_message(mesos__http_request *req, mesos__media media,
                            const Mesos__V1__Agent__Response *resp) {
  mesos__buf b = MESOS__BUF_INIT(ANSWER_MAX);
  mesos_error *e = NULL;
  mesos_status st = media == MESOS__MEDIA_PROTOBUF ? mesos__pb_pack_buf(&resp->base, &b, &e)
                                                   : mesos__json_encode(&resp->base, &b, &e);
  if (st != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Failed to encode the response: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos__http_respond_text(req, 500, msg);
  } else {
    respond_buf(req, 200, mesos__media_name(media), &b);
  }
  mesos_error_free(e);
  mesos__buf_free(&b);
}

static void log_revert_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__agent_operator *op = ud;
  op->reverting = 0;
  mesos_log_set_level(op->base_level);
  LOG_INFO("Logging level reverted to %s", mesos_log_level_name(op->base_level));
}

/* Sets glog verbosity `level` (0 INFO, 1 DEBUG, 2+ TRACE) for `ns`
 * nanoseconds (> 0), then back to the level before the first temporary
 * change.  The level is the process's (mesos_log_set_level): a host that
 * embeds several daemons shares it. */
static mesos_status set_log_level(mesos__agent_operator *op, uint32_t level, uint64_t ns) {
  uint32_t v = level > MAX_VERBOSITY ? MAX_VERBOSITY : level;
  if (op->log_revert == NULL &&
      mesos_timer_new(&op->log_revert, op->a->loop, log_revert_cb, op, NULL) != MESOS_OK)
    return MESOS_ENOMEM;
  if (!op->reverting) op->base_level = mesos_log_get_level();
  op->reverting = 1;
  mesos_log_set_level((mesos_log_level)(MESOS_LOG_INFO + v));
  uint64_t ms = ns / 1000000u;
  mesos_timer_start(op->log_revert, ms ? ms : 1, 0);
  LOG_INFO("Logging level set to %s (verbosity %u) for %llu ms",
           mesos_log_level_name(mesos_log_get_level()), (unsigned)level,
           (unsigned long long)(ms ? ms : 1));
  return MESOS_OK;
}

/* GET /logging/toggle?level=N&duration=D (Mesos's classic form; D in
 * Mesos duration syntax, "30secs"). */
static void toggle_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  const char *q = mesos__http_request_query(req);
  char *level = NULL, *duration = NULL, msg[256];
  mesos_error *e = NULL;
  uint64_t lv = 0, ns = 0;
  mesos_status st = mesos__query_get(q, "level", 32, &level, &e);
  if (st == MESOS_ENOTFOUND) {
    mesos__http_respond_text(req, 400, "Expecting 'level' in query");
    return;
  }
  if (st == MESOS_OK) st = mesos__parse_uint64(level, &lv, "level", &e);
  if (st == MESOS_OK) {
    st = mesos__query_get(q, "duration", 64, &duration, &e);
    if (st == MESOS_ENOTFOUND) {
      mesos__free(level);
      mesos__http_respond_text(req, 400, "Expecting 'duration' in query");
      return;
    }
  }
  if (st == MESOS_OK) st = mesos__parse_duration(duration, &ns, &e);
  if (st == MESOS_OK && (ns == 0 || lv > UINT32_MAX))
    st = mesos__err(&e, MESOS_EINVAL, "'duration' must be positive and 'level' a verbosity");
  mesos__free(level);
  mesos__free(duration);
  if (st != MESOS_OK) {
    snprintf(msg, sizeof msg, "Invalid query: %s", e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  if (set_log_level(a->op, (uint32_t)lv, ns) != MESOS_OK) mesos__http_respond_text(req, 500, "cannot create a timer");
  else mesos__http_respond(req, 200, NULL, "", 0);
}

/* Whether task `t` is the first seen (in `seen`) of its container: the
 * tasks of a custom or default executor share the executor's container,
 * which the container listings show once.  (Out of memory: shown.) */
static int first_of_container(mesos__map *seen, const mesos__agent_task *t) {
  if (mesos__map_get(seen, t->container_id)) return 0;
  mesos__map_put(seen, t->container_id, (void *)seen);
  return 1;
}

static void api_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  mesos__agent_operator *op = a->op;
  mesos__negotiated resp_neg;
  mesos__negotiate_response(mesos__http_request_header(req, "Accept"),
                            mesos__http_request_header(req, "Message-Accept"), false, &resp_neg);
  /* A pass replayed after a late authorizer answer: decoded already. */
  Mesos__V1__Agent__Call *call = mesos__auth_take_kept(a->auth);
  if (call == NULL)
    call = (Mesos__V1__Agent__Call *)mesos__decode_call(req, &mesos__v1__agent__call__descriptor,
                                                        "agent::Call");
  if (call == NULL) return;
  if (resp_neg.http_status) {
    mesos__http_respond_text(req, resp_neg.http_status, resp_neg.error);
    mesos__pb_free(call);
    return;
  }
  if (!call->has_type) {
    mesos__http_respond_text(req, 400, "Expecting 'type' to be present");
    mesos__pb_free(call);
    return;
  }
  /* A caller with an executor's token may make only a few calls. */
  if (!mesos__agent_auth_operator_call(a, req, call)) {
    if (!mesos__auth_keep_for_replay(a->auth, call, mesos__pb_free)) mesos__pb_free(call);
    return;
  }
  Mesos__V1__Agent__Response resp = MESOS__V1__AGENT__RESPONSE__INIT;
  scratch s = {0};
  char msg[1024];
  mesos__media media = resp_neg.message;
  switch (call->type) {
    case MESOS__V1__AGENT__CALL__TYPE__GET_HEALTH: {
      Mesos__V1__Agent__Response__GetHealth *h =
          SC_NEW(&s, Mesos__V1__Agent__Response__GetHealth, mesos__v1__agent__response__get_health__init);
      if (h == NULL) break;
      h->healthy = 1;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_HEALTH;
      resp.get_health = h;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_FLAGS: {
      Mesos__V1__Agent__Response__GetFlags *g =
          SC_NEW(&s, Mesos__V1__Agent__Response__GetFlags, mesos__v1__agent__response__get_flags__init);
      const char *name, *value;
      size_t nflags = 0;
      while (mesos__flags_at(a->flags, nflags, &name, &value)) nflags++;
      Mesos__V1__Flag **fl = sc_alloc(&s, (nflags + 1) * sizeof *fl);
      if (g == NULL || fl == NULL) break;
      for (size_t i = 0; i < nflags && mesos__flags_at(a->flags, i, &name, &value); i++) {
        Mesos__V1__Flag *f = SC_NEW(&s, Mesos__V1__Flag, mesos__v1__flag__init);
        if (f == NULL) break;
        f->name = (char *)name;
        f->value = (char *)value;
        fl[g->n_flags++] = f;
      }
      g->flags = fl;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_FLAGS;
      resp.get_flags = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_VERSION: {
      Mesos__V1__Agent__Response__GetVersion *g = SC_NEW(
          &s, Mesos__V1__Agent__Response__GetVersion, mesos__v1__agent__response__get_version__init);
      Mesos__V1__VersionInfo *vi = SC_NEW(&s, Mesos__V1__VersionInfo, mesos__v1__version_info__init);
      if (g == NULL || vi == NULL) break;
      vi->version = (char *)"1.0.0";
      vi->build_user = (char *)"libmesos-core";
      vi->git_tag = (char *)mesos_version_string();
      g->version_info = vi;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_VERSION;
      resp.get_version = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_METRICS: {
      if (call->get_metrics == NULL) {
        mesos__http_respond_text(req, 400, "Expecting 'get_metrics' to be present");
        goto done;
      }
      metric m[NMETRICS];
      size_t n = collect_metrics(op, m);
      Mesos__V1__Agent__Response__GetMetrics *g = SC_NEW(
          &s, Mesos__V1__Agent__Response__GetMetrics, mesos__v1__agent__response__get_metrics__init);
      Mesos__V1__Metric **mv = sc_alloc(&s, n * sizeof *mv);
      if (g == NULL || mv == NULL) break;
      for (size_t i = 0; i < n; i++) {
        Mesos__V1__Metric *x = SC_NEW(&s, Mesos__V1__Metric, mesos__v1__metric__init);
        if (x == NULL) break;
        x->name = (char *)m[i].name;
        x->has_value = 1;
        x->value = m[i].value;
        mv[g->n_metrics++] = x;
      }
      g->metrics = mv;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_METRICS;
      resp.get_metrics = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_LOGGING_LEVEL: {
      Mesos__V1__Agent__Response__GetLoggingLevel *g =
          SC_NEW(&s, Mesos__V1__Agent__Response__GetLoggingLevel,
                 mesos__v1__agent__response__get_logging_level__init);
      if (g == NULL) break;
      int lvl = (int)mesos_log_get_level() - (int)MESOS_LOG_INFO;
      g->level = lvl > 0 ? (uint32_t)lvl : 0;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_LOGGING_LEVEL;
      resp.get_logging_level = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__SET_LOGGING_LEVEL: {
      Mesos__V1__Agent__Call__SetLoggingLevel *sl = call->set_logging_level;
      if (sl == NULL) {
        mesos__http_respond_text(req, 400, "Expecting 'set_logging_level' to be present");
        goto done;
      }
      int64_t ns = sl->duration ? sl->duration->nanoseconds : 0;
      if (ns <= 0) {
        mesos__http_respond_text(req, 400, "'set_logging_level.duration' must be positive");
        goto done;
      }
      if (set_log_level(op, sl->level, (uint64_t)ns) != MESOS_OK)
        mesos__http_respond_text(req, 500, "cannot create a timer");
      else
        mesos__http_respond(req, 200, NULL, "", 0);
      goto done;
    }
    case MESOS__V1__AGENT__CALL__TYPE__LIST_FILES: {
      if (call->list_files == NULL) {
        mesos__http_respond_text(req, 400, "Expecting 'list_files' to be present");
        goto done;
      }
      mesos__file_entry *v = NULL;
      size_t n = 0;
      mesos_error *e = NULL;
      mesos_status st = mesos__files_browse_as(op->files, mesos__http_request_principal(req),
                                               call->list_files->path, &v, &n, &e);
      if (mesos__files_auth_waits(op->files, st)) goto done; /* a late authorizer: replayed */
      if (st != MESOS_OK) {
        mesos__http_respond_text(req, mesos__files_http_status(st),
                            e ? mesos_error_message(e) : mesos_status_str(st));
        mesos_error_free(e);
        goto done;
      }
      Mesos__V1__Agent__Response__ListFiles *g = SC_NEW(
          &s, Mesos__V1__Agent__Response__ListFiles, mesos__v1__agent__response__list_files__init);
      Mesos__V1__FileInfo **fi = sc_alloc(&s, (n + 1) * sizeof *fi);
      for (size_t i = 0; g && fi && i < n; i++) {
        Mesos__V1__FileInfo *x = SC_NEW(&s, Mesos__V1__FileInfo, mesos__v1__file_info__init);
        Mesos__V1__TimeInfo *tm = SC_NEW(&s, Mesos__V1__TimeInfo, mesos__v1__time_info__init);
        if (x == NULL || tm == NULL) break;
        x->path = sc_strdup(&s, v[i].path);
        x->has_nlink = x->has_size = x->has_mode = 1;
        x->nlink = (int32_t)v[i].nlink;
        x->size = v[i].size;
        x->mode = v[i].mode;
        tm->nanoseconds = v[i].mtime_ns;
        x->mtime = tm;
        x->uid = sc_strdup(&s, v[i].uid);
        x->gid = sc_strdup(&s, v[i].gid);
        fi[g->n_file_infos++] = x;
      }
      mesos__files_entries_free(v, n);
      if (g == NULL || fi == NULL) break;
      g->file_infos = fi;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__LIST_FILES;
      resp.list_files = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__READ_FILE: {
      Mesos__V1__Agent__Call__ReadFile *rf = call->read_file;
      if (rf == NULL) {
        mesos__http_respond_text(req, 400, "Expecting 'read_file' to be present");
        goto done;
      }
      if (rf->offset > (uint64_t)INT64_MAX || (rf->has_length && rf->length > (uint64_t)INT64_MAX)) {
        mesos__http_respond_text(req, 400, "'read_file.offset' and 'read_file.length' must fit in int64");
        goto done;
      }
      char *data = NULL;
      size_t len = 0;
      uint64_t size = 0;
      mesos_error *e = NULL;
      mesos_status st = mesos__files_read_as(op->files, mesos__http_request_principal(req),
                                             rf->path, (int64_t)rf->offset,
                                             rf->has_length ? (int64_t)rf->length : -1,
                                             MESOS__FILES_MAX_API_READ, &data, &len, &size, &e);
      if (mesos__files_auth_waits(op->files, st)) goto done; /* a late authorizer: replayed */
      if (st != MESOS_OK) {
        mesos__http_respond_text(req, mesos__files_http_status(st),
                            e ? mesos_error_message(e) : mesos_status_str(st));
        mesos_error_free(e);
        goto done;
      }
      Mesos__V1__Agent__Response__ReadFile *g = SC_NEW(
          &s, Mesos__V1__Agent__Response__ReadFile, mesos__v1__agent__response__read_file__init);
      if (g == NULL || sc_adopt(&s, data) != 0) {
        mesos__free(data);
        s.failed = 1;
        break;
      }
      g->size = size;
      g->data.data = (uint8_t *)data;
      g->data.len = len;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__READ_FILE;
      resp.read_file = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_STATE:
    case MESOS__V1__AGENT__CALL__TYPE__GET_FRAMEWORKS:
    case MESOS__V1__AGENT__CALL__TYPE__GET_EXECUTORS:
    case MESOS__V1__AGENT__CALL__TYPE__GET_TASKS: {
      task_lists l;
      mesos__agent_view view;
      mesos__agent_view_init(&view, a, req);
      int failed = build_lists(&s, a, &l, &view);
      mesos__agent_view_free(&view);
      if (failed) {
        s.failed = 1;
        break;
      }
      if (call->type == MESOS__V1__AGENT__CALL__TYPE__GET_STATE) {
        Mesos__V1__Agent__Response__GetState *g = SC_NEW(
            &s, Mesos__V1__Agent__Response__GetState, mesos__v1__agent__response__get_state__init);
        if (g == NULL) break;
        g->get_tasks = l.tasks;
        g->get_executors = l.executors;
        g->get_frameworks = l.frameworks;
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_STATE;
        resp.get_state = g;
      } else if (call->type == MESOS__V1__AGENT__CALL__TYPE__GET_FRAMEWORKS) {
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_FRAMEWORKS;
        resp.get_frameworks = l.frameworks;
      } else if (call->type == MESOS__V1__AGENT__CALL__TYPE__GET_EXECUTORS) {
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_EXECUTORS;
        resp.get_executors = l.executors;
      } else {
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_TASKS;
        resp.get_tasks = l.tasks;
      }
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_CONTAINERS: {
      /* get_containers.show_nested / show_standalone change nothing: this
       * agent runs neither nested nor standalone containers yet. */
      size_t n = 0;
      mesos__agent_task **v = sorted_tasks(a, &n);
      mesos__agent_view cview; /* VIEW_CONTAINER */
      mesos__agent_view_init(&cview, a, req);
      Mesos__V1__Agent__Response__GetContainers *g =
          SC_NEW(&s, Mesos__V1__Agent__Response__GetContainers,
                 mesos__v1__agent__response__get_containers__init);
      Mesos__V1__Agent__Response__GetContainers__Container **cv = sc_alloc(&s, (n + 1) * sizeof *cv);
      mesos__map seen; /* one entry per container, as Mesos (not per task) */
      mesos__map_init(&seen);
      for (size_t i = 0; v && g && cv && i < n; i++) {
        mesos__agent_task *t = v[i];
        if (t->container_id == NULL || state_terminal(t->state)) continue;
        if (!mesos__agent_view_container(&cview, a, t)) continue;
        if (!first_of_container(&seen, t)) continue;
        Mesos__V1__Agent__Response__GetContainers__Container *c =
            SC_NEW(&s, Mesos__V1__Agent__Response__GetContainers__Container,
                   mesos__v1__agent__response__get_containers__container__init);
        Mesos__V1__ContainerID *cid = SC_NEW(&s, Mesos__V1__ContainerID, mesos__v1__container_id__init);
        Mesos__V1__ContainerStatus *cs =
            SC_NEW(&s, Mesos__V1__ContainerStatus, mesos__v1__container_status__init);
        Mesos__V1__ExecutorInfo *ei = executor_msg(&s, t);
        Mesos__V1__ResourceStatistics *rs = task_statistics(&s, t);
        if (c == NULL || cid == NULL || cs == NULL || ei == NULL || rs == NULL) break;
        cid->value = t->container_id;
        c->container_id = cid;
        c->framework_id = ei->framework_id;
        c->executor_id = ei->executor_id;
        c->executor_name = ei->name;
        cs->container_id = cid;
        if (t->pid > 0) {
          cs->has_executor_pid = 1;
          cs->executor_pid = (uint32_t)t->pid;
        }
        c->container_status = cs;
        c->resource_statistics = rs;
        cv[g->n_containers++] = c;
      }
      mesos__map_free(&seen);
      mesos__agent_view_free(&cview);
      mesos__free(v);
      if (v == NULL || g == NULL || cv == NULL) {
        s.failed = 1;
        break;
      }
      g->containers = cv;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_CONTAINERS;
      resp.get_containers = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_AGENT: {
      Mesos__V1__Agent__Response__GetAgent *g = SC_NEW(
          &s, Mesos__V1__Agent__Response__GetAgent, mesos__v1__agent__response__get_agent__init);
      Mesos__V1__AgentInfo *info = SC_NEW(&s, Mesos__V1__AgentInfo, mesos__v1__agent_info__init);
      Mesos__V1__AgentID *aid = SC_NEW(&s, Mesos__V1__AgentID, mesos__v1__agent_id__init);
      if (g == NULL || info == NULL || aid == NULL) break;
      *info = *a->info;
      /* VIEW_ROLE: only the resources whose every role may be seen. */
      mesos__agent_view rview;
      mesos__agent_view_init(&rview, a, req);
      Mesos__V1__Resource **shown =
          info->n_resources ? sc_alloc(&s, info->n_resources * sizeof *shown) : NULL;
      size_t nshown = 0;
      for (size_t i = 0; shown && i < a->info->n_resources; i++)
        if (mesos__agent_view_resource(&rview, a->info->resources[i]))
          shown[nshown++] = a->info->resources[i];
      mesos__agent_view_free(&rview);
      info->resources = shown;
      info->n_resources = nshown; /* out of memory: none rather than all */
      if (a->id) {
        aid->value = a->id;
        info->id = aid;
      }
      g->agent_info = info;
      resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_AGENT;
      resp.get_agent = g;
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__GET_OPERATIONS:
    case MESOS__V1__AGENT__CALL__TYPE__GET_RESOURCE_PROVIDERS: {
      /* No resource providers and no operations on this agent yet: both
       * lists are empty. */
      if (call->type == MESOS__V1__AGENT__CALL__TYPE__GET_OPERATIONS) {
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_OPERATIONS;
        resp.get_operations = SC_NEW(&s, Mesos__V1__Agent__Response__GetOperations,
                                     mesos__v1__agent__response__get_operations__init);
      } else {
        resp.type = MESOS__V1__AGENT__RESPONSE__TYPE__GET_RESOURCE_PROVIDERS;
        resp.get_resource_providers =
            SC_NEW(&s, Mesos__V1__Agent__Response__GetResourceProviders,
                   mesos__v1__agent__response__get_resource_providers__init);
      }
      break;
    }
    case MESOS__V1__AGENT__CALL__TYPE__UNKNOWN:
      mesos__http_respond_text(req, 501, "Unsupported call type UNKNOWN");
      goto done;
    default: {
      /* Authorized before the 501, as Mesos answers 403 first. */
      if (!mesos__agent_auth_container_call(a, req, call)) goto done;
      const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
          &mesos__v1__agent__call__type__descriptor, (int)call->type);
      snprintf(msg, sizeof msg,
               "%s is not supported by this agent's containerizer yet (no nested, standalone or "
               "debug containers, no resource providers, no image pruning)",
               ev ? ev->name : "This call");
      mesos__http_respond_text(req, 501, msg);
      goto done;
    }
  }
  if (s.failed || resp.type == MESOS__V1__AGENT__RESPONSE__TYPE__UNKNOWN) {
    mesos__http_respond_text(req, 500, "out of memory");
  } else {
    resp.has_type = 1;
    respond_message(req, media, &resp);
  }
done:
  sc_free(&s);
  if (!mesos__auth_keep_for_replay(a->auth, call, mesos__pb_free)) mesos__pb_free(call);
}

/* ------------------------------------------------------------ classic JSON */

/* A JSON string (Mesos ids and names are UTF-8 text; control characters
 * are escaped). */
static mesos_status jstr(mesos__buf *b, const char *s) {
  mesos_status st = mesos__buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); st == MESOS_OK && *p; p++) {
    if (*p == '"' || *p == '\\') st = mesos__buf_printf(b, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f) st = mesos__buf_printf(b, "\\u%04x", *p);
    else st = mesos__buf_putc(b, (char)*p);
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '"');
  return st;
}

static mesos_status jnum(mesos__buf *b, double v) {
  if (v == (double)(int64_t)v && v < 9e15 && v > -9e15) return mesos__buf_printf(b, "%lld", (long long)v);
  return mesos__buf_printf(b, "%.17g", v);
}

static mesos_status jranges(mesos__buf *b, const Mesos__V1__Value__Ranges *r) {
  mesos_status st = mesos__buf_puts(b, "\"[");
  for (size_t i = 0; r && i < r->n_range && st == MESOS_OK; i++)
    st = mesos__buf_printf(b, "%s%llu-%llu", i ? ", " : "", (unsigned long long)r->range[i]->begin,
                           (unsigned long long)r->range[i]->end);
  if (st == MESOS_OK) st = mesos__buf_puts(b, "]\"");
  return st;
}

static mesos_status jset(mesos__buf *b, const Mesos__V1__Value__Set *set) {
  mesos_status st = mesos__buf_puts(b, "\"{");
  for (size_t i = 0; set && i < set->n_item && st == MESOS_OK; i++) {
    if (i) st = mesos__buf_putc(b, ',');
    /* Inside the outer JSON string: escape again. */
    for (const char *p = set->item[i]; st == MESOS_OK && *p; p++)
      st = (*p == '"' || *p == '\\') ? mesos__buf_printf(b, "\\%c", *p)
           : ((unsigned char)*p < 0x20) ? mesos__buf_putc(b, ' ')
                                        : mesos__buf_putc(b, *p);
  }
  if (st == MESOS_OK) st = mesos__buf_puts(b, "}\"");
  return st;
}

/* Mesos's resources summary: {"cpus":N,"gpus":N,"mem":N,"disk":N,
 * "ports":"[a-b, c-d]", ...}; the four scalars always present. */
static mesos_status jresources(mesos__buf *b, Mesos__V1__Resource *const *r, size_t n) {
  static const char *const always[] = {"cpus", "gpus", "mem", "disk"};
  mesos_status st = mesos__buf_putc(b, '{');
  for (size_t i = 0; i < 4 && st == MESOS_OK; i++) {
    st = mesos__buf_printf(b, "%s\"%s\":", i ? "," : "", always[i]);
    if (st == MESOS_OK) st = jnum(b, scalar_sum(r, n, always[i]));
  }
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    const char *name = r[i]->name ? r[i]->name : "";
    int dup = 0;
    for (size_t k = 0; k < 4; k++) dup |= strcmp(name, always[k]) == 0;
    for (size_t k = 0; k < i; k++) dup |= r[k]->name && strcmp(r[k]->name, name) == 0;
    if (dup) continue;
    st = mesos__buf_putc(b, ',');
    if (st == MESOS_OK) st = jstr(b, name);
    if (st == MESOS_OK) st = mesos__buf_putc(b, ':');
    if (st != MESOS_OK) break;
    if (r[i]->ranges) st = jranges(b, r[i]->ranges);
    else if (r[i]->set) st = jset(b, r[i]->set);
    else st = jnum(b, scalar_sum(r, n, name));
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '}');
  return st;
}

static mesos_status jattributes(mesos__buf *b, const Mesos__V1__AgentInfo *info) {
  mesos_status st = mesos__buf_putc(b, '{');
  for (size_t i = 0; i < info->n_attributes && st == MESOS_OK; i++) {
    const Mesos__V1__Attribute *at = info->attributes[i];
    if (i) st = mesos__buf_putc(b, ',');
    if (st == MESOS_OK) st = jstr(b, at->name);
    if (st == MESOS_OK) st = mesos__buf_putc(b, ':');
    if (st != MESOS_OK) break;
    if (at->scalar) st = jnum(b, at->scalar->value);
    else if (at->ranges) st = jranges(b, at->ranges);
    else if (at->set) st = jset(b, at->set);
    else st = jstr(b, at->text && at->text->value ? at->text->value : "");
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '}');
  return st;
}

static mesos_status jflags(mesos__buf *b, const mesos__flags *f) {
  mesos_status st = mesos__buf_putc(b, '{');
  const char *name, *value;
  int first = 1;
  for (size_t i = 0; st == MESOS_OK && mesos__flags_at(f, i, &name, &value); i++) {
    if (value == NULL) continue;
    if (!first) st = mesos__buf_putc(b, ',');
    first = 0;
    if (st == MESOS_OK) st = jstr(b, name);
    if (st == MESOS_OK) st = mesos__buf_putc(b, ':');
    if (st == MESOS_OK) st = jstr(b, value);
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '}');
  return st;
}

static mesos_status jtask(mesos__buf *b, mesos_agent *a, const mesos__agent_task *t) {
  const ProtobufCEnumValue *ev =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)t->state);
  mesos_status st = mesos__buf_puts(b, "{\"id\":");
  if (st == MESOS_OK) st = jstr(b, t->task_id);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"name\":");
  if (st == MESOS_OK) st = jstr(b, t->info && t->info->name ? t->info->name : "");
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"framework_id\":");
  if (st == MESOS_OK) st = jstr(b, t->framework_id);
  /* Command tasks: "" as Mesos writes for them. */
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"executor_id\":\"\",\"slave_id\":");
  if (st == MESOS_OK) st = jstr(b, a->id);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"state\":");
  if (st == MESOS_OK) st = jstr(b, ev ? ev->name : "TASK_UNKNOWN");
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"resources\":");
  if (st == MESOS_OK)
    st = t->info ? jresources(b, t->info->resources, t->info->n_resources) : jresources(b, NULL, 0);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"statuses\":[]}");
  return st;
}

/* `show_task` 0: the principal may see the executor but not its task. */
static mesos_status jexecutor(mesos__buf *b, mesos_agent *a, const mesos__agent_task *t,
                              int show_task) {
  char name[512];
  snprintf(name, sizeof name, "Command Executor (Task: %s) (Command: sh -c '%.200s')", t->task_id,
           t->info && t->info->command && t->info->command->value ? t->info->command->value : "");
  int done = state_terminal(t->state);
  mesos_status st = mesos__buf_puts(b, "{\"id\":");
  if (st == MESOS_OK) st = jstr(b, t->executor_id);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"name\":");
  if (st == MESOS_OK) st = jstr(b, name);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"source\":");
  if (st == MESOS_OK) st = jstr(b, t->task_id);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"container\":");
  if (st == MESOS_OK) st = jstr(b, t->container_id);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"directory\":");
  if (st == MESOS_OK) st = jstr(b, t->sandbox);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"resources\":");
  if (st == MESOS_OK)
    st = t->info ? jresources(b, t->info->resources, t->info->n_resources) : jresources(b, NULL, 0);
  if (st == MESOS_OK) st = mesos__buf_puts(b, done ? ",\"tasks\":[],\"queued_tasks\":[],\"completed_tasks\":[" : ",\"tasks\":[");
  if (st == MESOS_OK && show_task) st = jtask(b, a, t);
  if (st == MESOS_OK) st = mesos__buf_puts(b, done ? "]}" : "],\"queued_tasks\":[],\"completed_tasks\":[]}");
  return st;
}

static mesos_status jframework(mesos__buf *b, mesos_agent *a, const char *fid,
                               mesos__agent_task **v, size_t n, const mesos__agent_view *view) {
  const Mesos__V1__FrameworkInfo *fi = mesos__map_get(&a->frameworks, fid);
  mesos_status st = mesos__buf_puts(b, "{\"id\":");
  if (st == MESOS_OK) st = jstr(b, fid);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"name\":");
  if (st == MESOS_OK) st = jstr(b, fi && fi->name ? fi->name : "");
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"user\":");
  if (st == MESOS_OK) st = jstr(b, fi && fi->user ? fi->user : "");
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"failover_timeout\":");
  if (st == MESOS_OK) st = jnum(b, fi && fi->has_failover_timeout ? fi->failover_timeout : 0);
  if (st == MESOS_OK)
    st = mesos__buf_printf(b, ",\"checkpoint\":%s,\"role\":",
                           fi && fi->has_checkpoint && fi->checkpoint ? "true" : "false");
  if (st == MESOS_OK) st = jstr(b, fi && fi->role ? fi->role : "*");
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"hostname\":");
  if (st == MESOS_OK) st = jstr(b, fi && fi->hostname ? fi->hostname : "");
  for (int pass = 0; pass < 2 && st == MESOS_OK; pass++) {
    st = mesos__buf_puts(b, pass ? "],\"completed_executors\":[" : ",\"executors\":[");
    int first = 1;
    for (size_t i = 0; i < n && st == MESOS_OK; i++) {
      if (strcmp(v[i]->framework_id, fid) != 0 || state_terminal(v[i]->state) != pass) continue;
      if (!mesos__agent_view_executor(view, a, v[i])) continue;
      if (!first) st = mesos__buf_putc(b, ',');
      first = 0;
      if (st == MESOS_OK) st = jexecutor(b, a, v[i], mesos__agent_view_task(view, a, v[i]));
    }
    for (size_t i = 0; pass && i < a->op->done_count && st == MESOS_OK; i++) {
      const mesos__agent_task *c = completed_at(a->op, i);
      if (strcmp(c->framework_id, fid) != 0) continue;
      if (!mesos__agent_view_executor(view, a, c)) continue;
      if (!first) st = mesos__buf_putc(b, ',');
      first = 0;
      if (st == MESOS_OK) st = jexecutor(b, a, c, mesos__agent_view_task(view, a, c));
    }
  }
  if (st == MESOS_OK) st = mesos__buf_puts(b, "]}");
  return st;
}

/* Mesos's agent /state resource views of its total (--resources with the
 * checkpointed reservations and volumes applied, volumes.h):
 * reserved_resources {role: summary}, unreserved_resources summary,
 * reserved_resources_full {role: [Resource JSON]}, unreserved_resources_full
 * [Resource JSON] (with reservations, disk persistence and volume).  The
 * plain "resources" summary is the same sums either way. */
static mesos_status jreservations(mesos__buf *b, mesos_agent *a, const mesos__agent_view *view) {
  Mesos__V1__Resource **v = NULL;
  size_t n = 0;
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_volumes_total(a, &v, &n, &e);
  mesos_error_free(e);
  if (st != MESOS_OK) return st;
  /* Roles in first-seen order; the summaries take the role's subset. */
  Mesos__V1__Resource **sub = n ? mesos__calloc(n, sizeof *sub) : NULL;
  if (n && sub == NULL) st = MESOS_ENOMEM;
  for (int full = 0; full < 2 && st == MESOS_OK; full++) {
    st = mesos__buf_puts(b, full ? ",\"reserved_resources_full\":{" : ",\"reserved_resources\":{");
    int first = 1;
    for (size_t i = 0; i < n && st == MESOS_OK; i++) {
      const char *role = mesos__resource_role(v[i]);
      int seen = strcmp(role, "*") == 0;
      for (size_t k = 0; k < i && !seen; k++) seen = strcmp(mesos__resource_role(v[k]), role) == 0;
      if (seen || !mesos__agent_view_role(view, role)) continue; /* VIEW_ROLE, as Mesos */
      size_t m = 0;
      for (size_t k = i; k < n; k++)
        if (strcmp(mesos__resource_role(v[k]), role) == 0) sub[m++] = v[k];
      if (!first) st = mesos__buf_putc(b, ',');
      first = 0;
      if (st == MESOS_OK) st = jstr(b, role);
      if (st == MESOS_OK) st = mesos__buf_putc(b, ':');
      if (st == MESOS_OK && !full) st = jresources(b, sub, m);
      for (size_t k = 0; full && k < m && st == MESOS_OK; k++) {
        st = mesos__buf_putc(b, k ? ',' : '[');
        if (st == MESOS_OK) st = mesos__json_encode(&sub[k]->base, b, NULL);
      }
      if (st == MESOS_OK && full) st = mesos__buf_puts(b, m ? "]" : "[]");
    }
    if (st == MESOS_OK) st = mesos__buf_putc(b, '}');
  }
  size_t m = 0;
  for (size_t i = 0; i < n && st == MESOS_OK; i++)
    if (strcmp(mesos__resource_role(v[i]), "*") == 0) sub[m++] = v[i];
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"unreserved_resources\":");
  if (st == MESOS_OK) st = jresources(b, sub, m);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"unreserved_resources_full\":[");
  for (size_t k = 0; k < m && st == MESOS_OK; k++) {
    if (k) st = mesos__buf_putc(b, ',');
    if (st == MESOS_OK) st = mesos__json_encode(&sub[k]->base, b, NULL);
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, ']');
  mesos__free(sub);
  mesos__agent_volumes_total_free(v, n);
  return st;
}

static mesos_status jstate(mesos__buf *b, mesos__agent_operator *op,
                           const mesos__agent_view *view) {
  mesos_agent *a = op->a;
  mesos_status st = mesos__buf_printf(
      b, "{\"version\":\"1.0.0\",\"build_user\":\"libmesos-core\",\"libmesos_core_version\":\"%s\","
         "\"start_time\":",
      mesos_version_string());
  if (st == MESOS_OK) st = jnum(b, op->start_time);
  if (a->id && st == MESOS_OK) {
    st = mesos__buf_puts(b, ",\"id\":");
    if (st == MESOS_OK) st = jstr(b, a->id);
  }
  if (st == MESOS_OK)
    st = mesos__buf_printf(b, ",\"pid\":\"slave(1)@%s:%u\",\"hostname\":",
                           strcmp(a->ip, "0.0.0.0") == 0 ? "127.0.0.1" : a->ip, (unsigned)a->port);
  if (st == MESOS_OK) st = jstr(b, a->hostname);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"capabilities\":[],\"resources\":");
  if (st == MESOS_OK) st = jresources(b, a->info->resources, a->info->n_resources);
  if (st == MESOS_OK) st = jreservations(b, a, view);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"attributes\":");
  if (st == MESOS_OK) st = jattributes(b, a->info);
  if (st == MESOS_OK) st = mesos__buf_printf(b, ",\"registered\":%s", a->registered ? "true" : "false");
  /* The flags only for a principal with VIEW_FLAGS, as Mesos. */
  if (st == MESOS_OK && view->flags) st = mesos__buf_puts(b, ",\"flags\":");
  if (st == MESOS_OK && view->flags) st = jflags(b, a->flags);
  if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"frameworks\":[");
  size_t n = 0;
  mesos__agent_task **v = sorted_tasks(a, &n);
  if (v == NULL) return MESOS_ENOMEM;
  /* Every framework the agent knows, with its executors (tasks sorted by
   * "<framework>/<task>", so one framework's tasks are together). */
  size_t it = 0;
  const char *fid;
  int first = 1;
  while (st == MESOS_OK && mesos__map_next(&a->frameworks, &it, &fid, NULL)) {
    if (!mesos__agent_view_framework(view, a, fid)) continue;
    if (!first) st = mesos__buf_putc(b, ',');
    first = 0;
    if (st == MESOS_OK) st = jframework(b, a, fid, v, n, view);
  }
  mesos__free(v);
  if (st == MESOS_OK) st = mesos__buf_puts(b, "],\"completed_frameworks\":[]}");
  return st;
}

static void state_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  if (!mesos__agent_view_ready(a, req)) return; /* a late authorizer: replayed */
  mesos__buf b = MESOS__BUF_INIT(ANSWER_MAX);
  mesos__agent_view view;
  mesos__agent_view_init(&view, a, req);
  if (jstate(&b, a->op, &view) != MESOS_OK) mesos__http_respond_text(req, 500, "state too large");
  else respond_buf(req, 200, "application/json", &b);
  mesos__agent_view_free(&view);
  mesos__buf_free(&b);
}

static void flags_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  mesos__buf b = MESOS__BUF_INIT(ANSWER_MAX);
  mesos_status st = mesos__buf_puts(&b, "{\"flags\":");
  if (st == MESOS_OK) st = jflags(&b, a->flags);
  if (st == MESOS_OK) st = mesos__buf_putc(&b, '}');
  if (st != MESOS_OK) mesos__http_respond_text(req, 500, "out of memory");
  else respond_buf(req, 200, "application/json", &b);
  mesos__buf_free(&b);
}

static void metrics_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  metric m[NMETRICS];
  size_t n = collect_metrics(a->op, m);
  mesos__buf b = MESOS__BUF_INIT(ANSWER_MAX);
  mesos_status st = mesos__buf_putc(&b, '{');
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    st = mesos__buf_printf(&b, "%s\"%s\":", i ? "," : "", m[i].name);
    if (st == MESOS_OK) st = jnum(&b, m[i].value);
  }
  if (st == MESOS_OK) st = mesos__buf_putc(&b, '}');
  if (st != MESOS_OK) mesos__http_respond_text(req, 500, "out of memory");
  else respond_buf(req, 200, "application/json", &b);
  mesos__buf_free(&b);
}

/* /monitor/statistics (and /containers with `containers` set): one object
 * per running executor with its ResourceStatistics. */
static mesos_status jusage(mesos__buf *b, mesos_agent *a, int containers,
                           const mesos__agent_view *view) {
  size_t n = 0;
  mesos__agent_task **v = sorted_tasks(a, &n);
  if (v == NULL) return MESOS_ENOMEM;
  mesos_status st = mesos__buf_putc(b, '[');
  int first = 1;
  mesos__map seen; /* one object per executor's container, as Mesos */
  mesos__map_init(&seen);
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    mesos__agent_task *t = v[i];
    if (state_terminal(t->state) || t->container_id == NULL) continue;
    if (!mesos__agent_view_container(view, a, t)) continue; /* VIEW_CONTAINER */
    if (!first_of_container(&seen, t)) continue;
    scratch s = {0};
    Mesos__V1__ResourceStatistics *rs = task_statistics(&s, t);
    char name[512];
    snprintf(name, sizeof name, "Command Executor (Task: %s) (Command: sh -c '%.200s')",
             t->task_id,
             t->info && t->info->command && t->info->command->value ? t->info->command->value : "");
    if (!first) st = mesos__buf_putc(b, ',');
    first = 0;
    if (st == MESOS_OK) st = mesos__buf_puts(b, "{\"executor_id\":");
    if (st == MESOS_OK) st = jstr(b, t->executor_id);
    if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"executor_name\":");
    if (st == MESOS_OK) st = jstr(b, name);
    if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"framework_id\":");
    if (st == MESOS_OK) st = jstr(b, t->framework_id);
    if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"source\":");
    if (st == MESOS_OK) st = jstr(b, t->task_id);
    if (containers && st == MESOS_OK) {
      st = mesos__buf_puts(b, ",\"container_id\":");
      if (st == MESOS_OK) st = jstr(b, t->container_id);
      if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"status\":{\"container_id\":{\"value\":");
      if (st == MESOS_OK) st = jstr(b, t->container_id);
      if (st == MESOS_OK) st = mesos__buf_printf(b, "},\"executor_pid\":%d}", (int)t->pid);
    }
    if (st == MESOS_OK) st = mesos__buf_puts(b, ",\"statistics\":");
    if (st == MESOS_OK) st = rs ? mesos__json_encode(&rs->base, b, NULL) : MESOS_ENOMEM;
    if (st == MESOS_OK) st = mesos__buf_putc(b, '}');
    sc_free(&s);
  }
  mesos__map_free(&seen);
  mesos__free(v);
  if (st == MESOS_OK) st = mesos__buf_putc(b, ']');
  return st;
}

static void usage_respond(mesos__http_request *req, mesos_agent *a, int containers) {
  if (!mesos__agent_view_ready(a, req)) return; /* a late authorizer: replayed */
  mesos__buf b = MESOS__BUF_INIT(ANSWER_MAX);
  mesos__agent_view view;
  mesos__agent_view_init(&view, a, req);
  mesos_status st = jusage(&b, a, containers, &view);
  mesos__agent_view_free(&view);
  if (st != MESOS_OK) mesos__http_respond_text(req, 500, "out of memory");
  else respond_buf(req, 200, "application/json", &b);
  mesos__buf_free(&b);
}

static void statistics_handler(mesos__http_request *req, void *ud) { usage_respond(req, ud, 0); }

static void containers_handler(mesos__http_request *req, void *ud) { usage_respond(req, ud, 1); }

/* ------------------------------------------------------------ sandboxes */

/* Copies component `i` (0-based) of `path` ("/a/b/c") into out. */
static int component(const char *path, int i, char *out, size_t cap, size_t *end) {
  const char *p = path;
  for (int k = 0;; k++) {
    if (*p != '/') return -1;
    p++;
    size_t n = strcspn(p, "/");
    if (n == 0) return -1;
    if (k == i) {
      if (n >= cap) return -1;
      memcpy(out, p, n);
      out[n] = '\0';
      *end = (size_t)(p + n - path);
      return 0;
    }
    p += n;
  }
}

/* The container a sandbox path's run component means: the id itself, or
 * for "latest" the container of the executor's newest live task, else the
 * runs/latest link a previous run may have left. */
static int run_container(mesos_agent *a, const char *fid, const char *eid, const char *run,
                         char *out, size_t cap) {
  if (strcmp(run, "latest") != 0) {
    snprintf(out, cap, "%s", run);
    return 0;
  }
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__agent_task *t = v;
    if (t->container_id && strcmp(t->framework_id, fid) == 0 && strcmp(t->executor_id, eid) == 0) {
      snprintf(out, cap, "%s", t->container_id);
      if (!state_terminal(t->state)) return 0;
    }
  }
  if (out[0]) return 0;
  for (size_t i = a->op->done_count; i-- > 0;) {
    const mesos__agent_task *c = completed_at(a->op, i);
    if (c->container_id && strcmp(c->framework_id, fid) == 0 && strcmp(c->executor_id, eid) == 0) {
      snprintf(out, cap, "%s", c->container_id);
      return 0;
    }
  }
  if (a->id == NULL) return -1;
  mesos__agent_path_ids ids = {a->id, fid, eid, NULL, NULL};
  char *latest = NULL;
  if (mesos__agent_path(&latest, a->work_dir, MESOS__AGENT_PATH_SANDBOX_LATEST, &ids, NULL) != MESOS_OK)
    return -1;
  char target[512];
  ssize_t n = readlink(latest, target, sizeof target - 1);
  mesos__free(latest);
  if (n <= 0) return -1;
  target[n] = '\0';
  const char *base = strrchr(target, '/');
  base = base ? base + 1 : target;
  size_t bl = strlen(base);
  if (bl == 0 || bl >= cap) return -1;
  memcpy(out, base, bl + 1);
  return 0;
}

/* Components after the agent id: frameworks/<f>/executors/<e>/runs/<r>. */
static mesos_status sandbox_root(mesos_agent *a, const char *aid, const char *path, int first,
                                 char **root, size_t *consumed, mesos_error **err) {
  char w[5][256];
  size_t end = 0;
  for (int i = 0; i < 5; i++)
    if (component(path, first + i, w[i], sizeof w[i], &end) != 0) return MESOS_ENOTFOUND;
  if (strcmp(w[0], "frameworks") != 0 || strcmp(w[2], "executors") != 0 ||
      strcmp(w[4], "runs") != 0)
    return MESOS_ENOTFOUND;
  char run[256], cid[256] = "";
  if (component(path, first + 5, run, sizeof run, &end) != 0) return MESOS_ENOTFOUND;
  if (run_container(a, w[1], w[3], run, cid, sizeof cid) != 0)
    return mesos__err(err, MESOS_ENOTFOUND, "'%s' not found", path);
  mesos__agent_path_ids ids = {aid, w[1], w[3], cid, NULL};
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_path(root, a->work_dir, MESOS__AGENT_PATH_SANDBOX, &ids, &e);
  if (st != MESOS_OK) {
    /* An id that cannot be a path component names nothing. */
    mesos_error_free(e);
    return mesos__err(err, MESOS_ENOTFOUND, "'%s' not found", path);
  }
  *consumed = end;
  return MESOS_OK;
}

static mesos_status resolve_sandbox(void *ud, const char *path, char **root, size_t *consumed,
                                    mesos_error **err) {
  mesos_agent *a = ud;
  if (strncmp(path, "/frameworks/", 12) == 0) {
    if (a->id == NULL) return MESOS_ENOTFOUND;
    return sandbox_root(a, a->id, path, 0, root, consumed, err);
  }
  /* The real path: <work_dir>/slaves/<agent>/frameworks/... */
  char norm[MESOS__FILES_MAX_PATH + 2];
  if (mesos__files_normalize(a->work_dir, norm, sizeof norm, NULL) != MESOS_OK)
    return MESOS_ENOTFOUND;
  size_t wl = strlen(norm);
  if (wl == 1) wl = 0;
  if (strncmp(path, norm, wl) != 0 || strncmp(path + wl, "/slaves/", 8) != 0) return MESOS_ENOTFOUND;
  char aid[256];
  size_t end = 0;
  if (component(path + wl, 1, aid, sizeof aid, &end) != 0) return MESOS_ENOTFOUND;
  mesos_status st = sandbox_root(a, aid, path + wl + end, 0, root, consumed, err);
  if (st == MESOS_OK) *consumed += wl + end;
  return st;
}

static void list_sandboxes(void *ud, void (*emit)(const char *virt, const char *real, void *ctx),
                           void *ctx) {
  mesos_agent *a = ud;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__agent_task *t = v;
    if (t->sandbox == NULL) continue;
    char virt[1024];
    snprintf(virt, sizeof virt, "/frameworks/%s/executors/%s/runs/latest", t->framework_id,
             t->executor_id);
    emit(virt, t->sandbox, ctx);
    emit(t->sandbox, t->sandbox, ctx);
  }
}

/* ------------------------------------------------------------ set-up */

mesos_status mesos__agent_operator_init(mesos_agent *a, mesos_error **err) {
  mesos__agent_operator *op = MESOS__NEW(mesos__agent_operator);
  if (op == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  op->a = a;
  op->start_time = now_secs();
  a->op = op;
  mesos_status st = mesos__agent_auth_init(a, err);
  if (st != MESOS_OK) return st;
  st = mesos__files_new(&op->files, err);
  if (st != MESOS_OK) return st;
  mesos__files_resolver r = {resolve_sandbox, list_sandboxes, a};
  mesos__files_set_resolver(op->files, &r);
  mesos__agent_auth_files(a, op->files); /* ACCESS_SANDBOX / ACCESS_MESOS_LOG, /files realm */
  if ((st = mesos__files_routes(op->files, a->http, "/slave(1)", err)) != MESOS_OK) return st;
  static const struct {
    const char *method, *path;
    mesos__http_handler fn;
  } routes[] = {
      {"POST", "/api/v1", api_handler},
      {"GET", "/state", state_handler},
      {"GET", "/state.json", state_handler},
      {"GET", "/flags", flags_handler},
      {"GET", "/metrics/snapshot", metrics_handler},
      {"GET", "/monitor/statistics", statistics_handler},
      {"GET", "/monitor/statistics.json", statistics_handler},
      {"GET", "/containers", containers_handler},
      {"GET", "/logging/toggle", toggle_handler},
  };
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
      /* /metrics/snapshot belongs to the process, not to slave(1). */
      if (pass && strcmp(routes[i].path, "/metrics/snapshot") == 0) continue;
      char path[128];
      snprintf(path, sizeof path, "%s%s", pass ? "/slave(1)" : "", routes[i].path);
      /* /api/v1 is the read-write realm, the rest read-only; /flags also
       * needs VIEW_FLAGS, /metrics/snapshot, /monitor/statistics and
       * /containers GET_ENDPOINT_WITH_PATH (spec §3.3). */
      const char *rp = routes[i].path;
      int rw = strcmp(rp, "/api/v1") == 0 || routes[i].fn == toggle_handler;
      int32_t action = routes[i].fn == flags_handler ? MESOS_AUTHZ_VIEW_FLAGS
                       : routes[i].fn == toggle_handler ? MESOS_AUTHZ_SET_LOG_LEVEL
                                                        : 0;
      const char *object = NULL;
      if (strcmp(rp, "/metrics/snapshot") == 0 || strcmp(rp, "/containers") == 0) object = rp;
      if (strncmp(rp, "/monitor/statistics", 19) == 0) object = "/monitor/statistics";
      if (object) action = MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH;
      st = mesos__auth_route(a->auth, a->http, routes[i].method, path, 0,
                             rw ? MESOS__REALM_READWRITE : MESOS__REALM_READONLY, action, object,
                             routes[i].fn, a);
      if (st != MESOS_OK) return mesos__err(err, st, "cannot route %s", path);
    }
  }
  return MESOS_OK;
}

void mesos__agent_operator_fini(mesos_agent *a) {
  mesos__agent_operator *op = a ? a->op : NULL;
  if (op == NULL) return;
  if (op->reverting) mesos_log_set_level(op->base_level);
  for (size_t i = 0; i < op->done_count; i++) completed_free(completed_at(op, i));
  mesos_timer_free(op->log_revert);
  mesos__files_free(op->files);
  mesos__free(op);
  a->op = NULL;
  mesos__agent_auth_fini(a);
}
