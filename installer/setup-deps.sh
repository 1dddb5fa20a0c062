#!/usr/bin/env bash
# Installs every Debian 12 package Cellwright needs to build, run and test.
# Idempotent: packages already present are skipped; `apt-get update` runs once per call
# and only when something is missing.
#   installer/setup-deps.sh            build + run + test dependencies
#   installer/setup-deps.sh --no-gui   engine and CLI only (no Qt, no VTK)
#   installer/setup-deps.sh --reference  also the Python tools the test-fixture scripts use
#   installer/setup-deps.sh --fuzz       also clang and libFuzzer for tests/fuzz/run_fuzz.sh
set -euo pipefail

want_gui=1 want_reference=0 want_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --no-gui) want_gui=0 ;;
    --reference) want_reference=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "setup-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread libgloo-dev
  libhdf5-dev libeigen3-dev libigraph-dev libhnswlib-dev zlib1g-dev
  # Optional: inflates gzip-compressed h5ad chunks about twice as fast as zlib.
  libdeflate-dev
  # Debian's igraph CMake config names libglpk.so and libplfit.so without depending on them.
  libglpk-dev libplfit-dev
  libgtest-dev nlohmann-json3-dev
  # The h5ad round-trip test reads our files back with anndata.
  python3 python3-anndata python3-h5py
)
if [ "$want_gui" = 1 ]; then
  packages+=(
    qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
    libvtk9-dev
    xvfb xauth libgl1-mesa-dri
  )
fi
if [ "$want_reference" = 1 ]; then
  packages+=(python3-sklearn umap-learn python3-leidenalg python3-skmisc python3-scipy python3-pandas python3-hnswlib)
fi
if [ "$want_fuzz" = 1 ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "setup-deps: installing ${#missing[@]} packages: ${missing[*]}"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
