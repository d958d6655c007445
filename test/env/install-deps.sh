#!/usr/bin/env bash
# Installs the Debian packages the local test environment needs (test/env, .ci/run).
# Idempotent: installs only the packages that are missing; runs `apt-get update` only then.
# Needs root (or sudo). Waits up to 10 min for a dpkg lock held by another apt-get. Debian 12 (bookworm) archive only.
set -euo pipefail

PACKAGES=(
  etcd-server docker-registry skopeo jq openssl golang-go rsync make postgresql-15
  golang-github-modern-go-reflect2-dev
  python3-cryptography python3-nacl python3-securesystemslib
  ca-certificates curl
  prometheus umoci
  chromium fonts-dejavu-core
  softhsm2 opensc g++ make python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
