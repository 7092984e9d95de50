#!/usr/bin/env bash
# Builds everything and runs all tests, in three passes:
#   1. build/release        Release, -march=native, -Werror: the tests whose
#                           code depends on the SIMD target but not the
#                           portable target's sweeps (pass 2 runs them), at
#                           -O1 with the tile transforms unrolled as at -O2
#                           (GCC 12 compiles them ~25% faster than at -O2);
#                           the examples (the demo checks every algorithm
#                           against direct convolution) at -O1 with the tile
#                           transforms as loops (the demo compiled in 58 s,
#                           against 120 s unrolled at -O1 and 220-280 s at
#                           -O3); compile-fail and packaging tests; the
#                           benchmarks are only compiled (-O0)
#   2. build/clang-asan     Clang 14 (pass 1 is GCC: the operator tests are
#                           built by both compilers), Debug (-g1: the line
#                           tables the sanitizers' reports need; full -g took
#                           ~50% more compile time), portable (no -march),
#                           ASan+UBSan, -Werror:
#                           every test but label packaging and the int8
#                           real-model test (SFC_SKIP_MODEL_ACCURACY_TESTS;
#                           the operator sweeps at -O1; tile transforms run
#                           as loops, see SFC_UNROLL_TRANSFORMS); no
#                           benchmarks or examples
#   3. build/clang-native   Clang 14, Release, -march=native, -Werror: the
#                           SIMD targets' own tests (vector operations of
#                           every compiled target; the AMX GEMM against the
#                           VNNI kernel), so that Clang's builds of the
#                           AVX-512, AVX2 and AMX kernels are tested too
#                           (Clang spells some feature macros differently)
# Each test runs in at least one pass; the operator tests in the first two.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

jobs=2
header() { printf '\n==== %s ====\n\n' "$*"; }

header "Pass 1/3: Release, native (build/release)"
cmake -S . -B build/release -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DSFC_NATIVE=ON -DSFC_WERROR=ON -DSFC_SANITIZE=OFF \
  -DSFC_TEST_OPTIMIZATION=-O1 -DSFC_EXAMPLE_OPTIMIZATION="-O1;-DSFC_UNROLL_TRANSFORMS=0" -DSFC_BENCH_OPTIMIZATION=-O0 \
  -DSFC_SKIP_TARGET_INDEPENDENT_TESTS=ON -DSFC_SKIP_PORTABLE_TARGET_TESTS=ON
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure --no-tests=error -j"$jobs"

header "Pass 2/3: Clang, Debug, portable, ASan+UBSan (build/clang-asan)"
# Exported before building: gtest_discover_tests runs the binaries at build time.
export ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cmake -S . -B build/clang-asan -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DSFC_NATIVE=OFF -DSFC_WERROR=ON -DSFC_SANITIZE=ON \
  -DSFC_BUILD_BENCHMARKS=OFF -DSFC_BUILD_EXAMPLES=OFF -DSFC_SKIP_MODEL_ACCURACY_TESTS=ON
cmake --build build/clang-asan -j"$jobs"
ctest --test-dir build/clang-asan --output-on-failure --no-tests=error -j"$jobs" \
  -LE packaging

header "Pass 3/3: Clang, Release, native: the SIMD targets (build/clang-native)"
unset ASAN_OPTIONS UBSAN_OPTIONS
simd_tests=(test_simd_targets test_conv2d_quantized_amx)
cmake -S . -B build/clang-native -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Release -DSFC_NATIVE=ON -DSFC_WERROR=ON -DSFC_SANITIZE=OFF -DSFC_TEST_OPTIMIZATION=-O1 \
  -DSFC_BUILD_BENCHMARKS=OFF -DSFC_BUILD_EXAMPLES=OFF
cmake --build build/clang-native -j"$jobs" --target "${simd_tests[@]}"
ctest --test-dir build/clang-native --output-on-failure --no-tests=error -j"$jobs" \
  -R "^($(IFS='|'; echo "${simd_tests[*]}"))\\."

header "All passes succeeded"
