#!/usr/bin/python3
"""Exports torchvision architectures, with random weights, to ONNX: the real-exporter test models of acdc.

    /usr/bin/python3 scripts/export-zoo.py OUT_DIR [--opset 13] [--only resnet18,lraspp]

Each model is exported by torch.onnx (the PyTorch exporter users run) at the given opset, in eval mode, with
a fixed seed, batch dimension dynamic, at a small input size that the architecture accepts (so that
tests stay fast on two cores; [1, 40, 101] for the 1-D keyword-spotting net). Prints one line per model: name, file, parameters. Needs Debian's
python3-torch and python3-torchvision; acdc itself stays pure JVM.
"""
import argparse
import os
import sys

import torch
import torchvision

# name -> (constructor, input size): small inputs every architecture accepts
ZOO = {
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), 64),
    # ImageNet-size, 1000 classes, for sizes and costs at the scale users bring (exported only when --only names them)
    "resnet50_imagenet": (lambda: torchvision.models.resnet50(), 224),
    "mobilenet_v2_imagenet": (lambda: torchvision.models.mobilenet_v2(), 224),
    "resnet18_imagenet": (lambda: torchvision.models.resnet18(), 224),
    "efficientnet_b0_imagenet": (lambda: torchvision.models.efficientnet_b0(), 224),
    "resnext50_32x4d": (lambda: torchvision.models.resnext50_32x4d(num_classes=10), 64),
    "regnet_x_400mf": (lambda: torchvision.models.regnet_x_400mf(num_classes=10), 64),
    "vgg11_bn": (lambda: small_head_vgg(), 64),
    "densenet121": (lambda: torchvision.models.densenet121(num_classes=10), 64),
    "googlenet": (lambda: torchvision.models.googlenet(num_classes=10, aux_logits=False, init_weights=True), 64),
    "inception_v3": (lambda: torchvision.models.inception_v3(num_classes=10, aux_logits=False, init_weights=True), 96),
    "shufflenet_v2_x0_5": (lambda: torchvision.models.shufflenet_v2_x0_5(num_classes=10), 64),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(num_classes=10), 64),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(num_classes=10), 64),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(num_classes=10), 64),
    "mnasnet0_5": (lambda: torchvision.models.mnasnet0_5(num_classes=10), 64),
    "lraspp_mobilenet_v3_large": (lambda: torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        num_classes=5, weights_backbone=None), 64),
    "fcn_resnet50": (lambda: torchvision.models.segmentation.fcn_resnet50(
        num_classes=5, weights_backbone=None, aux_loss=False), 64),
    "tiny_decoder": (lambda: TinyDecoder(), 32),
    # a 1-D CNN on [N, 40 mel bands, 101 frames]: keyword spotting and voice activity models look like this
    "kws_tcn1d": (lambda: KeywordTcn(), (40, 101)),
}


class KeywordTcn(torch.nn.Module):
    """A keyword-spotting TCN: Conv1d over 40 mel bands x 101 frames (k 3, dilations 1-4, a strided one, a 1x1
    mixer), BatchNorm1d, ReLU, a residual Add, pooled over time, Linear to 12 keywords: acdc's 1-D test model."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv1d(40, 64, 3, padding=1), nn.BatchNorm1d(64), nn.ReLU())
        self.block = nn.Sequential(nn.Conv1d(64, 64, 3, padding=2, dilation=2), nn.BatchNorm1d(64), nn.ReLU(),
                                   nn.Conv1d(64, 64, 3, padding=4, dilation=4), nn.BatchNorm1d(64))
        self.down = nn.Sequential(nn.ReLU(), nn.Conv1d(64, 96, 5, stride=2, padding=2), nn.BatchNorm1d(96), nn.ReLU(),
                                  nn.Conv1d(96, 96, 1), nn.ReLU())
        self.head = nn.Linear(96, 12)

    def forward(self, x):
        h = self.stem(x)
        h = self.down(h + self.block(h))
        return self.head(h.mean(dim=2))


class TinyDecoder(torch.nn.Module):
    """Strided convs down, ConvTranspose2d up (as U-Net and FPN-style decoders do: a 4x4 stride-2 one and a
    grouped 3x3 one with output_padding), a pooled classifier head: acdc's test of transposed convolutions."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.down = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                                nn.ConvTranspose2d(32, 32, 3, 2, 1, output_padding=1, groups=2), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.up(self.down(x)))


def small_head_vgg():
    """VGG-11-BN's convolutions with a pooled 512 -> 10 head (its 7x7x4096 classifier alone is 120 M weights)."""
    m = torchvision.models.vgg11_bn(num_classes=10)
    m.avgpool = torch.nn.AdaptiveAvgPool2d(1)
    m.classifier = torch.nn.Linear(512, 10)
    return m


class FirstOutput(torch.nn.Module):
    """Segmentation models return a dict; the export takes its 'out' tensor."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        y = self.m(x)
        return y["out"] if isinstance(y, dict) else y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    names = [n for n in a.only.split(",") if n] or [n for n in ZOO if not n.endswith("_imagenet")]
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    for name in names:
        make, size = ZOO[name]
        torch.manual_seed(0)
        model = FirstOutput(make()).eval()
        x = torch.randn(1, *size) if isinstance(size, tuple) else torch.randn(1, 3, size, size)
        path = os.path.join(a.out, f"{name}-opset{a.opset}.onnx")
        torch.onnx.export(model, x, path, opset_version=a.opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}\t{path}\t{params}\t{size}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
