#!/usr/bin/env python3
"""An independent PyTorch implementation of acdc's default fine-tune, for reference figures only.

It starts where acdc starts (not where DESIGN's reference started): the BN-folded ONNX ResNet-20
(option-A shortcuts), every filter scaled to norm 1 (--filter-norm, acdc's NormalizeFilters), a
BatchNormalization after every conv in training mode calibrated to be the identity on 256 training
images, every 3x3 conv but the first decomposed into ACDC (group 16, 6 atoms, --share layer|stage) by
the SVD fit of DESIGN.md. Then acdc's recipe: 0.9*KL(T=4)*T^2 + 0.1*CE against the ONNX original,
SGD Nesterov 0.9, weight decay 5e-4 on every tensor, OneCycle lr 0.02 (15 % warm-up) per batch, batch
128, last partial batch dropped, per-image shift (zero border, up to 4 px) and flip (--augment batch:
one reflect-padded shift and flip per batch, DESIGN's reference), 5 % held out. Prints top-1 on the
test data after every epoch (reported only; nothing is chosen on it).

Needs python3-torch and python3-onnx (Debian); the product does not.

    python3 scripts/torch-finetune.py ../shared/models/resnet20-cifar10.onnx \
        ../shared/data/cifar10/train-jpeg-1.bin,../shared/data/cifar10/train-jpeg-2.bin \
        ../shared/data/cifar10/test-jpeg.bin --share stage --epochs 8
"""
import argparse
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)


def read_cifar(files):
    raw = np.concatenate([np.fromfile(f, dtype=np.uint8).reshape(-1, 3073) for f in files.split(",")])
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def prep(x):
    return torch.from_numpy(((x.astype(np.float32) / 255.0) - MEAN) / STD)


def onnx_weights(path):
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [(init[n.input[1]], init[n.input[2]] if len(n.input) > 2 else None,
              [a.ints for a in n.attribute if a.name == "strides"][0][0])
             for n in m.graph.node if n.op_type == "Conv"]
    gemm = [n for n in m.graph.node if n.op_type in ("Gemm", "MatMul")][0]
    fc_w, fc_b = init[gemm.input[1]], init[gemm.input[2]]
    return convs, fc_w, fc_b


def shortcut(x, planes, stride):
    if stride == 1 and x.shape[1] == planes:
        return x
    x = x[:, :, ::2, ::2]
    pad = (planes - x.shape[1]) // 2
    return F.pad(x, (0, 0, 0, 0, pad, pad))


class Teacher(nn.Module):
    """The BN-folded original, evaluated as exported."""

    def __init__(self, convs, fc_w, fc_b):
        super().__init__()
        self.w = [torch.from_numpy(w) for w, _, _ in convs]
        self.b = [torch.from_numpy(b) for _, b, _ in convs]
        self.s = [s for _, _, s in convs]
        self.fc_w, self.fc_b = torch.from_numpy(fc_w), torch.from_numpy(fc_b)

    def forward(self, x):
        c = lambda i, h: F.conv2d(h, self.w[i], self.b[i], self.s[i], 1)
        h = F.relu(c(0, x))
        i = 1
        while i < len(self.w):
            out = F.relu(c(i, h))
            out = c(i + 1, out)
            h = F.relu(out + shortcut(h, self.w[i + 1].shape[0], self.s[i]))
            i += 2
        h = h.mean((2, 3))
        w = self.fc_w if self.fc_w.shape[0] == 10 else self.fc_w.t()
        return F.linear(h, w, self.fc_b)


