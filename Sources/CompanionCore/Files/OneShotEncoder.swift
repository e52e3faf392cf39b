// OneShotEncoder: brotli and zstd bodies for the compressed-variant cache,
// through the system libraries (libbrotlienc, libzstd). A file is encoded once per
// version, on the CompressionQueue's thread, never on a loop: brotli at its best
// quality runs at about 1 MB/s, which is why Caddy refuses it on the fly; made once
// and served from memory, the cost is paid once per deploy.
import CBrotli
import CZstd

/// A content coding companion can make itself.
public enum ContentCoding: String, Sendable, Hashable, CaseIterable {
    case br, zstd, gzip

    /// When the client's q-values tie: the smallest bodies first.
    static let serverPreference: [ContentCoding] = [.br, .zstd, .gzip]
}

enum OneShotEncoder {
    /// Brotli's best quality (11) with its default 4 MiB window.
    static let brotliQuality = 11
    /// zstd's level 19: near its best ratio (levels 20-22 need far more memory to decode).
    static let zstdLevel = 19
    /// br and zstd variants are made for files up to this size (4 s of one core at brotli's
    /// ~1 MB/s); bigger files get gzip only.
    static let maxInputBytes = 4 << 20

    /// The brotli stream of `input`, or nil when the encoder fails.
    static func brotli(_ input: UnsafeRawBufferPointer, quality: Int = brotliQuality) -> [UInt8]? {
        var size = BrotliEncoderMaxCompressedSize(input.count)
        guard size > 0 else { return nil }
        var output = [UInt8](repeating: 0, count: size)
        let ok = output.withUnsafeMutableBufferPointer { buffer in
            BrotliEncoderCompress(Int32(quality), BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                                  input.count, input.baseAddress?.assumingMemoryBound(to: UInt8.self), &size, buffer.baseAddress)
        }
        guard ok == BROTLI_TRUE else { return nil }
        output.removeSubrange(size...)
        return output
    }

    /// The zstd frame of `input` (with its content size and checksum), or nil on failure.
    static func zstd(_ input: UnsafeRawBufferPointer, level: Int = zstdLevel) -> [UInt8]? {
        let bound = ZSTD_compressBound(input.count)
        guard companion_zstd_is_error(bound) == 0, let context = ZSTD_createCCtx() else { return nil }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { buffer in
            ZSTD_compress2(context, buffer.baseAddress, bound, input.baseAddress, input.count)
        }
        guard companion_zstd_is_error(written) == 0 else { return nil }
        output.removeSubrange(written...)
        return output
    }

    /// `input` in `coding` at `level` (gzip: zlib's level; br: quality; zstd: level).
    static func encode(_ input: UnsafeRawBufferPointer, coding: ContentCoding, level: Int) -> [UInt8]? {
        switch coding {
        case .br: brotli(input, quality: level)
        case .zstd: zstd(input, level: level)
        case .gzip: try? Deflater.gzip(input, level: level)
        }
    }
}
