/*
 * How fast the real mesos-agent gets back to a master that lost it.
 *
 *  - A real mesos-master killed with -9 and started again a few seconds
 *    later (same port, its registry on disk): meanwhile the agent tried a
 *    handful of times, its back-off doubling from
 *    --registration_backoff_factor as Mesos's does (not once per factor),
 *    and it re-registers when the delay it had drawn runs out (not after
 *    the ping timeout).
 *  - A master that answers the agent's calls with 409 "Agent is
 *    disconnected" (it lost its end of the agent's event stream while the
 *    agent still holds one: no ping will ever come on it) gets a
 *    re-registration at once; a 409 about an older connection does not
 *    make the agent re-register.  That master is simulated in this
 *    process (the library's HTTP server on a loop the test drives): the
 *    real one cannot be put in that state on demand.
 *  - The same simulated master sends CHECKPOINT_RESOURCES whose volume
 *    ids or roles would climb out of work_dir/volumes: each refused whole,
 *    nothing created; a valid one after them is applied.
 */
#include <poll.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "http/server.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/loop.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static char base_dir[256];
static char agent_log[512];

static void make_base(void) {
  /* Named after the runner (each test is its forked child), whose exit
   * removes what a failing test left. */
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-rereg-%d-XXXXXX", (int)getppid());
  ck_assert_ptr_nonnull(mkdtemp(base_dir));
  snprintf(agent_log, sizeof agent_log, "%s/agent.log", base_dir);
}

static void remove_base(void) {
  mesos_test_kill_under(base_dir);
  if (getenv("MESOS_TEST_KEEP") == NULL) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", base_dir);
  }
}

static pid_t spawn_agent(int master_port, int port, const char *backoff) {
  char path[4096], master_arg[64], port_arg[64], wd_arg[400], bo[64];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/agent", base_dir);
  snprintf(bo, sizeof bo, "--registration_backoff_factor=%s", backoff);
  char *argv[] = {path, master_arg, port_arg, wd_arg, "--ip=127.0.0.1", "--hostname=agent-test",
                  "--resources=cpus:1;mem:128;disk:128", bo, NULL};
  pid_t pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(pid, 0);
  return pid;
}

/* Whether the agent's /state says it is registered. */
static int agent_registered(int port) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  int yes = mesos_test_http(port, "GET", "/state", NULL, NULL, NULL, &r) == 0 && r.status == 200 &&
            r.body && strstr(r.body, "\"registered\":true") != NULL;
  mesos_test_response_free(&r);
  return yes;
}

/* ------------------------------------------------------------ real master */

static pid_t spawn_master(int port) {
  char path[4096], port_arg[64], wd_arg[400];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", base_dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, wd_arg, "--logging_level=WARNING", NULL};
  pid_t pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(pid, 0);
  ck_assert(mesos_test_wait_http_ok(port, "/health", 10000));
  return pid;
}

/* The agent's "Lost the master (...); re-registering in N ms" lines so
 * far, and the last N. */
static int lost_lines(long long *last_delay) {
  const char *log = mesos_test_slurp(agent_log);
  int n = 0;
  *last_delay = -1;
  for (const char *p = log; p && (p = strstr(p, "Lost the master")) != NULL; p++) {
    const char *in = strstr(p, "registering in ");
    const char *eol = strchr(p, '\n');
    if (in && (eol == NULL || in < eol)) {
      *last_delay = strtoll(in + strlen("registering in "), NULL, 10);
      n++;
    }
  }
  return n;
}

START_TEST(test_reregister__agent_is_back_within_its_backoff_after_a_master_restart) {
  make_base();
  int mport = mesos_test_free_port(), aport = mesos_test_free_port();
  pid_t master = spawn_master(mport);
  pid_t agent = spawn_agent(mport, aport, "100ms");
  ck_assert(mesos_test_wait_http_ok(aport, "/health", 10000));
  long long deadline = sim_fw_now_ms() + 10000;
  while (!agent_registered(aport)) {
    ck_assert_msg(sim_fw_now_ms() < deadline, "never registered:\n%s", mesos_test_slurp(agent_log));
    usleep(20000);
  }
  kill(master, SIGKILL);
  waitpid(master, NULL, 0);
  /* Down long enough for several failed attempts. */
  deadline = sim_fw_now_ms() + 4000;
  while (sim_fw_now_ms() < deadline) {
    ck_assert_msg(!agent_registered(aport) || sim_fw_now_ms() < deadline - 3500,
                  "the agent still says it is registered with a dead master");
    usleep(50000);
  }
  master = spawn_master(mport); /* returns once /health answers */
  long long up = sim_fw_now_ms();
  long long last = -1;
  int attempts = lost_lines(&last);
  /* Ceilings 100, 200, ... 6400 ms: about 6 attempts in 4 s (the agent
   * retried every 50 ms on average, ~80 times, before the doubling). */
  ck_assert_msg(attempts >= 2 && attempts <= 12, "%d attempts while the master was down:\n%s",
                attempts, mesos_test_slurp(agent_log));
  ck_assert_msg(last >= 0 && last <= 60000, "last delay %lld ms", last);
  /* The attempt pending when the master came back is due within `last`. */
  while (!agent_registered(aport)) {
    ck_assert_msg(sim_fw_now_ms() - up < last + 3000,
                  "the agent was not back within %lld ms of the master:\n%s", last + 3000,
                  mesos_test_slurp(agent_log));
    usleep(10000);
  }
  fprintf(stderr, "agent back %lld ms after the master (pending delay %lld ms, %d attempts)\n",
          sim_fw_now_ms() - up, last, attempts);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "Re-registered with the master") != NULL, "%s",
                mesos_test_slurp(agent_log));
  int st = mesos_test_stop(agent, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent exit status %d", st);
  st = mesos_test_stop(master, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "master exit status %d", st);
  remove_base();
}
END_TEST

