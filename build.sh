#!/usr/bin/env bash
# The one entry point: ./build.sh TARGET [cake options]
#   installs the Debian/Ubuntu packages the project needs when they are missing,
#   restores the Cake tool and runs the build.cake target (build, test, bench, demo, pack, publish, publish-tests, clean).
set -euo pipefail
cd "$(dirname "$0")"

# Everything any part of the project uses, so later work never has to touch this list.
APT_PACKAGES="mesa-vulkan-drivers libvulkan1 vulkan-tools glslc spirv-tools vulkan-validationlayers
libglfw3 xvfb xauth imagemagick xdotool
ffmpeg
fonts-dejavu-core fontconfig
dataset-fashion-mnist libonnx-testdata"
# Only for `./build.sh bench`: the PyTorch CPU peer of the training benchmark (tests never need it).
BENCH_PACKAGES="python3-torch"

TARGET="${1:-build}"
[ $# -gt 0 ] && shift

need_manual_install() {
  cat <<MSG
This system has no apt-get/dpkg, so build.sh cannot install dependencies itself. Install:
  - .NET SDK 10 (https://dot.net)
  - a Vulkan loader and driver (Windows/Linux: your GPU vendor's driver, or Mesa lavapipe;
    macOS: MoltenVK / the LunarG Vulkan SDK)
  - glslc and spirv-val (LunarG Vulkan SDK or shaderc + SPIRV-Tools), Khronos validation layers
  - GLFW 3, ffmpeg, ImageMagick, xdotool and Xvfb (Linux only, for window tests), fontconfig + DejaVu fonts
  - data for tests: Fashion-MNIST (IDX .gz files) and the ONNX backend test data
Debian/Ubuntu package names: $(echo $APT_PACKAGES | tr '\n' ' ')
MSG
}

install_packages() {
  local wanted="$APT_PACKAGES"
  [ "$TARGET" = "bench" ] && wanted="$wanted $BENCH_PACKAGES"
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    need_manual_install
    command -v glslc >/dev/null 2>&1 || { echo "error: glslc not found on PATH" >&2; exit 1; }
    return
  fi
  local missing=()
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "build.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET SDK 10 is required (https://dot.net); dotnet is not on PATH" >&2; exit 1; }
install_packages
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake --target="$TARGET" "$@"
