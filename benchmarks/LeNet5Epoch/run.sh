#!/usr/bin/env bash
# LeNet-5 on an MNIST-sized data set: one epoch of ConvNet (`convnet train --model lenet5`) and of libtorch
# (ConvNet.TorchCompare --lenet5), alternating, R rounds per thread count. MNIST itself can't be downloaded here, so the
# IDX files hold random pixels and labels (60,000 + 10,000 images, as MNIST): the time of an epoch does not depend on them.
# Usage: benchmarks/LeNet5Epoch/run.sh [ROUNDS=3] [THREADS="1 2"]   → a table and benchmarks/LeNet5Epoch/results.json
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rounds=${1:-3}
threads=${2:-"1 2"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work/mnist" <<'PY'
import os, random, struct, sys
d = sys.argv[1]; os.makedirs(d); random.seed(1)
for name, n in (("train", 60000), ("t10k", 10000)):
    with open(f"{d}/{name}-images-idx3-ubyte", "wb") as f: f.write(struct.pack(">IIII", 0x803, n, 28, 28) + os.urandom(n * 784))
    with open(f"{d}/{name}-labels-idx1-ubyte", "wb") as f: f.write(struct.pack(">II", 0x801, n) + bytes(random.randrange(10) for _ in range(n)))
PY

dotnet build "$repo/src/ConvNet.Demo" -c Release --nologo -v q -clp:ErrorsOnly >&2
convnet="$repo/src/ConvNet.Demo/bin/Release/net10.0/convnet.dll"
# "Trained 1 epoch(s) in 9.9s" or "… in 1m53s" → seconds
seconds() { sed -n 's/.*Trained 1 epoch(s) in \([0-9m.]*\)s;.*/\1/p' | awk -F m '{ print (NF == 2 ? $1 * 60 + $2 : $1) }'; }

echo "round threads convnet_s torch_s loadavg" > "$work/rows"
for r in $(seq "$rounds"); do
  for t in $threads; do
    c=$(dotnet "$convnet" train --model lenet5 --data "$work/mnist" --epochs 1 --threads "$t" --out "$work/run" 2>&1 | seconds)
    p=$("$repo/benchmarks/ConvNet.TorchCompare/run.sh" --lenet5 --json --repeat 1 --threads "$t" 2>/dev/null \
        | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['torch_lenet5_epoch_s_t$t'])")
    echo "$r $t $c $p $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$work/rows" >&2
  done
done

python3 - "$work/rows" "$here/results.json" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
out = {"benchmark": "LeNet-5 MNIST-sized epoch (54,000 train + 6,000 validation, B = 32, Adam)", "rounds": []}
for r, t, c, p, load in rows: out["rounds"].append({"round": int(r), "threads": int(t), "convnet_s": float(c), "torch_s": float(p), "loadavg": float(load)})
print(f"{'threads':>7} {'ConvNet median s':>17} {'libtorch median s':>18} {'ratio (torch/ConvNet)':>22}")
for t in sorted({x["threads"] for x in out["rounds"]}):
    rs = [x for x in out["rounds"] if x["threads"] == t]
    c = statistics.median(x["convnet_s"] for x in rs); p = statistics.median(x["torch_s"] for x in rs)
    ratio = statistics.median(x["torch_s"] / x["convnet_s"] for x in rs)
    out[f"convnet_epoch_s_t{t}"], out[f"torch_epoch_s_t{t}"], out[f"ratio_t{t}"] = c, p, ratio
    print(f"{t:>7} {c:>17.2f} {p:>18.2f} {ratio:>22.2f}")
json.dump(out, open(sys.argv[2], "w"), indent=2)
PY
