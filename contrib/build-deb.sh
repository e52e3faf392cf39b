#!/usr/bin/env bash
# Builds dist/companion_VERSION_ARCH.deb with dpkg-deb: the binary (Swift runtime linked in
# statically; the system libraries it links, OpenSSL, SQLite, zlib, libcrypt, become
# Depends), the systemd units, the man page and the bash/zsh/fish completions, and an
# example config as a conffile. Usage: contrib/build-deb.sh [OUTDIR]   (default dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/CompanionCore/Version.swift)
arch=$(dpkg --print-architecture)
scratch=.build-deb
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product companion 2>&1 | tail -n 1
binary="$scratch/release/companion"

root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
install -D -m 755 "$binary" "$root/usr/bin/companion"
strip --strip-unneeded "$root/usr/bin/companion"
install -D -m 644 contrib/companion.service "$root/lib/systemd/system/companion.service"
install -D -m 644 contrib/companion.socket "$root/lib/systemd/system/companion.socket"
install -D -m 644 contrib/config.json "$root/etc/companion/config.json"
install -d "$root/usr/share/man/man1"
gzip -9n < contrib/companion.1 > "$root/usr/share/man/man1/companion.1.gz"
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/doc/companion"
"$binary" --generate-completion-script bash > "$root/usr/share/bash-completion/completions/companion"
"$binary" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_companion"
"$binary" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/companion.fish"
cat > "$root/usr/share/doc/companion/copyright" <<'TEXT'
companion: a static-site host with a queryable access log.
Links against OpenSSL (Apache-2.0), SQLite (public domain), zlib (zlib licence), libcrypt
(LGPL-2.1+) from the system; the Swift runtime and swift-argument-parser (Apache-2.0 with
Runtime Library Exception) are linked in.
TEXT

# Depends: the package of each shared library the binary needs (libc's is implied). libpq
# is opened with dlopen for a PostgreSQL log only, so libpq5 is recommended, not required.
depends=$(ldd "$binary" | awk '/=> \//{print $3}' | while read -r lib; do
  dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | grep -v -x -e libc6 | while read -r pkg; do
  echo "$pkg (>= $(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//'))"
done | paste -sd, | sed 's/,/, /g')

install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<TEXT
Package: companion
Version: $version
Architecture: $arch
Maintainer: companion developers <companion@localhost>
Installed-Size: $size
Depends: libc6, $depends
Recommends: libpq5
Section: httpd
Priority: optional
Homepage: https://github.com/companion-host/companion
Description: static-site host with an access log you can query
 companion serves several static sites (virtual hosts) from one JSON config,
 over HTTP and HTTPS with certificates from files or ACME, and writes its
 access log to SQLite so that "companion logs --status 404" answers at once.
 Includes a systemd unit (Type=notify, hardened), an optional socket unit,
 the man page and bash, zsh and fish completions.
TEXT
echo /etc/companion/config.json > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'TEXT'
#!/bin/sh
set -e
# The unit is not enabled: edit /etc/companion/config.json first, then
#   systemctl enable --now companion
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
TEXT
cat > "$root/DEBIAN/prerm" <<'TEXT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop companion.service companion.socket >/dev/null 2>&1 || true
fi
TEXT
cat > "$root/DEBIAN/postrm" <<'TEXT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
TEXT
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/companion_${version}_${arch}.deb" >/dev/null
echo "$out/companion_${version}_${arch}.deb"
