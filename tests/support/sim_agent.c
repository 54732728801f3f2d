/* The simulated agent: see sim_agent.h. */
#include "support/sim_agent.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"

/* Enough for every test: tasks beyond it are reported as errors. */
#define SIM_MAX_TASKS 256

typedef struct sim_task {
  char id[128];
  char fw[128];
  int state;          /* last state sent: 0 none, 1 running, 2 terminal */
  int running_acked;  /* the RUNNING update was acknowledged */
  int pending;        /* an update waits for its acknowledgement */
  int finish;         /* send FINISHED after RUNNING's acknowledgement */
  uint8_t uuid[16];   /* of the pending update */
} sim_task;

struct mesos_sim_agent {
  int port;
  int finish;
  mesos_test_conn stream;
  char id[160];
  pthread_t thread;
  int thread_live;
  volatile int stop;
  pthread_mutex_t mu;
  sim_task tasks[SIM_MAX_TASKS];
  int n_tasks;
  int launched, acks, finished, shutdowns, errors;
  char first_error[512];
  unsigned uuid_seq;
};

static void note_error(mesos_sim_agent *a, const char *fmt, const char *arg) {
  pthread_mutex_lock(&a->mu);
  if (a->errors++ == 0) snprintf(a->first_error, sizeof a->first_error, fmt, arg);
  pthread_mutex_unlock(&a->mu);
}

static int post_call(int port, const Mesos__Internal__AgentCall *call) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  if (mesos__pb_pack(&call->base, 0, &bytes, &len, NULL) != MESOS_OK) return -1;
  mesos_test_conn c;
  int status = -1;
  if (mesos_test_conn_open(&c, port) == 0) {
    if (mesos_test_conn_request(&c, "POST", "/api/v1/agent", "application/x-protobuf", NULL,
                                (const char *)bytes, len) == 0) {
      mesos_test_response r;
      if (mesos_test_conn_response(&c, &r, 1, 5000) == 0) {
        status = r.status;
        mesos_test_response_free(&r);
      }
    }
    mesos_test_conn_close(&c);
  }
  mesos__free(bytes);
  return status;
}

/* Posts a status update for `t` with a fresh uuid (kept in t->uuid). */
static int send_status(mesos_sim_agent *a, sim_task *t, Mesos__V1__TaskState state) {
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__StatusUpdate su = MESOS__INTERNAL__STATUS_UPDATE__INIT;
  Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  tid.value = t->id;
  aid.value = a->id;
  fid.value = t->fw;
  st.task_id = &tid;
  st.agent_id = &aid;
  st.state = state;
  st.has_source = 1;
  st.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
  unsigned seq = ++a->uuid_seq;
  for (int i = 0; i < 16; i++) t->uuid[i] = (uint8_t)(0xa0 + i);
  memcpy(t->uuid, &seq, sizeof seq);
  st.has_uuid = 1;
  st.uuid.data = t->uuid;
  st.uuid.len = 16;
  su.has_uuid = 1;
  su.uuid = st.uuid;
  su.framework_id = &fid;
  su.agent_id = &aid;
  su.status = &st;
  su.timestamp = (double)time(NULL);
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE;
  call.agent_id = &aid;
  call.status_update = &su;
  t->pending = 1;
  return post_call(a->port, &call);
}

static sim_task *find_task(mesos_sim_agent *a, const char *id) {
  for (int i = 0; i < a->n_tasks; i++)
    if (strcmp(a->tasks[i].id, id) == 0) return &a->tasks[i];
  return NULL;
}

