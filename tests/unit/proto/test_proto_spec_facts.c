/*
 * Facts from the spec tables (shared/spec/messages-*.md, authorization.md),
 * restated here by hand so that a mistake in reading the tables (by the
 * generator or by whoever edits it) fails a test: enum numbers, field
 * numbers and labels, proto2 defaults, first-declared enum values, the
 * final (post-1.0) shape of the messages that changed, and a few messages
 * encoded byte by byte.
 */
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "mesos/acls.pb-c.h"
#include "mesos/authorizer.pb-c.h"
#include "mesos/v1/master.pb-c.h"
#include "mesos/v1/mesos.pb-c.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "support/proto_sample.h"
#include "support/testutil.h"

static const ProtobufCFieldDescriptor *field(const char *message, const char *name) {
  const ProtobufCMessageDescriptor *d = mesos_test_proto_find(message);
  ck_assert_msg(d != NULL, "no message %s", message);
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
  ck_assert_msg(f != NULL, "no field %s.%s", message, name);
  return f;
}

/* Asserts number, label and type of one field. */
static void expect_field(const char *message, const char *name, unsigned number,
                         ProtobufCLabel label, ProtobufCType type) {
  const ProtobufCFieldDescriptor *f = field(message, name);
  ck_assert_msg(f->id == number, "%s.%s: number %u, spec says %u", message, name, f->id, number);
  ck_assert_msg(f->label == label, "%s.%s: label %d, spec says %d", message, name, f->label, label);
  ck_assert_msg(f->type == type, "%s.%s: type %d, spec says %d", message, name, f->type, type);
}

static void expect_no_field(const char *message, unsigned number) {
  const ProtobufCMessageDescriptor *d = mesos_test_proto_find(message);
  ck_assert_ptr_nonnull(d);
  ck_assert_msg(protobuf_c_message_descriptor_get_field(d, number) == NULL,
                "%s has a field %u, the spec has none", message, number);
}

#define OPT PROTOBUF_C_LABEL_OPTIONAL
#define REQ PROTOBUF_C_LABEL_REQUIRED
#define REP PROTOBUF_C_LABEL_REPEATED
#define T(x) PROTOBUF_C_TYPE_##x

START_TEST(test_proto__scheduler_call_and_event_types_have_the_spec_numbers) {
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__UNKNOWN, 0);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE, 1);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__TEARDOWN, 2);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT, 3);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE, 4);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__REVIVE, 5);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__KILL, 6);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__SHUTDOWN, 7);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__ACKNOWLEDGE, 8);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__RECONCILE, 9);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__MESSAGE, 10);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__REQUEST, 11);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__SUPPRESS, 12);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT_INVERSE_OFFERS, 13);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE_INVERSE_OFFERS, 14);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__ACKNOWLEDGE_OPERATION_STATUS, 15);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__RECONCILE_OPERATIONS, 16);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__CALL__TYPE__UPDATE_FRAMEWORK, 17);
  ck_assert_uint_eq(mesos__v1__scheduler__call__type__descriptor.n_values, 18);

  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED, 1);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS, 2);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__RESCIND, 3);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE, 4);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__MESSAGE, 5);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__FAILURE, 6);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__ERROR, 7);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__HEARTBEAT, 8);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__INVERSE_OFFERS, 9);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__RESCIND_INVERSE_OFFER, 10);
  ck_assert_int_eq(MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE_OPERATION_STATUS, 11);
}
END_TEST

