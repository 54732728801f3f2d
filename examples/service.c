/*
 * service: a long-running service framework.
 *
 *   service --master=http://127.0.0.1:5050 --instances=3 \
 *           --command='python3 -m http.server' --cpus=0.1 --mem=64
 *
 * It keeps --instances copies of one command running: each instance has a
 * slot; an empty slot is filled from the next offer that fits, and when an
 * instance ends (whatever the state: finished, failed, killed, lost ...)
 * its slot empties and a new copy is launched.  On SIGTERM or SIGINT it
 * tears the framework down (the master kills the instances) and exits 0.
 *
 * Things every long-running framework should do, shown here:
 *  - acknowledge every status update that carries a uuid;
 *  - reconcile after each (re)subscription: offers do not survive a
 *    reconnect, but tasks do, and the master tells us their state;
 *  - decline offers it cannot use, and revive when it needs offers again.
 *
 * Uses only the public API (mesos/mesos.h).
 */
#include <mesos/mesos.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INSTANCES 1000

typedef struct slot {
  char task_id[64]; /* "" while empty */
  int generation;   /* how many times this slot was (re)launched */
  int running;
} slot;

typedef struct service {
  mesos_loop *loop;
  mesos_scheduler *sched;
  mesos_signal *sigterm, *sigint;

  const char *master;
  int instances;
  const char *command;
  double cpus, mem;

  slot slots[MAX_INSTANCES];
  int stopping;
  int exit_code;
} service;

/* Appends `s` to `out` as a JSON string literal (with quotes). */
static void json_string(char *out, size_t cap, const char *s) {
  size_t n = strlen(out);
  if (n + 1 < cap) out[n++] = '"';
  for (; *s && n + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  if (n + 1 < cap) out[n++] = '"';
  out[n] = '\0';
}

static slot *slot_of(service *svc, const char *task_id) {
  for (int i = 0; i < svc->instances; i++)
    if (strcmp(svc->slots[i].task_id, task_id) == 0) return &svc->slots[i];
  return NULL;
}

static void report(const char *what, mesos_error *err) {
  fprintf(stderr, "%s: %s\n", what, mesos_error_message(err));
  mesos_error_free(err);
}

/* ------------------------------------------------------------ offers */

/* Appends the TaskInfo of a new instance for slot `k` to `infos`. */
static void add_task(service *svc, int k, const mesos_scheduler_offer *offer, char *infos,
                     size_t cap) {
  slot *sl = &svc->slots[k];
  sl->generation++;
  sl->running = 0;
  snprintf(sl->task_id, sizeof sl->task_id, "instance-%d-%d", k, sl->generation);
  size_t n = strlen(infos);
  snprintf(infos + n, cap - n,
           "%s{\"name\":\"%s\",\"task_id\":{\"value\":\"%s\"},"
           "\"agent_id\":{\"value\":\"%s\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}],"
           "\"command\":{\"value\":",
           n ? "," : "", sl->task_id, sl->task_id, offer->agent_id, svc->cpus, svc->mem);
  json_string(infos, cap, svc->command);
  n = strlen(infos);
  snprintf(infos + n, cap - n, "}}");
  printf("launching %s on %s\n", sl->task_id, offer->hostname);
}

/* Fills as many empty slots as the offer has room for, in one ACCEPT; an
 * offer nothing is launched on is declined. */
static void on_offer(service *svc, const mesos_scheduler_offer *offer) {
  char infos[32768] = "";
  int batch[MAX_INSTANCES], nb = 0;
  double cpus = offer->cpus, mem = offer->mem;
  for (int k = 0; k < svc->instances; k++) {
    if (svc->slots[k].task_id[0] != '\0') continue;
    if (cpus < svc->cpus || mem < svc->mem) break;
    if (strlen(infos) + 4096 > sizeof infos) break; /* the rest waits for the next offer */
    add_task(svc, k, offer, infos, sizeof infos);
    batch[nb++] = k;
    cpus -= svc->cpus;
    mem -= svc->mem;
  }
  mesos_error *err = NULL;
  if (nb == 0) {
    if (mesos_scheduler_decline(svc->sched, offer->id, 5, &err) != MESOS_OK)
      report("decline", err);
    return;
  }
  char call[40000];
  /* refuse_seconds 0: what we leave unused may be offered again at once. */
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}],"
           "\"filters\":{\"refuse_seconds\":0}}}",
           offer->id, infos);
  if (mesos_scheduler_call_json(svc->sched, call, NULL, NULL, &err) != MESOS_OK) {
    /* Not sent: the slots are empty again and wait for the next offer. */
    report("launch", err);
    for (int i = 0; i < nb; i++) svc->slots[batch[i]].task_id[0] = '\0';
  }
}

/* ------------------------------------------------------------ updates */

static void on_update(service *svc, const mesos_scheduler_task_status *st) {
  mesos_error *err = NULL;
  if (st->has_uuid &&
      mesos_scheduler_acknowledge(svc->sched, st->agent_id, st->task_id, st->uuid, &err) !=
          MESOS_OK)
    report("acknowledge", err);

  slot *sl = slot_of(svc, st->task_id);
  if (sl == NULL) return; /* an older generation, already replaced */
  if (!st->terminal) {
    if (!sl->running && strcmp(st->state, "TASK_RUNNING") == 0) {
      sl->running = 1;
      printf("%s is running\n", st->task_id);
    }
    return;
  }
  printf("%s ended (%s%s%s); relaunching\n", st->task_id, st->state, st->message ? ": " : "",
         st->message ? st->message : "");
  sl->task_id[0] = '\0';
  sl->running = 0;
  if (!svc->stopping && mesos_scheduler_revive(svc->sched, &err) != MESOS_OK)
    report("revive", err);
}

