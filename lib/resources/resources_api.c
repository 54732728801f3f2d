/* The public face of lib/resources: an opaque handle around mesos__resources,
 * so the built-in allocator works on the same representation that crosses
 * the allocator vtable, with no conversion. */
#include "mesos/resources.h"

#include "base/alloc.h"
#include "base/error.h"
#include "codec/pb.h"
#include "resources/resources.h"
#include "resources/resources_int.h"

MESOS_EXTERN(mesos_status) mesos_resources_new(mesos_resources **out, mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_resources_new: out is NULL");
  mesos_resources *r = MESOS__NEW(mesos_resources);
  if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__resources_init(&r->r);
  *out = r;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_resources_free(mesos_resources *r) {
  if (r == NULL) return;
  mesos__resources_free(&r->r);
  mesos__free(r);
}

MESOS_EXTERN(mesos_status) mesos_resources_clone(mesos_resources **out, const mesos_resources *r,
                                                 mesos_error **err) {
  mesos_resources *c = NULL;
  mesos_status st = mesos_resources_new(&c, err);
  if (st != MESOS_OK) return st;
  st = mesos__resources_add_all(&c->r, &r->r);
  if (st != MESOS_OK) {
    mesos_resources_free(c);
    return mesos__err(err, st, "mesos_resources_clone: %s", mesos_status_str(st));
  }
  *out = c;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_resources_parse(mesos_resources *r, const char *text,
                                                 const char *default_role, mesos_error **err) {
  if (r == NULL || text == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_parse: NULL argument");
  return mesos__resources_parse(&r->r, text, default_role, err);
}

MESOS_EXTERN(mesos_status) mesos_resources_add_protobuf(mesos_resources *r, const uint8_t *data,
                                                        size_t len, mesos_error **err) {
  if (r == NULL || (data == NULL && len > 0))
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_add_protobuf: NULL argument");
  ProtobufCMessage *msg = NULL;
  mesos_status st = mesos__pb_unpack(&mesos__v1__resource__descriptor, data, len, 0, 0, &msg, err);
  if (st != MESOS_OK) return st;
  st = mesos__resources_add(&r->r, (Mesos__V1__Resource *)msg, err);
  mesos__pb_free(msg);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_resources_add(mesos_resources *r, const mesos_resources *other,
                                               mesos_error **err) {
  if (r == NULL || other == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_add: NULL argument");
  /* Add into a copy so a failure leaves `r` as it was. */
  mesos__resources tmp;
  mesos_status st = mesos__resources_copy(&tmp, &r->r);
  if (st == MESOS_OK) st = mesos__resources_add_all(&tmp, &other->r);
  if (st != MESOS_OK) {
    mesos__resources_free(&tmp);
    return mesos__err(err, st, "mesos_resources_add: %s", mesos_status_str(st));
  }
  mesos__resources_free(&r->r);
  r->r = tmp;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_resources_subtract(mesos_resources *r,
                                                    const mesos_resources *other,
                                                    mesos_error **err) {
  if (r == NULL || other == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_subtract: NULL argument");
  return mesos__resources_subtract_all(&r->r, &other->r, err);
}

MESOS_EXTERN(int) mesos_resources_contains(const mesos_resources *r,
                                           const mesos_resources *other) {
  return mesos__resources_contains_all(&r->r, &other->r) ? 1 : 0;
}

MESOS_EXTERN(int) mesos_resources_equal(const mesos_resources *a, const mesos_resources *b) {
  return mesos__resources_equal(&a->r, &b->r) ? 1 : 0;
}

MESOS_EXTERN(int) mesos_resources_is_empty(const mesos_resources *r) {
  return mesos__resources_empty(&r->r) ? 1 : 0;
}

MESOS_EXTERN(double) mesos_resources_scalar(const mesos_resources *r, const char *name) {
  return (double)mesos__resources_scalar_milli(&r->r, name) / 1000.0;
}

MESOS_EXTERN(size_t) mesos_resources_count(const mesos_resources *r) { return r->r.n; }

MESOS_EXTERN(mesos_status) mesos_resources_get_protobuf(const mesos_resources *r, size_t i,
                                                        uint8_t **out, size_t *out_len,
                                                        mesos_error **err) {
  if (r == NULL || out == NULL || out_len == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_get_protobuf: NULL argument");
  if (i >= r->r.n)
    return mesos__err(err, MESOS_ENOTFOUND, "resource %zu: only %zu resources", i, r->r.n);
  Mesos__V1__Resource *res = NULL;
  mesos_status st = mesos__res_to_proto(&r->r.v[i], &res);
  if (st != MESOS_OK) return mesos__err(err, st, "out of memory");
  st = mesos__pb_pack(&res->base, 0, out, out_len, err);
  mesos__pb_free(res);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_resources_format(const mesos_resources *r, char **out,
                                                  mesos_error **err) {
  if (r == NULL || out == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_resources_format: NULL argument");
  mesos_status st = mesos__resources_format(&r->r, out);
  if (st != MESOS_OK) return mesos__err(err, st, "mesos_resources_format: %s", mesos_status_str(st));
  return MESOS_OK;
}
