#!/usr/bin/env python3
"""Exports the torchvision models that ncnn's benchmark also times, for `vkcnn bench`.

Usage: export_torchvision_models.py [OUT_DIR [NAME ...]]   (default /tmp/models; names: ncnn's four below)
Needs Debian's python3-torch and python3-torchvision. Weights are random (timing only); batch 1,
3x224x224, opset 13. The README's lavapipe-vs-ncnn table was measured on these files with
`vkcnn bench OUT_DIR/NAME.onnx --iterations 30`.
"""
import inspect
import os
import sys

import torch
import torchvision

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/models"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
names = sys.argv[2:] or ["mobilenet_v2", "squeezenet1_1", "googlenet", "resnet18"]
for name in names:
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(**kwargs).eval()
    path = os.path.join(out, name + ".onnx")
    # The TorchScript exporter where a newer torch defaults to the dynamo one, so every torch writes the same opset-13 graph.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13, **legacy)
    print(path)