/* ------------------------------------------------------------ simulated master */

typedef struct fake_master {
  mesos_loop *loop;
  mesos__http_server *srv;
  int regs;                    /* REGISTER + REREGISTER calls */
  int pongs;                   /* PONG calls */
  mesos__http_request *stream; /* the current event stream */
  const char *answer;          /* the 409 text for a PONG */
} fake_master;

static void stream_gone(mesos__http_request *req, void *ud) {
  fake_master *f = ud;
  if (f->stream == req) f->stream = NULL;
}

static void send_event(fake_master *f, Mesos__Internal__AgentEvent *ev) {
  ev->protocol_version = 1;
  ev->has_type = 1;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_mesos_ok(mesos__pb_pack(&ev->base, 0, &bytes, &len, NULL), NULL);
  char head[32];
  int n = snprintf(head, sizeof head, "%zu\n", len);
  ck_assert_ptr_nonnull(f->stream);
  ck_assert_int_eq(mesos__http_stream_send(f->stream, head, (size_t)n), MESOS_OK);
  ck_assert_int_eq(mesos__http_stream_send(f->stream, (const char *)bytes, len), MESOS_OK);
  mesos__free(bytes);
}

static void agent_api(mesos__http_request *req, void *ud) {
  fake_master *f = ud;
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  ProtobufCMessage *m = NULL;
  if (mesos__pb_unpack(&mesos__internal__agent_call__descriptor, (const uint8_t *)body, len, 0, 0,
                       &m, NULL) != MESOS_OK) {
    mesos__http_respond_text(req, 400, "bad call");
    return;
  }
  const Mesos__Internal__AgentCall *c = (const Mesos__Internal__AgentCall *)m;
  int re = c->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
  if (c->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER || re) {
    f->regs++;
    mesos__http_headers h;
    mesos__http_headers_init(&h);
    mesos__http_headers_set(&h, "Content-Type", "application/x-protobuf");
    mesos_status st = mesos__http_stream_start(req, 200, &h);
    mesos__http_headers_free(&h);
    ck_assert_int_eq(st, MESOS_OK);
    f->stream = req;
    mesos__http_request_on_abort(req, stream_gone, f);
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    aid.value = "fake-S0";
    Mesos__Internal__AgentConnection conn = MESOS__INTERNAL__AGENT_CONNECTION__INIT;
    conn.has_total_ping_timeout_seconds = 1;
    conn.total_ping_timeout_seconds = 60; /* far beyond the test */
    Mesos__Internal__AgentRegistered reg = MESOS__INTERNAL__AGENT_REGISTERED__INIT;
    Mesos__Internal__AgentReregistered rereg = MESOS__INTERNAL__AGENT_REREGISTERED__INIT;
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    if (re) {
      rereg.agent_id = &aid;
      rereg.connection = &conn;
      rereg.has_connection_id = 1;
      rereg.connection_id = (uint64_t)f->regs;
      ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED;
      ev.agent_reregistered = &rereg;
    } else {
      reg.agent_id = &aid;
      reg.connection = &conn;
      reg.has_connection_id = 1;
      reg.connection_id = (uint64_t)f->regs;
      ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED;
      ev.agent_registered = &reg;
    }
    send_event(f, &ev);
  } else if (c->type == MESOS__INTERNAL__AGENT_CALL__TYPE__PONG) {
    f->pongs++;
    mesos__http_respond_text(req, 409, f->answer);
  } else {
    mesos__http_respond(req, 202, NULL, "", 0);
  }
  mesos__pb_free(m);
}

/* Runs the fake master's loop for `ms`, or until *counter reaches `want`
 * (want < 0: the whole time).  Whether it did. */
