/*
 * Fuzz target for the reflective JSON decoder (lib/codec/json_decode.c).
 * Input: "<message type>\n<JSON>" (see fuzz_codec_common.h).
 *
 * Checked: no crash or sanitizer report; every failure carries an error;
 * nothing leaks (the library's allocation counter returns to its start);
 * whatever decodes re-encodes to JSON that decodes again and encodes to the
 * same text (a fixpoint), and packs to protobuf that unpacks.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "fuzz/fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ProtobufCMessageDescriptor *d = fuzz_pick_type(&data, &size);
  if (d == NULL) return 0;
  int64_t live = mesos__alloc_live();
  /* Small limits, so the fuzzer reaches them. */
  mesos__json_limits lim = {0, 1 << 20, 8 << 20};
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  mesos_status s = mesos__json_decode(d, (const char *)data, size, &lim, &m, &err);
  if (s != MESOS_OK) {
    FUZZ_CHECK(m == NULL && err != NULL && mesos_error_code(err) == s, "failure without error");
    mesos_error_free(err);
  } else {
    mesos__buf a = MESOS__BUF_INIT((size_t)64 << 20), b = MESOS__BUF_INIT((size_t)64 << 20);
    FUZZ_CHECK(mesos__json_encode(m, &a, NULL) == MESOS_OK, "%s: cannot encode", d->name);
    ProtobufCMessage *m2 = NULL;
    s = mesos__json_decode(d, a.data, a.len, NULL, &m2, &err);
    FUZZ_CHECK(s == MESOS_OK, "%s: own JSON does not decode: %s\n%s", d->name,
               err ? mesos_error_message(err) : "", a.data);
    FUZZ_CHECK(mesos__json_encode(m2, &b, NULL) == MESOS_OK, "%s: cannot encode again", d->name);
    FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "%s: not a fixpoint:\n%s\n%s",
               d->name, a.data, b.data);
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    FUZZ_CHECK(mesos__pb_pack(m2, 0, &pb, &pb_len, NULL) == MESOS_OK, "%s: cannot pack", d->name);
    ProtobufCMessage *m3 = NULL;
    FUZZ_CHECK(mesos__pb_unpack(d, pb, pb_len, 0, 0, &m3, NULL) == MESOS_OK, "%s: cannot unpack",
               d->name);
    mesos__pb_free(m3);
    mesos__free(pb);
    mesos__pb_free(m2);
    mesos__buf_free(&a);
    mesos__buf_free(&b);
    mesos__pb_free(m);
  }
  FUZZ_CHECK(mesos__alloc_live() == live, "%s: leaked %lld allocations", d->name,
             (long long)(mesos__alloc_live() - live));
  return 0;
}
