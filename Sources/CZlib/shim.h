#pragma once
#include <zlib.h>

/// deflateInit2 is a macro; Swift sees this function instead. windowBits 31 = gzip wrapper.
static inline int companion_deflateInit2(z_streamp stream, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(stream, level, method, windowBits, memLevel, strategy);
}
static inline int companion_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
