#!/usr/bin/env python3
"""PyTorch peer for `vkcnn bench` on the same machine: eager latency of torchvision models.

Usage: torch_models_latency.py DEVICE [ITERATIONS [MODEL:BATCH ...]]   (DEVICE: cuda or cpu)
For each of resnet18, mobilenet_v2 (batch 1) and resnet50 (batch 1 and 32), in fp32 and, on CUDA, fp16
(model.half()), with cudnn.benchmark on: p50 of ITERATIONS (default 50) timed runs after 10 warm-ups.
Prints one JSON line per case: {"model", "batch", "precision", "p50_ms", "device", "torch"}.
Weights are random, as in export_torchvision_models.py (timing only).
"""
import json
import statistics
import sys
import time

import torch
import torchvision

device = sys.argv[1] if len(sys.argv) > 1 else "cuda"
iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 50
torch.backends.cudnn.benchmark = True
torch.manual_seed(0)


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


cases = [(c.split(":")[0], int(c.split(":")[1])) for c in sys.argv[3:]] or [
    ("resnet18", 1), ("mobilenet_v2", 1), ("resnet50", 1), ("resnet50", 32)]
warmup = 10 if iterations >= 10 else 1
precisions = ["fp32", "fp16"] if device == "cuda" else ["fp32"]
for name, batch in cases:
    for precision in precisions:
        model = getattr(torchvision.models, name)().eval().to(device)
        x = torch.randn(batch, 3, 224, 224, device=device)
        if precision == "fp16":
            model, x = model.half(), x.half()
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            sync()
            times = []
            for _ in range(iterations):
                start = time.perf_counter()
                model(x)
                sync()
                times.append((time.perf_counter() - start) * 1000)
        print(json.dumps({"model": name, "batch": batch, "precision": precision, "p50_ms": round(statistics.median(times), 3),
                          "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__}),
              flush=True)
