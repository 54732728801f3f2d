/*
 * The master's files: with --log_dir the master writes its log into a file
 * there, named as glog names it (mesos-master.<host>.<user>.log.INFO.
 * <yyyymmdd-hhmmss>.<pid>, with the symlink mesos-master.INFO pointing at
 * the newest), and serves that file as the virtual path /master/log
 * through the files service (lib/files): /files/browse, /files/read,
 * /files/download, /files/debug and the v1 LIST_FILES and READ_FILE calls.
 * Every path is ACCESS_MESOS_LOG (spec authorization.md 3.3): no sandbox
 * lives on a master.
 *
 * The log file gets every line the process logs (base/log.h), whatever
 * log handler is installed: --quiet silences only stderr, as in Mesos.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "files/files.h"
#include "master/master_auth.h"
#include "master/operator_int.h"

static mesos_status authorize(void *ud, const char *principal, const char *path,
                              mesos_error **err) {
  mesos_master *m = ud;
  if (mesos__auth_allowed(m->auth, principal, MESOS_AUTHZ_ACCESS_MESOS_LOG, NULL)) return MESOS_OK;
  if (mesos__auth_parked(m->auth)) return MESOS_EAGAIN; /* replayed with the answer */
  return mesos__err(err, MESOS_EPERM, "Forbidden: '%s' may not access the master's log '%s'",
                    principal ? principal : "anonymous", path);
}

/* Creates the log file and the mesos-master.INFO symlink; *path gets the
 * file's full path. */
static mesos_status open_log_file(mesos_master *m, const char *dir, char *path, size_t cap,
                                  mesos_error **err) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return mesos__err(err, MESOS_EIO, "--log_dir '%s': cannot create it: %s", dir,
                      strerror(errno));
  char user[256] = "invalid-user";
  struct passwd pw, *res = NULL;
  char pwbuf[4096];
  if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res && res->pw_name)
    snprintf(user, sizeof user, "%s", res->pw_name);
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  char name[700];
  int n = snprintf(name, sizeof name, "mesos-master.%s.%s.log.INFO.%04d%02d%02d-%02d%02d%02d.%d",
                   m->hostname, user, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (int)getpid());
  if (n < 0 || (size_t)n >= sizeof name || strchr(name, '/'))
    return mesos__err(err, MESOS_EINVAL, "--log_dir: the host name makes no valid file name");
  n = snprintf(path, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap) return mesos__err(err, MESOS_EINVAL, "--log_dir is too long");
  int handle = -1;
  mesos_status st = mesos__log_file_add(path, &handle, err);
  if (st != MESOS_OK) return st;
  m->op->log_handle = handle;
  /* The stable name tools tail; replaced atomically (a new link, then a
   * rename over the old one). */
  char link[1200], tmp[1300];
  snprintf(link, sizeof link, "%s/mesos-master.INFO", dir);
  snprintf(tmp, sizeof tmp, "%s/.mesos-master.INFO.%d", dir, (int)getpid());
  unlink(tmp);
  if (symlink(name, tmp) != 0 || rename(tmp, link) != 0) {
    LOG_WARN("--log_dir: cannot point %s at %s: %s", link, name, strerror(errno));
    unlink(tmp);
  }
  return MESOS_OK;
}

mesos_status mesos__master_files_init(mesos_master *m, mesos_error **err) {
  mesos__operator *op = m->op;
  op->log_handle = -1;
  mesos_status st = mesos__files_new(&op->files, err);
  if (st != MESOS_OK) return st;
  mesos__files_auth fa = {m->auth, authorize, m};
  mesos__files_set_auth(op->files, &fa);
  if (op->log_dir[0]) {
    char path[2048];
    st = open_log_file(m, op->log_dir, path, sizeof path, err);
    if (st == MESOS_OK) st = mesos__files_attach(op->files, path, "/master/log", err);
    if (st == MESOS_OK) LOG_INFO("Logging to %s (served as /master/log)", path);
  }
  if (st == MESOS_OK) st = mesos__files_routes(op->files, m->http, NULL, err);
  return st;
}

