/*
 * launch_n_tasks: the smallest useful framework.
 *
 *   launch_n_tasks --master=http://127.0.0.1:5050 --tasks=5 \
 *                  --command='echo hi' --cpus=0.1 --mem=32
 *
 * It subscribes, packs as many of the N tasks as fit into each offer it
 * receives, acknowledges every status update, and exits
 *   0  when all N tasks reached TASK_FINISHED,
 *   1  as soon as any task ends otherwise (FAILED, KILLED, LOST, ERROR ...),
 *   2  when --timeout seconds pass first,
 *   3  on bad flags or setup errors.
 * Before exiting it tears the framework down, so nothing stays behind on
 * the master.
 *
 * It uses only the public API (mesos/mesos.h): offers and status updates
 * arrive through the typed callbacks of mesos/scheduler.h (on_offers,
 * on_update; the library acknowledges every update), and the one call the
 * typed helpers do not cover (ACCEPT with LAUNCH) is written as JSON.
 */
#include <mesos/mesos.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct framework {
  mesos_loop *loop;
  mesos_scheduler *sched;
  mesos_timer *deadline;

  /* Flags. */
  const char *master;
  int tasks;
  const char *command;
  double cpus, mem;
  int timeout_s;

  /* Progress. */
  int launched;
  int finished;
  int exit_code; /* -1 while running */
} framework;

/* --------------------------------------------------------------- helpers */

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

/* Ends the run: remember the exit code and tear the framework down; the
 * loop stops when the master has confirmed (see on_disconnected). */
static void finish(framework *fw, int code) {
  if (fw->exit_code >= 0) return;
  fw->exit_code = code;
  mesos_timer_start(fw->deadline, 5000, 0); /* the teardown gets 5 s */
  mesos_error *err = NULL;
  if (mesos_scheduler_teardown(fw->sched, &err) != MESOS_OK) {
    /* Not subscribed right now: nothing to tear down from here. */
    fprintf(stderr, "teardown not sent: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    mesos_loop_stop(fw->loop);
  }
}

/* --------------------------------------------------------------- events */

/* How the master answered our ACCEPT: a refusal (HTTP 400 for an invalid
 * call, say) means the tasks will never run. */
static void on_accept_done(mesos_scheduler *s, mesos_status status, int http_status,
                           const char *message, void *ud) {
  if (status == MESOS_OK) return;
  fprintf(stderr, "ACCEPT failed (HTTP %d): %s\n", http_status, message);
  finish(ud, 1);
}

/* Launches as many of the remaining tasks as fit into `offer` (one ACCEPT
 * call), or declines it when none does. */
static void use_offer(framework *fw, const mesos_scheduler_offer *offer) {
  char infos[16384] = "";
  size_t used = 0;
  double cpus = offer->cpus, mem = offer->mem;
  int batch = 0;
  while (fw->launched < fw->tasks && cpus >= fw->cpus && mem >= fw->mem) {
    char task[2048];
    snprintf(task, sizeof task,
             "%s{\"name\":\"task-%d\",\"task_id\":{\"value\":\"task-%d\"},"
             "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":",
             batch ? "," : "", fw->launched, fw->launched, offer->agent_id);
    json_string(task, sizeof task, fw->command);
    size_t n = strlen(task);
    snprintf(task + n, sizeof task - n,
             "},\"resources\":["
             "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}},"
             "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
             fw->cpus, fw->mem);
    size_t len = strlen(task);
    if (used + len + 1 >= sizeof infos) break; /* the rest waits for the next offer */
    memcpy(infos + used, task, len + 1);
    used += len;
    printf("launching task-%d on %s\n", fw->launched, offer->hostname);
    fw->launched++;
    batch++;
    cpus -= fw->cpus;
    mem -= fw->mem;
  }

  mesos_error *err = NULL;
  if (batch == 0) {
    /* Nothing to run here: do not offer these resources again for a while. */
    if (mesos_scheduler_decline(fw->sched, offer->id, 30, &err) != MESOS_OK) {
      fprintf(stderr, "decline: %s\n", mesos_error_message(err));
      mesos_error_free(err);
    }
    return;
  }
  char call[20000];
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}],"
           "\"filters\":{\"refuse_seconds\":1}}}",
           offer->id, infos);
  /* What we leave of the offer comes back after a second (refuse_seconds):
   * the default, 5 s, would slow down the last tasks. */
  if (mesos_scheduler_call_json(fw->sched, call, on_accept_done, fw, &err) != MESOS_OK) {
    fprintf(stderr, "accept: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    finish(fw, 1);
  }
}

static void on_offers(mesos_scheduler *s, const mesos_scheduler_offer *offers, size_t n,
                      void *ud) {
  for (size_t i = 0; i < n; i++) use_offer(ud, &offers[i]);
}

/* A status update; the library acknowledges it when this returns
 * (auto_acknowledge below), so the agent stops resending it. */
