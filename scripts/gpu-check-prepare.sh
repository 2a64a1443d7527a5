#!/usr/bin/env bash
# Builds gpu-check/ (git-ignored, < 64 MiB) for scripts/gpu-check.sh on a bare NVIDIA machine with
# no network and no Node. Run here, after `npm ci` (network: npm registry and Debian only):
#   bash scripts/gpu-check-prepare.sh
# Contents: node.xz (this machine's node binary), app.tar.xz (dist/*.js, package.json, the minimal
# node_modules: tfjs + its node bundles, tfjs-backend-webgpu, webgpu's linux-x64 dawn.node, long,
# seedrandom, zod), libvulkan1_*.deb (the Vulkan loader dawn.node dlopens), MANIFEST.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/gpu-check}
cd "$ROOT"
command -v xz >/dev/null || { echo "gpu-check-prepare: xz is needed (apt-get install xz-utils)" >&2; exit 2; }
for p in webgpu @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs; do
  [ -f "node_modules/$p/package.json" ] || { echo "gpu-check-prepare: node_modules/$p missing: run npm ci (webgpu packages are optional dependencies)" >&2; exit 2; }
done
npx tsc -p tsconfig.json
mkdir -p "$DEST"
rm -f "$DEST"/app.tar.xz "$DEST"/libvulkan1_*.deb "$DEST"/MANIFEST
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
APP=$STAGE/app
mkdir -p "$APP/node_modules/@tensorflow"
cp package.json "$APP/"
(cd dist && find src scripts -name '*.js' -print0 | xargs -0 -I{} cp --parents {} "$APP/") 2>/dev/null || true
mkdir -p "$APP/dist" && mv "$APP/src" "$APP/scripts" "$APP/dist/"
# tfjs packages: package.json + the node bundle (main) only
for p in tfjs tfjs-core tfjs-layers tfjs-converter tfjs-data tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-webgpu; do
  src=node_modules/@tensorflow/$p
  main=$(node -p "require('./$src/package.json').main")
  mkdir -p "$APP/$src/$(dirname "$main")"
  cp "$src/package.json" "$APP/$src/"
  cp "$src/$main" "$APP/$src/$main"
done
for p in long seedrandom zod; do cp -r "node_modules/$p" "$APP/node_modules/"; done
mkdir -p "$APP/node_modules/webgpu/dist/linux-x64"
cp node_modules/webgpu/{package.json,index.js} "$APP/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$APP/node_modules/webgpu/dist/linux-x64/"
tar -C "$STAGE" -cf - app | xz -9 -T2 > "$DEST/app.tar.xz"
# node.xz takes minutes: kept when it is this node's (node.version)
if [ ! -f "$DEST/node.xz" ] || [ "$(cat "$DEST/node.version" 2>/dev/null)" != "$(node --version) $(sha256sum "$(command -v node)" | cut -c1-16)" ]; then
  xz -9 -T2 -c "$(command -v node)" > "$DEST/node.xz"
  echo "$(node --version) $(sha256sum "$(command -v node)" | cut -c1-16)" > "$DEST/node.version"
fi
(cd "$DEST" && apt-get download libvulkan1 >/dev/null 2>&1) || { echo "gpu-check-prepare: apt-get download libvulkan1 failed (needs Debian's package index: apt-get update)" >&2; exit 2; }
{
  echo "prepared $(date -u +%FT%TZ) on $(uname -m)"
  echo "node $(node --version)"
  for p in @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu webgpu; do echo "$p $(node -p "require('./node_modules/$p/package.json').version")"; done
  (cd "$DEST" && ls -l --block-size=1 | awk 'NR>1 {print $5, $9}')
} > "$DEST/MANIFEST"
total=$(du -sb "$DEST" | cut -f1)
echo "gpu-check-prepare: $DEST is $total bytes ($(( total / 1048576 )) MiB)"
[ "$total" -lt $((64 * 1048576)) ] || { echo "gpu-check-prepare: over the 64 MiB carry limit" >&2; exit 1; }