static void on_event(mesos_sim_agent *a, Mesos__Internal__AgentEvent *ev) {
  switch (ev->type) {
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__PING: {
      Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
      Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
      aid.value = a->id;
      call.protocol_version = 1;
      call.has_type = 1;
      call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__PONG;
      call.agent_id = &aid;
      if (post_call(a->port, &call) != 202) note_error(a, "PONG refused%s", "");
      break;
    }
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK: {
      const char *tid = ev->run_task->task->task_id->value;
      pthread_mutex_lock(&a->mu);
      a->launched++;
      sim_task *t = find_task(a, tid);
      if (t == NULL && a->n_tasks < SIM_MAX_TASKS) t = &a->tasks[a->n_tasks++];
      if (t == NULL) {
        pthread_mutex_unlock(&a->mu);
        note_error(a, "too many tasks (%s)", tid);
        break;
      }
      memset(t, 0, sizeof *t);
      snprintf(t->id, sizeof t->id, "%s", tid);
      snprintf(t->fw, sizeof t->fw, "%s", ev->run_task->framework->id->value);
      t->finish = a->finish;
      t->state = 1;
      int rc = send_status(a, t, MESOS__V1__TASK_STATE__TASK_RUNNING);
      pthread_mutex_unlock(&a->mu);
      if (rc != 202) note_error(a, "TASK_RUNNING update for %s refused", tid);
      break;
    }
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK: {
      const char *tid = ev->kill_task->task_id->value;
      pthread_mutex_lock(&a->mu);
      sim_task *t = find_task(a, tid);
      int rc = 202;
      if (t && t->state == 1) {
        t->state = 2;
        rc = send_status(a, t, MESOS__V1__TASK_STATE__TASK_KILLED);
      }
      pthread_mutex_unlock(&a->mu);
      if (rc != 202) note_error(a, "TASK_KILLED update for %s refused", tid);
      break;
    }
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__STATUS_UPDATE_ACKNOWLEDGEMENT: {
      Mesos__Internal__StatusUpdateAcknowledgement *ack = ev->status_update_acknowledgement;
      pthread_mutex_lock(&a->mu);
      a->acks++;
      sim_task *t = find_task(a, ack->task_id->value);
      int rc = 202;
      if (t == NULL || ack->uuid.len != 16 || memcmp(ack->uuid.data, t->uuid, 16) != 0) {
        pthread_mutex_unlock(&a->mu);
        note_error(a, "acknowledgement for unknown task or uuid (%s)", ack->task_id->value);
        break;
      }
      t->pending = 0;
      if (t->state == 1 && !t->running_acked) {
        t->running_acked = 1;
        if (t->finish) {
          t->state = 2;
          a->finished++;
          rc = send_status(a, t, MESOS__V1__TASK_STATE__TASK_FINISHED);
        }
      }
      pthread_mutex_unlock(&a->mu);
      if (rc != 202) note_error(a, "TASK_FINISHED update for %s refused", ack->task_id->value);
      break;
    }
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_FRAMEWORK: {
      pthread_mutex_lock(&a->mu);
      a->shutdowns++;
      for (int i = 0; i < a->n_tasks; i++)
        if (strcmp(a->tasks[i].fw, ev->shutdown_framework->framework_id->value) == 0)
          a->tasks[i].state = 2;
      pthread_mutex_unlock(&a->mu);
      break;
    }
    default:
      break;
  }
}

static void *agent_thread(void *arg) {
  mesos_sim_agent *a = arg;
  int eof = 0;
  while (!a->stop) {
    if (eof) {
      usleep(10000);
      continue;
    }
    /* Block in poll, not in the record reader: its time-out may cut a
     * record in half, and the stop flag must be seen within 50 ms. */
    if (a->stream.len == 0) {
      struct pollfd p = {a->stream.fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
    }
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, 5000);
    if (n < 0) {
      eof = 1;
      continue;
    }
    ProtobufCMessage *msg = NULL;
    if (mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec, (size_t)n, 0,
                         0, &msg, NULL) != MESOS_OK) {
      note_error(a, "undecodable agent event%s", "");
    } else {
      on_event(a, (Mesos__Internal__AgentEvent *)msg);
      mesos__pb_free(msg);
    }
    free(rec);
  }
  return NULL;
}

