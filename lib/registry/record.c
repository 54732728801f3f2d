#include "registry/record.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "registry/crc32c.h"
#include "registry/fsutil.h"

static const uint8_t record_magic[4] = {0x93, 'M', 'R', 'C'};

/* How much of the file the corruption check reads at a time while looking
 * for a valid record after a damaged one. */
#define SEARCH_CHUNK ((size_t)64 << 10)

static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t effective_max(size_t max) {
  if (max == 0) return MESOS__RECORD_MAX_DEFAULT;
  return max > MESOS__RECORD_MAX_LIMIT ? MESOS__RECORD_MAX_LIMIT : max;
}

static uint32_t record_crc(const uint8_t *hdr, const void *data, size_t len) {
  return mesos__crc32c(mesos__crc32c(0, hdr + 4, 8), data, len);
}

mesos_status mesos__record_append(int fd, uint64_t *end, mesos__record_kind kind,
                                  const void *data, size_t len, size_t max, bool sync,
                                  bool *poisoned, const char *what, mesos_error **err) {
  max = effective_max(max);
  if (len > max)
    return mesos__err(err, MESOS_ELIMIT, "%s: record of %zu bytes is over the limit of %zu",
                      what, len, max);
  uint8_t hdr[MESOS__RECORD_HEADER_SIZE] = {0};
  memcpy(hdr, record_magic, 4);
  hdr[4] = MESOS__RECORD_VERSION;
  hdr[5] = (uint8_t)kind;
  put_le32(hdr + 8, (uint32_t)len);
  put_le32(hdr + 12, record_crc(hdr, data, len));

  struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)(uintptr_t)data, len}};
  size_t total = sizeof hdr + len, done = 0;
  uint64_t off = *end;
  int e = 0;
  /* One pwritev for the whole record; loop only on short writes. */
  while (done < total) {
    struct iovec cur[2];
    int n = 0;
    size_t skip = done;
    for (int i = 0; i < 2; i++) {
      if (skip >= iov[i].iov_len) {
        skip -= iov[i].iov_len;
        continue;
      }
      cur[n].iov_base = (char *)iov[i].iov_base + skip;
      cur[n].iov_len = iov[i].iov_len - skip;
      skip = 0;
      n++;
    }
    ssize_t w = pwritev(fd, cur, n, (off_t)(off + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      e = errno;
      break;
    }
    done += (size_t)w;
  }
  if (e == 0 && sync && fdatasync(fd) != 0) {
    e = errno;
    *poisoned = true;
    /* Still truncate below: the record must not count as written. */
  }
  if (e != 0) {
    if (ftruncate(fd, (off_t)off) != 0 || (sync && fdatasync(fd) != 0)) *poisoned = true;
    return mesos__err(err, MESOS_EIO, "%s: writing a record at offset %llu: %s", what,
                      (unsigned long long)off, strerror(e));
  }
  *end = off + total;
  return MESOS_OK;
}

/* Why a record failed validation: soft reasons may be a torn tail, hard
 * ones never are. */
typedef enum {
  REC_OK,
  REC_SHORT,      /* fewer than a header's bytes left */
  REC_MAGIC,      /* no record starts here */
  REC_INCOMPLETE, /* the length runs past the end of the file */
  REC_CHECKSUM,   /* the checksum does not match */
  REC_TOO_LONG,   /* complete, valid-looking, but longer than the limit */
} rec_state;

static const char *rec_state_str(rec_state s) {
  switch (s) {
    case REC_SHORT: return "truncated header";
    case REC_MAGIC: return "bad magic";
    case REC_INCOMPLETE: return "length runs past the end of the file";
    case REC_CHECKSUM: return "checksum mismatch";
    case REC_TOO_LONG: return "longer than the record limit";
    default: return "valid";
  }
}

typedef struct {
  int fd;
  uint64_t size;
  size_t max;
  uint8_t *buf; /* payload buffer, grown to the largest record read */
  size_t cap;
  const char *what;
} scanner;

/* Reads and checks the record at `off`.  On REC_OK, hdr holds the header
 * and s->buf the payload of *len bytes. */