static int pump(fake_master *f, int ms, const int *counter, int want) {
  long long end = sim_fw_now_ms() + ms;
  for (;;) {
    if (counter && want >= 0 && *counter >= want) return 1;
    long long left = end - sim_fw_now_ms();
    if (left <= 0) return counter && want >= 0 ? *counter >= want : 1;
    int t = mesos_loop_timeout_ms(f->loop);
    if (t < 0 || t > 20) t = 20;
    if (t > left) t = (int)left;
    struct pollfd p = {mesos_loop_fd(f->loop), POLLIN, 0};
    poll(&p, 1, t);
    mesos_loop_run_once(f->loop);
  }
}

static void ping(fake_master *f) {
  Mesos__Internal__Ping p = MESOS__INTERNAL__PING__INIT;
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__PING;
  ev.ping = &p;
  send_event(f, &ev);
}

START_TEST(test_reregister__409_disconnected_reregisters_at_once_older_connection_does_not) {
  make_base();
  fake_master f;
  memset(&f, 0, sizeof f);
  ck_assert_mesos_ok(mesos_loop_new(&f.loop, NULL, NULL), NULL);
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  o.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&f.srv, f.loop, &o, NULL), NULL);
  ck_assert_mesos_ok(
      mesos__http_server_route(f.srv, "POST", "/api/v1/agent", 0, agent_api, &f), NULL);
  int mport = mesos__http_server_port(f.srv), aport = mesos_test_free_port();
  pid_t agent = spawn_agent(mport, aport, "50ms");
  ck_assert_msg(pump(&f, 10000, &f.regs, 1), "the agent never registered:\n%s",
                mesos_test_slurp(agent_log));

  /* A 409 about an older connection: the agent keeps its stream.  (The
   * ping comes more than a second after the registration: an answer
   * sooner than that is taken as one to an earlier call.) */
  f.answer = "Call from an older connection of this agent";
  pump(&f, 1200, NULL, -1);
  ping(&f);
  ck_assert_msg(pump(&f, 5000, &f.pongs, 1), "no PONG:\n%s", mesos_test_slurp(agent_log));
  pump(&f, 1500, NULL, -1);
  ck_assert_msg(f.regs == 1, "re-registered after a 409 about an older connection:\n%s",
                mesos_test_slurp(agent_log));

  /* "Disconnected": back at once, not after the 60 s ping timeout. */
  f.answer = "Agent is disconnected; re-register first";
  ping(&f);
  long long t0 = sim_fw_now_ms();
  ck_assert_msg(pump(&f, 5000, &f.pongs, 2), "no second PONG:\n%s", mesos_test_slurp(agent_log));
  ck_assert_msg(pump(&f, 3000, &f.regs, 2), "no re-registration after 409 disconnected:\n%s",
                mesos_test_slurp(agent_log));
  fprintf(stderr, "re-registered %lld ms after the ping\n", sim_fw_now_ms() - t0);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "disconnected") != NULL, "%s", mesos_test_slurp(agent_log));

  /* A ping saying the agent is not connected (Mesos's way): the same. */
  pump(&f, 100, NULL, -1);
  Mesos__Internal__Ping p = MESOS__INTERNAL__PING__INIT;
  p.has_connected = 1;
  p.connected = 0;
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__PING;
  ev.ping = &p;
  send_event(&f, &ev);
  ck_assert_msg(pump(&f, 3000, &f.regs, 3), "no re-registration after ping connected=false:\n%s",
                mesos_test_slurp(agent_log));

  int st = mesos_test_stop(agent, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent exit status %d", st);
  mesos__http_server_free(f.srv);
  mesos_loop_free(f.loop);
  remove_base();
}
END_TEST

/* CHECKPOINT_RESOURCES with volumes whose id or role would climb out of
 * work_dir/volumes: refused whole (nothing created, nothing checkpointed),
 * the agent keeps serving; a valid one after it is applied. */
