// Deflater: a thin, safe wrapper over the system zlib's deflate with the gzip
// wrapper (RFC 1952), one-shot for bodies in memory and streaming for files read
// in chunks. Also owns ZlibError, the error every zlib wrapper here throws.
import CZlib

/// A zlib call that failed, with the call's name and zlib's return code.
public struct ZlibError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The zlib function that failed, e.g. `"deflate"`.
    public let call: String
    /// zlib's return code (`Z_STREAM_ERROR`, `Z_DATA_ERROR`, `Z_MEM_ERROR`, ...).
    public let code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call) failed with zlib code \(code)" }
}

/// A gzip (RFC 1952) compressor: the single owner of one zlib deflate stream.
///
/// The `z_stream` lives on the heap because zlib keeps a pointer back to it; the
/// struct is `~Copyable` so the stream is ended exactly once, in `deinit`.
/// Not `Sendable`: one thread uses a deflater at a time.
///
/// The corresponding C functions are `deflateInit2`, `deflate`, `deflateBound`
/// and `deflateEnd`.
public struct Deflater: ~Copyable {
    /// windowBits 15 + 16: a gzip header and trailer instead of the zlib ones.
    static let gzipWindowBits: Int32 = 31
    /// zlib's default memLevel (8): about 256 KiB of state per stream.
    static let memLevel: Int32 = 8

    private let stream: UnsafeMutablePointer<z_stream>
    /// Output buffer for the streaming API, allocated on first use.
    private var scratch: UnsafeMutableBufferPointer<UInt8> = .init(start: nil, count: 0)
    static let scratchBytes = 64 * 1024

    /// Starts a gzip stream at compression `level` (0 = store ... 9 = smallest).
    /// Throws when the level is outside 0...9 or zlib cannot allocate its state.
    public init(level: Int) throws(ZlibError) {
        guard (0...9).contains(level) else {
            throw ZlibError(call: "deflateInit2", code: Z_STREAM_ERROR)
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        // zalloc, zfree and opaque must be Z_NULL: zlib then uses malloc/free.
        stream.initialize(to: z_stream())
        let rc = companion_deflateInit2(
            stream, Int32(level), Z_DEFLATED, Self.gzipWindowBits, Self.memLevel, Z_DEFAULT_STRATEGY)
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ZlibError(call: "deflateInit2", code: rc)
        }
        self.stream = stream
    }

    deinit {
        scratch.deallocate()
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `chunk` and appends whatever output zlib produces to `output`.
    /// Pass `finish: true` with the last chunk (it may be empty) to flush the
    /// rest and write the gzip trailer; the stream is then complete.
    ///
    /// zlib keeps up to its window of input buffered, so a call may append
    /// nothing; the output is only complete after `finish: true`.
    public mutating func compress(
        _ chunk: UnsafeRawBufferPointer, finish: Bool, into output: inout [UInt8]
    ) throws(ZlibError) {
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        // Never leave pointers into `chunk` or `output` behind in the stream.
        defer { clearPointers() }
        if scratch.count == 0 {
            scratch = .allocate(capacity: Self.scratchBytes)
        }
        var remaining = chunk
        while true {
            // avail_in is 32-bit: feed very large chunks in slices.
            let slice = UnsafeRawBufferPointer(rebasing: remaining.prefix(Int(UInt32.max)))
            remaining = UnsafeRawBufferPointer(rebasing: remaining.dropFirst(slice.count))
            let sliceFlush = remaining.isEmpty ? flush : Z_NO_FLUSH
            try deflateSlice(slice, flush: sliceFlush, into: &output)
            if remaining.isEmpty { return }
        }
    }

    /// Runs deflate on one slice until zlib has consumed it all and, for
    /// `Z_FINISH`, written the trailer. Output goes through the scratch buffer
    /// and is appended with one copy per call.
    private mutating func deflateSlice(
        _ slice: UnsafeRawBufferPointer, flush: Int32, into output: inout [UInt8]
    ) throws(ZlibError) {
        let stream = self.stream
        stream.pointee.next_in = slice.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        stream.pointee.avail_in = uInt(slice.count)
        while true {
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = uInt(scratch.count)
            let rc = deflate(stream, flush)
            let unused = Int(stream.pointee.avail_out)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<(scratch.count - unused)]))
            switch rc {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR means "no progress possible": for Z_NO_FLUSH that is
                // all input taken with nothing to write, which is not an error.
                if flush == Z_FINISH {
                    // With free output space, Z_FINISH always makes progress.
                    if rc == Z_BUF_ERROR && unused == scratch.count { throw ZlibError(call: "deflate", code: rc) }
                    continue
                }
                // Output not full and input used up: zlib holds nothing it could write.
                if stream.pointee.avail_in == 0 && unused > 0 { return }
            default:
                throw ZlibError(call: "deflate", code: rc)
            }
        }
    }

    private func clearPointers() {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        stream.pointee.next_out = nil
        stream.pointee.avail_out = 0
    }

    /// Compresses `input` into one complete gzip member at `level`.
    ///
    /// The output buffer is sized once with `deflateBound`, so a body in memory
    /// is compressed with a single `deflate(Z_FINISH)` call and no regrowth.
    public static func gzip(_ input: UnsafeRawBufferPointer, level: Int) throws(ZlibError) -> [UInt8] {
        var deflater = try Deflater(level: level)
        guard input.count <= Int(UInt32.max) else {
            var output: [UInt8] = []
            try deflater.compress(input, finish: true, into: &output)
            return output
        }
        return try deflater.compressAll(input)
    }

    /// One-shot body of `gzip`: one deflate call into a `deflateBound`-sized array.
    private mutating func compressAll(_ input: UnsafeRawBufferPointer) throws(ZlibError) -> [UInt8] {
        let stream = self.stream
        let bound = Int(deflateBound(stream, uLong(input.count)))
        defer { clearPointers() }
        var rc: Int32 = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            stream.pointee.next_in = input.baseAddress.map {
                UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
            }
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = buffer.baseAddress
            stream.pointee.avail_out = uInt(bound)
            rc = deflate(stream, Z_FINISH)
            count = bound - Int(stream.pointee.avail_out)
        }
        // deflateBound is an upper bound, so Z_FINISH must complete in one call.
        guard rc == Z_STREAM_END else { throw ZlibError(call: "deflate", code: rc) }
        return output
    }
}
