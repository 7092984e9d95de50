#!/usr/bin/env bash
# Installs the Debian packages SFC needs to build, test and benchmark, but only
# if one of them is missing. Safe to run repeatedly.
set -euo pipefail

# clang-14, libomp-14-dev: scripts/test.sh builds its second and third passes
# with Clang (and OpenMP).
# libdnnl-dev: oneDNN, the baseline of bench/bench_conv_f32 (optional there).
# scripts/plot_bench.py draws its chart with python3-matplotlib, which is not
# listed: CI does not run the benchmarks.
# zlib1g-dev, dataset-fashion-mnist: examples/02_fmnist and tests/test_fmnist
# read the Fashion-MNIST test set (gzip-compressed IDX files).
packages=(g++ clang-14 libomp-14-dev cmake ninja-build libeigen3-dev libgtest-dev libbenchmark-dev libdnnl-dev python3
          zlib1g-dev dataset-fashion-mnist)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: missing packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: not root and no sudo; install these packages: ${missing[*]}" >&2
    exit 1
  fi
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${packages[@]}"