static void on_update(mesos_scheduler *s, const mesos_scheduler_task_status *st, void *ud) {
  framework *fw = ud;
  printf("%s is %s%s%s\n", st->task_id, st->state, st->message ? ": " : "",
         st->message ? st->message : "");
  if (!st->terminal) return;
  if (strcmp(st->state, "TASK_FINISHED") != 0) {
    fprintf(stderr, "%s ended in %s: giving up\n", st->task_id, st->state);
    finish(fw, 1);
    return;
  }
  fw->finished++;
  printf("%d of %d tasks finished\n", fw->finished, fw->tasks);
  if (fw->finished == fw->tasks) finish(fw, 0);
}

static void on_connected(mesos_scheduler *s, void *ud) {
  printf("subscribed as framework %s\n", mesos_scheduler_framework_id(s));
}

static void on_disconnected(mesos_scheduler *s, const char *reason, void *ud) {
  framework *fw = ud;
  if (fw->exit_code >= 0) {
    /* The teardown we asked for is done (or failed): either way, stop. */
    mesos_loop_stop(fw->loop);
    return;
  }
  if (strstr(reason, "ERROR") != NULL) {
    /* The master refused this framework (the reason holds its message);
     * the library does not retry. */
    fprintf(stderr, "disconnected for good: %s\n", reason);
    fw->exit_code = 1;
    mesos_loop_stop(fw->loop);
    return;
  }
  fprintf(stderr, "disconnected (%s); retrying\n", reason);
}

static void on_deadline(mesos_timer *t, void *ud) {
  framework *fw = ud;
  if (fw->exit_code >= 0) {
    /* Our teardown got no answer in time: leave anyway. */
    mesos_loop_stop(fw->loop);
    return;
  }
  fprintf(stderr, "timed out after %d s with %d of %d tasks finished\n", fw->timeout_s,
          fw->finished, fw->tasks);
  finish(fw, 2);
}

/* --------------------------------------------------------------- main */

static const char *flag(const char *arg, const char *name) {
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int parse_flags(framework *fw, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *v;
    char *end = NULL;
    if ((v = flag(argv[i], "--master"))) fw->master = v;
    else if ((v = flag(argv[i], "--tasks"))) fw->tasks = (int)strtol(v, &end, 10);
    else if ((v = flag(argv[i], "--command"))) fw->command = v;
    else if ((v = flag(argv[i], "--cpus"))) fw->cpus = strtod(v, &end);
    else if ((v = flag(argv[i], "--mem"))) fw->mem = strtod(v, &end);
    else if ((v = flag(argv[i], "--timeout"))) fw->timeout_s = (int)strtol(v, &end, 10);
    else {
      fprintf(stderr, "unknown flag: %s\n", argv[i]);
      return -1;
    }
    if (end != NULL && *end != '\0') {
      fprintf(stderr, "bad value: %s\n", argv[i]);
      return -1;
    }
  }
  if (fw->tasks < 1 || fw->tasks > 10000 || fw->cpus <= 0 || fw->mem <= 0 || fw->timeout_s < 1) {
    fprintf(stderr, "usage: %s --master=URL[,URL...] --tasks=N --command=CMD "
                    "[--cpus=0.1] [--mem=32] [--timeout=60]\n", argv[0]);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  framework fw = {.master = "http://127.0.0.1:5050",
                  .tasks = 1,
                  .command = "echo hi",
                  .cpus = 0.1,
                  .mem = 32,
                  .timeout_s = 60,
                  .exit_code = -1};
  if (parse_flags(&fw, argc, argv) != 0) return 3;
  setvbuf(stdout, NULL, _IOLBF, 0);

  mesos_error *err = NULL;
  if (mesos_loop_new(&fw.loop, NULL, &err) != MESOS_OK) {
    fprintf(stderr, "loop: %s\n", mesos_error_message(err));
    return 3;
  }

  mesos_scheduler_options opts = MESOS_SCHEDULER_OPTIONS_INIT;
  opts.masters = fw.master;
  /* failover_timeout 0: if we die, the master cleans up at once. */
  opts.framework_info_json = "{\"user\":\"nobody\",\"name\":\"launch_n_tasks\","
                             "\"failover_timeout\":0}";
  opts.on_connected = on_connected;
  opts.on_disconnected = on_disconnected;
  opts.on_offers = on_offers;
  opts.on_update = on_update;
  opts.auto_acknowledge = 1;
  opts.ud = &fw;
  if (mesos_scheduler_new(&fw.sched, fw.loop, &opts, &err) != MESOS_OK ||
      mesos_timer_new(&fw.deadline, fw.loop, on_deadline, &fw, &err) != MESOS_OK) {
    fprintf(stderr, "setup: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    mesos_scheduler_free(fw.sched);
    mesos_loop_free(fw.loop);
    return 3;
  }
  mesos_timer_start(fw.deadline, (uint64_t)fw.timeout_s * 1000u, 0);

  mesos_loop_run(fw.loop, NULL);

  mesos_timer_free(fw.deadline);
  mesos_scheduler_free(fw.sched);
  mesos_loop_free(fw.loop);
  printf("exiting with %d\n", fw.exit_code);
  return fw.exit_code;
}
