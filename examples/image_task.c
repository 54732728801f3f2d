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
 * Public API only (mesos/mesos.h), like launch_n_tasks.
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
  const char *image;
  const char *command; /* NULL: the image's Entrypoint/Cmd */
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
    char task[4096];
    snprintf(task, sizeof task,
             "%s{\"name\":\"image-task\",\"task_id\":{\"value\":\"image-task-%d\"},"
             "\"agent_id\":{\"value\":\"%s\"},\"container\":{\"type\":\"MESOS\","
             "\"mesos\":{\"image\":{\"type\":\"DOCKER\",\"docker\":{\"name\":",
             batch ? "," : "", fw->launched, offer->agent_id);
    json_string(task, sizeof task, fw->image);
    size_t n = strlen(task);
    if (fw->command) {
      snprintf(task + n, sizeof task - n, "}}}},\"command\":{\"value\":");
      json_string(task, sizeof task, fw->command);
      n = strlen(task);
      snprintf(task + n, sizeof task - n, "}");
    } else {
      /* shell=false without a value: the image decides what runs. */
      snprintf(task + n, sizeof task - n, "}}}},\"command\":{\"shell\":false}");
    }
    n = strlen(task);
    snprintf(task + n, sizeof task - n,
             ",\"resources\":["
             "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}},"
             "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
             fw->cpus, fw->mem);
    size_t len = strlen(task);
    if (used + len + 1 >= sizeof infos) break; /* the rest waits for the next offer */
    memcpy(infos + used, task, len + 1);
    used += len;
    printf("launching image-task-%d (image %s) on %s\n", fw->launched, fw->image,
           offer->hostname);
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

static void on_update(framework *fw, const mesos_scheduler_task_status *st) {
  printf("%s is %s%s%s\n", st->task_id, st->state, st->message ? ": " : "",
         st->message ? st->message : "");
  /* Acknowledge first: the agent resends an update until it is. */
  if (st->has_uuid) {
    mesos_error *err = NULL;
    if (mesos_scheduler_acknowledge(fw->sched, st->agent_id, st->task_id, st->uuid, &err) !=
        MESOS_OK) {
      fprintf(stderr, "acknowledge: %s\n", mesos_error_message(err));
      mesos_error_free(err);
    }
  }
  if (!st->terminal) return;
  /* The sandbox as the agent's /files/read endpoint names it (runs/latest
   * is the task's only run). */
  printf("output: /frameworks/%s/executors/%s/runs/latest/stdout (on agent %s)\n",
         mesos_scheduler_framework_id(fw->sched), st->task_id, st->agent_id);
  if (strcmp(st->state, "TASK_FINISHED") != 0) {
    fprintf(stderr, "%s ended in %s: giving up\n", st->task_id, st->state);
    finish(fw, 1);
    return;
  }
  fw->finished++;
  if (fw->finished == fw->tasks) finish(fw, 0);
}

static void on_event(mesos_scheduler *s, const char *type, const uint8_t *event, size_t len,
                     void *ud) {
  framework *fw = ud;
  mesos_error *err = NULL;
  if (strcmp(type, "OFFERS") == 0) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    if (mesos_scheduler_event_offers(event, len, &offers, &n, &err) != MESOS_OK) {
      fprintf(stderr, "bad OFFERS event: %s\n", mesos_error_message(err));
      mesos_error_free(err);
      return;
    }
    for (size_t i = 0; i < n; i++) use_offer(fw, &offers[i]);
    mesos_free(offers);
  } else if (strcmp(type, "UPDATE") == 0) {
    mesos_scheduler_task_status *st = NULL;
    if (mesos_scheduler_event_update(event, len, &st, &err) != MESOS_OK) {
      fprintf(stderr, "bad UPDATE event: %s\n", mesos_error_message(err));
      mesos_error_free(err);
      return;
    }
    on_update(fw, st);
    mesos_free(st);
  } else if (strcmp(type, "ERROR") == 0) {
    char *msg = NULL;
    if (mesos_scheduler_event_error(event, len, &msg, NULL) == MESOS_OK) {
      fprintf(stderr, "the master refused us: %s\n", msg);
      mesos_free(msg);
    }
  }
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
    /* The master refused this framework; the library does not retry. */
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
                  .tasks = 1,
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
  opts.on_event = on_event;
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
