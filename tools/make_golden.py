#!/usr/bin/python3
"""Write the golden fixtures tests/golden/*.safetensors from PyTorch (DESIGN.md §K).

    /usr/bin/python3 tools/make_golden.py [--out tests/golden]

Run by hand with Debian's python3-torch / python3-torchvision (torch 1.13, torchvision 0.14);
never run by a test. Every model is a REDUCED configuration of a family built from torchvision's
own classes (torchvision/models/resnet.py BasicBlock/Bottleneck/ResNet._make_layer,
vision_transformer.py VisionTransformer, swin_transformer.py SwinTransformer), so parameter names
are torchvision's, plus the CIFAR ResNet of akamaster/pytorch_resnet_cifar10 (resnet.py, option-A
shortcut) written out below. Weights are seeded random values with non-trivial BatchNorm running
statistics and LayerNorm affines; models run in eval mode, in float32, on the CPU.

Each <arch>_tiny.safetensors holds
    <PyTorch name>                 every state_dict entry (parameters and buffers)
    golden.input                   (N, 3, S, S) seeded input
    golden.labels                  (N) i64 fixed labels
    golden.logits                  model(input)
    golden.embedding.<stage>       the input of stage <stage> (= the body output when splitting
                                   there), for every stage boundary of oblivio's Classifier
    golden.loss                    (1) cross-entropy(logits, labels), mean
    golden.grad.<head param>       d loss / d (parameters of the final linear), with the head
                                   applied to the detached pre-logits embedding
and __metadata__: family, config (JSON, what the C++ builder takes), stages (JSON list), seed,
torch/torchvision versions, generator. interpolate.safetensors holds F.interpolate references
(bilinear/bicubic, align_corners False/True, up- and down-scaling) of a seeded (2, 3, 7, 5) input.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import resnet as tvr
from torchvision.models.swin_transformer import SwinTransformer
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_checkpoint import write_safetensors  # noqa: E402  (our own writer, no extra package)

SEED = 20240611
BATCH = 2


# ---- models ---------------------------------------------------------------------------------

class ReducedResNet(tvr.ResNet):
    """torchvision's ResNet with chosen widths and an optional CIFAR stem (3x3/1 conv1, no
    max-pool). Built with torchvision's own _make_layer/BasicBlock/Bottleneck, so names and forward
    (ResNet._forward_impl) are torchvision's."""

    def __init__(self, block, layers, widths, stem_width, num_classes, cifar_stem):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = stem_width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        if cifar_stem:
            self.conv1 = nn.Conv2d(3, stem_width, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, stem_width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)


class LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class CifarBasicBlock(nn.Module):
    """akamaster/pytorch_resnet_cifar10 resnet.py BasicBlock, option A shortcut."""
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = LambdaLayer(lambda x: F.pad(
                x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):
    """akamaster/pytorch_resnet_cifar10 resnet.py ResNet (widths parameterised)."""

    def __init__(self, num_blocks, widths, num_classes):
        super().__init__()
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(widths[0], num_blocks, stride=1)
        self.layer2 = self._make_layer(widths[1], num_blocks, stride=2)
        self.layer3 = self._make_layer(widths[2], num_blocks, stride=2)
        self.linear = nn.Linear(widths[2], num_classes)

    def _make_layer(self, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(CifarBasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


# ---- stages: (name, fn) in oblivio's order; stage k's input is the embedding at split k --------

def resnet_stages(m, head="fc"):
    stages = [("stem", lambda x: m.maxpool(m.relu(m.bn1(m.conv1(x)))))]
    for li in range(1, 5):
        layer = getattr(m, f"layer{li}")
        for bi, block in enumerate(layer):
            stages.append((f"layer{li}.{bi}", block))
    stages.append(("pool", lambda x: torch.flatten(m.avgpool(x), 1)))
    stages.append((head, m.fc))
    return stages


def cifar_resnet_stages(m):
    stages = [("stem", lambda x: F.relu(m.bn1(m.conv1(x))))]
    for li in range(1, 4):
        for bi, block in enumerate(getattr(m, f"layer{li}")):
            stages.append((f"layer{li}.{bi}", block))
    stages.append(("pool", lambda x: F.avg_pool2d(x, x.size()[3]).view(x.size(0), -1)))
    stages.append(("linear", m.linear))
    return stages


def vit_stages(m):
    def stem(x):
        x = m._process_input(x)
        x = torch.cat([m.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + m.encoder.pos_embedding  # Encoder.forward before its layers (dropout p = 0)

    stages = [("stem", stem)]
    for i, layer in enumerate(m.encoder.layers):
        stages.append((f"block{i}", layer))
    stages.append(("norm", lambda x: m.encoder.ln(x)[:, 0]))
    stages.append(("head", m.heads))
    return stages


def swin_stages(m, depths):
    stages = [("stem", m.features[0])]
    for s in range(len(depths)):
        for b, block in enumerate(m.features[2 * s + 1]):
            stages.append((f"stage{s + 1}.block{b}", block))
        if s + 1 < len(depths):
            stages.append((f"merge{s + 1}", m.features[2 * s + 2]))
    stages.append(("norm", lambda x: m.flatten(m.avgpool(m.permute(m.norm(x))))))
    stages.append(("head", m.head))
    return stages


# ---- randomisation --------------------------------------------------------------------------

def randomise(model, gen):
    """Seeded, non-trivial values for every parameter and BN statistic: default inits leave zero
    heads (ViT), unit norms and identity BN statistics, which would hide bugs."""
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(c, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(c, generator=gen))
                mod.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                mod.num_batches_tracked.fill_(7)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
        norm_params = {id(p) for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm))
                       for p in m.parameters()}
        for name, p in model.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))  # visible in the softmax
            elif p.dim() >= 2:  # weights, class token, position embedding: std 1 / sqrt(fan_in)
                p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel() ** 0.5)
            elif id(p) not in norm_params:  # linear / conv / attention biases
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    return model


