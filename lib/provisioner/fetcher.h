/* The fetcher: CommandInfo.URIs into a sandbox before a task starts
 * (spec/containerizer.md section 1: "downloads CommandInfo.uris into the
 * sandbox").
 *
 * Sources: absolute local paths, file://, http:// and https:// (through our
 * HTTP client and TLS).  Per URI: `output_file` (a relative path inside the
 * sandbox) or the URI's last path component names the result;
 * `executable` makes it mode 0755; otherwise `extract` (the default)
 * unpacks .tar, .tar.gz and .tgz with the safe extractor of tar.h into the
 * sandbox (the archive stays, as Mesos leaves it); zip is refused as
 * unsupported.  With `cache` set and a cache directory configured, the
 * download is kept under --fetcher_cache_dir keyed by the URI's SHA-256 and
 * later fetches copy it from there; the cache is bounded by
 * --fetcher_cache_size (least recently used files go first).
 *
 * Downloads run on the loop; file copies and extraction on libuv's thread
 * pool.  URIs are fetched in order; the first failure ends the fetch. */
#ifndef MESOS_PROVISIONER_FETCHER_H
#define MESOS_PROVISIONER_FETCHER_H

#include <stdint.h>

#include "mesos/error.h"
#include "mesos/loop.h"
#include "mesos/v1/mesos.pb-c.h"
#include "provisioner/tar.h"

#define MESOS__FETCHER_DEFAULT_CACHE_SIZE ((uint64_t)2 << 30) /* Mesos: 2 GB */
/* One download: beyond this the fetch fails with ELIMIT (a runaway or
 * hostile server must not fill the agent's disk). */
#define MESOS__FETCHER_DEFAULT_MAX_BYTES ((uint64_t)8 << 30)

typedef struct mesos__fetcher mesos__fetcher;

typedef struct mesos__fetcher_opts {
  const char *cache_dir;  /* --fetcher_cache_dir; NULL: no caching */
  uint64_t cache_size;    /* --fetcher_cache_size; 0: the default */
  uint64_t max_bytes;     /* per URI; 0: the default */
  mesos__tar_opts limits; /* for extraction (whiteouts / owners ignored) */
  uint32_t timeout_ms;    /* per download; 0: the HTTP client's default */
  const char *tls_ca_file; /* PEM CA bundle https servers are verified against;
                              NULL: the system bundle (as curl does for Mesos's
                              fetcher); a server that does not verify fails
                              its fetch */
} mesos__fetcher_opts;

mesos_status mesos__fetcher_new(mesos_loop *loop, const mesos__fetcher_opts *opts,
                                mesos__fetcher **out, mesos_error **err);
/* Pending fetches end with MESOS_ECLOSED (their callbacks run first when a
 * thread-pool step is still running: the free is then deferred). */
void mesos__fetcher_free(mesos__fetcher *f);

/* `err` is the callback's to free; `ud` is the caller's. */
typedef void (*mesos__fetch_cb)(mesos_status st, mesos_error *err, void *ud);

/* Fetches every URI of `uris` (n of them, copied) into the directory
 * `sandbox`.  `cb` runs exactly once on the loop thread, unless this call
 * fails: EINVAL for a URI or output_file that cannot be fetched (bad
 * scheme characters, an output_file leaving the sandbox), EUNSUPPORTED for
 * schemes other than file/http/https, ENOMEM. */
mesos_status mesos__fetcher_fetch(mesos__fetcher *f, Mesos__V1__CommandInfo__URI *const *uris,
                                  size_t n, const char *sandbox, mesos__fetch_cb cb, void *ud,
                                  mesos_error **err);

/* Cancels the pending fetches into `sandbox` (a task killed while its
 * URIs download): each ends with MESOS_EUSER, its partial download
 * removed, at once for a download, when the step ends for a copy or an
 * extraction running on the pool.  Their callbacks still run, from the
 * loop, never from inside this call. */
void mesos__fetcher_cancel(mesos__fetcher *f, const char *sandbox);

/* Fetches served from the cache, and downloads/copies done (for tests). */
uint64_t mesos__fetcher_cache_hits(const mesos__fetcher *f);
uint64_t mesos__fetcher_downloads(const mesos__fetcher *f);

#endif
