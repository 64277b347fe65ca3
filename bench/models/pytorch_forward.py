#!/usr/bin/python3
"""PyTorch yardstick for bench/models/bench_forward.cpp: inference images/s of the same models.

    /usr/bin/python3 bench/models/pytorch_forward.py [--threads 2] [--batch 256] [--repeats 5]

Models (eval mode, torch.no_grad(), fp32, NCHW, batch 256 at 32x32):
  cifar_resnet20 / cifar_resnet56  He et al. CIFAR ResNet with option-A shortcuts, written out
                                   below exactly as akamaster/pytorch_resnet_cifar10's resnet.py
                                   (the architecture of the shared checkpoints), 10 classes
  resnet18_cifar                   torchvision.models.resnet18(num_classes=100) with the CIFAR
                                   stem: conv1 = 3x3 stride 1 padding 1, maxpool = Identity
Each model runs one warm-up batch, then --repeats timed batches; the median is reported.
Uses Debian's python3-torch / python3-torchvision; a benchmark tool, never part of the framework.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or in_planes != planes) else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.pad:  # option A: subsample, zero-pad channels by planes // 4 on each side
            shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for b in range(n):
                blocks.append(CifarBasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size(3)).flatten(1)
        return self.linear(out)


def resnet18_cifar(num_classes=100):
    m = torchvision.models.resnet18(num_classes=num_classes)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()}, batch {args.batch}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    models = [("cifar_resnet20", CifarResNet(20)), ("cifar_resnet56", CifarResNet(56)),
              ("resnet18_cifar", resnet18_cifar())]
    x = torch.rand(args.batch, 3, 32, 32) * 4 - 2
    for name, model in models:
        model.eval()
        params = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            model(x)  # warm-up
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        print(f"{name:16s} params {params:>10,d}  {t * 1e3:8.1f} ms/batch  "
              f"{args.batch / t:8.1f} images/s  (median of {args.repeats}, "
              f"min {args.batch / max(times):.1f} max {args.batch / min(times):.1f})")


if __name__ == "__main__":
    main()
