/* protobuf.h - a minimal Protocol Buffers encoder (wire format only).
 *
 * Appends fields to a growable byte buffer: varints, length-delimited
 * strings and bytes, packed repeated varints, and embedded messages (an
 * inner buffer appended with its length).  No schema, no decoding: the
 * caller (pprof.c) knows the field numbers.  The buffer owns its bytes.
 * The first allocation failure sticks in err (ENOMEM); later calls do
 * nothing, so a caller may check once at the end.
 */
#ifndef ML_PROTOBUF_H
#define ML_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct ml_pb {
    unsigned char *buf;
    size_t len, cap;
    int err;
};

void ml_pb_init(struct ml_pb *pb);
void ml_pb_free(struct ml_pb *pb);
void ml_pb_reset(struct ml_pb *pb);          /* empty it, keep the memory */

/* Field number `field` with a varint value (wire type 0); an int64 is
 * written as its two's complement, as protobuf does. */
void ml_pb_varint_field(struct ml_pb *pb, unsigned field, uint64_t v);
/* The same, left out when v is 0 (proto3's default). */
void ml_pb_varint_nonzero(struct ml_pb *pb, unsigned field, uint64_t v);
/* Length-delimited (wire type 2): bytes, a string, an embedded message. */
void ml_pb_bytes_field(struct ml_pb *pb, unsigned field, const void *data, size_t len);
void ml_pb_string_field(struct ml_pb *pb, unsigned field, const char *s);
void ml_pb_message_field(struct ml_pb *pb, unsigned field, const struct ml_pb *msg);
/* A packed repeated varint field; nothing when n is 0. */
void ml_pb_packed_field(struct ml_pb *pb, unsigned field, const uint64_t *v, size_t n);

#endif
