#!/usr/bin/env bash
# Every GPU figure the speed issues ask for, in one short run on a lent GPU machine (no .NET there).
#
# Here, once per change:  ./build.sh publish && tests/VulkanCnn.Benchmarks/Peers/gpu_checks.sh prepare
#   packs artifacts/gpu/: the self-contained, trimmed vkcnn (tar.xz), Debian's Vulkan loader (.deb) and a quarter of
#   Fashion-MNIST's training images, within the device tool's 64 MiB with the repository.
# There (device tool, repository root, `carry: ["artifacts/gpu"]`, timeout_s 540):
#   tests/VulkanCnn.Benchmarks/Peers/gpu_checks.sh run
#   exports ResNet-18, MobileNetV2 and ResNet-50 from torchvision (random weights), runs `vkcnn bench` on each in fp32 and
#   fp16 (ResNet-50 also at batch 32), ResNet-18 with every conv forced to gemm and to gemm_tiled (which
#   kernels pay on the GPU), trains the small CNN at batch 64 and 256 on a Fashion-MNIST subset, then the PyTorch
#   CUDA peers (eager, cudnn.benchmark, fp32 and fp16; the same small CNN's training step) and prints the ratios. Everything also lands in $OUT (bench-*.txt, torch.jsonl, summary.txt).
# Locally, `run --cpu` does the same on lavapipe with PyTorch on the CPU (a check of the script, not a figure).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
pack="$root/artifacts/gpu"

prepare() {
  local publish="$root/artifacts/publish/linux-x64"
  [ -x "$publish/vkcnn" ] || { echo "no $publish/vkcnn: run ./build.sh publish first" >&2; exit 1; }
  rm -rf "$pack" && mkdir -p "$pack"
  # The pieces vkcnn bench never loads stay behind: debug symbols, ONNX Runtime (only --compare-ort uses it).
  tar -C "$publish" --exclude='*.pdb' --exclude='libonnxruntime*' -cJf "$pack/vkcnn.tar.xz" .
  (cd "$pack" && apt-get download libvulkan1 libglvnd0 >/dev/null 2>&1) || { echo "apt-get download failed" >&2; exit 1; }
  # The first 25,600 training and 2,000 test images of Debian's Fashion-MNIST (the whole set would not fit the carry).
  python3 - /usr/share/datasets/fashion-mnist "$pack/fashion-mnist" <<'PY'
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for prefix, count in (("train", 25600), ("t10k", 2000)):
    for kind, item in (("images-idx3", 784), ("labels-idx1", 1)):
        name = f"{prefix}-{kind}-ubyte.gz"
        data = gzip.open(os.path.join(src, name)).read()
        header = 16 if item == 784 else 8
        head = bytearray(data[:header])
        struct.pack_into(">I", head, 4, count)
        with gzip.open(os.path.join(dst, name), "wb") as out:
            out.write(bytes(head) + data[header:header + count * item])
PY
  du -sh "$pack"
}

