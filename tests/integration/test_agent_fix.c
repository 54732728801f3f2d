/*
 * The agent's link to the master when the master misbehaves, in-process:
 * a real agent (mesos_agent_new) and a fake master on loopback built with
 * the library's HTTP server, both on one loop, so the test decides what
 * each call gets.
 *
 *  - Status updates after the pipelined channel gave up: the fake master
 *    breaks the answers of the first 3 writes of an update (the channel's
 *    max_attempts), so the channel gives up on it; the status update
 *    manager must send it again on its own retry, and the master must get
 *    every update exactly once, in order.
 *  - A master that does not answer for longer than several retry
 *    intervals (stopped, overloaded): the retries must not queue more
 *    copies behind the unanswered one (each would reach the framework).
 *  - Registration back-off against a master that closes every connection:
 *    the delays double (Mesos: random in [0, b], b from
 *    --registration_backoff_factor doubling up to a minute), so a dead
 *    master is tried a handful of times in seconds, not every factor.
 *  - A detected event (PING connected=false) re-registers at once even
 *    after the back-off had grown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "http/server.h"
#include "mesos/agent.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/testutil.h"

static char dir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/mesos-agent-fix-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
  if (dir[0] && !getenv("MESOS_TEST_KEEP")) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ fake master */

#define MAX_SEEN 64

typedef struct held {
  mesos__http_request *req;
  ProtobufCMessage *call;
} held;

typedef struct fake_master {
  mesos_loop *loop;
  mesos__http_server *srv;
  int port;
  mesos__http_request *stream; /* the agent's event stream */
  int registrations;
  uint64_t registered_at[MAX_SEEN]; /* mono_ms of each */
  int refuse;                  /* registrations still to answer 503 */
  int drop;                    /* status update calls still to break */
  int dropped;
  uint64_t hold_until;         /* mono_ms: status updates wait until then */
  held held[MAX_SEEN];
  int nheld;
  int calls;                   /* status update calls that came */
  int naccepted;
  int states[MAX_SEEN];
  uint8_t uuids[MAX_SEEN][16];
} fake_master;

static void send_event(fake_master *fm, const Mesos__Internal__AgentEvent *ev) {
  ck_assert_ptr_nonnull(fm->stream);
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&ev->base, 0, &bytes, &len, NULL), MESOS_OK);
  mesos__buf b;
  mesos__buf_init(&b, 1 << 20);
  ck_assert_int_eq(mesos__recordio_append(&b, bytes, len, NULL), MESOS_OK);
  mesos__http_stream_send(fm->stream, b.data, b.len);
  mesos__buf_free(&b);
  mesos__free(bytes);
}

static void stream_gone(mesos__http_request *req, void *ud) {
  fake_master *fm = ud;
  if (fm->stream == req) fm->stream = NULL;
}

static void held_gone(mesos__http_request *req, void *ud) {
  fake_master *fm = ud;
  for (int i = 0; i < fm->nheld; i++)
    if (fm->held[i].req == req) fm->held[i].req = NULL;
}

/* Answers 202, records the update and acknowledges it on the stream, as
 * the master and a framework that acknowledges at once would. */
static void accept_update(fake_master *fm, mesos__http_request *req,
                          const Mesos__Internal__AgentCall *call) {
  mesos__http_respond(req, 202, NULL, "", 0);
  const Mesos__Internal__StatusUpdate *su = call->status_update;
  ck_assert_int_lt(fm->naccepted, MAX_SEEN);
  ck_assert_uint_eq(su->uuid.len, 16);
  fm->states[fm->naccepted] = su->status->state;
  memcpy(fm->uuids[fm->naccepted], su->uuid.data, 16);
  fm->naccepted++;
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__StatusUpdateAcknowledgement ack =
      MESOS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT__INIT;
  ev.protocol_version = 1;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__STATUS_UPDATE_ACKNOWLEDGEMENT;
  ack.agent_id = su->agent_id;
  ack.framework_id = su->framework_id;
  ack.task_id = su->status->task_id;
  ack.uuid = su->uuid;
  ev.status_update_acknowledgement = &ack;
  if (fm->stream) send_event(fm, &ev);
}

