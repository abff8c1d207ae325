// zlib, for the gzip'd datasets: the C library Datasets' gzip reader and writer talk to.
#include <zlib.h>

/// `inflateInit2` is a C macro, which Swift cannot call; this wrapper opens a zlib stream
/// that expects a gzip header and trailer (window bits 16 + MAX_WBITS) and checks the CRC.
static inline int czlib_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

/// `deflateInit2` is a macro too; this opens a zlib stream that writes gzip format at the given
/// compression level (0–9), with zlib's default memory use and strategy.
static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