run() {
  local cpu="${1:-}" out="${OUT:-/tmp/gpu-checks}" work=/tmp/gpu-checks-work
  mkdir -p "$out" "$work/models" "$work/vkcnn"
  local vkcnn="$work/vkcnn/vkcnn" iterations=50 warmup=10 torch_device=cuda python=python3
  local specs="resnet18:1 mobilenet_v2:1 resnet50:1 resnet50:32"
  if [ "$cpu" = "--cpu" ]; then
    iterations=3; warmup=1; torch_device=cpu; specs="resnet18:1 mobilenet_v2:1"
    python=/usr/bin/python3 # Debian's, which holds python3-torch
    vkcnn="$root/artifacts/publish/linux-x64/vkcnn"
  else
    for deb in "$pack"/*.deb; do dpkg -x "$deb" /; done
    ldconfig
    [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
      export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    tar -C "$work/vkcnn" -xJf "$pack/vkcnn.tar.xz"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
  fi
  export VKCNN_CACHE_DIR="$work/cache"
  "$vkcnn" devices | tee "$out/devices.txt"
  PYTHONUNBUFFERED=1 "$python" "$here/export_torchvision_models.py" "$work/models" resnet18 mobilenet_v2 resnet50

  : >"$out/summary.txt"
  for spec in $specs; do
    local model="${spec%%:*}" batch="${spec##*:}"
    for precision in fp32 fp16; do
      local log="$out/bench-$model-b$batch-$precision.txt"
      "$vkcnn" bench "$work/models/$model.onnx" --batch "$batch" --precision "$precision" --iterations "$iterations" \
        --warmup "$warmup" >"$log" 2>&1 || echo "vkcnn bench failed: see $log" >&2
      local p50
      p50=$(grep -E '^│ VulkanCnn' "$log" | awk -F'│' '{gsub(/ /, "", $4); print $4}')
      echo "vkcnn $model b$batch $precision p50_ms=${p50:-failed}" | tee -a "$out/summary.txt"
    done
  done
  # ResNet-18 b1 with every conv forced to one variant: the CPU-shaped implicit GEMM against the shared-memory tiles.
  for variant in gemm gemm_tiled; do
    local log="$out/bench-resnet18-b1-fp32-$variant.txt"
    "$vkcnn" bench "$work/models/resnet18.onnx" --variant "Conv=$variant" --iterations "$iterations" --warmup "$warmup" \
      >"$log" 2>&1 || echo "vkcnn bench failed: see $log" >&2
    echo "vkcnn resnet18 b1 fp32 Conv=$variant p50_ms=$(grep -E '^│ VulkanCnn' "$log" | awk -F'│' '{gsub(/ /, "", $4); print $4}')" |
      tee -a "$out/summary.txt"
  done
  # Training: the small CNN at batch 64 and 256 on the Fashion-MNIST subset (2nd epoch's images/s), and PyTorch's peer.
  if [ -d "$pack/fashion-mnist" ] || [ "$cpu" = "--cpu" ]; then
    local data="$pack/fashion-mnist" epochs=2 limit=""
    [ "$cpu" = "--cpu" ] && { data=fashion-mnist; epochs=1; limit="--limit 640"; }
    for batch in 64 256; do
      "$vkcnn" train --dataset "$data" --model small-cnn --epochs "$epochs" --batch "$batch" $limit \
        --out "$work/small-cnn-$batch.safetensors" >"$out/train-b$batch.txt" 2>&1 || echo "vkcnn train failed" >&2
      echo "vkcnn train small-cnn b$batch images_per_second=$(tail -1 "$work/small-cnn-$batch.metrics.csv" | cut -d, -f6)" |
        tee -a "$out/summary.txt"
      PYTHONUNBUFFERED=1 "$python" "$here/torch_small_cnn_train.py" "$batch" 30 "$torch_device" | tee -a "$out/torch-train.jsonl"
    done
  fi
  PYTHONUNBUFFERED=1 "$python" "$here/torch_models_latency.py" "$torch_device" "$iterations" $specs | tee "$out/torch.jsonl"
  python3 - "$out/summary.txt" "$out/torch.jsonl" <<'PY' | tee -a "$out/summary.txt"
import json, re, sys
ours = {}
for line in open(sys.argv[1]):
    m = re.match(r"vkcnn (\S+) b(\d+) (\S+) p50_ms=(\S+)", line)
    if m and m.group(4) != "failed":
        ours[(m.group(1), int(m.group(2)), m.group(3))] = float(m.group(4))
print(f"{'model':<14}{'batch':>6}{'prec':>6}{'vkcnn ms':>11}{'torch ms':>11}{'ratio':>8}")
for line in open(sys.argv[2]):
    t = json.loads(line)
    key = (t["model"], t["batch"], t["precision"])
    mine = ours.get(key)
    ratio = f"{mine / t['p50_ms']:.2f}x" if mine else "-"
    print(f"{key[0]:<14}{key[1]:>6}{key[2]:>6}{(mine or float('nan')):>11.3f}{t['p50_ms']:>11.3f}{ratio:>8}  ({t['device']}, torch {t['torch']})")
PY
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "${1:-}" ;;
  *) echo "usage: $0 prepare | run [--cpu]" >&2; exit 2 ;;
esac
