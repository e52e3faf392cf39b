// The version `companion --version` prints, /metrics reports (companion_build_info) and
// the Debian package carries. Raised by hand with each release.

public enum CompanionVersion {
    public static let string = "0.9.0"
    /// The release date of `string` (the man page's date: contrib/make-manual.sh).
    public static let date = "2026-12-05"
}
