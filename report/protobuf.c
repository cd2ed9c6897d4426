/* protobuf.c - a minimal Protocol Buffers encoder (see protobuf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "protobuf.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void ml_pb_init(struct ml_pb *pb)
{
    memset(pb, 0, sizeof *pb);
}

void ml_pb_free(struct ml_pb *pb)
{
    free(pb->buf);
    ml_pb_init(pb);
}

void ml_pb_reset(struct ml_pb *pb)
{
    pb->len = 0;
}

static int reserve(struct ml_pb *pb, size_t more)
{
    if (pb->err)
        return -1;
    if (pb->len + more <= pb->cap)
        return 0;
    size_t cap = pb->cap ? pb->cap : 256;
    while (cap < pb->len + more)
        cap *= 2;
    unsigned char *b = realloc(pb->buf, cap);
    if (!b) {
        pb->err = ENOMEM;
        return -1;
    }
    pb->buf = b;
    pb->cap = cap;
    return 0;
}

static void put_raw(struct ml_pb *pb, const void *data, size_t len)
{
    if (len && reserve(pb, len) == 0) {
        memcpy(pb->buf + pb->len, data, len);
        pb->len += len;
    }
}

static void put_varint(struct ml_pb *pb, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;

    do {
        b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put_raw(pb, b, n);
}

static void put_tag(struct ml_pb *pb, unsigned field, unsigned wire)
{
    put_varint(pb, (uint64_t)field << 3 | wire);
}

void ml_pb_varint_field(struct ml_pb *pb, unsigned field, uint64_t v)
{
    put_tag(pb, field, WIRE_VARINT);
    put_varint(pb, v);
}

void ml_pb_varint_nonzero(struct ml_pb *pb, unsigned field, uint64_t v)
{
    if (v)
        ml_pb_varint_field(pb, field, v);
}

void ml_pb_bytes_field(struct ml_pb *pb, unsigned field, const void *data, size_t len)
{
    put_tag(pb, field, WIRE_LEN);
    put_varint(pb, len);
    put_raw(pb, data, len);
}

void ml_pb_string_field(struct ml_pb *pb, unsigned field, const char *s)
{
    ml_pb_bytes_field(pb, field, s, strlen(s));
}

void ml_pb_message_field(struct ml_pb *pb, unsigned field, const struct ml_pb *msg)
{
    if (msg->err && !pb->err)
        pb->err = msg->err;
    ml_pb_bytes_field(pb, field, msg->buf, msg->len);
}

void ml_pb_packed_field(struct ml_pb *pb, unsigned field, const uint64_t *v, size_t n)
{
    struct ml_pb body;

    if (!n)
        return;
    ml_pb_init(&body);
    for (size_t i = 0; i < n; i++)
        put_varint(&body, v[i]);
    ml_pb_message_field(pb, field, &body);
    ml_pb_free(&body);
}