static void registered(fake_master *fm, mesos__http_request *req, int re) {
  if (fm->stream) { /* the agent moved on: the old stream ends */
    mesos__http_request *old = fm->stream;
    mesos__http_request_on_abort(old, NULL, NULL);
    fm->stream = NULL;
    mesos__http_stream_end(old);
  }
  ck_assert_int_eq(mesos__http_stream_start(req, 200, NULL), MESOS_OK);
  fm->stream = req;
  mesos__http_request_on_abort(req, stream_gone, fm);
  ck_assert_int_lt(fm->registrations, MAX_SEEN);
  fm->registered_at[fm->registrations++] = mono_ms();
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__AgentRegistered r = MESOS__INTERNAL__AGENT_REGISTERED__INIT;
  Mesos__Internal__AgentReregistered rr = MESOS__INTERNAL__AGENT_REREGISTERED__INIT;
  Mesos__Internal__AgentConnection conn = MESOS__INTERNAL__AGENT_CONNECTION__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = "fake-agent-1";
  conn.has_total_ping_timeout_seconds = 1;
  conn.total_ping_timeout_seconds = 60;
  ev.protocol_version = 1;
  ev.has_type = 1;
  if (re) {
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED;
    rr.agent_id = &aid;
    rr.connection = &conn;
    rr.has_connection_id = 1;
    rr.connection_id = (uint64_t)fm->registrations;
    ev.agent_reregistered = &rr;
  } else {
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED;
    r.agent_id = &aid;
    r.connection = &conn;
    r.has_connection_id = 1;
    r.connection_id = (uint64_t)fm->registrations;
    ev.agent_registered = &r;
  }
  send_event(fm, &ev);
}

static void fm_handler(mesos__http_request *req, void *ud) {
  fake_master *fm = ud;
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  ProtobufCMessage *m = NULL;
  if (mesos__pb_unpack(&mesos__internal__agent_call__descriptor, (const uint8_t *)body, len, 0,
                       0, &m, NULL) != MESOS_OK) {
    mesos__http_respond_text(req, 400, "bad call");
    return;
  }
  const Mesos__Internal__AgentCall *call = (const Mesos__Internal__AgentCall *)m;
  switch (call->type) {
    case MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER:
    case MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER:
      if (fm->refuse > 0) {
        fm->refuse--;
        mesos__http_respond_text(req, 503, "not now");
        break;
      }
      registered(fm, req, call->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER);
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE:
      fm->calls++;
      if (fm->drop > 0) {
        /* An answer cut short: the connection breaks before it is
         * complete, so the channel counts a failed write. */
        fm->drop--;
        fm->dropped++;
        ck_assert_int_eq(mesos__http_stream_start_length(req, 202, NULL, 10), MESOS_OK);
        mesos__http_stream_end(req);
        break;
      }
      if (mono_ms() < fm->hold_until) {
        ck_assert_int_lt(fm->nheld, MAX_SEEN);
        fm->held[fm->nheld].req = req;
        fm->held[fm->nheld].call = m;
        fm->nheld++;
        mesos__http_request_on_abort(req, held_gone, fm);
        return; /* keeps the call */
      }
      accept_update(fm, req, call);
      break;
    default:
      mesos__http_respond(req, 202, NULL, "", 0);
      break;
  }
  mesos__pb_free(m);
}

/* The held calls, once their time came: answered in order. */
static void fm_release(fake_master *fm) {
  if (fm->nheld == 0 || mono_ms() < fm->hold_until) return;
  for (int i = 0; i < fm->nheld; i++) {
    if (fm->held[i].req) {
      mesos__http_request_on_abort(fm->held[i].req, NULL, NULL);
      accept_update(fm, fm->held[i].req, (const Mesos__Internal__AgentCall *)fm->held[i].call);
    }
    mesos__pb_free(fm->held[i].call);
  }
  fm->nheld = 0;
}

/* On `port` (0: a free one). */
static void fm_start(fake_master *fm, mesos_loop *loop, int port) {
  memset(fm, 0, sizeof *fm);
  fm->loop = loop;
  mesos__http_server_options so;
  memset(&so, 0, sizeof so);
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  so.listen = listen;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__http_server_new(&fm->srv, loop, &so, &err), &err);
  ck_assert_int_eq(mesos__http_server_route(fm->srv, "POST", "/api/v1/agent", 0, fm_handler, fm),
                   MESOS_OK);
  fm->port = mesos__http_server_port(fm->srv);
}

static void fm_stop(fake_master *fm) {
  for (int i = 0; i < fm->nheld; i++) {
    if (fm->held[i].req) mesos__http_request_on_abort(fm->held[i].req, NULL, NULL);
    mesos__pb_free(fm->held[i].call);
  }
  fm->nheld = 0;
  if (fm->stream) mesos__http_request_on_abort(fm->stream, NULL, NULL);
  fm->stream = NULL;
  mesos__http_server_free(fm->srv);
  fm->srv = NULL;
}

/* ------------------------------------------------------------ the agent */

