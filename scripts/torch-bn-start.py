#!/usr/bin/env python3
"""Which part of the start matters: the filter scale or how the training BN starts? A PyTorch test on a
network that keeps its BN.

DESIGN's reference fine-tune started from the raw conv weights under the pretrained BatchNormalization;
acdc starts from the BN-folded ONNX, scales every filter to norm 1 and puts an identity-calibrated
training BN after each conv. The BN-folded ResNet-20 cannot tell the two apart (its raw weights are
gone), but resnet20-cifar10-bn-batch1.onnx keeps its BN, so both starts, and the two halves of each,
can be built from the same checkpoint and fine-tuned by the same recipe:

  --start raw     the reference's start (= --scale raw --bn-start pretrained);
  --start folded  acdc's start (= --scale unit --bn-start identity).
  --scale raw     the SVD fit of the raw conv weights (the scale the pretrained BN sits on);
  --scale unit    the SVD fit of the BN-folded filters scaled to norm 1 (acdc's NormalizeFilters);
  --bn-start pretrained  every training BN starts at the pretrained gamma and beta (running statistics
                  rescaled to the chosen filter scale): in training mode each conv's output is
                  normalised back to the distribution the original had there;
  --bn-start identity    every training BN calibrated on 256 training images to compute what the
                  decomposed conv computes (acdc's --batch-norm-start identity).

Every 3x3 conv whose channels are multiples of 16 becomes ACDC (group 16, 6 atoms, --share layer|stage);
the first conv and the 1x1 shortcuts stay dense and are trained. The recipe is the reference's for both
starts (0.9*KL(T=4)*16 + 0.1*CE against the original, SGD Nesterov, momentum 0.9, weight decay 5e-4 on
every tensor, OneCycleLR(0.02, pct_start 0.15) with its default momentum cycle, batch 128, one
reflect-padded crop and flip per batch; --augment image: per-image zero-padded shift and flip, acdc's
default), 5 % of the training images held out. Prints top-1 on the test data after every epoch
(reported only; nothing is chosen on it). Needs python3-torch and python3-onnx (Debian).

    python3 scripts/torch-bn-start.py ../shared/models/resnet20-cifar10-bn-batch1.onnx \
        ../shared/data/cifar10/train-jpeg-1.bin,../shared/data/cifar10/train-jpeg-2.bin \
        ../shared/data/cifar10/test-jpeg.bin --start raw|folded [--scale raw|unit] [--bn-start pretrained|identity] --epochs 8
"""
import argparse
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

# the preprocessing resnet20-cifar10-bn-batch1.onnx was trained with (shared/README.md)
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32).reshape(1, 3, 1, 1)
SKIPPED = {"Shape", "Constant", "Gather", "Unsqueeze", "Concat"}


def read_cifar(files):
    raw = np.concatenate([np.fromfile(f, dtype=np.uint8).reshape(-1, 3073) for f in files.split(",")])
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def prep(x):
    return torch.from_numpy(((x.astype(np.float32) / 255.0) - MEAN) / STD)


def attrs(n):
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


class Graph:
    """The ONNX graph's nodes, in order, with the ops this network uses."""

    def __init__(self, path):
        m = onnx.load(path)
        self.init = {i.name: numpy_helper.to_array(i).copy() for i in m.graph.initializer}
        self.nodes = [n for n in m.graph.node if n.op_type not in SKIPPED]
        self.input = m.graph.input[0].name
        self.output = m.graph.output[0].name
        self.bn_of = {}  # conv output -> its BN node
        for n in self.nodes:
            if n.op_type == "BatchNormalization":
                self.bn_of[n.input[0]] = n
        for n in self.nodes:
            if n.op_type == "Conv":
                assert n.output[0] in self.bn_of, "every conv is followed by a BN"


def svd_fit(blocks_list, group, atoms):
    """DESIGN's SVD fit of one sharing set: blocks (nb, g*g, taps) per conv -> alpha (g*g, m), atoms per conv."""
    mat = torch.cat([b.permute(1, 0, 2).reshape(group * group, -1) for b in blocks_list], 1)
    u, sv, vt = torch.linalg.svd(mat.double(), full_matrices=False)
    alpha = (u[:, :atoms] * sv[:atoms]).float()
    v = vt[:atoms].float()
    out, col = [], 0
    for b in blocks_list:
        nb = b.shape[0]
        out.append(v[:, col:col + nb * 9].reshape(atoms, nb, 9).permute(1, 0, 2).contiguous())
        col += nb * 9
    return alpha, out


