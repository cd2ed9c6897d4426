/* test_protobuf.c - unit tests for report/protobuf.c, the wire-format encoder.
 *
 * Expected bytes are the Protocol Buffers encoding rules applied by hand:
 * a tag is (field << 3 | wire type), a varint is 7 bits per byte, low
 * group first, with the high bit set on every byte but the last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protobuf.h"

static void assert_bytes(const struct ml_pb *pb, const unsigned char *want, size_t n)
{
    assert_int_equal(pb->err, 0);
    assert_int_equal(pb->len, n);
    assert_memory_equal(pb->buf, want, n);
}

static void test_varints(void **state)
{
    /* 1 -> 08 01; 300 = 0b10_0101100 -> AC 02; 2^63 -> nine 0x80 bytes, then 01 */
    static const unsigned char want[] = {
        0x08, 0x01,
        0x10, 0xAC, 0x02,
        0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        0x20, 0x00,
    };
    struct ml_pb pb;

    ml_pb_init(&pb);
    ml_pb_varint_field(&pb, 1, 1);
    ml_pb_varint_field(&pb, 2, 300);
    ml_pb_varint_field(&pb, 3, 1ull << 63);
    ml_pb_varint_field(&pb, 4, 0);
    ml_pb_varint_nonzero(&pb, 5, 0);        /* left out */
    assert_bytes(&pb, want, sizeof want);
    ml_pb_free(&pb);
}

static void test_length_delimited(void **state)
{
    /* field 6 string "hi": 32 02 'h' 'i'; field 16 needs a two-byte tag: 82 01 */
    static const unsigned char want[] = {0x32, 0x02, 'h', 'i', 0x82, 0x01, 0x00};
    struct ml_pb pb;

    ml_pb_init(&pb);
    ml_pb_string_field(&pb, 6, "hi");
    ml_pb_bytes_field(&pb, 16, "", 0);
    assert_bytes(&pb, want, sizeof want);
    ml_pb_free(&pb);
}

static void test_packed_and_nested(void **state)
{
    /* packed field 1 of {3, 270}: 0A 03 03 8E 02; a message field 4 holding
     * field 1 = 150: 22 03 08 96 01 */
    static const unsigned char want[] = {0x0A, 0x03, 0x03, 0x8E, 0x02,
                                         0x22, 0x03, 0x08, 0x96, 0x01};
    static const uint64_t v[] = {3, 270};
    struct ml_pb pb, inner;

    ml_pb_init(&pb);
    ml_pb_init(&inner);
    ml_pb_packed_field(&pb, 1, v, 2);
    ml_pb_packed_field(&pb, 2, v, 0);       /* nothing for no values */
    ml_pb_varint_field(&inner, 1, 150);
    ml_pb_message_field(&pb, 4, &inner);
    assert_bytes(&pb, want, sizeof want);
    ml_pb_reset(&inner);
    assert_int_equal(inner.len, 0);
    ml_pb_free(&inner);
    ml_pb_free(&pb);
}

static void test_growth(void **state)
{
    struct ml_pb pb;

    ml_pb_init(&pb);
    for (int i = 0; i < 10000; i++)
        ml_pb_varint_field(&pb, 1, 127);    /* 2 bytes each */
    assert_int_equal(pb.err, 0);
    assert_int_equal(pb.len, 20000);
    assert_int_equal(pb.buf[19998], 0x08);
    assert_int_equal(pb.buf[19999], 0x7F);
    ml_pb_free(&pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_length_delimited),
        cmocka_unit_test(test_packed_and_nested),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