mesos_sim_agent *mesos_sim_agent_start(int master_port, const char *hostname, double cpus,
                                       double mem, int finish) {
  mesos_sim_agent *a = calloc(1, sizeof *a);
  if (a == NULL) return NULL;
  a->port = master_port;
  a->finish = finish;
  a->stream.fd = -1;
  pthread_mutex_init(&a->mu, NULL);

  Mesos__V1__Resource res[2], *resp[2];
  Mesos__V1__Value__Scalar c = MESOS__V1__VALUE__SCALAR__INIT, m = MESOS__V1__VALUE__SCALAR__INIT;
  c.value = cpus;
  m.value = mem;
  mesos__v1__resource__init(&res[0]);
  mesos__v1__resource__init(&res[1]);
  res[0].name = "cpus";
  res[0].type = MESOS__V1__VALUE__TYPE__SCALAR;
  res[0].scalar = &c;
  res[1].name = "mem";
  res[1].type = MESOS__V1__VALUE__TYPE__SCALAR;
  res[1].scalar = &m;
  resp[0] = &res[0];
  resp[1] = &res[1];
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  info.hostname = (char *)hostname;
  info.n_resources = 2;
  info.resources = resp;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  ra.agent = &info;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
  call.register_agent = &ra;
  uint8_t *bytes = NULL;
  size_t len = 0;
  const char *fail = NULL;
  if (mesos__pb_pack(&call.base, 0, &bytes, &len, NULL) != MESOS_OK) fail = "pack";
  if (!fail && mesos_test_conn_open(&a->stream, master_port) != 0) fail = "connect";
  if (!fail && mesos_test_conn_request(&a->stream, "POST", "/api/v1/agent",
                                       "application/x-protobuf",
                                       "Accept: application/x-protobuf\r\n", (const char *)bytes,
                                       len) != 0)
    fail = "send REGISTER";
  mesos__free(bytes);
  mesos_test_response r;
  if (!fail) {
    if (mesos_test_conn_response(&a->stream, &r, 0, 5000) != 0) fail = "REGISTER response";
    else if (r.status != 200) fail = "REGISTER refused";
  }
  if (!fail) {
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, 5000);
    ProtobufCMessage *msg = NULL;
    if (n < 0 || mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                  (size_t)n, 0, 0, &msg, NULL) != MESOS_OK) {
      fail = "no REGISTERED event";
    } else {
      Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)msg;
      if (ev->type != MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED) fail = "not REGISTERED";
      else snprintf(a->id, sizeof a->id, "%s", ev->agent_registered->agent_id->value);
      mesos__pb_free(msg);
    }
    free(rec);
  }
  if (!fail && pthread_create(&a->thread, NULL, agent_thread, a) != 0) fail = "pthread_create";
  if (fail) {
    fprintf(stderr, "sim agent: %s failed\n", fail);
    if (a->stream.fd >= 0) mesos_test_conn_close(&a->stream);
    pthread_mutex_destroy(&a->mu);
    free(a);
    return NULL;
  }
  a->thread_live = 1;
  return a;
}

void mesos_sim_agent_stop(mesos_sim_agent *a) {
  if (a == NULL) return;
  a->stop = 1;
  /* Wakes the thread if it sits in a blocking read of the stream. */
  if (a->stream.fd >= 0) shutdown(a->stream.fd, SHUT_RDWR);
  if (a->thread_live) pthread_join(a->thread, NULL);
  mesos_test_conn_close(&a->stream);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

const char *mesos_sim_agent_id(const mesos_sim_agent *a) { return a->id; }

#define COUNTER(name, field)                  \
  int mesos_sim_agent_##name(mesos_sim_agent *a) { \
    pthread_mutex_lock(&a->mu);               \
    int v = a->field;                         \
    pthread_mutex_unlock(&a->mu);             \
    return v;                                 \
  }
COUNTER(launched, launched)
COUNTER(acks, acks)
COUNTER(finished, finished)
COUNTER(shutdowns, shutdowns)

int mesos_sim_agent_running(mesos_sim_agent *a) {
  pthread_mutex_lock(&a->mu);
  int v = 0;
  for (int i = 0; i < a->n_tasks; i++) v += a->tasks[i].state == 1;
  pthread_mutex_unlock(&a->mu);
  return v;
}

int mesos_sim_agent_some_running(mesos_sim_agent *a, char *out, size_t cap) {
  pthread_mutex_lock(&a->mu);
  int found = 0;
  for (int i = 0; i < a->n_tasks && !found; i++) {
    if (a->tasks[i].state == 1 && a->tasks[i].running_acked) {
      snprintf(out, cap, "%s", a->tasks[i].id);
      found = 1;
    }
  }
  pthread_mutex_unlock(&a->mu);
  return found;
}

int mesos_sim_agent_end_task(mesos_sim_agent *a, const char *task_id, const char *state) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value_by_name(&mesos__v1__task_state__descriptor, state);
  if (v == NULL) return -1;
  pthread_mutex_lock(&a->mu);
  sim_task *t = find_task(a, task_id);
  int rc = -1;
  if (t && t->state == 1 && !t->pending) {
    t->state = 2;
    rc = send_status(a, t, (Mesos__V1__TaskState)v->value);
  }
  pthread_mutex_unlock(&a->mu);
  return rc;
}

int mesos_sim_agent_errors(mesos_sim_agent *a, char *buf, size_t cap) {
  pthread_mutex_lock(&a->mu);
  int n = a->errors;
  if (buf && cap) snprintf(buf, cap, "%s", a->first_error);
  pthread_mutex_unlock(&a->mu);
  return n;
}

int mesos_sim_agent_wait(mesos_sim_agent *a, int (*cond)(mesos_sim_agent *), int timeout_ms) {
  for (int waited = 0;; waited += 10) {
    int v = cond(a);
    if (v || waited >= timeout_ms) return v;
    usleep(10000);
  }
}
