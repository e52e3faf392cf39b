#pragma once
// libzstd (Debian libzstd-dev): the one-shot encoder for the compressed-variant cache.
#include <zstd.h>

/// ZSTD_isError takes and returns size_t/unsigned; a plain int for Swift.
static inline int companion_zstd_is_error(size_t code) { return ZSTD_isError(code) ? 1 : 0; }
