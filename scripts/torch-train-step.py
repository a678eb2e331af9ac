#!/usr/bin/env python3
"""PyTorch's training step on a torchvision model, for the reference figure of issue 47's fine-tune step.

One SGD step (forward, cross-entropy, backward, update) on synthetic images of 224x224, BatchNormalization in
training mode, on as many threads as acdc uses (the machine's cores); a warm-up step, then the median of the
timed steps. Prints images/s and the process's peak resident memory. Random weights: cost only. The dense
model is the reference: acdc's fine-tune trains the reconstruct form, whose convolutions are the dense
ones plus a small product that rebuilds each kernel from its atoms and coefficients.

Needs python3-torch and python3-torchvision (Debian); the product does not.

    python3 scripts/torch-train-step.py --model resnet50 --batch 32 --steps 3
"""
import argparse
import os
import resource
import statistics
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    model = getattr(torchvision.models, args.model)(num_classes=1000)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 1000, (args.batch,))
    times = []
    for step in range(args.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"{args.model} batch {args.batch} at {args.size}: {args.batch / med:.2f} img/s "
          f"(median of {len(times)} steps, {med:.2f} s a step), peak RSS {rss:.2f} GB, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
