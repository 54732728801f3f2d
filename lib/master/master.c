/*
 * The master object: configuration (flags or options), the HTTP listener and
 * its routes, the classic endpoints, and the framework table.
 *
 * Scope today: the scheduler API's framework lifecycle (SUBSCRIBE with the
 * event stream and heartbeats, failover, TEARDOWN, RECONCILE, and the calls
 * that need agents answered as Mesos answers them while no agent is
 * registered).  Agents, offers, the allocator and the registry plug in here
 * next; see README "Status".
 */
#include "master/master_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/build_info.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "base/uuid.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "mesos/version.h"

/* The Mesos API level we report in /version and MasterInfo.version: tools
 * enable features by it, so it must be a Mesos release we really speak. */
#define MASTER_API_VERSION "1.0.0"

/* Flags mesos-master accepts, with Mesos's names, defaults and aliases.
 * Flags we accept for compatibility but do not act on yet are marked
 * "(not yet implemented)" in their help and warned about when set. */
static const mesos__flag_def master_flags[] = {
  {"ip", MESOS__FLAG_STRING, "0.0.0.0", "IP address to listen on", NULL, NULL},
  {"port", MESOS__FLAG_INT, "5050", "Port to listen on", NULL, NULL},
  {"hostname", MESOS__FLAG_STRING, NULL, "Hostname announced in MasterInfo (default: the host's name)", NULL, NULL},
  {"advertise_ip", MESOS__FLAG_STRING, NULL, "IP published to others (not yet implemented)", NULL, NULL},
  {"advertise_port", MESOS__FLAG_INT, NULL, "Port published to others (not yet implemented)", NULL, NULL},
  {"work_dir", MESOS__FLAG_STRING, NULL, "Directory for the registry", NULL, NULL},
  {"registry", MESOS__FLAG_STRING, NULL,
   "Registry persistence: in_memory, or replicated_log (a durable log in --work_dir; "
   "the default when --work_dir is set)", NULL, "in_memory|replicated_log"},
  {"cluster", MESOS__FLAG_STRING, NULL, "Human readable cluster name", NULL, NULL},
  {"roles", MESOS__FLAG_STRING, NULL, "Comma-separated whitelist of roles frameworks may use (deprecated in Mesos)", NULL, NULL},
  {"weights", MESOS__FLAG_STRING, NULL, "Initial role weights: role=weight,...", NULL, NULL},
  {"offer_timeout", MESOS__FLAG_DURATION, NULL, "Rescind offers after this long", NULL, NULL},
  {"allocation_interval", MESOS__FLAG_DURATION, "1secs", "Batch allocation period", NULL, NULL},
  {"framework_sorter", MESOS__FLAG_STRING, "drf", "Sorter among frameworks of a role", NULL, "drf"},
  {"role_sorter", MESOS__FLAG_STRING, "drf", "Sorter among roles", "user_sorter", "drf"},
  {"agent_ping_timeout", MESOS__FLAG_DURATION, "15secs", "Agent ping reply timeout", "slave_ping_timeout", NULL},
  {"max_agent_ping_timeouts", MESOS__FLAG_INT, "5", "Missed pings before an agent is unreachable", "max_slave_ping_timeouts", NULL},
  {"agent_reregister_timeout", MESOS__FLAG_DURATION, "10mins", "How long agents admitted before a master restart have to re-register before they are marked unreachable (at least 10secs)", "slave_reregister_timeout", NULL},
  {"http_heartbeat_interval", MESOS__FLAG_DURATION, "15secs",
   "Period of HEARTBEAT events on scheduler streams (libmesos-core; Mesos fixes it at 15secs)", NULL, NULL},
  {"root_submissions", MESOS__FLAG_BOOL, "true", "Allow frameworks to run tasks as root", NULL, NULL},
  {"max_completed_frameworks", MESOS__FLAG_INT, "50", "Completed frameworks kept for /state and the operator API", NULL, NULL},
  {"max_completed_tasks_per_framework", MESOS__FLAG_INT, "1000", "Completed tasks kept per framework for /state and GET_TASKS", NULL, NULL},
  {"max_operator_event_stream_subscribers", MESOS__FLAG_INT, "1000", "Operator SUBSCRIBE streams at once (the oldest is dropped beyond)", NULL, NULL},
  {"log_dir", MESOS__FLAG_STRING, NULL, "Directory the master also writes its log file into (mesos-master.INFO links to it); served as /master/log", NULL, NULL},
  {"logging_level", MESOS__FLAG_STRING, "INFO", "Log level: ERROR, WARNING, INFO, DEBUG or TRACE", NULL, NULL},
  {"quiet", MESOS__FLAG_BOOL, "false", "Log nothing to stderr", NULL, NULL},
  MESOS__MASTER_AUTH_FLAGS,
  {"help", MESOS__FLAG_BOOL, "false", "Print this help and exit", NULL, NULL},
  {"version", MESOS__FLAG_BOOL, "false", "Print the version and exit", NULL, NULL},
};
#define NMASTER_FLAGS (sizeof master_flags / sizeof master_flags[0])

