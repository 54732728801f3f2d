/* Internal: the body of the public mesos_resources handle, for modules (the
 * built-in allocator, the master) that work on mesos__resources directly. */
#ifndef MESOS_RESOURCES_INT_H
#define MESOS_RESOURCES_INT_H

#include "mesos/resources.h"
#include "resources/resources.h"

struct mesos_resources {
  mesos__resources r;
};

/* One resource as a protobuf message (free with mesos__pb_free). */
mesos_status mesos__res_to_proto(const mesos__res *x, Mesos__V1__Resource **out);

#endif
