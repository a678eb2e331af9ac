#!/usr/bin/env python3
"""Runs every .onnx in a folder under ONNX Runtime's CPU and CUDA providers and compares the outputs.

    python3 scripts/cuda-check.py DIR [CIFAR10.bin]

CIFAR-shaped models get the CIFAR-10 binary file's images (normalised as the ../shared ResNets expect)
and report top-1 on both providers; 224x224 models get a seeded random batch. The CUDA session is
created with CPU fallback disabled, so a node ONNX Runtime cannot place on the GPU is reported; if
that fails, the run goes on with fallback and says so. Writes DIR/cuda-check.json (or $OUT/...).
"""
import glob, json, os, sys, time
import numpy as np
import onnxruntime as ort

d = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(d, "eembc200.bin")
print("onnxruntime", ort.__version__, "providers", ort.get_available_providers())
has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
if not has_cuda:
    print("this onnxruntime has no CUDA provider (a CPU-only build?): the runs below compare CPU with CPU")
raw = np.fromfile(data, dtype=np.uint8).reshape(-1, 3073)
labels = raw[:, 0].astype(np.int64)
x = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
cifar = (x - mean) / std
imagenet = np.random.default_rng(0).standard_normal((8, 3, 224, 224)).astype(np.float32)


def session(path, cuda, strict):
    so = ort.SessionOptions()
    if strict:
        so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    return ort.InferenceSession(path, so, providers=["CUDAExecutionProvider" if cuda else "CPUExecutionProvider"])


def run(s, batch):
    return s.run(None, {s.get_inputs()[0].name: batch})[0]


def timed(s, batch, n=20):
    run(s, batch)
    ts = []
    for _ in range(n):
        t = time.perf_counter(); run(s, batch); ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1e3


rows = []
for path in sorted(glob.glob(os.path.join(d, "*.onnx"))):
    cpu = session(path, False, False)
    batch = imagenet if cpu.get_inputs()[0].shape[-1] == 224 else cifar
    try:
        gpu, strict = session(path, True, True), True
    except Exception as e:
        print(os.path.basename(path), "CUDA without CPU fallback failed:", str(e).splitlines()[0][:300])
        gpu, strict = session(path, True, False), False
    yc, yg = run(cpu, batch), run(gpu, batch)
    diff = float(np.abs(yc - yg).max())
    r = dict(model=os.path.basename(path), providers=gpu.get_providers(), strict_cuda=strict, max_abs_diff=diff,
             rel=diff / float(np.abs(yc).max()), top1_agree=float((yc.argmax(1) == yg.argmax(1)).mean()),
             cpu_ms=timed(cpu, batch, 5), cuda_ms=timed(gpu, batch))
    if batch is cifar:
        r["top1_cpu"] = float((yc.argmax(1) == labels).mean())
        r["top1_cuda"] = float((yg.argmax(1) == labels).mean())
    rows.append(r)
    print(json.dumps(r))
json.dump(rows, open(os.path.join(os.environ.get("OUT", d), "cuda-check.json"), "w"), indent=1)
ran_on_cuda = all(r["providers"][0] == "CUDAExecutionProvider" for r in rows)
if not rows or not ran_on_cuda:
    print("NOT CHECKED: no model ran on the CUDA provider")
    sys.exit(2)
ok = all(r["rel"] < 1e-4 and r["top1_agree"] == 1.0 for r in rows)
print("ALL OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