double mesos__master_now(void) { return mesos__wall_seconds(); }

/* ------------------------------------------------------------ flags API */

/* The bodies are flags.h's, shared with the other daemon: the handle's
 * first member is its mesos__flags. */
_Static_assert(offsetof(struct mesos_master_flags, f) == 0, "flags.h's handles");

MESOS_EXTERN(mesos_status) mesos_master_flags_parse(mesos_master_flags **out, int argc,
                                                    char *const *argv, char *const *envp,
                                                    mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_master_flags_parse: out is NULL");
  void *h = NULL;
  mesos_status st = mesos__flags_handle_parse(&h, sizeof **out, master_flags, NMASTER_FLAGS, argc, argv,
                                               envp, err);
  if (st == MESOS_OK) *out = h;
  return st;
}

MESOS_EXTERN(void) mesos_master_flags_free(mesos_master_flags *flags) {
  mesos__flags_handle_free(flags);
}

MESOS_EXTERN(int) mesos_master_flags_bool(const mesos_master_flags *flags, const char *name) {
  return mesos__flags_handle_bool(flags, name);
}

MESOS_EXTERN(const char *) mesos_master_flags_get(const mesos_master_flags *flags,
                                                  const char *name) {
  return mesos__flags_handle_get(flags, name);
}

MESOS_EXTERN(mesos_status) mesos_master_flags_usage(const char *program, char **out,
                                                    mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_master_flags_usage: out is NULL");
  return mesos__flags_usage_string(master_flags, NMASTER_FLAGS,
                                   program ? program : "mesos-master", out, err);
}

MESOS_EXTERN(mesos_status) mesos_master_options_init(mesos_master_options *opts,
                                                     uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version < 1 || version > MESOS_MASTER_OPTIONS_VERSION) return MESOS_EVERSION;
  mesos_master_options d = MESOS_MASTER_OPTIONS_INIT;
  d.version = version;
  memcpy(opts, &d, version == 1 ? offsetof(mesos_master_options, allocator) : sizeof d);
  return MESOS_OK;
}

/* Renders an options struct as the equivalent command line, so a master
 * built from options and one built from flags share one configuration path
 * (and /flags shows the same thing for both). */
static mesos_status options_to_flags(const mesos_master_options *o, mesos__flags **out,
                                     mesos_error **err) {
  char bufs[8][512];
  char *argv[10];
  int argc = 0;
  argv[argc++] = "mesos-master";
#define ADD(fmt, ...)                                                     \
  do {                                                                    \
    snprintf(bufs[argc - 1], sizeof bufs[0], fmt, __VA_ARGS__);           \
    argv[argc] = bufs[argc - 1];                                          \
    argc++;                                                               \
  } while (0)
  if (o->ip) ADD("--ip=%s", o->ip);
  ADD("--port=%u", (unsigned)o->port);
  if (o->hostname) ADD("--hostname=%s", o->hostname);
  if (o->work_dir) ADD("--work_dir=%s", o->work_dir);
  if (o->registry) ADD("--registry=%s", o->registry);
  if (o->cluster) ADD("--cluster=%s", o->cluster);
  if (o->heartbeat_interval_ms) {
    char d[64];
    mesos__format_duration(o->heartbeat_interval_ms * MESOS__NS_PER_MS, d, sizeof d);
    ADD("--http_heartbeat_interval=%s", d);
  }
#undef ADD
  return mesos__flags_parse(out, master_flags, NMASTER_FLAGS, argc, argv, NULL, err);
}

static const char *const not_yet[] = {"advertise_ip", "advertise_port"};

/* Mesos refuses a shorter --agent_reregister_timeout. */
#define MIN_REREGISTER_MS 10000
/* Tests need a window of a second, not ten: this environment variable (in
 * milliseconds, test builds and test runs only, never documented as a flag)
 * overrides the flag and its minimum. */
#define REREGISTER_TEST_KNOB "LIBMESOS_CORE_TEST_AGENT_REREGISTER_TIMEOUT_MS"

