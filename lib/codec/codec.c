/* The public face of the codec (include/mesos/codec.h): name-based
 * conversions over the internal JSON and protobuf codecs, and RecordIO. */
#include "mesos/codec.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "codec/registry.h"

struct mesos_recordio_decoder {
  mesos__recordio_decoder d;
};

static mesos_status find(const char *type_name, const ProtobufCMessageDescriptor **out,
                         mesos_error **err) {
  if (type_name == NULL) return mesos__err(err, MESOS_EINVAL, "no message type given");
  *out = mesos__codec_find_message(type_name);
  if (*out == NULL)
    return mesos__err(err, MESOS_ENOTFOUND, "unknown message type '%.200s'", type_name);
  return MESOS_OK;
}

MESOS_EXTERN(int) mesos_codec_has_type(const char *type_name) {
  return type_name != NULL && mesos__codec_find_message(type_name) != NULL;
}

MESOS_EXTERN(mesos_status) mesos_codec_json_to_protobuf(const char *type_name, const char *json,
                                                        size_t len, uint8_t **out,
                                                        size_t *out_len, mesos_error **err) {
  const ProtobufCMessageDescriptor *d;
  mesos_status s = find(type_name, &d, err);
  if (s != MESOS_OK) return s;
  if (out == NULL || out_len == NULL)
    return mesos__err(err, MESOS_EINVAL, "no place for the output given");
  ProtobufCMessage *m = NULL;
  s = mesos__json_decode(d, json, len, NULL, &m, err);
  if (s != MESOS_OK) return s;
  s = mesos__pb_pack(m, 0, out, out_len, err);
  mesos__pb_free(m);
  return s;
}

MESOS_EXTERN(mesos_status) mesos_codec_protobuf_to_json(const char *type_name,
                                                        const uint8_t *data, size_t len,
                                                        char **out, size_t *out_len,
                                                        mesos_error **err) {
  const ProtobufCMessageDescriptor *d;
  mesos_status s = find(type_name, &d, err);
  if (s != MESOS_OK) return s;
  if (out == NULL || out_len == NULL)
    return mesos__err(err, MESOS_EINVAL, "no place for the output given");
  ProtobufCMessage *m = NULL;
  s = mesos__pb_unpack(d, data, len, 0, 0, &m, err);
  if (s != MESOS_OK) return s;
  /* JSON is larger than protobuf, but bounded by the same kind of limit. */
  mesos__buf b = MESOS__BUF_INIT(MESOS__JSON_MAX_ALLOC);
  s = mesos__json_encode(m, &b, err);
  mesos__pb_free(m);
  if (s != MESOS_OK) {
    mesos__buf_free(&b);
    return s;
  }
  if (b.data == NULL && mesos__buf_reserve(&b, 0) != MESOS_OK)
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  b.data[b.len] = '\0';
  *out = mesos__buf_detach(&b, out_len);
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_recordio_encode(const void *data, size_t len, uint8_t **out,
                                                 size_t *out_len, mesos_error **err) {
  if (out == NULL || out_len == NULL)
    return mesos__err(err, MESOS_EINVAL, "no place for the output given");
  if (len > 0 && data == NULL) return mesos__err(err, MESOS_EINVAL, "recordio: no data");
  mesos__buf b = MESOS__BUF_INIT(SIZE_MAX - 1);
  mesos_status s = mesos__recordio_append(&b, data, len, err);
  if (s != MESOS_OK) {
    mesos__buf_free(&b);
    return s;
  }
  *out = (uint8_t *)mesos__buf_detach(&b, out_len);
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_recordio_decoder_new(mesos_recordio_decoder **out,
                                                      size_t max_record, mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "no place for the decoder given");
  mesos_recordio_decoder *d = MESOS__NEW(mesos_recordio_decoder);
  if (d == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__recordio_decoder_init(&d->d, max_record);
  *out = d;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_recordio_decoder_free(mesos_recordio_decoder *d) {
  if (d == NULL) return;
  mesos__recordio_decoder_free(&d->d);
  mesos__free(d);
}

MESOS_EXTERN(mesos_status) mesos_recordio_decoder_feed(mesos_recordio_decoder *d,
                                                       const void *data, size_t len,
                                                       mesos_error **err) {
  if (d == NULL) return mesos__err(err, MESOS_EINVAL, "no decoder given");
  return mesos__recordio_decoder_feed(&d->d, data, len, err);
}

MESOS_EXTERN(mesos_status) mesos_recordio_decoder_next(mesos_recordio_decoder *d,
                                                       const uint8_t **record, size_t *len,
                                                       mesos_error **err) {
  if (d == NULL || record == NULL || len == NULL)
    return mesos__err(err, MESOS_EINVAL, "no decoder or no place for the record given");
  return mesos__recordio_decoder_next(&d->d, record, len, err);
}

MESOS_EXTERN(int) mesos_recordio_decoder_idle(const mesos_recordio_decoder *d) {
  return d != NULL && mesos__recordio_decoder_idle(&d->d);
}
