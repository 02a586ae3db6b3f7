#!/usr/bin/env bash
# Lays out what the image runs, from a source tree whose dist/operator is compiled:
#   OUT/package.json            ("type": "module", the bin entry)
#   OUT/dist/operator/**.js     (no source maps, no tests)
#   OUT/node_modules            (production dependencies only, npm ci --omit=dev, pruned)
# Used both by `make image` on the host and by the Containerfile's compile stage, so the two
# images hold the same files. npm ci is skipped when OUT's modules match the lock file already.
# usage: stage-app.sh SRC OUT
set -euo pipefail
src="$1"
out="$2"
mkdir -p "$out"
cp "$src/package.json" "$src/package-lock.json" "$out/"
stamp="$out/node_modules/.softtenant-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$src/package-lock.json" "$stamp"; then
  rm -rf "$out/node_modules"
  (cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  # Nothing at run time reads type declarations, source maps, TypeScript sources or readmes.
  find "$out/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
    -o -name '*.map' -o -name '*.ts' -o -iname 'readme*' -o -iname 'changelog*' -o -iname 'history.md' \) -delete
  cp "$src/package-lock.json" "$stamp"
fi
rm -rf "$out/dist"
mkdir -p "$out/dist"
cp -R "$src/dist/operator" "$out/dist/operator"
find "$out/dist" -name '*.map' -type f -delete
chmod 0755 "$out/dist/operator/cli/main.js"
