#!/usr/bin/env bash
# Accuracy per byte of factoring 1x1 convs (--pointwise) against factoring the spatial convs only, on a
# trained bottleneck CNN (scripts/train-bottleneck-cifar.py): one compress per point, output fit on 512
# seeded, stratified calibration images of train-jpeg-1 (no labels used for anything but stratifying),
# validated on test-jpeg (reported only; nothing is chosen on it). Prints one CSV line per point:
#   variant,share,options,bytes,input_bytes,ratio,top1_original,top1_compressed,agreement
#
#   scripts/bench-pointwise.sh MODEL.onnx SHARED_DIR OUT_DIR [EXTRA compress options...]
set -euo pipefail
model=$1 shared=$2 out=$3
shift 3
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
data=$shared/data/cifar10
common=(--calibration-data "cifar10:$data/train-jpeg-1.bin" --eval-data "cifar10:$data/test-jpeg.bin"
        --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --sensitivity-images 0 "$@")
echo "variant,share,options,bytes,input_bytes,ratio,top1_original,top1_compressed,agreement"
for share in layer stage; do
  while IFS='|' read -r variant opts; do
    name="$share-$variant"
    # shellcheck disable=SC2086
    "$here/acdc-compress" "$model" --share "$share" $opts "${common[@]}" -o "$out/$name.onnx" > "$out/$name.log" 2>&1 || true
    /usr/bin/python3 - "$out/$name.report.json" "$variant" "$share" "$opts" <<'EOF'
import json, sys
path, variant, share, opts = sys.argv[1:]
try:
    r = json.load(open(path))
except OSError:
    print(f"{variant},{share},{opts},failed,,,,,")
    sys.exit(0)
v = r["validation"]
print(f"{variant},{share},{opts},{r['output']['bytes']},{r['input']['bytes']},"
      f"{r['output']['bytes'] / r['input']['bytes']:.4f},{100 * v['original']['top1']:.2f},"
      f"{100 * v['candidate']['top1']:.2f},{100 * v['agreement']:.2f}")
EOF
  done <<'GRID'
spatial-only 6 atoms|--pointwise dense
spatial-only 2 atoms|--pointwise dense --atoms 2
spatial-only 1 atom|--pointwise dense --atoms 1
pointwise 0.5|--pointwise 0.5
pointwise 0.25 (default)|--pointwise 0.25
pointwise 0.125|--pointwise 0.125
GRID
done
