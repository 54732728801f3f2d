/*
 * Checkpointed resources and persistent volumes on the agent (volumes.h).
 */
#include "agent/volumes.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"
#include "registry/fsutil.h"
#include "resources/resources.h"
#include "resources/resources_int.h"

/* Reservations and volumes one agent may hold: far above what an
 * operator makes, low enough that a hostile CHECKPOINT_RESOURCES cannot
 * make the agent create directories without bound. */
#define MAX_CHECKPOINTED 4096u

static int is_volume(const Mesos__V1__Resource *r) {
  return r->disk && r->disk->persistence && r->disk->persistence->id;
}

mesos_status mesos__agent_volume_path(char **out, const char *work_dir,
                                      const Mesos__V1__Resource *r, mesos_error **err) {
  *out = NULL;
  if (!is_volume(r)) return mesos__err(err, MESOS_EINVAL, "resource '%s' is not a persistent volume",
                                       r->name ? r->name : "?");
  const char *id = r->disk->persistence->id;
  char role[256];
  int n = snprintf(role, sizeof role, "%s", mesos__resource_role(r));
  if (n < 0 || (size_t)n >= sizeof role)
    return mesos__err(err, MESOS_EINVAL, "persistent volume %s: role too long", id);
  /* Hierarchical roles ("eng/web") stay one directory, as in Mesos. */
  for (char *p = role; *p; p++)
    if (*p == '/') *p = ' ';
  mesos_status st = mesos__agent_path_check_id("persistence id", id, err);
  if (st == MESOS_OK) st = mesos__agent_path_check_id("volume role", role, err);
  if (st != MESOS_OK) return st;
  size_t len = strlen(work_dir) + strlen(role) + strlen(id) + 32;
  char *p = mesos__malloc(len);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  snprintf(p, len, "%s/volumes/roles/%s/%s", work_dir, role, id);
  *out = p;
  return MESOS_OK;
}

/* The resource without its persistence and its dynamic reservations:
 * what it takes out of the agent's --resources. */
static void base_of(const Mesos__V1__Resource *r, Mesos__V1__Resource *out,
                    Mesos__V1__Resource__DiskInfo *disk) {
  *out = *r;
  out->allocation_info = NULL;
  if (r->disk && r->disk->persistence) {
    *disk = *r->disk;
    disk->persistence = NULL;
    disk->volume = NULL;
    out->disk = disk->source ? disk : NULL;
  }
  while (out->n_reservations > 0 && out->reservations[out->n_reservations - 1]->has_type &&
         out->reservations[out->n_reservations - 1]->type ==
             MESOS__V1__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC)
    out->n_reservations--;
  if (out->n_reservations == 0) out->reservations = NULL;
  if (r->n_reservations == 0 && out->reservation) out->role = NULL, out->reservation = NULL;
}

/* Checks every resource of `cr` (valid, a volume's path safe, not too
 * many); with `total`, that together they fit it.  *bad (when not NULL)
 * gets the index of the first one that does not fit (-1: all do). */
static mesos_status check_all(mesos_agent *a, const Mesos__Internal__CheckpointResources *cr,
                              mesos_resources *total, long *bad, mesos_error **err) {
  if (bad) *bad = -1;
  if (cr->n_resources > MAX_CHECKPOINTED)
    return mesos__err(err, MESOS_ELIMIT, "%zu checkpointed resources (at most %u)",
                      cr->n_resources, MAX_CHECKPOINTED);
  for (size_t i = 0; i < cr->n_resources; i++) {
    const Mesos__V1__Resource *r = cr->resources[i];
    mesos_status st = mesos__resource_validate(r, err);
    if (st != MESOS_OK) return st;
    if (is_volume(r)) {
      char *p = NULL;
      st = mesos__agent_volume_path(&p, a->work_dir, r, err);
      mesos__free(p);
      if (st != MESOS_OK) return st;
    }
    if (total == NULL) continue;
    Mesos__V1__Resource b;
    Mesos__V1__Resource__DiskInfo disk;
    base_of(r, &b, &disk);
    if (mesos__resources_subtract(&total->r, &b, NULL) != MESOS_OK) {
      if (bad) *bad = (long)i;
      return mesos__err(err, MESOS_EINVAL,
                        "checkpointed resource %zu ('%s', role %s) is incompatible with the "
                        "agent's --resources",
                        i, r->name ? r->name : "?", mesos__resource_role(r));
    }
  }
  return MESOS_OK;
}

