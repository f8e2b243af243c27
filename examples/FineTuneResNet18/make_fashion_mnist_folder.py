#!/usr/bin/env python3
"""Writes Fashion-MNIST (Debian's dataset-fashion-mnist) as an image folder for `vkcnn finetune`:
OUT/train/<class>/<index>.png (the first TRAIN images of the training set) and OUT/test/<class>/<index>.png (all 10,000 test
images), 28x28 grey PNGs; the loader resizes them (--size) and reads them as RGB.

Usage: make_fashion_mnist_folder.py OUT [TRAIN]   (TRAIN: default 3000)
Needs python3-numpy and python3-pil (Debian).
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["0-tshirt", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt", "7-sneaker", "8-bag", "9-boot"]


def read(name, offset):
    with gzip.open(os.path.join(SOURCE, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def write(out, images, labels, count):
    for c in CLASSES:
        os.makedirs(os.path.join(out, c), exist_ok=True)
    for i in range(count):
        Image.fromarray(images[i]).save(os.path.join(out, CLASSES[labels[i]], f"{i:05d}.png"))


def main():
    out = sys.argv[1]
    train = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    for split, prefix, count in (("train", "train", train), ("test", "t10k", 10000)):
        images = read(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        labels = read(f"{prefix}-labels-idx1-ubyte.gz", 8)
        write(os.path.join(out, split), images, labels, min(count, len(labels)))
        print(f"{split}: {min(count, len(labels))} images")


if __name__ == "__main__":
    main()
