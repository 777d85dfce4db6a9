#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of the packed projects from the compiler's view of their public API
# (Microsoft.CodeAnalysis.PublicApiAnalyzers reports each undeclared symbol as RS0016). Review the diff:
# every change to these files is a change to the public API.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for p in ${PROJECTS:-ConvNet.Core ConvNet.Data ConvNet.Onnx}; do
  dir="$repo/src/$p"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  { dotnet build "$dir" -c Release --no-incremental -p:TreatWarningsAsErrors=false 2>&1 || true; } \
    | sed -n "s/.*RS0016: Symbol '\(.*\)' is not part of the declared public API.*/\1/p" \
    | LC_ALL=C sort -u >> "$dir/PublicAPI.Unshipped.txt"
  echo "$p: $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) public symbols"
done
