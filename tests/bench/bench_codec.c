/*
 * Codec benchmark: an OFFERS event with 1,000 offers (cpus, mem, disk,
 * ports ranges, attributes), decoded and re-encoded in JSON and protobuf.
 * Each measurement is paired with a baseline run in the same process over
 * the same bytes:
 *   JSON:     yajl tokenizing the text with no callbacks (the floor any
 *             yajl-based decoder pays);
 *   protobuf: protobuf-c's own protobuf_c_message_unpack / pack.
 * Prints one line per benchmark:
 *   bench: <name> <value> MB/s baseline <name> <value> MB/s ratio <ours/baseline>
 * Best of several alternating rounds, timed in thread CPU time, to keep
 * scheduler noise on a shared machine out of the ratio.  Decoding is timed
 * without freeing the result (for ours and the baselines alike): the free
 * is the caller's, and glibc's cost for it says nothing about a decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_parse.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/v1/scheduler.pb-c.h"

#define OFFERS 1000
#define ROUNDS 7
#define ROUND_SECONDS 0.25

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *offers_json(size_t *len) {
  mesos__buf b = MESOS__BUF_INIT((size_t)64 << 20);
  mesos__buf_puts(&b, "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[");
  for (int i = 0; i < OFFERS; i++) {
    mesos__buf_printf(
        &b,
        "%s{\"id\":{\"value\":\"4d5a3c2b-9e8f-4a1b-8c7d-6e5f4a3b2c1d-O%d\"},"
        "\"framework_id\":{\"value\":\"4d5a3c2b-9e8f-4a1b-8c7d-6e5f4a3b2c1d-0001\"},"
        "\"agent_id\":{\"value\":\"9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0-S%d\"},"
        "\"hostname\":\"agent-%d.cluster.example.com\","
        "\"resources\":["
        "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%d.5},\"role\":\"*\"},"
        "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%d.0},\"role\":\"*\"},"
        "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%d.0},\"role\":\"*\"},"
        "{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":["
        "{\"begin\":31000,\"end\":31999},{\"begin\":%d,\"end\":%d}]},\"role\":\"*\"}],"
        "\"attributes\":["
        "{\"name\":\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"rack-%d\"}},"
        "{\"name\":\"zone\",\"type\":\"TEXT\",\"text\":{\"value\":\"us-east-%d\"}},"
        "{\"name\":\"generation\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%d.0}}]}",
        i ? "," : "", i, i, i, 1 + i % 32, 1024 * (1 + i % 64), 10240 * (1 + i % 16),
        32000 + i, 32100 + i, i % 40, i % 3, 1 + i % 4);
  }
  mesos__buf_puts(&b, "]}}");
  return mesos__buf_detach(&b, len);
}

/* One run; returns the seconds spent in the measured part (decoding
 * excludes freeing the result, for ours and the baselines alike). */
typedef double (*bench_fn)(void);

/* Throughput (bytes per second) of one round of `fn`. */
static double round_rate(bench_fn fn, size_t bytes) {
  long iters = 0;
  double spent = 0;
  do {
    spent += fn();
    iters++;
  } while (spent < ROUND_SECONDS);
  return (double)bytes * (double)iters / spent;
}

/* Best throughput of ours and of the baseline over ROUNDS rounds, the two
 * alternating so that a busy spell on the machine hits both alike. */
static void measure_pair(bench_fn ours, bench_fn base, size_t bytes, double *ours_best,
                         double *base_best) {
  *ours_best = *base_best = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double b = round_rate(base, bytes), o = round_rate(ours, bytes);
    if (b > *base_best) *base_best = b;
    if (o > *ours_best) *ours_best = o;
  }
}

static const char *g_json;
static size_t g_json_len;
static uint8_t *g_pb;
static size_t g_pb_len;
static ProtobufCMessage *g_msg;
static mesos__buf g_out;
static uint8_t *g_pb_out;

static double json_decode(void) {
  ProtobufCMessage *m = NULL;
  double t0 = now();
  if (mesos__json_decode(&mesos__v1__scheduler__event__descriptor, g_json, g_json_len, NULL, &m,
                         NULL) != MESOS_OK)
    abort();
  double t = now() - t0;
  mesos__pb_free(m);
  return t;
}

static double yajl_tokenize(void) {
  double t0 = now();
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  if (yajl_parse(h, (const unsigned char *)g_json, g_json_len) != yajl_status_ok ||
      yajl_complete_parse(h) != yajl_status_ok)
    abort();
  yajl_free(h);
  return now() - t0;
}

