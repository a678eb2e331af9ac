#!/usr/bin/env bash
# Runs inspect, compress (defaults) and quantize (int8-weights) on every .onnx file in a folder and prints one
# line per model and command: exit code and the last line the command printed. What a new user meets on
# a set of real models; a line with exit 3 (internal error) is a bug.
#
#   scripts/sweep-models.sh MODELS_DIR [OUT_DIR]
set -u
dir=${1:?usage: scripts/sweep-models.sh MODELS_DIR [OUT_DIR]}
out=${2:-$(mktemp -d)}
acdc="$(cd "$(dirname "$0")/.." && pwd)/acdc"
mkdir -p "$out"
printf '%-40s %-9s %4s  %s\n' model command exit "last line"
for m in "$dir"/*.onnx; do
  name=$(basename "$m" .onnx)
  case "$name" in *.acdc|*.int8-weights|*.int8) continue ;; esac
  for cmd in inspect compress quantize; do
    case $cmd in
      inspect) args=(inspect "$m") ;;
      compress) args=(compress "$m" -o "$out/$name.acdc.onnx") ;;
      quantize) args=(quantize "$m" --mode int8-weights -o "$out/$name.q.onnx") ;;
    esac
    "$acdc" "${args[@]}" > "$out/$name.$cmd.log" 2>&1
    code=$?
    last=$(grep -v '^\s*$' "$out/$name.$cmd.log" | tail -1 | cut -c1-110)
    printf '%-40s %-9s %4d  %s\n' "$name" "$cmd" "$code" "$last"
  done
done
