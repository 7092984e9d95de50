#!/usr/bin/env bash
# Builds and runs the SFC demo (examples/00_demo.cpp). Arguments go to the demo.
#   scripts/demo.sh            full demo
#   scripts/demo.sh --quick    the short run that ctest uses
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

# The build type's flags for the demo (-O3), also where scripts/test.sh
# configured this directory with its quicker-to-compile CI flags.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSFC_NATIVE=ON -DSFC_EXAMPLE_OPTIMIZATION=
cmake --build build/release --target 00_demo -j2
exec build/release/examples/00_demo "$@"
