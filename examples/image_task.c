/*
 * image_task: runs one task in a container image (the unified
 * containerizer: no Docker daemon involved).
 *
 *   image_task --master=http://127.0.0.1:5050 --image=busybox:latest \
 *              [--command='cat /etc/os-release'] [--cpus=0.1] [--mem=32]
 *
 * The task gets ContainerInfo{type: MESOS, mesos: {image: {type: DOCKER,
 * docker: {name: IMAGE}}}}; the agent (started with
 * --image_providers=docker --isolation=filesystem/linux,docker/runtime,...
 * --docker_registry=DIR) provisions the image and runs the command in it.
 * Without --command the image's Entrypoint/Cmd run.  It prints every state
 * the task goes through and, at the end, where its output is (the path
 * the agent's /files/read?path=... endpoint serves), and exits
 *   0  when the task reached TASK_FINISHED,
 *   1  when it ended otherwise (FAILED, KILLED, LOST, ERROR ...),
 *   2  when --timeout seconds pass first,
 *   3  on bad flags or setup errors.
 *
 * Public API only (mesos/mesos.h), like launch_n_tasks: the typed
 * callbacks of mesos/scheduler.h (on_offers, on_update, with the library
 * acknowledging updates) and one ACCEPT written as JSON.
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
  const char *image;
  const char *command; /* NULL: the image's Entrypoint/Cmd */
  double cpus, mem;
  int timeout_s;

  /* Progress. */
  int launched;  /* the task was sent to an agent */
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
 * call, say) means the task will never run. */
static void on_accept_done(mesos_scheduler *s, mesos_status status, int http_status,
                           const char *message, void *ud) {
  if (status == MESOS_OK) return;
  fprintf(stderr, "ACCEPT failed (HTTP %d): %s\n", http_status, message);
  finish(ud, 1);
}

/* The task's TaskInfo as JSON, for the agent of `offer`. */
static void task_info(const framework *fw, const mesos_scheduler_offer *offer, char *out,
                      size_t cap) {
  snprintf(out, cap,
           "{\"name\":\"image-task\",\"task_id\":{\"value\":\"image-task\"},"
           "\"agent_id\":{\"value\":\"%s\"},\"container\":{\"type\":\"MESOS\","
           "\"mesos\":{\"image\":{\"type\":\"DOCKER\",\"docker\":{\"name\":",
           offer->agent_id);
  json_string(out, cap, fw->image);
  size_t n = strlen(out);
  if (fw->command) {
    snprintf(out + n, cap - n, "}}}},\"command\":{\"value\":");
    json_string(out, cap, fw->command);
    n = strlen(out);
    snprintf(out + n, cap - n, "}");
  } else {
    /* shell=false without a value: the image decides what runs. */
    snprintf(out + n, cap - n, "}}}},\"command\":{\"shell\":false}");
  }
  n = strlen(out);
  snprintf(out + n, cap - n,
           ",\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
           fw->cpus, fw->mem);
}

/* Launches the task with the first offer it fits into; declines the
 * others (and every offer after the launch). */
static void on_offers(mesos_scheduler *s, const mesos_scheduler_offer *offers, size_t n,
                      void *ud) {
  framework *fw = ud;
  mesos_error *err = NULL;
  for (size_t i = 0; i < n; i++) {
    const mesos_scheduler_offer *offer = &offers[i];
    if (fw->launched || offer->cpus < fw->cpus || offer->mem < fw->mem) {
      /* Nothing to run here: do not offer these resources again for a while. */
      if (mesos_scheduler_decline(s, offer->id, 30, &err) != MESOS_OK) {
        fprintf(stderr, "decline: %s\n", mesos_error_message(err));
        mesos_error_free(err);
        err = NULL;
      }
      continue;
    }
    char task[4096], call[8192];
    task_info(fw, offer, task, sizeof task);
    snprintf(call, sizeof call,
             "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
             "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}]}}",
             offer->id, task);
    printf("launching image-task (image %s) on %s\n", fw->image, offer->hostname);
    fw->launched = 1;
    if (mesos_scheduler_call_json(s, call, on_accept_done, fw, &err) != MESOS_OK) {
      fprintf(stderr, "accept: %s\n", mesos_error_message(err));
      mesos_error_free(err);
      err = NULL;
      finish(fw, 1);
    }
  }
}

/* A status update; the library acknowledges it when this returns
 * (auto_acknowledge below), so the agent stops resending it. */
static void on_update(mesos_scheduler *s, const mesos_scheduler_task_status *st, void *ud) {
  framework *fw = ud;
  printf("%s is %s%s%s\n", st->task_id, st->state, st->message ? ": " : "",
         st->message ? st->message : "");
  if (!st->terminal) return;
  /* The sandbox as the agent's /files/read endpoint names it (runs/latest
   * is the task's only run). */
  printf("output: /frameworks/%s/executors/%s/runs/latest/stdout (on agent %s)\n",
         mesos_scheduler_framework_id(s), st->task_id, st->agent_id);
  if (strcmp(st->state, "TASK_FINISHED") != 0) {
    fprintf(stderr, "%s ended in %s: giving up\n", st->task_id, st->state);
    finish(fw, 1);
    return;
  }
  finish(fw, 0);
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
  fprintf(stderr, "timed out after %d s (the task %s)\n", fw->timeout_s,
          fw->launched ? "did not end" : "was never launched");
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
    else if ((v = flag(argv[i], "--image"))) fw->image = v;
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
  if (fw->image == NULL || *fw->image == '\0' || fw->cpus <= 0 || fw->mem <= 0 ||
      fw->timeout_s < 1) {
    fprintf(stderr, "usage: %s --master=URL[,URL...] --image=NAME [--command=CMD] "
                    "[--cpus=0.1] [--mem=32] [--timeout=60]\n", argv[0]);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  framework fw = {.master = "http://127.0.0.1:5050",
                  .command = NULL,
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
  opts.framework_info_json = "{\"user\":\"root\",\"name\":\"image_task\","
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
