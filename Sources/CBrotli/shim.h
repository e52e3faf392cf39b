#pragma once
// libbrotlienc (Debian libbrotli-dev): the one-shot encoder for the compressed-variant cache.
#include <brotli/encode.h>
