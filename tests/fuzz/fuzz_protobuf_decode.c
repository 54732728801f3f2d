/*
 * Fuzz target for the protobuf helpers (lib/codec/pb.c: depth and size
 * checks in front of protobuf-c) and the JSON encoder behind them.
 * Input: "<message type>\n<protobuf bytes>" (see fuzz_codec_common.h).
 *
 * Checked: no crash or sanitizer report (protobuf-c's recursion is kept
 * under the depth limit); failures carry an error; nothing leaks; whatever
 * unpacks encodes to JSON that decodes again (unless it holds a value with
 * no JSON form, see below) and re-packs.
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
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  mesos_status s = mesos__pb_unpack(d, data, size, 1 << 20, 0, &m, &err);
  if (s != MESOS_OK) {
    FUZZ_CHECK(m == NULL && err != NULL && mesos_error_code(err) == s, "failure without error");
    mesos_error_free(err);
  } else {
    mesos__buf a = MESOS__BUF_INIT((size_t)64 << 20);
    s = mesos__json_encode(m, &a, &err);
    if (s == MESOS_OK) {
      ProtobufCMessage *m2 = NULL;
      s = mesos__json_decode(d, a.data, a.len, NULL, &m2, &err);
      /* Binary protobuf can hold what JSON cannot carry back: strings that
       * are not UTF-8 or contain NUL, a required enum with an unknown
       * number (left out of the JSON), map entries without a value.  Those
       * may fail to decode, but only with EINVAL. */
      FUZZ_CHECK(s == MESOS_OK || s == MESOS_EINVAL, "%s: own JSON fails with %d", d->name, s);
      if (s != MESOS_OK) mesos_error_free(err);
      mesos__pb_free(m2);
    } else {
      FUZZ_CHECK(s == MESOS_ELIMIT, "%s: encode failed with %d", d->name, s);
      mesos_error_free(err);
    }
    mesos__buf_free(&a);
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    FUZZ_CHECK(mesos__pb_pack(m, 0, &pb, &pb_len, NULL) == MESOS_OK, "%s: cannot re-pack", d->name);
    mesos__free(pb);
    mesos__pb_free(m);
  }
  FUZZ_CHECK(mesos__alloc_live() == live, "%s: leaked %lld allocations", d->name,
             (long long)(mesos__alloc_live() - live));
  return 0;
}