class Student(nn.Module):
    def __init__(self, convs, fc_w, fc_b, share, group=16, atoms=6, filter_norm=1.0):
        super().__init__()
        self.s = [s for _, _, s in convs]
        self.bias = [torch.from_numpy(b) for _, b, _ in convs]
        ws = []
        self.scale = []
        for w, _, _ in convs:
            w = torch.from_numpy(w)
            n = w.flatten(1).norm(dim=1)
            c = n / filter_norm if filter_norm > 0 else torch.ones_like(n)
            ws.append(w / c.view(-1, 1, 1, 1))
            self.scale.append(c)
        self.dense = nn.ParameterDict({"0": nn.Parameter(ws[0])})
        self.g, self.m = group, atoms
        # sharing sets: layer = each conv; stage = the convs of equal output width
        sets = {}
        for i in range(1, len(ws)):
            key = str(i) if share == "layer" else str(ws[i].shape[0])
            sets.setdefault(key, []).append(i)
        self.set_of = {}
        self.alpha = nn.ParameterDict()
        self.atoms = nn.ParameterDict()
        for key, members in sets.items():
            blocks = []
            for i in members:
                o, ii = ws[i].shape[:2]
                b = ws[i].reshape(o // group, group, ii // group, group, 9).permute(0, 2, 1, 3, 4)
                blocks.append(b.reshape(-1, group * group, 9))  # (blocks, g*g, taps)
            mat = torch.cat([b.permute(1, 0, 2).reshape(group * group, -1) for b in blocks], 1)
            u, sv, vt = torch.linalg.svd(mat.double(), full_matrices=False)
            self.alpha[key] = nn.Parameter((u[:, :atoms] * sv[:atoms]).float())
            v = vt[:atoms].float()  # (m, S*9)
            col = 0
            for i, b in zip(members, blocks):
                nb = b.shape[0]
                d = v[:, col:col + nb * 9].reshape(atoms, nb, 9).permute(1, 0, 2)
                self.atoms[str(i)] = nn.Parameter(d.contiguous())
                col += nb * 9
                self.set_of[i] = key
        self.shapes = [w.shape for w in ws]
        self.bn = nn.ModuleList([nn.BatchNorm2d(w.shape[0], momentum=0.1) for w in ws])
        self.fc = nn.Linear(fc_w.shape[1], fc_w.shape[0])
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(fc_w))
            self.fc.bias.copy_(torch.from_numpy(fc_b))

    def kernel(self, i):
        if i == 0:
            return self.dense["0"]
        o, ii = self.shapes[i][:2]
        g = self.g
        a = self.alpha[self.set_of[i]]  # (g*g, m)
        d = self.atoms[str(i)]  # (blocks, m, 9)
        w = torch.einsum("pm,bmt->bpt", a, d)  # (blocks, g*g, 9)
        w = w.reshape(o // g, ii // g, g, g, 3, 3).permute(0, 2, 1, 3, 4, 5)
        return w.reshape(o, ii, 3, 3)

    def conv(self, i, h):
        return self.bn[i](F.conv2d(h, self.kernel(i), None, self.s[i], 1))

    def forward(self, x, record=None):
        def c(i, h):
            z = F.conv2d(h, self.kernel(i), None, self.s[i], 1)
            if record is not None:
                record.setdefault(i, []).append(z.detach())
            return self.bn[i](z)
        h = F.relu(c(0, x))
        i = 1
        while i < len(self.shapes):
            out = F.relu(c(i, h))
            out = c(i + 1, out)
            h = F.relu(out + shortcut(h, self.shapes[i + 1][0], self.s[i]))
            i += 2
        return self.fc(h.mean((2, 3)))

    @torch.no_grad()
    def calibrate(self, x, eps=1e-5):
        """Every BN the identity after its conv's scaled filters: y = c*z + b, with z's statistics on x."""
        for i, bn in enumerate(self.bn):
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - eps)
            bn.weight.copy_(self.scale[i])
            bn.bias.copy_(self.bias[i])
        self.eval()
        rec = {}
        self.forward(x, rec)
        for i, bn in enumerate(self.bn):
            z = torch.cat(rec[i])
            mu = z.mean((0, 2, 3))
            var = z.var((0, 2, 3), unbiased=True)
            bn.running_mean.copy_(mu)
            bn.running_var.copy_(var)
            bn.weight.copy_(self.scale[i] * torch.sqrt(var + eps))
            bn.bias.copy_(self.scale[i] * mu + self.bias[i])


def augment(x, rng, mode):
    n = x.shape[0]
    if mode == "batch":
        p = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)), mode="reflect")
        dy, dx = rng.integers(0, 9, 2)
        out = p[:, :, dy:dy + 32, dx:dx + 32]
        return out[:, :, :, ::-1].copy() if rng.random() < 0.5 else out.copy()
    p = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    out = np.empty_like(x)
    for k in range(n):
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
    ap.add_argument("--share", default="layer", choices=["layer", "stage"])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--filter-norm", type=float, default=1.0)
    ap.add_argument("--augment", default="image", choices=["image", "batch"])
    ap.add_argument("--no-cycle-momentum", action="store_true",
                    help="keep momentum at 0.9 (acdc's schedule); by default OneCycleLR cycles it 0.95 -> 0.85 -> 0.95")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    convs, fc_w, fc_b = onnx_weights(a.model)
    teacher = Teacher(convs, fc_w, fc_b)
    xtr, ytr = read_cifar(a.train)
    xte, yte = read_cifar(a.test)
    held = rng.permutation(len(xtr))
    sel, tr = held[:len(xtr) // 20], held[len(xtr) // 20:]
    xsel, ysel, xtr, ytr = xtr[sel], ytr[sel], xtr[tr], ytr[tr]
    print(f"teacher top-1 on the test data {100 * top1(teacher, xte, yte):.2f} %", flush=True)
    student = Student(convs, fc_w, fc_b, a.share, filter_norm=a.filter_norm)
    student.calibrate(prep(xtr[:256]))
    print(f"student ({a.share}, SVD fit) before training: {100 * top1(student, xte, yte):.2f} %", flush=True)
    params = list(student.parameters())
    print(f"trained tensors {len(params)}, numbers {sum(p.numel() for p in params)}", flush=True)
    opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch = 128
    steps = len(xtr) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps * a.epochs, pct_start=0.15,
                                                cycle_momentum=not a.no_cycle_momentum)
    t_start = time.time()
    for ep in range(1, a.epochs + 1):
        student.train()
        order = rng.permutation(len(xtr))
        total = 0.0
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            xb = prep(augment(xtr[idx], rng, a.augment))
            yb = torch.from_numpy(ytr[idx])
            with torch.no_grad():
                t = teacher(xb)
            out = student(xb)
            kd = F.kl_div(F.log_softmax(out / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
            loss = 0.9 * kd + 0.1 * F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {ep}: loss {total / steps:.4f}, selection top-1 {100 * top1(student, xsel, ysel):.2f} %, "
              f"test top-1 {100 * top1(student, xte, yte):.2f} % ({time.time() - t_start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