static mesos_agent *agent_new(mesos_loop *loop, const char *name, int master_port,
                              const char *retry_interval) {
  char wd[400], wd_arg[420], master_arg[64], retry_arg[80];
  snprintf(wd, sizeof wd, "%s/%s", dir, name);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", wd);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(retry_arg, sizeof retry_arg, "--status_update_retry_interval=%s", retry_interval);
  char *argv[] = {"mesos-agent",
                  master_arg,
                  wd_arg,
                  "--ip=127.0.0.1",
                  "--port=0",
                  "--resources=cpus:1;mem:128;disk:128",
                  "--registration_backoff_factor=50ms",
                  retry_arg,
                  "--logging_level=ERROR",
                  NULL};
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_agent_flags_parse(&flags, 9, argv, NULL, &err), &err);
  mesos_agent *a = NULL;
  ck_assert_mesos_ok(mesos_agent_new(&a, loop, NULL, flags, &err), &err);
  mesos_agent_flags_free(flags);
  return a;
}

/* Runs the loop until *flag >= want or `ms` pass; the fake master's held
 * calls are released on their time. */
static int drive(mesos_loop *loop, fake_master *fm, const int *flag, int want, int ms) {
  uint64_t end = mono_ms() + (uint64_t)ms;
  while ((flag == NULL || *flag < want) && mono_ms() < end) {
    mesos_loop_run_once(loop);
    if (fm) fm_release(fm);
    usleep(1000);
  }
  return flag == NULL || *flag >= want;
}

static void agent_free(mesos_loop *loop, mesos_agent *a) {
  mesos_agent_free(a);
  for (int i = 0; i < 200 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
}

static void update(mesos_agent *a, Mesos__V1__TaskState state) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_status_update(a, "fw-1", NULL, "task-1", NULL, state, -1, NULL,
                                                &err),
                     &err);
}

/* Every update reached the master once, RUNNING then FINISHED. */
static void check_once_in_order(const fake_master *fm) {
  ck_assert_msg(fm->naccepted == 2, "the master got %d status update calls, want 2",
                fm->naccepted);
  ck_assert_int_eq(fm->states[0], MESOS__V1__TASK_STATE__TASK_RUNNING);
  ck_assert_int_eq(fm->states[1], MESOS__V1__TASK_STATE__TASK_FINISHED);
  ck_assert_int_ne(memcmp(fm->uuids[0], fm->uuids[1], 16), 0);
}

/* A fake master and an agent registered with it, on one loop. */
typedef struct world {
  int64_t live; /* allocations before: all freed at the end */
  mesos_loop *loop;
  fake_master fm;
  mesos_agent *a;
} world;

static void world_start(world *w, const char *name, const char *retry_interval, int refuse) {
  w->live = mesos__alloc_live();
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&w->loop, NULL, &err), &err);
  fm_start(&w->fm, w->loop, 0);
  w->fm.refuse = refuse;
  w->a = agent_new(w->loop, name, w->fm.port, retry_interval);
  ck_assert_msg(drive(w->loop, &w->fm, &w->a->registered, 1, 10000), "the agent never registered");
}

static void world_stop(world *w) {
  agent_free(w->loop, w->a);
  fm_stop(&w->fm);
  mesos_loop_free(w->loop);
  ck_assert_int_eq(mesos__alloc_live(), w->live);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_agent_fix__update_resent_by_its_own_retry_after_the_channel_gave_up) {
  world w;
  world_start(&w, "giveup", "300ms", 0);
  fake_master *fm = &w.fm;
  fm->drop = 3; /* the channel's max_attempts: it gives up on the update */
  update(w.a, MESOS__V1__TASK_STATE__TASK_RUNNING);
  update(w.a, MESOS__V1__TASK_STATE__TASK_FINISHED);
  ck_assert_msg(drive(w.loop, fm, &fm->naccepted, 2, 10000), "accepted %d updates, dropped %d",
                fm->naccepted, fm->dropped);
  /* Two more retry intervals: a late copy would show up. */
  drive(w.loop, fm, NULL, 0, 700);
  ck_assert_int_eq(fm->dropped, 3);
  check_once_in_order(fm);
  ck_assert_int_eq(fm->calls, 5); /* 3 broken writes, then each update once */
  ck_assert_int_eq(fm->registrations, 1); /* the event stream was never touched */
  ck_assert_int_eq(mesos__agent_status_any_pending(w.a), 0);
  world_stop(&w);
}
END_TEST

START_TEST(test_agent_fix__no_second_copy_while_the_master_has_not_answered) {
  world w;
  world_start(&w, "hold", "200ms", 0);
  fake_master *fm = &w.fm;
  /* The master answers nothing for 1.5 s: retries at 0.2, 0.6 and 1.4 s
   * come while the first copy waits. */
  fm->hold_until = mono_ms() + 1500;
  update(w.a, MESOS__V1__TASK_STATE__TASK_RUNNING);
  update(w.a, MESOS__V1__TASK_STATE__TASK_FINISHED);
  ck_assert_msg(drive(w.loop, fm, &fm->naccepted, 2, 10000), "accepted %d updates",
                fm->naccepted);
  drive(w.loop, fm, NULL, 0, 500);
  check_once_in_order(fm);
  ck_assert_msg(fm->calls == 2, "%d status update calls reached the master, want 2", fm->calls);
  ck_assert_int_eq(fm->registrations, 1);
  world_stop(&w);
}
END_TEST

