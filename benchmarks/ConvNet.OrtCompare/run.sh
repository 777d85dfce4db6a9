#!/usr/bin/env bash
# ConvNet vs ONNX Runtime 1.31.1 inference, timed alternately in one process (see README.md).
# Usage: benchmarks/ConvNet.OrtCompare/run.sh [program args...]   (default: --repeat 10 --threads 2,1 --out results-<date>.json)
# Example: benchmarks/ConvNet.OrtCompare/run.sh --repeat 10 --threads 2,1 --out benchmarks/ConvNet.OrtCompare/results-$(date +%F).json
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -eq 0 ]; then
  set -- --repeat 10 --threads 2,1 --out "$here/results-$(date +%F).json"
fi
exec dotnet run -c Release --project "$here/ConvNet.OrtCompare.csproj" -- "$@"
