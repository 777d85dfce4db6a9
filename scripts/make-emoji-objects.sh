#!/usr/bin/env bash
# Regenerates data/emoji-objects/ (train/val/test/<class>/<unified>-<vendor>.png) from the npm packages
# emoji-datasource-google and emoji-datasource-twitter 16.0.0. Same packages → byte-identical files.
# Usage: scripts/make-emoji-objects.sh [OUT_DIR]   (default: data/emoji-objects)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-data/emoji-objects}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent emoji-datasource-google@16.0.0 emoji-datasource-twitter@16.0.0 >/dev/null)
for v in google twitter; do
  mkdir -p "$work/$v"
  tar xzf "$work/emoji-datasource-$v-16.0.0.tgz" -C "$work/$v" "package/emoji.json" "package/LICENSE" "package/img/$v/64"
done

# Only the generated images are replaced; ATTRIBUTION.md stays.
rm -rf "$out/train" "$out/val" "$out/test"
mkdir -p "$out"
dotnet run --project tools/MakeEmojiObjects -c Release -- "$work/google/package" "$work/twitter/package" "$out"
