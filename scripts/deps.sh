#!/usr/bin/env bash
# Installs the Debian packages the build and the test suite need, and only
# those that are missing: on a machine that has them all this does nothing
# and needs no network.
set -euo pipefail

# Build: compiler, protobuf-c, llhttp sources, libuv, mbedtls, yajl, Check.
build_pkgs=(
  build-essential pkg-config clang libclang-rt-14-dev
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev
  node-llhttp libuv1-dev libmbedtls-dev libyajl-dev check libsubunit-dev
  libnl-3-dev libnl-route-3-dev zlib1g-dev
)
# Tests and benchmarks: real peers and tools nobody here wrote.
test_pkgs=(
  curl openssl wrk nginx-light h2o abigail-tools groff-base man-db
  python3 procps iproute2 util-linux
  crun
  umoci skopeo busybox-static
)

# The operator-stream test with a third-party client (tests/operator/
# npm_mesos_client.sh) needs node and npm; a node that already brings its
# own npm (e.g. a nodesource build) is kept as it is.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  test_pkgs+=(nodejs npm)
fi

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$p") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's nginx and h2o packages try to start their services on install; the
# benchmarks start their own instances, so keep the packaged ones stopped.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
