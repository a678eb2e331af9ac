#!/usr/bin/env bash
# The cost of acdc's stages as the model grows: for each ImageNet-size export (scripts/export-zoo.py --only
# resnet18_imagenet,resnet50_imagenet,mobilenet_v2_imagenet,efficientnet_b0_imagenet; random weights: structure
# and cost only), runs compress with the SVD fit, compress with the output fit on N calibration images (the
# defaults otherwise: sensitivity sweep, block recovery where its estimate allows), and quantize (static int8,
# N images); prints wall time, peak resident memory and each stage's seconds from the report.
#
#   scripts/scale-bench.sh MODELS_DIR CIFAR_BIN N [OUT_DIR]
#
# CIFAR_BIN: a CIFAR-10 binary file whose first N images are written as PNGs and read as folder: data with
# the ImageNet preset (resize 256, crop 224): real photographs at the models' input size.
set -eu
dir=${1:?usage: scripts/scale-bench.sh MODELS_DIR CIFAR_BIN N [OUT_DIR]}
bin=${2:?CIFAR_BIN}
n=${3:?N}
out=${4:-$(mktemp -d)}
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out/images"
/usr/bin/python3 - "$bin" "$n" "$out/images" <<'PY'
import sys
from PIL import Image
src, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(src, "rb").read()
for i in range(n):
    rec = data[i * 3073:(i + 1) * 3073]
    label, px = rec[0], rec[1:]
    img = Image.frombytes("RGB", (32, 32), bytes(b for j in range(1024) for b in (px[j], px[1024 + j], px[2048 + j])))
    img.save(f"{dst}/{label}_{i:05d}.png")
PY
run() { # name label args...
  local name=$1 label=$2; shift 2
  /usr/bin/time -v "$here/acdc" "$@" > "$out/$name.$label.log" 2>&1 || echo "$name $label: exit $?" >&2
  local wall rss
  wall=$(grep "Elapsed (wall" "$out/$name.$label.log" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$out/$name.$label.log" | awk '{printf "%.1f GB", $NF/1048576}')
  local report="$out/$name.$label.report.json"
  local stages=""
  if [ -f "$report" ]; then
    stages=$(/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1])).get('timings') or {}; \
print(' '.join(f'{k} {v:.1f}' for k, v in t.items() if k != 'total'))" "$report")
  fi
  printf '%-26s %-10s %9s %8s  %s\n' "$name" "$label" "$wall" "$rss" "$stages"
}
printf '%-26s %-10s %9s %8s  %s\n' model run wall "peak RSS" "stage seconds (report)"
data="folder:$out/images"
for m in "$dir"/*_imagenet-opset*.onnx; do
  name=$(basename "$m" .onnx)
  run "$name" svd compress "$m" --share=layer -o "$out/$name.svd.onnx"
  run "$name" output-fit compress "$m" --share=layer --calibration-data "$data" --preset imagenet \
    --calibration-images "$n" -o "$out/$name.output-fit.onnx"
  run "$name" int8 quantize "$m" --mode int8 --calibration-data "$data" --preset imagenet \
    --calibration-images "$n" -o "$out/$name.int8.onnx"
done
