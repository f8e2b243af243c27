#!/bin/bash
# The ncnn peer for a same-session comparison on the same Vulkan device (README "Results").
# Builds ncnn's benchncnn with the Vulkan backend from a source tree OUTSIDE this repository and
# runs its ResNet-18 and MobileNetV2 models, fp16 off and on, so VulkanCnn's ModelBenchmarks can
# be run alternately with it:
#   NCNN_SRC=/path/to/ncnn (with glslang/ filled: the nihui/glslang submodule) \
#   tests/VulkanCnn.Benchmarks/Peers/ncnn_vulkan.sh [loops]
# Nothing of ncnn enters this repository; the build lives in $NCNN_BUILD (default /tmp/ncnn-build).
set -euo pipefail
src=${NCNN_SRC:?set NCNN_SRC to an ncnn source tree}
build=${NCNN_BUILD:-/tmp/ncnn-build}
loops=${1:-20}
[ -f "$src/glslang/CMakeLists.txt" ] || { echo "$src/glslang is empty: ncnn's Vulkan backend needs its glslang submodule" >&2; exit 1; }

# benchncnn always enables fp16; the peer figures need fp32 as well: NCNN_FP16=0 turns it off (a patch to the copy).
bench="$src/benchmark/benchncnn.cpp"
if ! grep -q NCNN_FP16 "$bench"; then
    sed -i 's/opt.use_fp16_packed = true;/opt.use_fp16_packed = !(getenv("NCNN_FP16") \&\& getenv("NCNN_FP16")[0] == '"'"'0'"'"');/;
            s/opt.use_fp16_storage = true;/opt.use_fp16_storage = opt.use_fp16_packed;/;
            s/opt.use_fp16_arithmetic = true;/opt.use_fp16_arithmetic = opt.use_fp16_packed;/' "$bench"
    sed -i '1i #include <stdlib.h>' "$bench"
fi

if [ ! -x "$build/benchmark/benchncnn" ]; then
    cmake -G Ninja -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNCNN_VULKAN=ON -DNCNN_BUILD_TOOLS=OFF \
        -DNCNN_BUILD_EXAMPLES=OFF -DNCNN_BUILD_TESTS=OFF -DNCNN_BUILD_BENCHMARK=ON -DNCNN_INT8=OFF -DNCNN_BF16=OFF \
        -DNCNN_RUNTIME_CPU=OFF -DNCNN_AVX512=OFF -DNCNN_AVX512VNNI=OFF -DNCNN_AVX512BF16=OFF -DNCNN_AVX512FP16=OFF \
        -DNCNN_AVXVNNI=OFF -DNCNN_XOP=OFF > "$build.cmake.log"
    ninja -C "$build" benchncnn > "$build.build.log"
fi

cd "$src/benchmark/models"
for model in resnet18 mobilenet_v2; do
    for fp16 in 0 1; do
        # loops, 2 CPU threads, no powersave, GPU device 0, no cool-down
        NCNN_FP16=$fp16 "$build/benchmark/benchncnn" "$loops" 2 0 0 0 param=$model.param shape=[224,224,3] 2>&1 \
            | grep -E "min =" | sed "s/^/ncnn fp16=$fp16 /"
    done
done