static mesos_status agent_total(mesos_agent *a, mesos_resources **out, mesos_error **err) {
  mesos_status st = mesos_resources_new(out, err);
  for (size_t i = 0; st == MESOS_OK && i < a->info->n_resources; i++)
    st = mesos__resources_add(&(*out)->r, a->info->resources[i], err);
  return st;
}

static mesos_status make_dirs(mesos_agent *a, const Mesos__Internal__CheckpointResources *cr,
                              mesos_error **err) {
  for (size_t i = 0; i < cr->n_resources; i++) {
    if (!is_volume(cr->resources[i])) continue;
    char *p = NULL;
    mesos_status st = mesos__agent_volume_path(&p, a->work_dir, cr->resources[i], err);
    if (st == MESOS_OK) st = mesos__fs_mkdirs(p, 0755, err);
    mesos__free(p);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static mesos_status resources_path(mesos_agent *a, char **out, mesos_error **err) {
  mesos__agent_path_ids ids = {NULL, NULL, NULL, NULL, NULL};
  return mesos__agent_path(out, a->work_dir, MESOS__AGENT_PATH_RESOURCES_INFO, &ids, err);
}

/* A copy of `cr` owned by the agent. */
static mesos_status copy_of(const Mesos__Internal__CheckpointResources *cr,
                            Mesos__Internal__CheckpointResources **out, mesos_error **err) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *m = NULL;
  mesos_status st = mesos__pb_pack(&cr->base, 0, &bytes, &len, err);
  if (st == MESOS_OK)
    st = mesos__pb_unpack(&mesos__internal__checkpoint_resources__descriptor, bytes, len, 0, 0,
                          &m, err);
  mesos__free(bytes);
  if (st == MESOS_OK) *out = (Mesos__Internal__CheckpointResources *)m;
  return st;
}

mesos_status mesos__agent_volumes_recover(mesos_agent *a, mesos_error **err) {
  char *path = NULL;
  mesos_status st = resources_path(a, &path, err);
  if (st != MESOS_OK) return st;
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_resources *total = NULL;
  st = mesos__checkpoint_read(path, &mesos__internal__checkpoint_resources__descriptor, &m, &e);
  if (st == MESOS_ENOTFOUND) {
    mesos_error_free(e);
    mesos__free(path);
    return MESOS_OK;
  }
  Mesos__Internal__CheckpointResources *cr = (Mesos__Internal__CheckpointResources *)m;
  int strict = mesos__flags_bool(a->flags, "strict");
  long bad = -1;
  if (st == MESOS_OK) st = agent_total(a, &total, &e);
  if (st == MESOS_OK) st = check_all(a, cr, total, &bad, &e);
  if (st != MESOS_OK && !strict && st != MESOS_ENOMEM) {
    if (bad >= 0) {
      /* --no-strict: keep what fits, drop the rest (logged). */
      LOG_WARN("checkpointed resources %s: %s (--no-strict: dropped)", path,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      e = NULL;
      mesos_resources_free(total);
      total = NULL;
      st = agent_total(a, &total, &e);
      size_t k = 0;
      for (size_t i = 0; st == MESOS_OK && i < cr->n_resources; i++) {
        Mesos__V1__Resource b;
        Mesos__V1__Resource__DiskInfo disk;
        base_of(cr->resources[i], &b, &disk);
        if (mesos__resources_subtract(&total->r, &b, NULL) == MESOS_OK) {
          Mesos__V1__Resource *keep = cr->resources[k];
          cr->resources[k++] = cr->resources[i];
          cr->resources[i] = keep;
        }
      }
      /* The dropped ones stay in the array (freed with it), past n. */
      if (st == MESOS_OK) {
        size_t all = cr->n_resources;
        cr->n_resources = k;
        uint8_t *bytes = NULL;
        size_t len = 0;
        st = mesos__pb_pack(&cr->base, 0, &bytes, &len, &e);
        cr->n_resources = all;
        ProtobufCMessage *kept = NULL;
        if (st == MESOS_OK)
          st = mesos__pb_unpack(&mesos__internal__checkpoint_resources__descriptor, bytes, len,
                                0, 0, &kept, &e);
        mesos__free(bytes);
        if (st == MESOS_OK) {
          mesos__pb_free(m);
          m = kept;
          cr = (Mesos__Internal__CheckpointResources *)m;
        }
      }
    } else {
      LOG_WARN("discarding the damaged checkpoint %s (--no-strict): %s", path,
               e ? mesos_error_message(e) : mesos_status_str(st));
      mesos_error_free(e);
      e = NULL;
      mesos__pb_free(m);
      m = NULL;
      cr = NULL;
      st = MESOS_OK;
    }
  }
  if (st == MESOS_OK && cr) st = make_dirs(a, cr, &e);
  mesos_resources_free(total);
  if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "cannot recover the checkpointed resources %s: %s", path,
                         e ? mesos_error_message(e) : mesos_status_str(st));
    mesos__pb_free(m);
    mesos__free(path);
    return st;
  }
  mesos__pb_free(a->checkpointed);
  a->checkpointed = cr;
  if (cr)
    LOG_INFO("Recovered %zu checkpointed resources (reservations and volumes) from %s",
             cr->n_resources, path);
  mesos__free(path);
  return MESOS_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  if (remove(path) != 0 && errno != ENOENT) LOG_WARN("cannot remove %s: %s", path, strerror(errno));
  return 0;
}

