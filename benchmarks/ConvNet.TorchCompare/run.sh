#!/usr/bin/env bash
# Builds ConvNet.TorchCompare in Release and runs it under Debian 13's glibc/libstdc++
# via shared/tools/newer-libc.sh (TorchSharp-cpu 0.107.0's libtorch needs GLIBC_2.38 / GLIBCXX_3.4.32).
#
# Usage: benchmarks/ConvNet.TorchCompare/run.sh [--avx2] [program args...]
#   --avx2   cap libtorch at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2), for an
#            ISA-matched comparison with an AVX2-only library on an AVX-512 machine
#   program args: [--json] [--seconds S] [--repeat R] [--threads 2,1] [--out FILE]
# Example: benchmarks/ConvNet.TorchCompare/run.sh --repeat 3 --out benchmarks/ConvNet.TorchCompare/results-$(date +%F).json
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
wrapper=${NEWER_LIBC:-$repo/../shared/tools/newer-libc.sh}
[ -x "$wrapper" ] || [ -f "$wrapper" ] || { echo "newer-libc wrapper not found at $wrapper (set NEWER_LIBC=...)" >&2; exit 1; }

args=()
for a in "$@"; do
  if [ "$a" = "--avx2" ]; then
    export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
  else
    args+=("$a")
  fi
done

dotnet build "$here/ConvNet.TorchCompare.csproj" -c Release --nologo -v q -clp:ErrorsOnly >&2
exec bash "$wrapper" "$here/bin/Release/net10.0/ConvNet.TorchCompare" "${args[@]}"
