#!/usr/bin/env bash
# Installs the Debian packages oblivio needs, only those missing; a quick no-op when all are
# present. Runs `apt-get update` first whenever something is missing (fresh machines have no
# package lists). Uses sudo when not root. Extra packages may be passed as arguments.
set -euo pipefail
packages=(cmake g++ ninja-build make libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev
          libstb-dev zlib1g-dev libsvm-dev dataset-fashion-mnist
          # tools/ only (checkpoint converter, golden fixtures, the MIA cross-check); never linked:
          python3-torch python3-torchvision python3-sklearn "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "make deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
