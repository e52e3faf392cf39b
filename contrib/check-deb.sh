#!/usr/bin/env bash
# Checks a package built by contrib/build-deb.sh the way a user would see it: the control
# fields, every file in place with its mode, the man page rendering, and the packaged
# binary running (extracted, not installed). Usage: contrib/check-deb.sh DEB
set -euo pipefail
deb="$1"
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' "$(dirname "$0")/../Sources/CompanionCore/Version.swift")
fail() { echo "check-deb: $*" >&2; exit 1; }
info=$(dpkg-deb --info "$deb")
for field in "Package: companion" "Version: $version" "Architecture: $(dpkg --print-architecture)" "Section: httpd"; do
  grep -qx " $field" <<<"$info" || fail "control lacks '$field'"
done
for dep in libssl3 libsqlite3-0 zlib1g libcrypt1; do
  grep -q "^ Depends:.*\b$dep (>= " <<<"$info" || fail "Depends lacks $dep"
done
grep -qx " Recommends: libpq5" <<<"$info" || fail "Recommends lacks libpq5"
! grep -q "^ Depends:.*libpq" <<<"$info" || fail "Depends has libpq: it is opened with dlopen"
contents=$(dpkg-deb --contents "$deb")
grep -q '^drwxr-xr-x root/root .* \./$' <<<"$contents" || fail "the package root is not 0755 root:root"
for entry in "-rwxr-xr-x ./usr/bin/companion" "-rw-r--r-- ./lib/systemd/system/companion.service" \
             "-rw-r--r-- ./lib/systemd/system/companion.socket" "-rw-r--r-- ./etc/companion/config.json" \
             "-rw-r--r-- ./usr/share/man/man1/companion.1.gz" "-rw-r--r-- ./usr/share/bash-completion/completions/companion" \
             "-rw-r--r-- ./usr/share/zsh/vendor-completions/_companion" \
             "-rw-r--r-- ./usr/share/fish/vendor_completions.d/companion.fish" "-rw-r--r-- ./usr/share/doc/companion/copyright"; do
  mode=${entry%% *}; path=${entry#* }
  awk -v m="$mode" -v p="$path" '$1 == m && $2 == "root/root" && $NF == p {found=1} END {exit !found}' <<<"$contents" \
    || fail "missing or wrong mode/owner: $entry"
done
[ "$(dpkg-deb --field "$deb" Package)" = companion ] || fail "dpkg-deb --field"
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | grep -qx './conffiles' || fail "no conffiles"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
dpkg-deb -e "$deb" "$tmp/DEBIAN"
grep -qx /etc/companion/config.json "$tmp/DEBIAN/conffiles" || fail "config.json is not a conffile"
[ "$("$tmp/usr/bin/companion" --version)" = "$version" ] || fail "packaged binary --version"
# The example config: valid, or (without /var/www/html here) refused with its key path.
rc=0; out=$("$tmp/usr/bin/companion" check --config "$tmp/etc/companion/config.json" 2>&1) || rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q 'sites\[0\].root' <<<"$out"; } || fail "example config: $out"
zcat "$tmp/usr/share/man/man1/companion.1.gz" | grep -q '^\.Nm companion' || fail "man page"
man -l "$tmp/usr/share/man/man1/companion.1.gz" 2>/dev/null | grep -q 'companion logs\|logs' || fail "man page does not render"
bash -n "$tmp/usr/share/bash-completion/completions/companion" || fail "bash completion"
echo "check-deb: $deb OK ($(du -h "$deb" | cut -f1))"
