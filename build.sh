#!/usr/bin/env bash
# grainflow's one entry point for building, testing and the demo.
#
#   ./build.sh demo    install missing packages, build (Release), run the samples
#   ./build.sh test    install missing packages, build the test trees, run every test
#   ./build.sh bench   build (Release) and run grainflow-bench
#   ./build.sh deps    only install the missing Debian packages
#
# Build trees: build/ (Release: samples, bench, install), build-asan/ (Debug with
# AddressSanitizer and UBSan: every test), build-tsan/ (ThreadSanitizer: the
# concurrency tests), build-fuzz/ (clang: the libFuzzer targets only, which
# build-asan's ctest runs for a few seconds each). ccache keeps rebuilds
# cheap; -j2 matches the machines.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
jobs=${GRAINFLOW_JOBS:-2}

packages=(g++ cmake make ccache clang libclang-rt-14-dev
          libcaf-dev libboost-dev libasio-dev libmsgpack-cxx-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          libtomlplusplus-dev libcli11-dev)

install_missing_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "build.sh: installing missing packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure <dir> <cmake args...>: (re)configure a tree only when needed.
configure() {
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
}

build_release() {
  configure "$root/build" -DCMAKE_BUILD_TYPE=Release -DGRAINFLOW_BUILD_TESTS=OFF
  cmake --build "$root/build" -j"$jobs" "$@"
}

run_demo() {
  build_release
  echo "=== samples/ping_pong ==="
  "$root/build/samples/ping_pong/ping_pong"
  echo "=== samples/calculator ==="
  "$root/build/samples/calculator/calculator"
  run_cluster_demo
}

# run_cluster_demo: calculator and kv as separate processes on 127.0.0.1 —
# three nodes, both clients, then the nodes stopped. The script's trap stops
# the nodes on every exit path; ctest runs the same script with fewer keys.
run_cluster_demo() {
  echo "=== samples/calculator and samples/kv as a cluster ==="
  "$root/tests/samples/run_cluster_demo.sh" "$root/build/samples" --keys 5000 --stats
}

run_tests() {
  # The release tree is installed so that tests/install can build an outside
  # project against it, as a user would.
  build_release
  cmake --install "$root/build" --prefix "$root/build/install" >/dev/null
  configure "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRAINFLOW_SANITIZER=thread \
    -DGRAINFLOW_BUILD_SAMPLES=OFF -DGRAINFLOW_BUILD_BENCH=OFF
  cmake --build "$root/build-tsan" -j"$jobs"
  configure "$root/build-fuzz" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DGRAINFLOW_FUZZ=ON -DGRAINFLOW_BUILD_TESTS=OFF -DGRAINFLOW_BUILD_SAMPLES=OFF \
    -DGRAINFLOW_BUILD_BENCH=OFF
  cmake --build "$root/build-fuzz" -j"$jobs" --target grainflow_fuzzers
  configure "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DGRAINFLOW_SANITIZER=address \
    -DGRAINFLOW_BUILD_BENCH=OFF -DGRAINFLOW_TSAN_DIR="$root/build-tsan" \
    -DGRAINFLOW_FUZZ_DIR="$root/build-fuzz" \
    -DGRAINFLOW_INSTALL_TEST_PREFIX="$root/build/install"
  cmake --build "$root/build-asan" -j"$jobs"
  ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs"
}

case "${1:-}" in
  deps) install_missing_packages ;;
  demo) install_missing_packages; run_demo ;;
  test) install_missing_packages; run_tests ;;
  bench) install_missing_packages; build_release; shift; "$root/build/bench/grainflow-bench" "$@" ;;
  *) echo "usage: ./build.sh demo|test|bench|deps" >&2; exit 2 ;;
esac