START_TEST(test_proto__scheduler_call_fields_have_the_spec_numbers) {
  const char *c = "mesos.v1.scheduler.Call";
  expect_field(c, "framework_id", 1, OPT, T(MESSAGE));
  expect_field(c, "type", 2, OPT, T(ENUM));
  expect_field(c, "subscribe", 3, OPT, T(MESSAGE));
  expect_field(c, "accept", 4, OPT, T(MESSAGE));
  expect_field(c, "decline", 5, OPT, T(MESSAGE));
  expect_field(c, "kill", 6, OPT, T(MESSAGE));
  expect_field(c, "shutdown", 7, OPT, T(MESSAGE));
  expect_field(c, "acknowledge", 8, OPT, T(MESSAGE));
  expect_field(c, "reconcile", 9, OPT, T(MESSAGE));
  expect_field(c, "message", 10, OPT, T(MESSAGE));
  expect_field(c, "request", 11, OPT, T(MESSAGE));
  expect_no_field(c, 12);
  expect_field(c, "accept_inverse_offers", 13, OPT, T(MESSAGE));
  expect_field(c, "decline_inverse_offers", 14, OPT, T(MESSAGE));
  expect_field(c, "revive", 15, OPT, T(MESSAGE));
  expect_field(c, "suppress", 16, OPT, T(MESSAGE));
  expect_field(c, "acknowledge_operation_status", 17, OPT, T(MESSAGE));
  expect_field(c, "reconcile_operations", 18, OPT, T(MESSAGE));
  expect_field(c, "update_framework", 19, OPT, T(MESSAGE));
  expect_field("mesos.v1.scheduler.Call.Acknowledge", "uuid", 3, REQ, T(BYTES));
  expect_field("mesos.v1.scheduler.Call.Revive", "roles", 1, REP, T(STRING));
  expect_field("mesos.v1.scheduler.Event.Subscribed", "heartbeat_interval_seconds", 2, OPT,
               T(DOUBLE));
  /* 1.5 had reconcile_operations as field 1; the final form moved it. */
  expect_field("mesos.v1.scheduler.Response", "reconcile_operations", 2, OPT, T(MESSAGE));
}
END_TEST

START_TEST(test_proto__offer_fields_have_the_spec_numbers_and_labels) {
  const char *o = "mesos.v1.Offer";
  expect_field(o, "id", 1, REQ, T(MESSAGE));
  expect_field(o, "framework_id", 2, REQ, T(MESSAGE));
  expect_field(o, "agent_id", 3, REQ, T(MESSAGE));
  expect_field(o, "hostname", 4, REQ, T(STRING));
  expect_field(o, "resources", 5, REP, T(MESSAGE));
  expect_field(o, "executor_ids", 6, REP, T(MESSAGE));
  expect_field(o, "attributes", 7, REP, T(MESSAGE));
  expect_field(o, "url", 8, OPT, T(MESSAGE));
  expect_field(o, "unavailability", 9, OPT, T(MESSAGE));
  expect_field(o, "allocation_info", 10, OPT, T(MESSAGE));
  expect_field(o, "domain", 11, OPT, T(MESSAGE));
  ck_assert_uint_eq(mesos__v1__offer__descriptor.n_fields, 11);

  /* Operation types: 7-10 were the removed 1.5 experiments. */
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__UNKNOWN, 0);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__LAUNCH, 1);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__RESERVE, 2);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__UNRESERVE, 3);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__CREATE, 4);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__DESTROY, 5);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__LAUNCH_GROUP, 6);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__GROW_VOLUME, 11);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__SHRINK_VOLUME, 12);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__CREATE_DISK, 13);
  ck_assert_int_eq(MESOS__V1__OFFER__OPERATION__TYPE__DESTROY_DISK, 14);
  for (int v = 7; v <= 10; v++)
    ck_assert_ptr_null(
        protobuf_c_enum_descriptor_get_value(&mesos__v1__offer__operation__type__descriptor, v));

  /* Resource: legacy role is field 6 with default "*". */
  expect_field("mesos.v1.Resource", "name", 1, REQ, T(STRING));
  expect_field("mesos.v1.Resource", "type", 2, REQ, T(ENUM));
  expect_field("mesos.v1.Resource", "scalar", 3, OPT, T(MESSAGE));
  expect_field("mesos.v1.Resource", "ranges", 4, OPT, T(MESSAGE));
  expect_field("mesos.v1.Resource", "set", 5, OPT, T(MESSAGE));
  expect_field("mesos.v1.Resource", "role", 6, OPT, T(STRING));
  ck_assert_str_eq((const char *)field("mesos.v1.Resource", "role")->default_value, "*");
  expect_field("mesos.v1.Value.Range", "begin", 1, REQ, T(UINT64));
  expect_field("mesos.v1.Value.Range", "end", 2, REQ, T(UINT64));
  expect_field("mesos.v1.Value.Scalar", "value", 1, REQ, T(DOUBLE));
}
END_TEST

