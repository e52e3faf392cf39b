// Inflater: gunzip for tests and checks (verifying that a compressed body or a
// .gz sidecar decodes to the file). Not used on the serving path.
import CZlib

/// Decodes gzip (RFC 1952) data with the system zlib.
///
/// The corresponding C functions are `inflateInit2`, `inflate` and `inflateEnd`.
public enum Inflater {
    /// Decompresses one complete gzip member.
    ///
    /// SECURITY: output is capped at `maxBytes` (default 1 GiB) so a small
    /// hostile input cannot expand without bound. Throws on truncated or
    /// corrupt input, on trailing bytes after the member, and past the cap.
    public static func gunzip(_ bytes: [UInt8], maxBytes: Int = 1 << 30) throws(ZlibError) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        let initRC = companion_inflateInit2(stream, Deflater.gzipWindowBits)
        guard initRC == Z_OK else { throw ZlibError(call: "inflateInit2", code: initRC) }
        defer { inflateEnd(stream) }

        var output: [UInt8] = []
        let result: Int32 = bytes.withUnsafeBufferPointer { input in
            stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            stream.pointee.avail_in = uInt(input.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64 * 1024)
            defer { scratch.deallocate() }
            while true {
                stream.pointee.next_out = scratch.baseAddress
                stream.pointee.avail_out = uInt(scratch.count)
                let rc = inflate(stream, Z_NO_FLUSH)
                let unused = Int(stream.pointee.avail_out)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<(scratch.count - unused)]))
                if rc == Z_STREAM_END {
                    // Bytes after the member: not a single gzip body.
                    return stream.pointee.avail_in == 0 ? Z_STREAM_END : Z_DATA_ERROR
                }
                guard rc == Z_OK else { return rc }
                if output.count > maxBytes { return Z_MEM_ERROR }
                // Input used up and output space left over: the stream is truncated.
                if stream.pointee.avail_in == 0 && unused > 0 { return Z_BUF_ERROR }
            }
        }
        guard result == Z_STREAM_END else { throw ZlibError(call: "inflate", code: result) }
        return output
    }
}