/* A listener that accepts and closes every connection at once: a master
 * that is not there (what a refused connection also is to the agent),
 * whose attempts can be counted. */
START_TEST(test_agent_fix__registration_backoff_doubles_while_the_master_is_down) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(lfd, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(lfd, 64), 0);
  socklen_t sl = sizeof sa;
  ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos_agent *a = agent_new(loop, "backoff", ntohs(sa.sin_port), "10secs");
  uint64_t at[256];
  int n = 0;
  uint64_t start = mono_ms();
  while (mono_ms() < start + 3000) {
    mesos_loop_run_once(loop);
    int fd;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
      if (n < 256) at[n++] = mono_ms();
      close(fd);
    }
    usleep(1000);
  }
  agent_free(loop, a);
  mesos_loop_free(loop);
  close(lfd);
  /* Factor 50 ms: ceilings 50, 100, 200, ... 1600 ms; in 3 s that is
   * about 6-9 attempts (one every 25 ms on average, ~120, without the
   * doubling). */
  uint64_t max_gap = 0;
  for (int i = 1; i < n; i++)
    if (at[i] - at[i - 1] > max_gap) max_gap = at[i] - at[i - 1];
  ck_assert_msg(n >= 3 && n <= 14, "%d registration attempts in 3 s", n);
  ck_assert_msg(max_gap >= 200, "the longest pause between attempts was %llu ms",
                (unsigned long long)max_gap);
}
END_TEST

/* The back-off grew (refused registrations), then a registration: a PING
 * saying the master does not consider the agent connected is a detected
 * event and the agent re-registers within the factor, not after a
 * doubled delay. */
START_TEST(test_agent_fix__detected_event_reregisters_at_once) {
  world w;
  world_start(&w, "event", "10secs", 4); /* 4 refusals: ceilings 50 .. 800 ms */
  ck_assert_int_eq(w.fm.registrations, 1);
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__Ping ping = MESOS__INTERNAL__PING__INIT;
  ev.protocol_version = 1;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__PING;
  ping.has_connected = 1;
  ping.connected = 0;
  ev.ping = &ping;
  uint64_t sent = mono_ms();
  send_event(&w.fm, &ev);
  ck_assert_msg(drive(w.loop, &w.fm, &w.fm.registrations, 2, 10000), "no re-registration");
  uint64_t took = w.fm.registered_at[1] - sent;
  ck_assert_msg(took < 50 + 400, "re-registered %llu ms after the event",
                (unsigned long long)took);
  world_stop(&w);
}
END_TEST

/* The master goes away (its event stream ends) and is back 1.5 s later
 * on the same port: the agent tried a few times meanwhile, with doubling
 * delays, and is back within the delay it had drawn when the master
 * returned (at most the ceiling b then: about twice the outage). */
START_TEST(test_agent_fix__restarted_master_rejoined_within_the_backoff) {
  world w;
  world_start(&w, "restart", "10secs", 0);
  int port = w.fm.port;
  ck_assert_uint_eq(w.a->backoff_ms, 50);
  fm_stop(&w.fm);
  drive(w.loop, NULL, NULL, 0, 1500);
  uint64_t b = w.a->backoff_ms;
  /* Attempts so far: log2(b / 50); each doubled b. */
  ck_assert_msg(b >= 400 && b <= 51200, "back-off ceiling %llu ms after 1.5 s",
                (unsigned long long)b);
  uint64_t back = mono_ms();
  fm_start(&w.fm, w.loop, port);
  ck_assert_msg(drive(w.loop, &w.fm, &w.fm.registrations, 1, (int)b + 5000),
                "no re-registration");
  uint64_t took = w.fm.registered_at[0] - back;
  ck_assert_msg(took <= b + 300, "re-registered %llu ms after the master came back (ceiling %llu)",
                (unsigned long long)took, (unsigned long long)b);
  ck_assert(drive(w.loop, &w.fm, &w.a->registered, 1, 5000));
  ck_assert_uint_eq(w.a->backoff_ms, 50); /* starts over */
  world_stop(&w);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_fix");
  TCase *tc = tcase_create("link");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_agent_fix__update_resent_by_its_own_retry_after_the_channel_gave_up);
  tcase_add_test(tc, test_agent_fix__no_second_copy_while_the_master_has_not_answered);
  tcase_add_test(tc, test_agent_fix__registration_backoff_doubles_while_the_master_is_down);
  tcase_add_test(tc, test_agent_fix__detected_event_reregisters_at_once);
  tcase_add_test(tc, test_agent_fix__restarted_master_rejoined_within_the_backoff);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
