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

/* The deepest nesting an instance of `d` can have (1: no message fields),
 * from the type graph alone; MESOS__PB_MAX_DEPTH + 1 when it is deeper or
 * unbounded (recursive types) or `d` is not one of ours.  Lets the
 * protobuf depth check skip subtrees that cannot be too deep.
 * Thread-safe (computed once). */
unsigned mesos__codec_static_depth(const ProtobufCMessageDescriptor *d);

/* Every message descriptor, nested types and map entries included. */
const ProtobufCMessageDescriptor *const *mesos__codec_messages(size_t *n);

#endif
