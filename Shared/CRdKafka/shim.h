// The only C functions this project writes: non-variadic wrappers over librdkafka's variadic macros,
// so Swift can call them. Nothing here allocates or keeps state.
#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>

/// Produces one record through a cached topic handle, copying key and value.
/// `headers` may be NULL; on success librdkafka owns them, on failure the caller still does.
static inline rd_kafka_resp_err_t crdk_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt,
                                               int32_t partition,
                                               const void *key, size_t key_len,
                                               const void *value, size_t value_len,
                                               rd_kafka_headers_t *headers, void *opaque) {
    if (headers) {
        return rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                                 RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque),
                                 RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

#endif
