/*
 * The benchmark's server: our HTTP server answering every GET / with a small
 * fixed JSON document, as tests/bench/http_small_json.sh has nginx and h2o
 * do.  Not a benchmark itself (bench.sh runs only bench_* programs).
 *
 *   httpd_small_json IP:PORT     serves until SIGTERM or SIGINT
 *
 * Prints "ready <port>" on stdout once listening.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "http/server.h"
#include "mesos/mesos.h"

static const char body[] = "{\"status\":\"ok\",\"version\":\"1.0.0\"}";

static void h_json(mesos__http_request *req, void *ud) {
  (void)ud;
  static mesos__http_header h = {(char *)"Content-Type", (char *)"application/json"};
  static const mesos__http_headers extra = {&h, 1, 1};
  mesos__http_respond(req, 200, &extra, body, sizeof body - 1);
}

static void on_signal(mesos_signal *s, int signum, void *ud) {
  (void)s;
  (void)signum;
  mesos_loop_stop(ud);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s IP:PORT\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  mesos__http_server *srv = NULL;
  mesos_signal *term = NULL, *intr = NULL;
  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK ||
      mesos_signal_new(&term, loop, SIGTERM, on_signal, loop, &err) != MESOS_OK ||
      mesos_signal_new(&intr, loop, SIGINT, on_signal, loop, &err) != MESOS_OK) {
    fprintf(stderr, "httpd_small_json: %s\n", mesos_error_message(err));
    return 1;
  }
  mesos__http_server_options o;
  memset(&o, 0, sizeof o);
  o.listen = argv[1];
  if (mesos__http_server_new(&srv, loop, &o, &err) != MESOS_OK) {
    fprintf(stderr, "httpd_small_json: %s\n", mesos_error_message(err));
    return 1;
  }
  mesos__http_server_route(srv, "GET", "/", 0, h_json, NULL);
  printf("ready %u\n", mesos__http_server_port(srv));
  fflush(stdout);
  mesos_status st = mesos_loop_run(loop, &err);
  mesos__http_server_free(srv);
  mesos_signal_free(term);
  mesos_signal_free(intr);
  mesos_loop_free(loop);
  return st == MESOS_OK ? 0 : 1;
}