/* Whether `cr` lists a volume with the same path as `r`. */
static int lists_volume(mesos_agent *a, const Mesos__Internal__CheckpointResources *cr,
                        const char *path) {
  for (size_t i = 0; cr && i < cr->n_resources; i++) {
    if (!is_volume(cr->resources[i])) continue;
    char *p = NULL;
    int same = mesos__agent_volume_path(&p, a->work_dir, cr->resources[i], NULL) == MESOS_OK &&
               strcmp(p, path) == 0;
    mesos__free(p);
    if (same) return 1;
  }
  return 0;
}

void mesos__agent_volumes_checkpoint(mesos_agent *a,
                                     const Mesos__Internal__CheckpointResources *cr) {
  mesos_error *e = NULL;
  char *path = NULL;
  Mesos__Internal__CheckpointResources *copy = NULL;
  /* The master checked these against the agent's total; the agent still
   * refuses what it cannot store safely (every byte is untrusted). */
  mesos_status st = check_all(a, cr, NULL, NULL, &e);
  if (st == MESOS_OK) st = copy_of(cr, &copy, &e);
  if (st == MESOS_OK) st = make_dirs(a, cr, &e);
  if (st == MESOS_OK) st = resources_path(a, &path, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_write(path, &cr->base, &e);
  if (st != MESOS_OK) {
    LOG_ERROR("CHECKPOINT_RESOURCES refused: %s", e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__pb_free(copy);
    mesos__free(path);
    return;
  }
  /* Durable now: the volumes it no longer lists (DESTROY) go. */
  Mesos__Internal__CheckpointResources *old = a->checkpointed;
  for (size_t i = 0; old && i < old->n_resources; i++) {
    if (!is_volume(old->resources[i])) continue;
    char *p = NULL;
    if (mesos__agent_volume_path(&p, a->work_dir, old->resources[i], NULL) == MESOS_OK &&
        !lists_volume(a, copy, p)) {
      LOG_INFO("Removing the destroyed persistent volume %s", p);
      nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    mesos__free(p);
  }
  mesos__pb_free(old);
  a->checkpointed = copy;
  LOG_INFO("Checkpointed %zu resources (reservations and volumes) in %s", copy->n_resources, path);
  mesos__free(path);
}

void mesos__agent_volumes_reported(mesos_agent *a, Mesos__V1__Resource ***v, size_t *n) {
  *v = a->checkpointed ? a->checkpointed->resources : NULL;
  *n = a->checkpointed ? a->checkpointed->n_resources : 0;
}

/* A relative path with no "." or ".." component and no empty one. */
static int safe_relative(const char *p) {
  if (p == NULL || p[0] == '\0' || p[0] == '/' || strlen(p) > 1024) return 0;
  const char *s = p;
  while (*s) {
    const char *end = strchr(s, '/');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
      return 0;
    s += len;
    if (*s == '/') s++;
  }
  return 1;
}

/* Checks persistent volume `r` for a task: its container_path is safe
 * (relative, or absolute when `abs_ok`: the container has an image), the
 * agent has checkpointed it; *src = its directory (free with
 * mesos__free). */
static mesos_status volume_source(mesos_agent *a, const Mesos__V1__Resource *r, int abs_ok,
                                  char **src, mesos_error **err) {
  *src = NULL;
  const char *id = r->disk->persistence->id;
  const char *cpath = r->disk->volume ? r->disk->volume->container_path : NULL;
  if (cpath && cpath[0] == '/' && !abs_ok)
    /* Mesos: an absolute container path only exists in an image. */
    return mesos__err(err, MESOS_EINVAL,
                      "persistent volume %s: the absolute container_path '%s' needs a container "
                      "image (ContainerInfo.mesos.image); without one it must be relative to the "
                      "sandbox",
                      id, cpath);
  const char *rel = cpath;
  while (rel && *rel == '/') rel++;
  if (!safe_relative(rel))
    return mesos__err(err, MESOS_EINVAL,
                      "persistent volume %s: container_path '%s' must be a path inside the "
                      "sandbox%s (no '.', '..' or empty component)",
                      id, cpath ? cpath : "", abs_ok ? " or the image" : "");
  mesos_status st = mesos__agent_volume_path(src, a->work_dir, r, err);
  if (st == MESOS_OK && !lists_volume(a, a->checkpointed, *src)) {
    mesos__free(*src);
    *src = NULL;
    st = mesos__err(err, MESOS_EINVAL, "persistent volume %s (role %s) is not on this agent", id,
                    mesos__resource_role(r));
  }
  return st;
}

static int volume_readonly(const Mesos__V1__Resource *r) {
  return r->disk->volume && r->disk->volume->mode == MESOS__V1__VOLUME__MODE__RO;
}

mesos_status mesos__agent_volumes_link(mesos_agent *a, const char *sandbox,
                                       Mesos__V1__Resource *const *r, size_t n,
                                       mesos_error **err) {
  for (size_t i = 0; i < n; i++) {
    if (!is_volume(r[i])) continue;
    const char *id = r[i]->disk->persistence->id;
    /* A link cannot make a directory read-only for the task, and running
     * it read-write would ignore what the framework asked for. */
    if (volume_readonly(r[i]))
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "persistent volume %s is read-only (mode RO), which only a task in a "
                        "container with its own mount namespace can be held to (a command task "
                        "on an agent with --isolation=filesystem/linux); here it would be "
                        "writable",
                        id);
    const char *cpath = r[i]->disk->volume ? r[i]->disk->volume->container_path : NULL;
    char *src = NULL, *dst = NULL, *parent = NULL;
    mesos_status st = volume_source(a, r[i], 0, &src, err);
    if (st == MESOS_OK) st = mesos__fs_join(&dst, sandbox, cpath, err);
    if (st == MESOS_OK) st = mesos__fs_dirname(&parent, dst, err);
    if (st == MESOS_OK) st = mesos__agent_mkdirs(parent, err);
    if (st == MESOS_OK) {
      struct stat sb;
      /* Linked already (the same task's executor, a relaunch): replace. */
      if (lstat(dst, &sb) == 0 && S_ISLNK(sb.st_mode)) unlink(dst);
      if (symlink(src, dst) != 0)
        st = mesos__err_errno(err, MESOS_EIO, errno, dst);
    }
    mesos__free(src);
    mesos__free(dst);
    mesos__free(parent);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

mesos_status mesos__agent_volumes_mounts(mesos_agent *a, Mesos__V1__Resource *const *r,
                                         size_t n, int image, mesos__volume *out, char **srcs,
                                         size_t cap, size_t *nout, mesos_error **err) {
  for (size_t i = 0; i < n; i++) {
    if (!is_volume(r[i])) continue;
    if (*nout >= cap)
      return mesos__err(err, MESOS_ELIMIT, "more than %zu volumes in one container", cap);
    char *src = NULL;
    mesos_status st = volume_source(a, r[i], image, &src, err);
    if (st != MESOS_OK) return st;
    mesos__volume *v = &out[*nout];
    memset(v, 0, sizeof *v);
    v->type = MESOS__VOLUME_PERSISTENT;
    v->host_path = src;
    v->container_path = r[i]->disk->volume->container_path;
    v->readonly = volume_readonly(r[i]);
    srcs[(*nout)++] = src;
  }
  return MESOS_OK;
}

mesos_status mesos__agent_volumes_prepare(mesos_agent *a, const char *sandbox,
                                          Mesos__V1__Resource *const *r, size_t n,
                                          mesos_error **err) {
  size_t volumes = 0;
  for (size_t i = 0; i < n; i++) volumes += is_volume(r[i]) != 0;
  if (volumes == 0) return MESOS_OK;
  mesos_status st = mesos__agent_mkdirs(sandbox, err);
  if (st == MESOS_OK) st = mesos__agent_volumes_link(a, sandbox, r, n, err);
  return st;
}

mesos_status mesos__agent_volumes_total(mesos_agent *a, Mesos__V1__Resource ***out, size_t *n,
                                       mesos_error **err) {
  *out = NULL;
  *n = 0;
  mesos_resources *total = NULL;
  mesos_status st = agent_total(a, &total, err);
  const Mesos__Internal__CheckpointResources *cr = a->checkpointed;
  for (size_t i = 0; st == MESOS_OK && cr && i < cr->n_resources; i++) {
    Mesos__V1__Resource b, r = *cr->resources[i];
    Mesos__V1__Resource__DiskInfo disk;
    r.allocation_info = NULL;
    base_of(&r, &b, &disk);
    /* Recovery dropped what does not fit; anything else is applied. */
    if (mesos__resources_subtract(&total->r, &b, NULL) == MESOS_OK)
      st = mesos__resources_add(&total->r, &r, err);
  }
  Mesos__V1__Resource **v = NULL;
  if (st == MESOS_OK && total->r.n > 0) {
    v = mesos__calloc(total->r.n, sizeof *v);
    if (v == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  size_t k = 0;
  while (st == MESOS_OK && v && k < total->r.n) {
    st = mesos__res_to_proto(&total->r.v[k], &v[k]);
    if (st != MESOS_OK) st = mesos__err(err, st, "cannot render resource %zu", k);
    else k++;
  }
  mesos_resources_free(total);
  if (st != MESOS_OK) {
    mesos__agent_volumes_total_free(v, k);
    return st;
  }
  *out = v;
  *n = k;
  return MESOS_OK;
}

void mesos__agent_volumes_total_free(Mesos__V1__Resource **v, size_t n) {
  for (size_t i = 0; v && i < n; i++) mesos__pb_free(v[i]);
  mesos__free(v);
}

void mesos__agent_volumes_free(mesos_agent *a) {
  mesos__pb_free(a->checkpointed);
  a->checkpointed = NULL;
}