START_TEST(test_proto__task_state_numbers_and_first_declared_default) {
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_STARTING, 0);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_RUNNING, 1);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_FINISHED, 2);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_FAILED, 3);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_KILLED, 4);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_LOST, 5);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_STAGING, 6);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_ERROR, 7);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_KILLING, 8);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_DROPPED, 9);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_UNREACHABLE, 10);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_GONE, 11);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR, 12);
  ck_assert_int_eq(MESOS__V1__TASK_STATE__TASK_UNKNOWN, 13);

  /* proto2: an unset enum without explicit default reads as the FIRST
   * declared value, TASK_STAGING, not 0 (TASK_STARTING). */
  Mesos__V1__Task task = MESOS__V1__TASK__INIT;
  ck_assert_int_eq(task.status_update_state, MESOS__V1__TASK_STATE__TASK_STAGING);
  /* Same rule for enums without a 0: MachineInfo.Mode starts at UP = 1. */
  Mesos__V1__MachineInfo mi = MESOS__V1__MACHINE_INFO__INIT;
  ck_assert_int_eq(mi.mode, MESOS__V1__MACHINE_INFO__MODE__UP);
  ck_assert_int_eq(MESOS__V1__MACHINE_INFO__MODE__UP, 1);
  ck_assert_int_eq(MESOS__V1__MACHINE_INFO__MODE__DOWN, 3);

  ck_assert_int_eq(MESOS__V1__TASK_STATUS__REASON__REASON_COMMAND_EXECUTOR_FAILED, 0);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY, 8);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION, 9);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID, 25);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_DRAINING, 34);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__SOURCE__SOURCE_MASTER, 0);
  ck_assert_int_eq(MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR, 2);
}
END_TEST

