/*
 * Test helpers over the protobuf-c descriptors of lib/proto/: the registry
 * of every generated message and enum, sample instances with every field
 * set, a deep comparison that names the first difference, and an unknown
 * field counter.  Reflective (descriptor-driven), so a test built on them
 * covers every message type without a hand-picked list.
 */
#ifndef MESOS_TEST_PROTO_SAMPLE_H
#define MESOS_TEST_PROTO_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Every message / enum descriptor protoc-c generated for lib/proto/ (nested
 * types and map entries included), in the order of $(O)/gen/proto/proto_registry.h. */
const ProtobufCMessageDescriptor *const *mesos_test_proto_messages(size_t *n);
const ProtobufCEnumDescriptor *const *mesos_test_proto_enums(size_t *n);

/* The descriptor with this full name ("mesos.v1.scheduler.Call"), or NULL. */
const ProtobufCMessageDescriptor *mesos_test_proto_find(const char *full_name);

/*
 * A freshly allocated instance of `desc` with a sample value in every field:
 * every optional field present, every repeated field with elements, one
 * member of each oneof (chosen by `seed`, so different seeds reach different
 * members), enums set to a declared value, strings and bytes non-empty
 * (bytes include 0x00 and 0xff).  Values are derived from `seed` and the
 * field number, so two calls with the same arguments give equal messages.
 *
 * Nested messages are filled the same way while the depth is below
 * `max_depth` and a per-call budget of sub-messages lasts; past either, only
 * their required fields are set (recursive types such as ContainerID.parent
 * stay finite).  Every type is also sampled on its own at depth 0, so each
 * field of each type is set somewhere.
 *
 * Allocated with malloc: free with protobuf_c_message_free_unpacked(m, NULL).
 * Aborts the test on a required-field cycle (a type with no finite instance).
 */
ProtobufCMessage *mesos_test_proto_sample(const ProtobufCMessageDescriptor *desc,
                                          uint32_t seed, int max_depth);

/*
 * Compares two messages field by field through the descriptor (presence,
 * values, repeated counts and elements, nested messages, unknown fields).
 * Returns 1 when equal; otherwise 0 with the path of the first difference
 * written to `why` (e.g. "offers[1].resources[0].name: values differ").
 */
int mesos_test_proto_equal(const ProtobufCMessage *a, const ProtobufCMessage *b,
                           char *why, size_t why_len);

/* Number of unknown fields in `m` and every message nested in it. */
size_t mesos_test_proto_unknown_fields(const ProtobufCMessage *m);

/* Whether field `f` of `m` is present (required: always; optional: has_ /
 * non-NULL and not the default pointer / oneof case; repeated: n > 0). */
int mesos_test_proto_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

#endif