static double json_encode(void) {
  double t0 = now();
  mesos__buf_clear(&g_out);
  if (mesos__json_encode(g_msg, &g_out, NULL) != MESOS_OK) abort();
  return now() - t0;
}

static double pb_decode(void) {
  ProtobufCMessage *m = NULL;
  double t0 = now();
  if (mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor, g_pb, g_pb_len, 0, 0, &m, NULL) !=
      MESOS_OK)
    abort();
  double t = now() - t0;
  mesos__pb_free(m);
  return t;
}

static double pbc_unpack(void) {
  double t0 = now();
  ProtobufCMessage *m =
      protobuf_c_message_unpack(&mesos__v1__scheduler__event__descriptor, NULL, g_pb_len, g_pb);
  double t = now() - t0;
  if (m == NULL) abort();
  protobuf_c_message_free_unpacked(m, NULL);
  return t;
}

/* protobuf-c's unpack with the library's allocator (every allocation of
 * the library goes through mesos__malloc): separates what our helpers add
 * from what the allocator wrappers cost. */
static double pbc_unpack_lib_alloc(void) {
  double t0 = now();
  ProtobufCMessage *m = protobuf_c_message_unpack(&mesos__v1__scheduler__event__descriptor,
                                                  &mesos__pb_allocator, g_pb_len, g_pb);
  double t = now() - t0;
  if (m == NULL) abort();
  mesos__pb_free(m);
  return t;
}

static double pb_encode(void) {
  double t0 = now();
  mesos__buf_clear(&g_out);
  if (mesos__pb_pack_buf(g_msg, &g_out, NULL) != MESOS_OK) abort();
  return now() - t0;
}

static double pbc_pack(void) {
  double t0 = now();
  size_t n = protobuf_c_message_get_packed_size(g_msg);
  if (protobuf_c_message_pack(g_msg, g_pb_out) != n) abort();
  return now() - t0;
}

static void report(const char *name, double ours, const char *base_name, double base) {
  printf("bench: %s %.1f MB/s baseline %s %.1f MB/s ratio %.2f\n", name, ours / 1e6, base_name,
         base / 1e6, ours / base);
  fflush(stdout);
}

int main(void) {
  size_t len;
  char *json = offers_json(&len);
  mesos_error *err = NULL;
  if (mesos__json_decode(&mesos__v1__scheduler__event__descriptor, json, len, NULL, &g_msg,
                         &err) != MESOS_OK) {
    fprintf(stderr, "bench_codec: %s\n", mesos_error_message(err));
    return 1;
  }
  /* Decode and tokenize the codec's own output: the bytes a master sends. */
  mesos__buf_init(&g_out, (size_t)256 << 20);
  if (mesos__json_encode(g_msg, &g_out, NULL) != MESOS_OK) return 1;
  g_json = mesos__buf_detach(&g_out, &g_json_len);
  if (mesos__pb_pack(g_msg, 0, &g_pb, &g_pb_len, NULL) != MESOS_OK) return 1;
  g_pb_out = malloc(g_pb_len);
  fprintf(stderr, "bench_codec: %d offers, %zu bytes JSON, %zu bytes protobuf\n", OFFERS,
          g_json_len, g_pb_len);

  double ours, base, base_tok;
  measure_pair(json_decode, yajl_tokenize, g_json_len, &ours, &base_tok);
  report("codec-json-decode", ours, "yajl-tokenize", base_tok);
  measure_pair(json_encode, yajl_tokenize, g_json_len, &ours, &base);
  report("codec-json-encode", ours, "yajl-tokenize", base);
  measure_pair(pb_decode, pbc_unpack, g_pb_len, &ours, &base);
  report("codec-protobuf-decode", ours, "protobuf-c-unpack", base);
  double ours2, lib_alloc;
  measure_pair(pb_decode, pbc_unpack_lib_alloc, g_pb_len, &ours2, &lib_alloc);
  fprintf(stderr,
          "bench_codec: note: protobuf-c unpack with the library allocator %.1f MB/s; "
          "codec-protobuf-decode %.1f MB/s, ratio %.2f\n",
          lib_alloc / 1e6, ours2 / 1e6, ours2 / lib_alloc);
  measure_pair(pb_encode, pbc_pack, g_pb_len, &ours, &base);
  report("codec-protobuf-encode", ours, "protobuf-c-pack", base);

  mesos__buf_free(&g_out);
  free(g_pb_out);
  mesos__free(g_pb);
  mesos__free((char *)g_json);
  mesos__free(json);
  mesos__pb_free(g_msg);
  return 0;
}
