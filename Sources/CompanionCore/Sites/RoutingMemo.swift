// RoutingMemo: the site a connection's last plain request was routed to, by its Host
// bytes. Nearly every connection sends one Host on every request (a browser opens its
// connections per origin), and routing it again (the port cut off, the name hashed with
// case folded, compared, the table's arrays retained) cost ~250 instructions a request
// under callgrind; comparing the bytes with the last ones costs a few dozen.

import Glibc

/// One connection's last routing: `host` (up to 32 bytes, kept inline: a connection holds
/// no allocation for it) was routed to `siteIndex` under the state with `serial` (no
/// reference: an idle connection does not keep a replaced config alive).
struct RoutingMemo {
    private var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var count = -1
    private var siteIndex = 0
    /// The serial of the state the index belongs to (0: none); a reload makes a new state.
    private var serial: UInt64 = 0

    /// Hosts longer than this are routed every time.
    static let capacity = 32

    /// The site index for `host` under `state`: the last one when the bytes and the state are
    /// the same, else `route()`'s, remembered.
    mutating func siteIndex(for host: UnsafeBufferPointer<UInt8>, state: ServerState, route: () -> Int) -> Int {
        if host.count == count, state.serial == serial, host.count == 0 || withUnsafeBytes(of: &bytes, { memcmp($0.baseAddress!, host.baseAddress!, host.count) == 0 }) {
            return siteIndex
        }
        let index = route()
        if host.count <= Self.capacity {
            if let base = host.baseAddress {
                withUnsafeMutableBytes(of: &bytes) { $0.baseAddress!.copyMemory(from: base, byteCount: host.count) }
            }
            count = host.count
            siteIndex = index
            serial = state.serial
        } else {
            count = -1
        }
        return index
    }
}