/* ------------------------------------------------------------ callbacks */

static void on_event(mesos_scheduler *s, const char *type, const uint8_t *event, size_t len,
                     void *ud) {
  service *svc = ud;
  mesos_error *err = NULL;
  if (svc->stopping) return;
  if (strcmp(type, "OFFERS") == 0) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    if (mesos_scheduler_event_offers(event, len, &offers, &n, &err) != MESOS_OK) {
      report("OFFERS", err);
      return;
    }
    for (size_t i = 0; i < n; i++) on_offer(svc, &offers[i]);
    mesos_free(offers);
  } else if (strcmp(type, "UPDATE") == 0) {
    mesos_scheduler_task_status *st = NULL;
    if (mesos_scheduler_event_update(event, len, &st, &err) != MESOS_OK) {
      report("UPDATE", err);
      return;
    }
    on_update(svc, st);
    mesos_free(st);
  }
}

static void on_connected(mesos_scheduler *s, void *ud) {
  printf("subscribed as framework %s\n", mesos_scheduler_framework_id(s));
  /* Ask for the state of every task the master knows for us. */
  mesos_error *err = NULL;
  if (mesos_scheduler_reconcile(s, NULL, NULL, &err) != MESOS_OK) report("reconcile", err);
}

static void on_disconnected(mesos_scheduler *s, const char *reason, void *ud) {
  service *svc = ud;
  if (svc->stopping) {
    printf("%s\n", reason);
    mesos_loop_stop(svc->loop);
    return;
  }
  fprintf(stderr, "disconnected (%s)%s\n", reason,
          strstr(reason, "ERROR") ? "" : "; the library reconnects");
  if (strstr(reason, "ERROR")) {
    /* Refused or replaced by another instance: the library stops. */
    svc->exit_code = 1;
    mesos_loop_stop(svc->loop);
  }
}

static void on_signal(mesos_signal *sig, int signum, void *ud) {
  service *svc = ud;
  if (svc->stopping) return;
  svc->stopping = 1;
  printf("signal %d: tearing down\n", signum);
  mesos_error *err = NULL;
  if (mesos_scheduler_teardown(svc->sched, &err) != MESOS_OK) {
    /* Not subscribed: nothing to tear down from here. */
    report("teardown", err);
    mesos_loop_stop(svc->loop);
  }
}

/* ------------------------------------------------------------ main */

static const char *flag(const char *arg, const char *name) {
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

int main(int argc, char **argv) {
  service svc = {.master = "http://127.0.0.1:5050",
                 .instances = 1,
                 .command = "sleep 1000000",
                 .cpus = 0.1,
                 .mem = 32};
  for (int i = 1; i < argc; i++) {
    const char *v;
    char *end = NULL;
    if ((v = flag(argv[i], "--master"))) svc.master = v;
    else if ((v = flag(argv[i], "--instances"))) svc.instances = (int)strtol(v, &end, 10);
    else if ((v = flag(argv[i], "--command"))) svc.command = v;
    else if ((v = flag(argv[i], "--cpus"))) svc.cpus = strtod(v, &end);
    else if ((v = flag(argv[i], "--mem"))) svc.mem = strtod(v, &end);
    else end = "?";
    if (end != NULL && *end != '\0') {
      fprintf(stderr, "bad flag: %s\n", argv[i]);
      return 3;
    }
  }
  if (svc.instances < 1 || svc.instances > MAX_INSTANCES || svc.cpus <= 0 || svc.mem <= 0) {
    fprintf(stderr, "usage: %s --master=URL[,URL...] --instances=M --command=CMD "
                    "[--cpus=0.1] [--mem=32]\n", argv[0]);
    return 3;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  mesos_error *err = NULL;
  if (mesos_loop_new(&svc.loop, NULL, &err) != MESOS_OK) {
    report("loop", err);
    return 3;
  }
  mesos_scheduler_options opts = MESOS_SCHEDULER_OPTIONS_INIT;
  opts.masters = svc.master;
  /* A week: if this process dies, a restarted one (given the id) takes the
   * running instances over. */
  opts.framework_info_json = "{\"user\":\"nobody\",\"name\":\"service\","
                             "\"failover_timeout\":604800}";
  opts.on_connected = on_connected;
  opts.on_disconnected = on_disconnected;
  opts.on_event = on_event;
  opts.ud = &svc;
  if (mesos_scheduler_new(&svc.sched, svc.loop, &opts, &err) != MESOS_OK ||
      mesos_signal_new(&svc.sigterm, svc.loop, SIGTERM, on_signal, &svc, &err) != MESOS_OK ||
      mesos_signal_new(&svc.sigint, svc.loop, SIGINT, on_signal, &svc, &err) != MESOS_OK) {
    report("setup", err);
    mesos_signal_free(svc.sigterm);
    mesos_scheduler_free(svc.sched);
    mesos_loop_free(svc.loop);
    return 3;
  }

  mesos_loop_run(svc.loop, NULL);

  mesos_signal_free(svc.sigterm);
  mesos_signal_free(svc.sigint);
  mesos_scheduler_free(svc.sched);
  mesos_loop_free(svc.loop);
  return svc.exit_code;
}