static mesos_status read_record(scanner *s, uint64_t off, uint8_t *hdr, size_t *len,
                                rec_state *st, mesos_error **err) {
  size_t got = 0;
  *st = REC_OK;
  if (s->size - off < MESOS__RECORD_HEADER_SIZE) {
    *st = REC_SHORT;
    return MESOS_OK;
  }
  mesos_status rc = mesos__fs_pread_all(s->fd, hdr, MESOS__RECORD_HEADER_SIZE, off, &got,
                                        s->what, err);
  if (rc != MESOS_OK) return rc;
  if (got < MESOS__RECORD_HEADER_SIZE) {
    *st = REC_SHORT;
    return MESOS_OK;
  }
  if (memcmp(hdr, record_magic, 4) != 0) {
    *st = REC_MAGIC;
    return MESOS_OK;
  }
  uint64_t n = get_le32(hdr + 8);
  if (n > s->size - off - MESOS__RECORD_HEADER_SIZE) {
    *st = REC_INCOMPLETE;
    return MESOS_OK;
  }
  if (n > s->max) {
    *st = REC_TOO_LONG;
    *len = (size_t)n;
    return MESOS_OK;
  }
  if (n > s->cap || s->buf == NULL) {
    uint8_t *nb = mesos__realloc(s->buf, n > 0 ? (size_t)n : 1);
    if (nb == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    s->buf = nb;
    s->cap = (size_t)n;
  }
  rc = mesos__fs_pread_all(s->fd, s->buf, (size_t)n, off + MESOS__RECORD_HEADER_SIZE, &got,
                           s->what, err);
  if (rc != MESOS_OK) return rc;
  if (got < n) {
    *st = REC_INCOMPLETE; /* the file shrank under us */
    return MESOS_OK;
  }
  if (record_crc(hdr, s->buf, (size_t)n) != get_le32(hdr + 12)) {
    *st = REC_CHECKSUM;
    return MESOS_OK;
  }
  *len = (size_t)n;
  return MESOS_OK;
}

/* Looks for any valid record starting after `from`: finding one proves the
 * damage at `from` is not a torn tail.  Candidates are positions of the
 * magic bytes, found by reading the rest of the file in chunks. */
static mesos_status find_valid_after(scanner *s, uint64_t from, uint64_t *found,
                                     mesos_error **err) {
  uint8_t *chunk = mesos__malloc(SEARCH_CHUNK);
  if (chunk == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status rc = MESOS_OK;
  *found = UINT64_MAX;
  uint64_t pos = from + 1;
  while (pos + MESOS__RECORD_HEADER_SIZE <= s->size && *found == UINT64_MAX) {
    size_t got = 0;
    rc = mesos__fs_pread_all(s->fd, chunk, SEARCH_CHUNK, pos, &got, s->what, err);
    if (rc != MESOS_OK || got < 4) break;
    for (size_t i = 0; i + 4 <= got; i++) {
      if (chunk[i] != record_magic[0] || memcmp(chunk + i, record_magic, 4) != 0) continue;
      uint8_t hdr[MESOS__RECORD_HEADER_SIZE];
      size_t len;
      rec_state st;
      rc = read_record(s, pos + i, hdr, &len, &st, err);
      if (rc != MESOS_OK) break;
      if (st == REC_OK || st == REC_TOO_LONG) {
        *found = pos + i;
        break;
      }
    }
    if (rc != MESOS_OK) break;
    pos += got - 3; /* overlap so a magic split across chunks is seen */
  }
  mesos__free(chunk);
  return rc;
}

mesos_status mesos__record_scan(int fd, mesos__record_kind kind, size_t max,
                                mesos__record_cb cb, void *ud, uint64_t *valid_end,
                                uint64_t *torn, const char *what, mesos_error **err) {
  struct stat st_;
  if (fstat(fd, &st_) != 0) return mesos__err_errno(err, MESOS_EIO, errno, what);
  scanner s = {fd, (uint64_t)st_.st_size, effective_max(max), NULL, 0, what};
  uint64_t off = 0;
  mesos_status rc = MESOS_OK;
  while (off < s.size) {
    uint8_t hdr[MESOS__RECORD_HEADER_SIZE];
    size_t len = 0;
    rec_state st;
    rc = read_record(&s, off, hdr, &len, &st, err);
    if (rc != MESOS_OK) break;
    if (st == REC_TOO_LONG) {
      rc = mesos__err(err, MESOS_ELIMIT,
                      "%s: record at offset %llu is %zu bytes, over the limit of %zu", what,
                      (unsigned long long)off, len, s.max);
      break;
    }
    if (st != REC_OK) {
      uint64_t next = UINT64_MAX;
      rc = find_valid_after(&s, off, &next, err);
      if (rc != MESOS_OK) break;
      if (next != UINT64_MAX) {
        rc = mesos__err(err, MESOS_EPROTO,
                        "%s: corrupt record at offset %llu (%s) followed by a valid record at "
                        "offset %llu",
                        what, (unsigned long long)off, rec_state_str(st),
                        (unsigned long long)next);
        break;
      }
      break; /* torn tail: everything from off on is the remains of one write */
    }
    if (hdr[4] != MESOS__RECORD_VERSION || hdr[6] != 0 || hdr[7] != 0) {
      rc = mesos__err(err, MESOS_EVERSION,
                      "%s: record at offset %llu has format version %u, this build reads %u",
                      what, (unsigned long long)off, hdr[4], MESOS__RECORD_VERSION);
      break;
    }
    if (hdr[5] != (uint8_t)kind) {
      rc = mesos__err(err, MESOS_EPROTO, "%s: record at offset %llu is of kind %u, expected %u",
                      what, (unsigned long long)off, hdr[5], (unsigned)kind);
      break;
    }
    if (cb != NULL) {
      rc = cb(s.buf, len, off, ud);
      if (rc != MESOS_OK) break;
    }
    off += MESOS__RECORD_HEADER_SIZE + len;
  }
  mesos__free(s.buf);
  if (rc != MESOS_OK) return rc;
  *valid_end = off;
  *torn = s.size - off;
  return MESOS_OK;
}