class Net(nn.Module):
    """The graph run with either the original's weights (teacher) or a decomposed student."""

    def __init__(self, g, start=None, share="layer", group=16, atoms=6, scale=None, bn_start=None):
        super().__init__()
        self.g, self.group, self.start = g, group, start
        scale = scale or ("raw" if start == "raw" else "unit")
        bn_start = bn_start or ("pretrained" if start == "raw" else "identity")
        self.bn_start = bn_start
        self.dense = nn.ParameterDict()
        self.bias = {}
        self.alpha = nn.ParameterDict()
        self.atoms = nn.ParameterDict()
        self.set_of = {}
        self.shape = {}
        self.bn = nn.ModuleDict()
        self.scale = {}
        self.folded_bias = {}
        key = lambda name: name.replace(".", "_")
        sets = {}
        for n in g.nodes:
            if n.op_type != "Conv":
                continue
            w = torch.from_numpy(g.init[n.input[1]])
            b = torch.from_numpy(g.init[n.input[2]]) if len(n.input) > 2 else torch.zeros(w.shape[0])
            bn = g.bn_of[n.output[0]]
            gamma, beta, mu, var = (torch.from_numpy(g.init[i]) for i in bn.input[1:5])
            eps = attrs(bn).get("epsilon", 1e-5)
            k = key(n.output[0])
            s = gamma / torch.sqrt(var + eps)
            if start is not None:
                # the start's filter scale: c = 1 keeps the raw weights, c = s those the BN folds into
                c = s if scale == "raw" else (w * s.view(-1, 1, 1, 1)).flatten(1).norm(dim=1)
                self.scale[k] = c
                self.folded_bias[k] = s * (b - mu) + beta
                w = w * (s / c).view(-1, 1, 1, 1)  # raw: w itself; unit: the folded filter at norm 1
                b = torch.zeros_like(b)
            else:
                w = w * s.view(-1, 1, 1, 1)
                b = s * (b - mu) + beta
            self.shape[k] = w.shape
            if start is not None:
                m = nn.BatchNorm2d(w.shape[0], eps=eps, momentum=0.1)
                if bn_start == "pretrained":
                    # the pretrained BN; its running statistics belong to the raw scale (c = s/c' rescales them)
                    r = s / c
                    with torch.no_grad():
                        m.weight.copy_(gamma)
                        m.bias.copy_(beta)
                        m.running_mean.copy_((mu - torch.from_numpy(g.init[n.input[2]]) if len(n.input) > 2
                                              else mu) * r)
                        m.running_var.copy_(var * r * r)
                self.bn[k] = m
            o, i = w.shape[:2]
            if start is not None and w.shape[2:] == (3, 3) and o % group == 0 and i % group == 0:
                blocks = w.reshape(o // group, group, i // group, group, 9).permute(0, 2, 1, 3, 4)
                sets.setdefault(k if share == "layer" else str(o), []).append((k, blocks.reshape(-1, group * group, 9)))
            else:
                self.dense[k] = nn.Parameter(w.clone()) if start is not None else w
                self.bias[k] = None if start is not None else b
        for sk, members in sets.items():
            alpha, ds = svd_fit([b for _, b in members], group, atoms)
            self.alpha[sk] = nn.Parameter(alpha)
            for (k, _), d in zip(members, ds):
                self.atoms[k] = nn.Parameter(d)
                self.set_of[k] = sk
        self.fc = None
        for n in g.nodes:
            if n.op_type == "Gemm":
                w, b = torch.from_numpy(g.init[n.input[1]]), torch.from_numpy(g.init[n.input[2]])
                if attrs(n).get("transB", 0) == 0:
                    w = w.t()
                if start is None:
                    self.fc_w, self.fc_b = w, b
                else:
                    self.fc = nn.Linear(w.shape[1], w.shape[0])
                    with torch.no_grad():
                        self.fc.weight.copy_(w)
                        self.fc.bias.copy_(b)

    def kernel(self, k):
        if k in self.dense:
            return self.dense[k]
        o, i = self.shape[k][:2]
        g = self.group
        w = torch.einsum("pm,bmt->bpt", self.alpha[self.set_of[k]], self.atoms[k])
        return w.reshape(o // g, i // g, g, g, 3, 3).permute(0, 2, 1, 3, 4, 5).reshape(o, i, 3, 3)

    def forward(self, x, record=None):
        v = {self.g.input: x}
        for n in self.g.nodes:
            t = n.op_type
            if t == "Conv":
                a = attrs(n)
                k = n.output[0].replace(".", "_")
                z = F.conv2d(v[n.input[0]], self.kernel(k), self.bias.get(k), a["strides"][0], a["pads"][0])
                if record is not None:
                    record.setdefault(k, []).append(z.detach())
                v[n.output[0]] = z
            elif t == "BatchNormalization":
                k = n.input[0].replace(".", "_")
                v[n.output[0]] = v[n.input[0]] if self.start is None else self.bn[k](v[n.input[0]])
            elif t == "Relu":
                v[n.output[0]] = F.relu(v[n.input[0]])
            elif t == "Add":
                v[n.output[0]] = v[n.input[0]] + v[n.input[1]]
            elif t == "GlobalAveragePool":
                v[n.output[0]] = v[n.input[0]].mean((2, 3), keepdim=True)
            elif t == "Reshape":
                v[n.output[0]] = v[n.input[0]].flatten(1)
            elif t == "Gemm":
                h = v[n.input[0]]
                v[n.output[0]] = F.linear(h, self.fc_w, self.fc_b) if self.fc is None else self.fc(h)
            else:
                raise ValueError("op not handled: " + t)
        return v[self.g.output]

    @torch.no_grad()
    def calibrate_identity(self, x, eps=1e-5):
        """acdc's start: every BN the identity after its conv's scaled filters (y = c*z + b), z's statistics on x."""
        for k, bn in self.bn.items():
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - eps)
            bn.weight.copy_(self.scale[k])
            bn.bias.copy_(self.folded_bias[k])
        self.eval()
        rec = {}
        self.forward(x, rec)
        for k, bn in self.bn.items():
            z = torch.cat(rec[k])
            mu, var = z.mean((0, 2, 3)), z.var((0, 2, 3), unbiased=True)
            bn.running_mean.copy_(mu)
            bn.running_var.copy_(var)
            bn.weight.copy_(self.scale[k] * torch.sqrt(var + eps))
            bn.bias.copy_(self.scale[k] * mu + self.folded_bias[k])


def augment(x, rng, mode):
    if mode == "batch":
        p = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)), mode="reflect")
        dy, dx = rng.integers(0, 9, 2)
        out = p[:, :, dy:dy + 32, dx:dx + 32]
        return out[:, :, :, ::-1].copy() if rng.random() < 0.5 else out.copy()
    p = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    out = np.empty_like(x)
    for k in range(x.shape[0]):
        dy, dx = rng.integers(0, 9, 2)
        img = p[k, :, dy:dy + 32, dx:dx + 32]
        out[k] = img[:, :, ::-1] if rng.random() < 0.5 else img
    return out