START_TEST(test_proto__proto2_defaults_are_the_spec_defaults) {
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  ck_assert_str_eq(fi.role, "*");
  ck_assert(fi.failover_timeout == 0.0);
  ck_assert_int_eq(fi.checkpoint, 0);

  Mesos__V1__MasterInfo mi = MESOS__V1__MASTER_INFO__INIT;
  ck_assert_uint_eq(mi.port, 5050);
  Mesos__V1__AgentInfo ai = MESOS__V1__AGENT_INFO__INIT;
  ck_assert_int_eq(ai.port, 5051);

  Mesos__V1__HealthCheck hc = MESOS__V1__HEALTH_CHECK__INIT;
  ck_assert(hc.delay_seconds == 15.0);
  ck_assert(hc.interval_seconds == 10.0);
  ck_assert(hc.timeout_seconds == 20.0);
  ck_assert_uint_eq(hc.consecutive_failures, 3);
  ck_assert(hc.grace_period_seconds == 10.0);

  Mesos__V1__CommandInfo ci = MESOS__V1__COMMAND_INFO__INIT;
  ck_assert_int_eq(ci.shell, 1);
  Mesos__V1__CommandInfo__URI uri = MESOS__V1__COMMAND_INFO__URI__INIT;
  ck_assert_int_eq(uri.extract, 1);
  Mesos__V1__Filters filters = MESOS__V1__FILTERS__INIT;
  ck_assert(filters.refuse_seconds == 5.0);
  Mesos__V1__NetworkInfo__IPAddress ip = MESOS__V1__NETWORK_INFO__IPADDRESS__INIT;
  ck_assert_int_eq(ip.protocol, MESOS__V1__NETWORK_INFO__PROTOCOL__IPv4);
  ck_assert_int_eq(MESOS__V1__NETWORK_INFO__PROTOCOL__IPv4, 1);
  Mesos__V1__ContainerInfo__DockerInfo di = MESOS__V1__CONTAINER_INFO__DOCKER_INFO__INIT;
  ck_assert_int_eq(di.network, MESOS__V1__CONTAINER_INFO__DOCKER_INFO__NETWORK__HOST);
  ck_assert_int_eq(di.privileged, 0);
  Mesos__V1__Environment__Variable ev = MESOS__V1__ENVIRONMENT__VARIABLE__INIT;
  ck_assert_int_eq(ev.type, MESOS__V1__ENVIRONMENT__VARIABLE__TYPE__VALUE);
  Mesos__V1__Image im = MESOS__V1__IMAGE__INIT;
  ck_assert_int_eq(im.cached, 1);
  Mesos__V1__LinuxInfo li = MESOS__V1__LINUX_INFO__INIT;
  ck_assert_int_eq(li.share_cgroups, 1);

  Mesos__ACLs acls = MESOS__ACLS__INIT;
  ck_assert_int_eq(acls.permissive, 1);
  Mesos__ACL__Entity entity = MESOS__ACL__ENTITY__INIT;
  ck_assert_int_eq(entity.type, MESOS__ACL__ENTITY__TYPE__SOME);

  /* Defaults apply to a decoded message that omits the field. FrameworkInfo
   * with only user "u" (1) and name "n" (2): */
  static const uint8_t wire[] = {0x0a, 0x01, 'u', 0x12, 0x01, 'n'};
  Mesos__V1__FrameworkInfo *u = mesos__v1__framework_info__unpack(NULL, sizeof wire, wire);
  ck_assert_ptr_nonnull(u);
  ck_assert_str_eq(u->user, "u");
  ck_assert_str_eq(u->name, "n");
  ck_assert_str_eq(u->role, "*");
  ck_assert_int_eq(u->has_checkpoint, 0);
  mesos__v1__framework_info__free_unpacked(u, NULL);
  /* ... and a missing required field is refused. */
  ck_assert_ptr_null(mesos__v1__framework_info__unpack(NULL, 3, wire));
}
END_TEST

