#!/usr/bin/env python3
"""PyTorch CPU peer for the small-CNN training benchmark (same architecture, batch, optimizer).

Usage: torch_small_cnn_train.py [BATCH] [STEPS] [DEVICE]; DEVICE is cpu (default) or cuda (for a
GPU machine's reference figure). Prints one JSON line: {"images_per_second": ..., "threads": ..., "torch": ..., "device": ...}.
Run with Debian's python3-torch; the benchmark project calls it, the tests never do.
"""
import json
import os
import sys
import time

import torch
from torch import nn

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, 1, 28, 28, device=device)
y = torch.randint(0, 10, (batch,), device=device)


def sync():
    if device != "cpu":
        torch.cuda.synchronize()


def step():
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()


for _ in range(5):
    step()
sync()
start = time.perf_counter()
for _ in range(steps):
    step()
sync()
elapsed = time.perf_counter() - start
print(json.dumps({"images_per_second": batch * steps / elapsed, "threads": torch.get_num_threads(), "torch": torch.__version__, "device": device}))