# ---- fixtures -------------------------------------------------------------------------------

def fixture(arch, family, config, model, stages, head_prefix, image_size, num_classes, gen):
    model.eval()
    x = torch.randn(BATCH, 3, image_size, image_size, generator=gen)
    labels = torch.arange(BATCH, dtype=torch.int64) * 3 % num_classes
    tensors = {name: t.detach().clone() for name, t in model.state_dict().items()}
    with torch.no_grad():
        logits = model(x)
        h = x
        for k in range(len(stages) - 1):
            h = stages[k][1](h)
            # the embedding at a split point is the input of the NEXT stage, named after it
            tensors[f"golden.embedding.{stages[k + 1][0]}"] = h.clone()
        composed = stages[-1][1](h)
    err = (composed - logits).abs().max().item()
    assert err < 1e-5, f"{arch}: stage composition differs from model(x) by {err}"
    head = stages[-1][1]
    z = h.detach()
    head.zero_grad(set_to_none=True)
    with torch.enable_grad():
        loss = F.cross_entropy(head(z), labels)
        loss.backward()
    for name, p in head.named_parameters():
        tensors[f"golden.grad.{head_prefix}.{name}"] = p.grad.detach().clone()
    tensors["golden.input"] = x
    tensors["golden.labels"] = labels
    tensors["golden.logits"] = logits
    tensors["golden.loss"] = loss.detach().reshape(1)
    meta = {
        "arch": arch, "family": family, "config": json.dumps(config, sort_keys=True),
        "stages": json.dumps([n for n, _ in stages]), "seed": str(gen.initial_seed()), "batch": str(BATCH),
        "image_size": str(image_size), "num_classes": str(num_classes),
        "torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
        "generator": "oblivio tools/make_golden.py",
    }
    return tensors, meta


def resnet_fixture(arch, block, layers, widths, stem_width, cifar_stem, image_size, gen):
    k = 10
    torch.manual_seed(SEED)
    m = randomise(ReducedResNet(block, layers, widths, stem_width, k, cifar_stem), gen)
    config = {"block": "bottleneck" if block is tvr.Bottleneck else "basic", "layers": layers,
              "widths": widths, "stem_width": stem_width, "cifar_stem": cifar_stem,
              "num_classes": k}
    return fixture(arch, "resnet", config, m, resnet_stages(m), "fc", image_size, k, gen)


