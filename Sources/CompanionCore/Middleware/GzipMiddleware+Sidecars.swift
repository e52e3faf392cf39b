// GzipMiddleware+Sidecars: precompressed files next to the original (SPEC §3):
// NAME.br, NAME.zst and NAME.gz, served as is to clients that accept that coding,
// preference br, zstd, gzip, for any type, when at least as new as NAME.
//
// SECURITY: sidecars are opened through the site's PathResolver like every other
// lookup, so a sidecar that is a symlink leaving the root is never served
// (static-web-server's advisory on exactly that), and the validated descriptor is
// the one sent: no second open by name.

extension GzipMiddleware {
    /// The codings with a sidecar file, in preference order: coding name, file suffix.
    static let sidecars: [(coding: String, suffix: String)] = [("br", ".br"), ("zstd", ".zst"), ("gzip", ".gz")]

    /// The sidecar variant of `identity` for the best coding the client accepts,
    /// or nil when none exists, is stale or cannot be opened.
    ///
    /// Only codings the client accepts are looked up, so a client without
    /// `Accept-Encoding` costs no extra syscall. On a loop, the file cache remembers which
    /// sidecars of `file` are absent until one of their names changes (`FileCache.openSidecar`),
    /// so a file without sidecars costs a failed open per accepted coding once, not on
    /// every request.
    func sidecarResponse(for identity: Response, file: OpenFile, path: String,
                         accepted: AcceptEncoding, site: Site, files: FileCache?) -> Response? {
        // The entry the static stage answered with (nil outside a loop, or without a cache).
        let entry = files?.entry(for: path, in: site, answering: file)
        for (slot, (coding, suffix)) in Self.sidecars.enumerated() where Self.accepts(accepted, coding) {
            let opened = if let files, let entry {
                files.openSidecar(suffix, slot: slot, of: path, entry: entry, in: site)
            } else {
                site.resolver.open(path + suffix)
            }
            guard case .success(let sidecar) = opened, sidecar.isRegularFile,
                  Self.isAtLeastAsNew(sidecar, as: file)
            else { continue }
            // The validators come from the file actually sent: rebuilding
            // style.css.gz alone must change the ETag, or caches revalidate to the old build.
            var response = Self.encoded(identity, body: .file(sidecar), coding: coding)
            response.etag = ETag.variant(ETag.make(size: sidecar.size, mtimeSeconds: sidecar.mtimeSeconds,
                                                   mtimeNanoseconds: sidecar.mtimeNanoseconds), suffix: coding)
            response.lastModified = sidecar.mtimeSeconds
            return response
        }
        return nil
    }

    /// The `sidecars` slots (bit `slot`, as `FileCache.Entry.absentSidecars`) of the codings
    /// `accepted` takes: the sidecars a request with it would be answered from.
    static func sidecarBits(_ accepted: AcceptEncoding) -> UInt8 {
        var bits: UInt8 = 0
        for (slot, sidecar) in sidecars.enumerated() where accepts(accepted, sidecar.coding) { bits |= 1 << UInt8(slot) }
        return bits
    }

    static func accepts(_ accepted: AcceptEncoding, _ coding: String) -> Bool {
        switch coding {
        case "br": return accepted.br
        case "zstd": return accepted.zstd
        default: return accepted.gzip
        }
    }

    /// SPEC §3: a sidecar older than its source is stale (the source was edited and the
    /// sidecar not rebuilt), so the source is served instead.
    static func isAtLeastAsNew(_ sidecar: OpenFile, as source: OpenFile) -> Bool {
        (sidecar.mtimeSeconds, sidecar.mtimeNanoseconds) >= (source.mtimeSeconds, source.mtimeNanoseconds)
    }
}
