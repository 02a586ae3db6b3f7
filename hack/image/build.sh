#!/usr/bin/env bash
# `make image`: builds $IMAGE from the Containerfile with buildah, offline, and writes it as a
# docker-archive tarball to $IMAGE_ARCHIVE (what `ctr -n k8s.io images import` and
# `docker load` read). Expects dist/ to be compiled (make build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
root="$(cd "$here/../.." && pwd)"
cd "$root"
start=$SECONDS

bash "$here/install-tools.sh"
base_tar="$(bash "$here/base.sh")"
base_key="$(basename "$base_tar" .tar)"

# A build store of this checkout's own (vfs: plain directories, no mounts left behind), so
# nothing is shared with other builds on the machine and `make clean` removes it.
store="$root/.tmp/image/store"
bah() { buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs "$@"; }
base_image="localhost/softtenant-base:${base_key#base-}"
if ! bah inspect --type image "$base_image" >/dev/null 2>&1; then
  log "image: importing the base into the build store"
  ctr="$(bah from --pull=never scratch)"
  bah add --quiet "$ctr" "$base_tar" / >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  bah commit --quiet --rm "$ctr" "$base_image" >/dev/null
fi

log "image: staging dist/ and production node_modules in .tmp/image/app"
[ -f dist/operator/cli/main.js ] || { echo "dist/ is not built: run make build" >&2; exit 1; }
bash "$here/stage-app.sh" "$root" "$root/.tmp/image/app"

# Nothing to do when the archive was built from exactly these inputs.
inputs="$(
  {
    cat Containerfile .dockerignore
    echo "$IMAGE $base_key"
    tar -C .tmp/image/app --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - .
  } | sha256sum | cut -d' ' -f1
)"
stamp="$IMAGE_ARCHIVE.inputs"
if [ -f "$IMAGE_ARCHIVE" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  log "image: $IMAGE_ARCHIVE is up to date ($IMAGE)"
  exit 0
fi
rm -f "$stamp"

log "image: buildah build $IMAGE (BASE=$base_image, APP=staged)"
bah build --quiet --layers=false --isolation chroot --pull=never \
  --build-arg BASE="$base_image" --build-arg APP=staged \
  -f Containerfile -t "$IMAGE" . >/dev/null

mkdir -p "$(dirname "$IMAGE_ARCHIVE")"
rm -f "$IMAGE_ARCHIVE"
bah push --quiet "$IMAGE" "docker-archive:$IMAGE_ARCHIVE:$IMAGE"
echo "$inputs" >"$stamp"
# Intermediate images of earlier builds: the layer cache keeps what this build used.
bah rmi --prune >/dev/null 2>&1 || true
size_mb="$(bah images --format '{{.Size}}' "$IMAGE")"
log "image: wrote $IMAGE_ARCHIVE ($IMAGE, $size_mb unpacked, $(du -m "$IMAGE_ARCHIVE" | cut -f1) MB archive) in $((SECONDS - start)) s"
