#!/usr/bin/env bash
# Cross-checks ConvNet's ONNX export with the official ONNX checker (python3-onnx, Debian: apt-get install -y python3-onnx):
# runs the export tests with CONVNET_ONNX_DUMP set (every test model in both layouts, plus the re-exported ResNet-18)
# and checks each file with onnx.checker.check_model(full_check=True), which also runs ONNX's strict shape inference.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dump=$(mktemp -d)
trap 'rm -rf "$dump"' EXIT
CONVNET_ONNX_DUMP="$dump" dotnet test "$repo/tests/ConvNet.Onnx.Tests" -c Release --nologo \
  --filter "FullyQualifiedName~Nhwc_graph_matches_ConvNet|FullyQualifiedName~Round_trip_import_export" >/dev/null
/usr/bin/python3 - "$dump" <<'PY'
import glob, sys, onnx
files = sorted(glob.glob(sys.argv[1] + "/*.onnx"))
bad = 0
for f in files:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
    except Exception as e:
        bad += 1
        print(f"FAIL {f}: {e}")
print(f"onnx checker {onnx.__version__}: {len(files) - bad} passed, {bad} failed")
sys.exit(1 if bad or not files else 0)
PY
