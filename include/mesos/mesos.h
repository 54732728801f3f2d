/*
 * mesos/mesos.h - the whole public API of libmesos-core.
 *
 * Include this one header; it includes the rest.  Anything not declared
 * under include/mesos/ is not part of the API and may change without notice.
 * See libmesos-core(3).
 */
#ifndef MESOS_MESOS_H
#define MESOS_MESOS_H

#include "common.h"
#include "version.h"
#include "error.h"
#include "memory.h"
#include "log.h"
#include "loop.h"
#include "codec.h"
#include "resources.h"
#include "master.h"
#include "agent.h"
#include "executor.h"
#include "scheduler.h"
#include "containerizer.h"
#include "authn.h"
#include "authz.h"

#endif /* MESOS_MESOS_H */