def cifar_resnet_fixture(arch, depth, widths, gen):
    k = 10
    torch.manual_seed(SEED)
    m = randomise(CifarResNet((depth - 2) // 6, widths, k), gen)
    config = {"depth": depth, "widths": widths, "num_classes": k}
    return fixture(arch, "cifar_resnet", config, m, cifar_resnet_stages(m), "linear", 32, k, gen)


def vit_fixture(arch, image_size, patch, layers, heads, hidden, mlp, gen):
    k = 10
    torch.manual_seed(SEED)
    m = randomise(VisionTransformer(image_size=image_size, patch_size=patch, num_layers=layers,
                                    num_heads=heads, hidden_dim=hidden, mlp_dim=mlp,
                                    num_classes=k), gen)
    config = {"image_size": image_size, "patch_size": patch, "num_layers": layers,
              "num_heads": heads, "hidden_dim": hidden, "mlp_dim": mlp, "num_classes": k}
    return fixture(arch, "vit", config, m, vit_stages(m), "heads", image_size, k, gen)


def swin_fixture(arch, image_size, embed, depths, heads, window, gen):
    k = 10
    torch.manual_seed(SEED)
    m = randomise(SwinTransformer(patch_size=[4, 4], embed_dim=embed, depths=depths,
                                  num_heads=heads, window_size=[window, window],
                                  stochastic_depth_prob=0.0, num_classes=k), gen)
    config = {"image_size": image_size, "patch_size": 4, "embed_dim": embed, "depths": depths,
              "num_heads": heads, "window_size": window, "mlp_ratio": 4.0, "num_classes": k}
    return fixture(arch, "swin", config, m, swin_stages(m, depths), "head", image_size, k, gen)


def interpolate_fixture(gen):
    x = torch.randn(2, 3, 7, 5, generator=gen)
    tensors = {"golden.input": x}
    for mode in ("bilinear", "bicubic"):
        for ac in (False, True):
            for tag, size in (("up", (16, 13)), ("down", (4, 3))):
                y = F.interpolate(x, size=size, mode=mode, align_corners=ac)
                tensors[f"golden.{mode}.align{int(ac)}.{tag}"] = y
    meta = {"sizes": json.dumps({"up": [16, 13], "down": [4, 3]}), "seed": str(gen.initial_seed()),
            "torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
            "generator": "oblivio tools/make_golden.py"}
    return tensors, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(here, "tests", "golden"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    # One generator per fixture (seed SEED + its position), so that changing one leaves the
    # others bit-identical.
    fixtures = {
        # ResNet-18 family at 32x32: CIFAR stem and ImageNet stem.
        "resnet18_cifar": lambda gen: resnet_fixture("resnet18_cifar", tvr.BasicBlock, [2, 2, 2, 2],
                                                 [4, 8, 8, 16], 4, True, 32, gen),
        "resnet18": lambda gen: resnet_fixture("resnet18", tvr.BasicBlock, [2, 2, 2, 2],
                                           [4, 8, 8, 16], 8, False, 32, gen),
        # ResNet-50 family: Bottleneck [3, 4, 6, 3] at reduced widths, ImageNet stem, 32x32.
        "resnet50": lambda gen: resnet_fixture("resnet50", tvr.Bottleneck, [3, 4, 6, 3],
                                           [4, 4, 8, 8], 8, False, 32, gen),
        # CIFAR ResNet-20 (akamaster, option A) at reduced widths.
        "cifar_resnet20": lambda gen: cifar_resnet_fixture("cifar_resnet20", 20, [4, 8, 16], gen),
        "vit": lambda gen: vit_fixture("vit", 32, 8, 2, 4, 64, 128, gen),
        # 32x32 / patch 4 -> 8x8 (window 4: shifted windows with masks), merge -> 4x4 (window
        # covers the map: shift set to 0).
        "swin": lambda gen: swin_fixture("swin", 32, 16, [2, 2], [2, 4], 4, gen),
        # 36x36 -> 9x9: padding to 12 with shifts, odd-size merging -> 5x5 (pad 8, shifted), ->
        # 3x3 (pad 4, shift set to 0).
        "swin_pad": lambda gen: swin_fixture("swin_pad", 36, 8, [2, 2, 2], [2, 2, 4], 4, gen),
    }
    for i, (arch, make) in enumerate(fixtures.items()):
        tensors, meta = make(torch.Generator().manual_seed(SEED + i))
        path = os.path.join(args.out, f"{arch}_tiny.safetensors")
        write_safetensors(path, {k: v.contiguous() for k, v in tensors.items()}, meta)
        print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes, "
              f"loss {tensors['golden.loss'].item():.6f}")
    tensors, meta = interpolate_fixture(torch.Generator().manual_seed(SEED + len(fixtures)))
    path = os.path.join(args.out, "interpolate.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