void mesos__master_files_fini(mesos_master *m) {
  if (m->op == NULL) return;
  mesos__files_free(m->op->files);
  m->op->files = NULL;
  mesos__log_file_remove(m->op->log_handle);
  m->op->log_handle = -1;
}

static void respond_files_error(mesos__http_request *req, mesos_status st, mesos_error *e) {
  mesos__http_respond_text(req, mesos__files_http_status(st),
                           e ? mesos_error_message(e) : mesos_status_str(st));
}

/* LIST_FILES and READ_FILE; already authorized (ACCESS_MESOS_LOG) by
 * mesos__master_auth_operator_call. */
void mesos__master_files_call(mesos_master *m, mesos__http_request *req, mesos__media media,
                              const Mesos__V1__Master__Call *c) {
  mesos__operator *op = m->op;
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  r.has_type = 1;
  mesos_error *e = NULL;
  if (c->type == MESOS__V1__MASTER__CALL__TYPE__LIST_FILES) {
    mesos__file_entry *v = NULL;
    size_t n = 0;
    mesos_status st = mesos__files_browse(op->files, c->list_files->path, &v, &n, &e);
    if (st != MESOS_OK) {
      respond_files_error(req, st, e);
      mesos_error_free(e);
      return;
    }
    mesos__op_scratch s;
    mesos__op_scratch_init(&s, 1024 + n * 256);
    Mesos__V1__Master__Response__ListFiles lf = MESOS__V1__MASTER__RESPONSE__LIST_FILES__INIT;
    lf.file_infos = mesos__op_alloc(&s, (n ? n : 1) * sizeof *lf.file_infos);
    for (size_t i = 0; lf.file_infos && i < n; i++) {
      Mesos__V1__FileInfo *fi = mesos__op_alloc(&s, sizeof *fi);
      Mesos__V1__TimeInfo *tm = mesos__op_alloc(&s, sizeof *tm);
      if (fi == NULL || tm == NULL) break;
      mesos__v1__file_info__init(fi);
      mesos__v1__time_info__init(tm);
      fi->path = v[i].path; /* v outlives the response below */
      fi->has_nlink = fi->has_size = fi->has_mode = 1;
      fi->nlink = (int32_t)v[i].nlink;
      fi->size = v[i].size;
      fi->mode = v[i].mode;
      tm->nanoseconds = v[i].mtime_ns;
      fi->mtime = tm;
      fi->uid = v[i].uid;
      fi->gid = v[i].gid;
      lf.file_infos[lf.n_file_infos++] = fi;
    }
    r.type = MESOS__V1__MASTER__RESPONSE__TYPE__LIST_FILES;
    r.list_files = &lf;
    if (s.oom) mesos__http_respond_text(req, 503, "Out of memory while building the response");
    else mesos__op_respond(req, media, &r.base);
    mesos__op_scratch_free(&s);
    mesos__files_entries_free(v, n);
    return;
  }
  const Mesos__V1__Master__Call__ReadFile *rf = c->read_file;
  if (rf->offset > (uint64_t)INT64_MAX || (rf->has_length && rf->length > (uint64_t)INT64_MAX)) {
    mesos__http_respond_text(req, 400,
                             "'read_file.offset' and 'read_file.length' must fit in int64");
    return;
  }
  char *data = NULL;
  size_t len = 0;
  uint64_t size = 0;
  mesos_status st = mesos__files_read(op->files, rf->path, (int64_t)rf->offset,
                                      rf->has_length ? (int64_t)rf->length : -1,
                                      MESOS__FILES_MAX_API_READ, &data, &len, &size, &e);
  if (st != MESOS_OK) {
    respond_files_error(req, st, e);
    mesos_error_free(e);
    return;
  }
  Mesos__V1__Master__Response__ReadFile rd = MESOS__V1__MASTER__RESPONSE__READ_FILE__INIT;
  rd.size = size;
  rd.data.data = (uint8_t *)data;
  rd.data.len = len;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__READ_FILE;
  r.read_file = &rd;
  mesos__op_respond(req, media, &r.base);
  mesos__free(data);
}
