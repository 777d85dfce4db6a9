#!/usr/bin/env bash
# Packs ConvNet.Core and ConvNet.Data into a temporary feed, builds a fresh console project OUTSIDE
# the repository that references them from that feed only (with its own empty NuGet cache), trains a
# tiny 2-class model and checks the accuracy it prints.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n1)
dotnet pack "$repo/src/ConvNet.Core" -c Release -o "$work/feed" --nologo -v q
dotnet pack "$repo/src/ConvNet.Data" -c Release -o "$work/feed" --nologo -v q
ls "$work/feed"
mkdir -p "$work/app"
sed "s/@VERSION@/$version/" "$repo/tests/PackageSmoke/Consumer.csproj.template" > "$work/app/Consumer.csproj"
sed "s#@FEED@#$work/feed#" "$repo/tests/PackageSmoke/nuget.config.template" > "$work/app/nuget.config"
cp "$repo/tests/PackageSmoke/Program.cs" "$work/app/Program.cs"
export NUGET_PACKAGES="$work/nuget-cache"
out=$(cd "$work/app" && dotnet run -c Release --nologo)
echo "$out"
# The ConvNet packages must have come from the local feed into the empty cache.
test -d "$NUGET_PACKAGES/convnet.core/$version" && test -d "$NUGET_PACKAGES/convnet.data/$version"
acc=$(echo "$out" | sed -n 's/.*accuracy=\([0-9.]*\).*/\1/p')
python3 - "$acc" <<'PY'
import sys
acc = float(sys.argv[1])
print(f"package smoke: accuracy {acc}")
sys.exit(0 if acc >= 0.95 else 1)
PY

# The CLI as a .NET tool: install ConvNet.Cli from the same local feed (as `dotnet tool install --global` would)
# into a private tool path, and run its `convnet` command.
dotnet pack "$repo/src/ConvNet.Demo" -c Release -o "$work/feed" --nologo -v q
dotnet tool install ConvNet.Cli --tool-path "$work/tools" --add-source "$work/feed" --version "$version"
summary=$("$work/tools/convnet" summary --model lenet5)
echo "$summary" | tail -n 4
echo "$summary" | grep -q "Total params: 61,706" || { echo "package smoke: convnet summary did not print LeNet-5's 61,706 parameters"; exit 1; }
echo "package smoke: OK"
