/* Message types by full name ("mesos.v1.scheduler.Call"), over every
 * descriptor protoc-c generated for lib/proto/ (the table
 * scripts/gen-proto-registry.sh writes). */
#ifndef MESOS_CODEC_REGISTRY_H
#define MESOS_CODEC_REGISTRY_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The message descriptor named `name` (full name, no leading dot; a leading
 * dot is tolerated), or NULL.  Thread-safe. */
const ProtobufCMessageDescriptor *mesos__codec_find_message(const char *name);

/* Every message descriptor, nested types and map entries included. */
const ProtobufCMessageDescriptor *const *mesos__codec_messages(size_t *n);

#endif
