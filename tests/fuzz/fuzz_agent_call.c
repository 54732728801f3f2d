/*
 * Differential fuzz target for the hand-written REREGISTER decoder
 * (lib/codec/pb_agent_call.c) against protobuf-c.  Input: AgentCall bytes.
 *
 * Checked, for every input:
 *  - whatever the fast decoder accepts, protobuf-c accepts too, and both
 *    messages pack to the same bytes (same fields, same values);
 *  - what protobuf-c accepts as a plain REREGISTER call (no other payload,
 *    no unknown top-level field), packed again, the fast decoder accepts
 *    and gives the same message (so the fast path is not silently
 *    skipped);
 *  - no crash, no sanitizer report, nothing leaked.
 */
#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "codec/pb_agent_call.h"
#include "fuzz/fuzz_codec_common.h"
#include "mesos/internal/internal.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  uint8_t *b = NULL;
  FUZZ_CHECK(mesos__pb_pack(m, 0, &b, len, NULL) == MESOS_OK, "cannot pack");
  return b;
}

static void same(const ProtobufCMessage *fast, const ProtobufCMessage *slow, const char *what) {
  size_t la = 0, lb = 0;
  uint8_t *a = pack(fast, &la), *b = pack(slow, &lb);
  FUZZ_CHECK(la == lb && memcmp(a, b, la) == 0, "%s: the fast decoder's message differs", what);
  mesos__free(a);
  mesos__free(b);
}

static bool plain_reregister(const Mesos__Internal__AgentCall *c) {
  return c->base.n_unknown_fields == 0 && c->has_type &&
         c->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER && c->reregister_agent &&
         !c->register_agent && !c->pong && !c->status_update && !c->exited_executor &&
         !c->executor_message && !c->update_agent;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int64_t live = mesos__alloc_live();
  ProtobufCMessage *fast = mesos__pb_agent_call_reregister(data, size);
  ProtobufCMessage *slow = NULL;
  mesos_error *err = NULL;
  mesos_status s = mesos__pb_unpack_arena(&mesos__internal__agent_call__descriptor, data, size, 0,
                                          0, &slow, &err);
  if (fast) {
    FUZZ_CHECK(s == MESOS_OK, "the fast decoder accepts what protobuf-c refuses");
    same(fast, slow, "input");
  }
  if (s != MESOS_OK) {
    mesos_error_free(err);
  } else if (plain_reregister((const Mesos__Internal__AgentCall *)slow)) {
    size_t len = 0;
    uint8_t *canon = pack(slow, &len);
    ProtobufCMessage *again = mesos__pb_agent_call_reregister(canon, len);
    FUZZ_CHECK(again != NULL, "a plain REREGISTER call is not taken by the fast decoder");
    same(again, slow, "packed again");
    mesos__pb_free(again);
    mesos__free(canon);
  }
  mesos__pb_free(fast);
  mesos__pb_free(slow);
  FUZZ_CHECK(mesos__alloc_live() == live, "leaked %lld allocations",
             (long long)(mesos__alloc_live() - live));
  return 0;
}