/* ------------------------------------------------------------ endpoints */

static void version_handler(mesos__http_request *req, void *ud) {
  (void)ud;
  char body[256], date[32];
  int n = snprintf(body, sizeof body,
                   "{\"version\":\"%s\",\"build_date\":\"%s\",\"build_time\":%.0f,"
                   "\"build_user\":\"libmesos-core\",\"libmesos_core_version\":\"%s\"}",
                   MASTER_API_VERSION, mesos__build_date(date, sizeof date), mesos__build_time(),
                   mesos_version_string());
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "application/json");
  mesos__http_respond(req, 200, &h, body, (size_t)n);
  mesos__http_headers_free(&h);
}

static void health_handler(mesos__http_request *req, void *ud) {
  (void)ud;
  mesos__http_respond(req, 200, NULL, "", 0);
}

/* ------------------------------------------------------------ roles */

/* --weights=role=weight,...: validated and handed to the allocator.  All or
 * nothing: a malformed entry fails start-up with the entry named. */
static mesos_status apply_weights(mesos_master *m, mesos_error **err) {
  const char *text = mesos__flags_get(m->flags, "weights");
  if (text == NULL || *text == '\0') return MESOS_OK;
  char *copy = mesos__strdup(text);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t n = 1;
  for (const char *p = copy; *p; p++) n += *p == ',';
  const char **roles = mesos__calloc(n, sizeof *roles);
  double *weights = mesos__calloc(n, sizeof *weights);
  mesos_status st = roles && weights ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t k = 0;
  char *cursor = copy;
  while (st == MESOS_OK && cursor) {
    char *entry = cursor;
    char *comma = strchr(cursor, ',');
    if (comma) *comma = '\0';
    cursor = comma ? comma + 1 : NULL;
    char *eq = strchr(entry, '=');
    const char *bad = NULL;
    if (eq == NULL) bad = "expected role=weight";
    else {
      *eq = '\0';
      bad = mesos__validate_role(entry);
      if (!bad && (mesos__parse_double(eq + 1, &weights[k], "weight", NULL) != MESOS_OK ||
                   !(weights[k] > 0)))
        bad = "weight must be a positive number";
    }
    if (bad) {
      st = mesos__err(err, MESOS_EINVAL, "--weights: '%s': %s", entry, bad);
      break;
    }
    roles[k++] = entry;
  }
  if (st == MESOS_OK) st = mesos_allocator_update_weights(m->allocator, roles, weights, k, err);
  mesos__free(roles);
  mesos__free(weights);
  mesos__free(copy);
  return st;
}

/* ------------------------------------------------------------ registry */

/* --registry: in_memory, or replicated_log (a durable log under
 * <work_dir>/registry; the name Mesos users pass).  Unset: durable when
 * --work_dir is given. */
