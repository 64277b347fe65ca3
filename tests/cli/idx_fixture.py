#!/usr/bin/env python3
"""Writes a small 10-class, 1x28x28 IDX data set under the Fashion-MNIST file names, for the CLI
tests (tests/cli/determinism.sh, kill_safety.sh):

    idx_fixture.py ROOT PER_TRAIN PER_TEST SEED

ROOT/{train,t10k}-{images-idx3,labels-idx1}-ubyte, uncompressed; PER_TRAIN / PER_TEST images per
class, image i of class i % 10: class-dependent stripes (so a small CNN can learn them) plus noise
from random.Random(SEED).
"""
import os
import random
import struct
import sys


def write(root, prefix, per, rng):
    n = 10 * per
    px = bytearray()
    for i in range(n):
        c = i % 10
        for r in range(28):
            for q in range(28):
                on = (r // 7 + q // 7 + c) % 3 == 0 or (r * c + q) % 10 == c
                px.append(max(0, min(255, (200 if on else 30) + rng.randint(-40, 40))))
    with open(os.path.join(root, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + px)
    with open(os.path.join(root, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n)))


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: idx_fixture.py ROOT PER_TRAIN PER_TEST SEED")
    root, per_train, per_test, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(root, exist_ok=True)
    rng = random.Random(seed)
    write(root, "train", per_train, rng)
    write(root, "t10k", per_test, rng)


if __name__ == "__main__":
    main()