static void checkpoint_volume(fake_master *f, const char *role, const char *id) {
  Mesos__V1__Value__Scalar sc = MESOS__V1__VALUE__SCALAR__INIT;
  sc.value = 8;
  Mesos__V1__Resource__ReservationInfo ri = MESOS__V1__RESOURCE__RESERVATION_INFO__INIT;
  ri.has_type = 1;
  ri.type = MESOS__V1__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
  ri.role = (char *)role;
  Mesos__V1__Resource__ReservationInfo *ris[1] = {&ri};
  Mesos__V1__Resource__DiskInfo__Persistence pe = MESOS__V1__RESOURCE__DISK_INFO__PERSISTENCE__INIT;
  pe.id = (char *)id;
  Mesos__V1__Volume vol = MESOS__V1__VOLUME__INIT;
  vol.mode = MESOS__V1__VOLUME__MODE__RW;
  vol.container_path = "data";
  Mesos__V1__Resource__DiskInfo di = MESOS__V1__RESOURCE__DISK_INFO__INIT;
  di.persistence = &pe;
  di.volume = &vol;
  Mesos__V1__Resource r = MESOS__V1__RESOURCE__INIT;
  r.name = "disk";
  r.type = MESOS__V1__VALUE__TYPE__SCALAR;
  r.scalar = &sc;
  r.n_reservations = 1;
  r.reservations = ris;
  r.disk = &di;
  Mesos__V1__Resource *rs[1] = {&r};
  Mesos__Internal__CheckpointResources cr = MESOS__INTERNAL__CHECKPOINT_RESOURCES__INIT;
  cr.n_resources = 1;
  cr.resources = rs;
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES;
  ev.checkpoint_resources = &cr;
  send_event(f, &ev);
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

START_TEST(test_reregister__hostile_checkpoint_resources_are_refused_whole) {
  make_base();
  fake_master f;
  memset(&f, 0, sizeof f);
  f.answer = "Call from an older connection of this agent";
  ck_assert_mesos_ok(mesos_loop_new(&f.loop, NULL, NULL), NULL);
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  o.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&f.srv, f.loop, &o, NULL), NULL);
  ck_assert_mesos_ok(
      mesos__http_server_route(f.srv, "POST", "/api/v1/agent", 0, agent_api, &f), NULL);
  int mport = mesos__http_server_port(f.srv), aport = mesos_test_free_port();
  pid_t agent = spawn_agent(mport, aport, "50ms");
  ck_assert_msg(pump(&f, 10000, &f.regs, 1), "the agent never registered:\n%s",
                mesos_test_slurp(agent_log));
  static const char *const bad[][2] = {{"vol", "../../escape"}, {"vol", ".."},
                                       {"../esc", "v1"}, {"vol", "a/b"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) checkpoint_volume(&f, bad[i][0], bad[i][1]);
  checkpoint_volume(&f, "vol", "good");
  char good[600], ckpt[600];
  snprintf(good, sizeof good, "%s/agent/volumes/roles/vol/good", base_dir);
  snprintf(ckpt, sizeof ckpt, "%s/agent/meta/resources/resources.info", base_dir);
  long long deadline = sim_fw_now_ms() + 10000;
  /* (The directory comes first, the checkpoint naming it right after.) */
  while (!(exists(good) && exists(ckpt)) && sim_fw_now_ms() < deadline) pump(&f, 20, NULL, -1);
  ck_assert_msg(exists(good) && exists(ckpt), "the valid volume was not made:\n%s",
                mesos_test_slurp(agent_log));
  /* Refused, each naming why; nothing outside work_dir/volumes/roles/vol. */
  const char *log = mesos_test_slurp(agent_log);
  size_t refused = 0;
  for (const char *p = log; (p = strstr(p, "CHECKPOINT_RESOURCES refused")) != NULL; p++) refused++;
  ck_assert_msg(refused == sizeof bad / sizeof *bad, "%zu refusals:\n%s", refused, log);
  char p[600];
  snprintf(p, sizeof p, "%s/escape", base_dir);
  ck_assert(!exists(p));
  snprintf(p, sizeof p, "%s/agent/volumes/roles/vol/a", base_dir);
  ck_assert(!exists(p));
  snprintf(p, sizeof p, "%s/agent/volumes/esc", base_dir);
  ck_assert(!exists(p));
  ck_assert(mesos_test_wait_http_ok(aport, "/health", 2000));
  int st = mesos_test_stop(agent, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent exit status %d", st);
  mesos__http_server_free(f.srv);
  mesos_loop_free(f.loop);
  remove_base();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_state_reregister");
  TCase *tc = tcase_create("reregister");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_reregister__agent_is_back_within_its_backoff_after_a_master_restart);
  tcase_add_test(tc, test_reregister__409_disconnected_reregisters_at_once_older_connection_does_not);
  tcase_add_test(tc, test_reregister__hostile_checkpoint_resources_are_refused_whole);
  suite_add_tcase(s, tc);
  return s;
}

static pid_t runner_pid;

/* At the runner's exit: the processes and directories of failed tests. */
static void runner_cleanup(void) {
  if (getpid() != runner_pid) return;
  char pattern[128];
  snprintf(pattern, sizeof pattern, "/tmp/mesos-rereg-%d-*", (int)runner_pid);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0) return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    mesos_test_kill_under(g.gl_pathv[i]);
    if (getenv("MESOS_TEST_KEEP") == NULL) {
      char cmd[400];
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.gl_pathv[i]);
      if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g.gl_pathv[i]);
    }
  }
  globfree(&g);
}

int main(void) {
  runner_pid = getpid();
  atexit(runner_cleanup);
  return mesos_test_main(make_suite());
}