static mesos_status open_registry(mesos_master *m, mesos_error **err) {
  const char *kind = mesos__flags_get(m->flags, "registry");
  const char *work_dir = mesos__flags_get(m->flags, "work_dir");
  int durable = kind ? strcmp(kind, "replicated_log") == 0 : work_dir != NULL;
  if (durable && work_dir == NULL)
    return mesos__err(err, MESOS_EINVAL, "--registry=replicated_log needs --work_dir");
  char dir[4096];
  mesos__registry_options ro;
  memset(&ro, 0, sizeof ro);
  if (durable) {
    if (mkdir(work_dir, 0755) != 0 && errno != EEXIST)
      return mesos__err_errno(err, MESOS_EIO, errno, "--work_dir");
    snprintf(dir, sizeof dir, "%s/registry", work_dir);
    ro.dir = dir;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__registry_open(&m->registry, &ro, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "cannot recover the registry%s%s: %s",
                           durable ? " in " : "", durable ? dir : "",
                           e ? mesos_error_message(e) : mesos_status_str(st));
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  LOG_INFO("Recovered registry%s%s: %zu admitted agents, %zu unreachable, %zu gone",
           durable ? " from " : " (in memory)", durable ? dir : "", reg->n_agents,
           reg->n_unreachable, reg->n_gone);
  return MESOS_OK;
}

mesos_status mesos__registry_agent_op(mesos_master *m, Mesos__Internal__RegistryOperation__Type type,
                                      mesos__agent *a, mesos_error **err) {
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__TimeInfo ts = MESOS__V1__TIME_INFO__INIT;
  aid.value = a->id;
  ts.nanoseconds = (int64_t)(mesos__master_now() * 1e9);
  op.has_type = 1;
  op.type = type;
  op.agent_info = a->info;
  op.agent_id = &aid;
  op.timestamp = &ts;
  return mesos__registry_apply(m->registry, &op, err);
}

/* ------------------------------------------------------------ lifecycle */

static mesos_status master_setup_info(mesos_master *m, mesos_error **err) {
  const char *host = mesos__flags_get(m->flags, "hostname");
  if (host) {
    snprintf(m->hostname, sizeof m->hostname, "%s", host);
  } else if (gethostname(m->hostname, sizeof m->hostname) != 0) {
    snprintf(m->hostname, sizeof m->hostname, "localhost");
  }
  m->hostname[sizeof m->hostname - 1] = '\0';
  mesos__v1__master_info__init(&m->info);
  mesos__v1__address__init(&m->address);
  m->info.id = m->id;
  struct in_addr a;
  m->info.ip = inet_pton(AF_INET, m->ip, &a) == 1 ? a.s_addr : 0;
  m->info.port = m->port;
  m->info.hostname = m->hostname;
  m->info.version = (char *)MASTER_API_VERSION;
  m->address.hostname = m->hostname;
  m->address.ip = m->ip;
  m->address.port = (int32_t)m->port;
  m->info.address = &m->address;
  (void)err;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_master_new(mesos_master **out, mesos_loop *loop,
                                            const mesos_master_options *opts,
                                            const mesos_master_flags *flags, mesos_error **err) {
  if (opts && (opts->version < 1 || opts->version > MESOS_MASTER_OPTIONS_VERSION))
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_master_options: version %u not supported (this library: %u)",
                      opts->version, MESOS_MASTER_OPTIONS_VERSION);
  /* A caller's allocator (options version 2) is ours from here on: every
   * failure below frees it, through mesos_master_free once m exists. */
  mesos_allocator *given = opts && opts->version >= 2 ? opts->allocator : NULL;
  if (out == NULL || loop == NULL) {
    mesos_allocator_free(given);
    return mesos__err(err, MESOS_EINVAL, "mesos_master_new: out and loop are required");
  }
  if (opts && flags) {
    mesos_allocator_free(given);
    return mesos__err(err, MESOS_EINVAL, "mesos_master_new: pass options or flags, not both");
  }
  mesos_master *m = MESOS__NEW(mesos_master);
  if (m == NULL) {
    mesos_allocator_free(given);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  m->allocator = given;
  m->loop = loop;
  mesos__map_init(&m->frameworks);
  mesos__map_init(&m->removed);
  mesos__map_init(&m->agents);
  mesos__map_init(&m->offers);
  mesos__map_init(&m->pending_offers);
  mesos__map_init(&m->expected);
  mesos_status st;
  if (flags) {
    st = mesos__flags_copy(&m->flags, master_flags, NMASTER_FLAGS, flags->f, err);
  } else {
    mesos_master_options d = MESOS_MASTER_OPTIONS_INIT;
    st = options_to_flags(opts ? opts : &d, &m->flags, err);
  }
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  for (size_t i = 0; i < sizeof not_yet / sizeof not_yet[0]; i++)
    if (mesos__flags_is_set(m->flags, not_yet[i]))
      LOG_WARN("--%s is accepted for compatibility but has no effect yet", not_yet[i]);

  int64_t port = mesos__flags_int(m->flags, "port");
  if (port < 0 || port > 65535) {
    mesos_master_free(m);
    return mesos__err(err, MESOS_EINVAL, "--port: %lld is not a TCP port", (long long)port);
  }
  snprintf(m->ip, sizeof m->ip, "%s", mesos__flags_get(m->flags, "ip"));
  m->heartbeat_ms = mesos__flags_duration_ns(m->flags, "http_heartbeat_interval") / MESOS__NS_PER_MS;
  if (m->heartbeat_ms == 0) {
    mesos_master_free(m);
    return mesos__err(err, MESOS_EINVAL, "--http_heartbeat_interval must be positive");
  }
  m->allocation_ms = mesos__flags_duration_ns(m->flags, "allocation_interval") / MESOS__NS_PER_MS;
  m->offer_timeout_ms = mesos__flags_duration_ns(m->flags, "offer_timeout") / MESOS__NS_PER_MS;
  m->agent_ping_ms = mesos__flags_duration_ns(m->flags, "agent_ping_timeout") / MESOS__NS_PER_MS;
  int64_t max_pings = mesos__flags_int(m->flags, "max_agent_ping_timeouts");
  if (m->allocation_ms == 0 || m->agent_ping_ms == 0 || max_pings < 1 || max_pings > 1000000) {
    mesos_master_free(m);
    return mesos__err(err, MESOS_EINVAL,
                      "--allocation_interval and --agent_ping_timeout must be positive and "
                      "--max_agent_ping_timeouts at least 1");
  }
  m->max_ping_timeouts = (uint32_t)max_pings;
  m->reregister_ms = mesos__flags_duration_ns(m->flags, "agent_reregister_timeout") / MESOS__NS_PER_MS;
  if (m->reregister_ms < MIN_REREGISTER_MS) {
    mesos_master_free(m);
    return mesos__err(err, MESOS_EINVAL,
                      "--agent_reregister_timeout: expected at least 10secs");
  }
  const char *knob = getenv(REREGISTER_TEST_KNOB);
  if (knob && *knob) {
    char *end = NULL;
    unsigned long long v = strtoull(knob, &end, 10);
    if (end && *end == '\0' && v > 0 && v < UINT32_MAX) {
      m->reregister_ms = v;
      LOG_WARN("%s=%llu overrides --agent_reregister_timeout", REREGISTER_TEST_KNOB, v);
    }
  }
  st = mesos__uuid_random_str(m->id);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return mesos__err(err, st, "cannot generate the master id");
  }

  char listen[128];
  snprintf(listen, sizeof listen, strchr(m->ip, ':') ? "[%s]:%lld" : "%s:%lld", m->ip,
           (long long)port);
  mesos__http_server_options hopts;
  memset(&hopts, 0, sizeof hopts);
  hopts.listen = listen;
  st = mesos__master_auth_init(m, err);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  st = mesos__master_tls_config(m, &hopts.tls, err);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  st = mesos__http_server_new(&m->http, loop, &hopts, err);
  mesos__tls_config_unref(hopts.tls); /* the server holds its own reference */
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  m->port = mesos__http_server_port(m->http);
  static const char *const sched_paths[] = {"/api/v1/scheduler", "/master/api/v1/scheduler"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__auth_route(m->auth, m->http, "POST", sched_paths[i], 0,
                           MESOS__REALM_FRAMEWORK, 0, NULL, mesos__scheduler_api_handler, m);
  static const char *const agent_paths[] = {"/api/v1/agent", "/master/api/v1/agent"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__auth_route(m->auth, m->http, "POST", agent_paths[i], 0, MESOS__REALM_AGENT,
                           MESOS_AUTHZ_REGISTER_AGENT, NULL, mesos__agent_api_handler, m);
  static const char *const version_paths[] = {"/version", "/master/version"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__http_server_route(m->http, "GET", version_paths[i], 0, version_handler, m);
  static const char *const health_paths[] = {"/health", "/master/health"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__http_server_route(m->http, "GET", health_paths[i], 0, health_handler, m);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return mesos__err(err, st, "cannot register routes");
  }
  master_setup_info(m, err);
  st = open_registry(m, err);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  st = mesos__offers_init(m, err);
  if (st == MESOS_OK) st = apply_weights(m, err);
  if (st == MESOS_OK) st = mesos__operator_init(m, err);
  if (st == MESOS_OK) st = mesos__agents_expect_recovered(m, err);
  if (st != MESOS_OK) {
    mesos_master_free(m);
    return st;
  }
  m->start_ms = mesos_loop_now_ms(loop);
  m->start_time = mesos__master_now();
  LOG_INFO("Master %s (%s) listening on %s:%u", m->id, m->hostname, m->ip, (unsigned)m->port);
  *out = m;
  return MESOS_OK;
}

MESOS_EXTERN(uint32_t) mesos_master_port(const mesos_master *master) { return master->port; }

MESOS_EXTERN(const char *) mesos_master_id(const mesos_master *master) { return master->id; }

MESOS_EXTERN(void) mesos_master_free(mesos_master *m) {
  if (m == NULL) return;
  /* A /state render in flight reads tasks: stopped before any is freed. */
  mesos__state_fini(m);
  /* Offers and the allocator go first, so freeing tasks below gives
   * nothing back to an allocator that is being torn down. */
  mesos__offers_fini(m);
  mesos__agents_fini(m);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) mesos__framework_free(v);
  mesos__map_free(&m->frameworks);
  it = 0;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) mesos__agent_free(v);
  mesos__map_free(&m->agents);
  mesos__map_free(&m->removed);
  mesos__operator_fini(m);
  mesos__http_server_free(m->http);
  mesos__master_auth_fini(m);
  mesos__registry_close(m->registry);
  mesos__flags_free(m->flags);
  mesos__interns_fini(m); /* after every task and parked body */
  mesos__free(m);
}
