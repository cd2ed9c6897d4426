/* utf8.h - UTF-8 validation for the writers of text formats (JSON, XML).
 *
 * One function: the length of the valid UTF-8 sequence at a position, so
 * that writers can pass valid text through and replace invalid bytes with
 * U+FFFD.  Owns nothing.
 */
#ifndef ML_UTF8_H
#define ML_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 when it
 * is invalid; then *skip is the length of its maximal invalid prefix
 * (Unicode's "maximal subpart"), which becomes one U+FFFD. */
size_t ml_utf8_len(const unsigned char *s, size_t n, size_t *skip);

#define ML_UTF8_REPLACEMENT "\xEF\xBF\xBD"   /* U+FFFD */

#endif
