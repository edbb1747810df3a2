#!/usr/bin/env bash
# Installs the Debian packages Kehu builds and tests with, only those missing.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config ccache
  libsqlcipher-dev libssl-dev libcurl4-openssl-dev
  nlohmann-json3-dev libcli11-dev catch2 libcpp-httplib-dev
  sqlcipher
  postgresql libpq-dev
  libxlsxwriter-dev libzip-dev libexpat1-dev libicu-dev
  clang libclang-rt-14-dev
  python3
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
