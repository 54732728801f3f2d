/*
 * A hand-written protobuf decoder for the master's largest call: an agent's
 * REREGISTER (issue 4: master-reregister-10k, 10,000 agents reporting
 * 100,000 tasks at once).
 *
 * protobuf-c decodes a reported task into about ten messages (Task, four
 * ids, two resources with their scalars), each set up from its descriptor;
 * that was 10-15% of the master's time re-registering.  Here the tasks'
 * usual fields (name, ids, state, resources, status_update_state, user) are
 * read straight from the wire into the same structs, and a task whose
 * resource bytes equal the previous task's shares its decoded resources
 * (an agent's tasks are mostly alike).  Everything else goes through
 * protobuf-c as before: the call without its tasks, and any task with
 * another field, a repeated singular field or anything unexpected.
 *
 * The result is what mesos__pb_unpack_arena(AgentCall) gives for the same
 * bytes (tests/fuzz/fuzz_agent_call.c checks both agree on every input):
 * an AgentCall in an arena (arena.h; free with mesos__pb_free), whose
 * tasks may share Resource messages -- read them, never free or change a
 * piece.
 */
#ifndef MESOS_CODEC_PB_AGENT_CALL_H
#define MESOS_CODEC_PB_AGENT_CALL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* The REREGISTER AgentCall in `data` (protobuf), or NULL when the bytes are
 * not a well-formed REREGISTER call this decoder takes on (another call
 * type, unexpected top-level fields, malformed bytes, out of memory): the
 * caller then decodes them the usual way, which also gives the usual error
 * for bad input.  Nothing is kept on NULL. */
ProtobufCMessage *mesos__pb_agent_call_reregister(const uint8_t *data, size_t len);

#endif
