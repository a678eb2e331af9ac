#!/usr/bin/env bash
# The cost of acdc's stages as the model grows: for each ImageNet-size export (scripts/export-zoo.py --only
# resnet18_imagenet,resnet50_imagenet,mobilenet_v2_imagenet,efficientnet_b0_imagenet; random weights: structure
# and cost only), runs compress with the SVD fit, compress with the output fit on N calibration images (the
# defaults otherwise: sensitivity sweep, block recovery where its estimate allows), and quantize (static int8,
# N images) and one fine-tune step (bench-train on the output-fit model, batch TRAIN_BATCH, default 32; both
# batch-norm modes); prints wall time, peak resident memory and each stage's seconds from the report (the output
# fit split into its calibration statistics and its solves), and the training step's images/s.
#
#   scripts/scale-bench.sh MODELS_DIR CIFAR_BIN N [OUT_DIR]
#
# ACDC: the command that runs acdc (default: the launcher beside this folder), e.g. "java -cp CP dev.acdc.cli.Main".
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
  # shellcheck disable=SC2086
  /usr/bin/time -v ${ACDC:-"$here/acdc"} "$@" > "$out/$name.$label.log" 2>&1 || echo "$name $label: exit $?" >&2
  local wall rss
  wall=$(grep "Elapsed (wall" "$out/$name.$label.log" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$out/$name.$label.log" | awk '{printf "%.1f GB", $NF/1048576}')
  local report="$out/$name.$label.report.json"
  local stages=""
  if [ -f "$report" ]; then
    stages=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r.get('timings') or {}; \
o=r.get('outputFit') or {}; t.update({'statistics': o['statisticsSeconds'], 'solves': o['solveSeconds']} if o else {}); \
print(' '.join(f'{k} {v:.1f}' for k, v in t.items() if k != 'total'))" "$report")
  elif grep -q "img/s" "$out/$name.$label.log"; then
    stages=$(grep -E "^(folded|train) +[0-9]" "$out/$name.$label.log" | awk '{printf "%s %s img/s  ", $1, $2}')
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
  run "$name" train-step bench-train "$out/$name.output-fit.onnx" --batch "${TRAIN_BATCH:-32}" --steps 2 \
    --warmup-steps 1 --repeats 1
done