START_TEST(test_proto__messages_that_changed_after_1_0_have_their_final_shape) {
  /* master.Event.TaskUpdated: framework_id=1, status=2, state=3. */
  const char *tu = "mesos.v1.master.Event.TaskUpdated";
  expect_field(tu, "framework_id", 1, REQ, T(MESSAGE));
  expect_field(tu, "status", 2, REQ, T(MESSAGE));
  expect_field(tu, "state", 3, REQ, T(ENUM));
  ck_assert_uint_eq(mesos__v1__master__event__task_updated__descriptor.n_fields, 3);

  /* Response.read_file = 8 with ReadFile { size = 1, data = 2 }. */
  expect_field("mesos.v1.master.Response", "read_file", 8, OPT, T(MESSAGE));
  expect_field("mesos.v1.master.Response.ReadFile", "size", 1, REQ, T(UINT64));
  expect_field("mesos.v1.master.Response.ReadFile", "data", 2, REQ, T(BYTES));
  expect_field("mesos.v1.agent.Response", "read_file", 8, OPT, T(MESSAGE));

  /* HealthCheck.http is HTTPCheckInfo: the 1.0 numbers plus scheme and protocol. */
  const ProtobufCFieldDescriptor *http = field("mesos.v1.HealthCheck", "http");
  ck_assert_str_eq(((const ProtobufCMessageDescriptor *)http->descriptor)->name,
                   "mesos.v1.HealthCheck.HTTPCheckInfo");
  expect_field("mesos.v1.HealthCheck.HTTPCheckInfo", "port", 1, REQ, T(UINT32));
  expect_field("mesos.v1.HealthCheck.HTTPCheckInfo", "path", 2, OPT, T(STRING));
  expect_field("mesos.v1.HealthCheck.HTTPCheckInfo", "scheme", 3, OPT, T(STRING));
  expect_field("mesos.v1.HealthCheck.HTTPCheckInfo", "statuses", 4, REP, T(UINT32));
  expect_field("mesos.v1.HealthCheck.HTTPCheckInfo", "protocol", 5, OPT, T(ENUM));

  /* ACLs: 4, 9 and 10 were removed. */
  expect_field("mesos.ACLs", "permissive", 1, OPT, T(BOOL));
  expect_field("mesos.ACLs", "register_frameworks", 2, REP, T(MESSAGE));
  expect_field("mesos.ACLs", "run_tasks", 3, REP, T(MESSAGE));
  expect_field("mesos.ACLs", "reserve_resources", 5, REP, T(MESSAGE));
  expect_field("mesos.ACLs", "teardown_frameworks", 11, REP, T(MESSAGE));
  expect_field("mesos.ACLs", "reactivate_agents", 58, REP, T(MESSAGE));
  expect_no_field("mesos.ACLs", 4);
  expect_no_field("mesos.ACLs", 9);
  expect_no_field("mesos.ACLs", 10);

  /* DrainAgent.max_grace_period is google.protobuf.Duration. */
  const ProtobufCFieldDescriptor *mgp = field("mesos.v1.master.Call.DrainAgent", "max_grace_period");
  ck_assert_uint_eq(mgp->id, 2);
  ck_assert_ptr_eq(mgp->descriptor, &google__protobuf__duration__descriptor);
  expect_field("google.protobuf.Duration", "seconds", 1, OPT, T(INT64));
  expect_field("google.protobuf.Duration", "nanos", 2, OPT, T(INT32));
}
END_TEST

START_TEST(test_proto__authorizer_actions_keep_their_aliases) {
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__UNKNOWN, 0);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__REGISTER_FRAMEWORK, 1);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__REGISTER_FRAMEWORK_WITH_ROLE, 1);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__RUN_TASK, 2);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__GET_ENDPOINT_WITH_PATH, 8);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__UPDATE_QUOTA, 12);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__UPDATE_QUOTA_WITH_CONFIG, 50);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__VIEW_STANDALONE_CONTAINER, 40);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__DRAIN_AGENT, 51);
  ck_assert_int_eq(MESOS__AUTHORIZATION__ACTION__REACTIVATE_AGENT, 53);
  const ProtobufCEnumDescriptor *a = &mesos__authorization__action__descriptor;
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(a, "TEARDOWN_FRAMEWORK_WITH_PRINCIPAL");
  ck_assert_ptr_nonnull(v);
  ck_assert_int_eq(v->value, 3);
  ck_assert_ptr_nonnull(protobuf_c_enum_descriptor_get_value_by_name(a, "TEARDOWN_FRAMEWORK"));
}
END_TEST

START_TEST(test_proto__map_fields_are_repeated_key_value_entries) {
  const ProtobufCFieldDescriptor *f = field("mesos.v1.FrameworkInfo", "offer_filters");
  ck_assert_uint_eq(f->id, 13);
  ck_assert_int_eq(f->label, REP);
  ck_assert_int_eq(f->type, T(MESSAGE));
  const ProtobufCMessageDescriptor *entry = f->descriptor;
  ck_assert_str_eq(entry->name, "mesos.v1.FrameworkInfo.OfferFiltersEntry");
  const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field(entry, 1);
  const ProtobufCFieldDescriptor *val = protobuf_c_message_descriptor_get_field(entry, 2);
  ck_assert_ptr_nonnull(k);
  ck_assert_ptr_nonnull(val);
  ck_assert_str_eq(k->name, "key");
  ck_assert_int_eq(k->type, T(STRING));
  ck_assert_str_eq(val->name, "value");
  ck_assert_str_eq(((const ProtobufCMessageDescriptor *)val->descriptor)->name, "mesos.v1.OfferFilters");
  expect_field("mesos.v1.TaskInfo", "limits", 15, REP, T(MESSAGE));
  expect_field("mesos.v1.Task", "limits", 17, REP, T(MESSAGE));
  ck_assert_str_eq(((const ProtobufCMessageDescriptor *)field("mesos.v1.TaskInfo", "limits")->descriptor)->name,
                   "mesos.v1.TaskInfo.LimitsEntry");
}
END_TEST

