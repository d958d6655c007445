#!/usr/bin/env bash
# Builds kube-apiserver from Debian 12's `kubernetes` source package (1.20.x, with vendor/),
# as Debian's own packaging does it:
#   1. fetch the source with a private deb-src list (the system's apt sources stay untouched);
#   2. replace the vendored modern-go/reflect2 1.0.1 (crashes with Go >= 1.18 on the first map write,
#      modern-go/reflect2#26; fixed in 1.0.2)
#      with Debian's 1.0.2 .go files;
#   3. build GOPATH-style with CGO off, as Debian's rules do: `make WHAT=cmd/kube-apiserver`.
# Usage: build-kube-apiserver.sh OUT_BINARY WORK_DIR
# Prints one `==> step` line per step on stdout; everything else goes wherever the caller sends it.
# Leaves OUT_BINARY only on success (written to a temp name, then renamed), removes WORK_DIR's tree.
set -euo pipefail

OUT=${1:?usage: build-kube-apiserver.sh OUT_BINARY WORK_DIR}
WORK=${2:?usage: build-kube-apiserver.sh OUT_BINARY WORK_DIR}
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2

for tool in go make rsync apt-get tar; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run test/env/install-deps.sh" >&2; exit 2; }
done
[ -d "$REFLECT2" ] || { echo "missing $REFLECT2: run test/env/install-deps.sh" >&2; exit 2; }

mkdir -p "$WORK/apt/lists/partial" "$WORK/src"
echo "==> fetching Debian source package kubernetes"
SRCLIST="$WORK/apt/sources.list"
: > "$SRCLIST"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f" >> "$SRCLIST"
done
SRCPARTS="$WORK/apt/sources.list.d"
mkdir -p "$SRCPARTS"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$SRCPARTS/$(basename "$f")"
done
APT_OPTS=(-o "Dir::Etc::SourceList=$SRCLIST" -o "Dir::Etc::SourceParts=$SRCPARTS"
  -o "Dir::State::Lists=$WORK/apt/lists" -o "DPkg::Lock::Timeout=600")
apt-get "${APT_OPTS[@]}" update
(cd "$WORK/src" && apt-get "${APT_OPTS[@]}" source --download-only kubernetes)

echo "==> unpacking"
ORIG=$(ls "$WORK"/src/kubernetes_*.orig.tar.* | head -n1)
TREE="$WORK/tree"
rm -rf "$TREE" && mkdir -p "$TREE"
tar -xf "$ORIG" -C "$TREE" --strip-components=1

echo "==> replacing vendored modern-go/reflect2 with Debian's 1.0.2"
VR="$TREE/vendor/github.com/modern-go/reflect2"
rm -f "$VR"/*.go
for f in "$REFLECT2"/*.go; do
  case "$f" in *_test.go) ;; *) cp "$f" "$VR/" ;; esac
done

echo "==> compiling cmd/kube-apiserver (go $(go env GOVERSION), several minutes)"
mkdir -p "$TREE/.go/src/k8s.io"
ln -sfn ../../.. "$TREE/.go/src/k8s.io/kubernetes"
(
  cd "$TREE/.go/src/k8s.io/kubernetes"
  export GOPATH="$TREE/.go" CGO_ENABLED=0
  export GOCACHE="$WORK/gocache"
  make WHAT=cmd/kube-apiserver
)

echo "==> installing $OUT"
mkdir -p "$(dirname "$OUT")"
cp "$TREE/_output/bin/kube-apiserver" "$OUT.tmp"
"$OUT.tmp" --version
mv "$OUT.tmp" "$OUT"
rm -rf "$TREE" "$WORK/src"
echo "==> done"
