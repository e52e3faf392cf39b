// TicketKeys: the keys that encrypt TLS session tickets, one set for the whole process,
// so a ticket issued by one loop (or before a reload) resumes on any other. A new key
// starts encrypting every `rotationSeconds`; the previous one still decrypts until the
// next rotation, so a ticket lives between one and two periods. Keys exist only in memory:
// a restart invalidates every ticket, which costs one full handshake per client.
import CSSL
import Glibc
import Synchronization

public enum TicketKeys {
    struct Key {
        var name: [UInt8]      // 16 bytes, sent in the ticket to find the key again
        var aes: [UInt8]       // 32 bytes, AES-256-CBC
        var hmac: [UInt8]      // 32 bytes, HMAC-SHA256
        var createdAt: Int64   // monotonic seconds

        static func random(now: Int64) -> Key? {
            var bytes = [UInt8](repeating: 0, count: 80)
            guard RAND_bytes(&bytes, 80) == 1 else { return nil }
            return Key(name: Array(bytes[0..<16]), aes: Array(bytes[16..<48]), hmac: Array(bytes[48..<80]), createdAt: now)
        }
    }

    struct Keys {
        var current: Key?
        var previous: Key?
    }

    /// Twelve hours, like Caddy's default rotation.
    static let rotationSeconds: Int64 = 12 * 3600

    // Shared by every loop's handshakes: a pthread mutex (Locked) guards the pair; the
    // critical section copies three small arrays.
    private static let keys = Locked(Keys())

    private static func nowSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec)
    }

    /// The key to encrypt a new ticket with, rotating first when the current one is old.
    static func encryptionKey() -> Key? {
        let now = nowSeconds()
        return keys.withLock { keys -> Key? in
            if keys.current == nil || now - keys.current!.createdAt >= rotationSeconds {
                keys.previous = keys.current
                keys.current = Key.random(now: now)
            }
            return keys.current
        }
    }

    /// The key named in a ticket: the current or the previous one.
    static func decryptionKey(named name: UnsafePointer<UInt8>) -> Key? {
        let wanted = Array(UnsafeBufferPointer(start: name, count: 16))
        return keys.withLock { keys in
            if let current = keys.current, current.name == wanted { return current }
            if let previous = keys.previous, previous.name == wanted { return previous }
            return nil
        }
    }

    /// Rotates now, as if a period had passed: tickets from before the previous rotation
    /// stop resuming.
    public static func rotate() {
        keys.withLock { keys in
            keys.previous = keys.current
            keys.current = Key.random(now: nowSeconds())
        }
    }

    /// OpenSSL's SSL_CTX_set_tlsext_ticket_key_evp_cb callback. Encrypting (enc = 1): fill
    /// the key name and a random IV and set up the contexts; returns 1. Decrypting: 2 = use
    /// and issue a fresh ticket, 0 = unknown key (full handshake).
    static let callback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?,
                                         OpaquePointer?, OpaquePointer?, Int32) -> Int32 = { _, name, iv, cipher, mac, enc in
        guard let name, let iv, let cipher, let mac else { return -1 }
        if enc == 1 {
            guard let key = encryptionKey(), RAND_bytes(iv, 16) == 1 else { return -1 }
            key.name.withUnsafeBufferPointer { name.update(from: $0.baseAddress!, count: 16) }
            let ok = key.aes.withUnsafeBufferPointer { aes in
                key.hmac.withUnsafeBufferPointer { hmac in
                    companion_ticket_crypto_init(cipher, mac, aes.baseAddress, iv, hmac.baseAddress, 1)
                }
            }
            return ok == 1 ? 1 : -1
        }
        guard let key = decryptionKey(named: name) else { return 0 }
        let ok = key.aes.withUnsafeBufferPointer { aes in
            key.hmac.withUnsafeBufferPointer { hmac in
                companion_ticket_crypto_init(cipher, mac, aes.baseAddress, iv, hmac.baseAddress, 0)
            }
        }
        guard ok == 1 else { return -1 }
        // Always 2 (resume and issue a fresh ticket): OpenSSL sends a TLS 1.3 ticket after a
        // resumed handshake only when asked to, and clients use a TLS 1.3 ticket once (RFC 8446
        // §C.4), so with 1 every other connection of a client fell back to a full handshake
        // (measured with wrk's Connection: close load: 50% full handshakes, 0.69x nginx).
        return 2
    }
}