START_TEST(test_proto__calls_encode_to_the_bytes_mesos_sends) {
  /* DECLINE with framework_id "f" and one offer id "o":
   *   0a 03 0a 01 66      framework_id { value: "f" }   (field 1)
   *   10 04               type: DECLINE                 (field 2)
   *   2a 05 0a 03 0a 01 6f decline { offer_ids { value: "o" } } (field 5) */
  static const uint8_t want[] = {0x0a, 0x03, 0x0a, 0x01, 0x66, 0x10, 0x04, 0x2a,
                                 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x6f};
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = "f";
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT;
  oid.value = "o";
  Mesos__V1__OfferID *oids[] = {&oid};
  Mesos__V1__Scheduler__Call__Decline decline = MESOS__V1__SCHEDULER__CALL__DECLINE__INIT;
  decline.n_offer_ids = 1;
  decline.offer_ids = oids;
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  call.framework_id = &fid;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE;
  call.decline = &decline;
  uint8_t buf[64];
  ck_assert_uint_eq(mesos__v1__scheduler__call__get_packed_size(&call), sizeof want);
  ck_assert_uint_eq(mesos__v1__scheduler__call__pack(&call, buf), sizeof want);
  ck_assert(memcmp(buf, want, sizeof want) == 0);

  /* TaskStatus with task_id "t" (1), state TASK_RUNNING (2 = 1), uuid 0x01 0x02 (11):
   *   0a 03 0a 01 74  10 01  5a 02 01 02 */
  static const uint8_t status_wire[] = {0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10,
                                        0x01, 0x5a, 0x02, 0x01, 0x02};
  Mesos__V1__TaskStatus *st = mesos__v1__task_status__unpack(NULL, sizeof status_wire, status_wire);
  ck_assert_ptr_nonnull(st);
  ck_assert_str_eq(st->task_id->value, "t");
  ck_assert_int_eq(st->state, MESOS__V1__TASK_STATE__TASK_RUNNING);
  ck_assert_int_eq(st->has_uuid, 1);
  ck_assert_uint_eq(st->uuid.len, 2);
  ck_assert_uint_eq(st->uuid.data[1], 0x02);
  ck_assert_uint_eq(st->base.n_unknown_fields, 0);
  mesos__v1__task_status__free_unpacked(st, NULL);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("proto_spec_facts");
  TCase *tc = tcase_create("facts");
  tcase_add_test(tc, test_proto__scheduler_call_and_event_types_have_the_spec_numbers);
  tcase_add_test(tc, test_proto__scheduler_call_fields_have_the_spec_numbers);
  tcase_add_test(tc, test_proto__offer_fields_have_the_spec_numbers_and_labels);
  tcase_add_test(tc, test_proto__task_state_numbers_and_first_declared_default);
  tcase_add_test(tc, test_proto__proto2_defaults_are_the_spec_defaults);
  tcase_add_test(tc, test_proto__messages_that_changed_after_1_0_have_their_final_shape);
  tcase_add_test(tc, test_proto__authorizer_actions_keep_their_aliases);
  tcase_add_test(tc, test_proto__map_fields_are_repeated_key_value_entries);
  tcase_add_test(tc, test_proto__calls_encode_to_the_bytes_mesos_sends);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
