#!/usr/bin/python3
"""Trains a small bottleneck ResNet on CIFAR-10 and exports it to ONNX: a real trained model whose weights sit
mostly in 1x1 convs, to measure what factoring pointwise convs buys per byte (docs/results.md).

    /usr/bin/python3 scripts/train-bottleneck-cifar.py DATA_DIR OUT.onnx [--epochs 10] [--seed 0]

DATA_DIR holds the CIFAR-10 binary files train-jpeg-1.bin and train-jpeg-2.bin (20 000 training images; the
test set is never read here). The network: a 3x3 stem 3->32, then three stages of two bottleneck blocks
(1x1 reduce, 3x3, 1x1 expand, each with BatchNormalization; a 1x1 projection where the shape changes) of
middle widths 48, 96, 192 and output widths 192, 384, 768 at 16x16, 8x8 and 4x4, global pooling and a
linear classifier. The recipe is fixed in advance (SGD momentum 0.9, lr 0.1 one-cycle, weight decay 5e-4,
batch 128, random crop (one offset per batch) and flip) and nothing is chosen on any evaluation. One line per
epoch: loss and training accuracy. Exported by torch.onnx in eval mode (BatchNormalization folded into the
convs), opset 13, batch dynamic. Needs Debian's python3-torch; acdc itself stays pure JVM.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        layers = []
        cin = 32
        for mid, cout, stride in ((48, 192, 2), (96, 384, 2), (192, 768, 2)):
            layers += [Bottleneck(cin, mid, cout, stride), Bottleneck(cout, mid, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(768, 10)

    def forward(self, x):
        y = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    xs, ys = zip(*(load(os.path.join(a.data, f)) for f in ("train-jpeg-1.bin", "train-jpeg-2.bin")))
    x = torch.from_numpy(np.concatenate(xs)).float().div_(255)
    y = torch.from_numpy(np.concatenate(ys))
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    x = (x - mean) / std
    model = Net()
    batch = 128
    steps = a.epochs * ((len(x) + batch - 1) // batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.25)
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x))
        seen = correct = 0
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb = x[idx]
            # random crop (pad 4) and horizontal flip
            xb = F.pad(xb, (4, 4, 4, 4))
            dx, dy = np.random.randint(0, 9, 2)
            xb = xb[:, :, dy:dy + 32, dx:dx + 32]
            flip = torch.rand(len(xb)) < 0.5
            xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)
            out = model(xb)
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == y[idx]).sum().item()
            seen += len(idx)
        print(f"epoch {epoch}/{a.epochs}: loss {total / seen:.4f}, train top-1 {100 * correct / seen:.2f} %, "
              f"{time.time() - t0:.0f} s", flush=True)
    model.eval()
    tmp = a.out + ".tmp"
    torch.onnx.export(model, torch.randn(1, 3, 32, 32), tmp, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {sum(p.numel() for p in model.parameters())} parameters")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
