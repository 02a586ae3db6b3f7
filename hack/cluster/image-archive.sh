#!/usr/bin/env bash
# Writes a one-layer docker-archive tarball (what `docker save` writes and
# `ctr images import` reads) from a root filesystem directory.
# Usage: image-archive.sh ROOTFS_DIR NAME:TAG OUT.tar ENTRYPOINT [CMD...]
set -euo pipefail
rootfs="$1" ref="$2" out="$3" entry="$4"
shift 4
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Fixed owner and times: the same inputs give the same layer digest.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
json_list() { local s="" a; for a in "$@"; do s="$s${s:+,}\"$a\""; done; printf '[%s]' "$s"; }
cmd="null"; [ $# -gt 0 ] && cmd="$(json_list "$@")"
printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":%s,"Cmd":%s,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$(json_list "$entry")" "$cmd" "$diff_id" >"$work/config.json"
config="$(sha256sum "$work/config.json" | cut -d' ' -f1).json"
mv "$work/config.json" "$work/$config"
printf '[{"Config":"%s","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config" "$ref" >"$work/manifest.json"
tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf "$out.tmp" manifest.json "$config" layer.tar
mv "$out.tmp" "$out"