@torch.no_grad()
def top1(model, x, y, batch=500):
    model.eval()
    hit = 0
    for k in range(0, len(x), batch):
        hit += (model(prep(x[k:k + batch])).argmax(1).numpy() == y[k:k + batch]).sum()
    return hit / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--start", required=True, choices=["raw", "folded"])
    ap.add_argument("--share", default="layer", choices=["layer", "stage"])
    ap.add_argument("--scale", choices=["raw", "unit"], help="the filter scale decomposed and trained "
                    "(default: raw for --start raw, unit for folded)")
    ap.add_argument("--bn-start", choices=["pretrained", "identity"], help="how the training BNs start "
                    "(default: pretrained for --start raw, identity for folded)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--augment", default="batch", choices=["image", "batch"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    g = Graph(a.model)
    teacher = Net(g)
    xtr, ytr = read_cifar(a.train)
    xte, yte = read_cifar(a.test)
    held = rng.permutation(len(xtr))
    sel, tr = held[:len(xtr) // 20], held[len(xtr) // 20:]
    xsel, ysel, xtr, ytr = xtr[sel], ytr[sel], xtr[tr], ytr[tr]
    print(f"teacher top-1 on the test data {100 * top1(teacher, xte, yte):.2f} %", flush=True)
    student = Net(g, a.start, a.share, scale=a.scale, bn_start=a.bn_start)
    if student.bn_start == "identity":
        student.calibrate_identity(prep(xtr[:256]))
    print(f"student ({a.share}, {a.start} start, scale {a.scale}, BN start {student.bn_start}, SVD fit) before training: "
          f"{100 * top1(student, xte, yte):.2f} %", flush=True)
    norms = [student.kernel(k).detach().flatten(1).norm(dim=1) for k in student.shape]
    allnorms = torch.cat(norms)
    print(f"filter norms of the student's kernels: {allnorms.min():.3f} .. {allnorms.max():.3f}", flush=True)
    params = list(student.parameters())
    print(f"trained tensors {len(params)}, numbers {sum(p.numel() for p in params)}", flush=True)
    opt = torch.optim.SGD(params, lr=0.02, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch = 128
    steps = len(xtr) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=steps * a.epochs, pct_start=0.15)
    t0 = time.time()
    for ep in range(1, a.epochs + 1):
        student.train()
        order = rng.permutation(len(xtr))
        total = 0.0
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            xb = prep(augment(xtr[idx], rng, a.augment))
            with torch.no_grad():
                t = teacher(xb)
            out = student(xb)
            kd = F.kl_div(F.log_softmax(out / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
            loss = 0.9 * kd + 0.1 * F.cross_entropy(out, torch.from_numpy(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {ep}: loss {total / steps:.4f}, selection top-1 {100 * top1(student, xsel, ysel):.2f} %, "
              f"test top-1 {100 * top1(student, xte, yte):.2f} % ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
