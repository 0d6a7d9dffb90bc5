#!/usr/bin/env bash
# Installs the Debian packages CI needs, only when they are missing.
set -euo pipefail
pkgs=()
command -v xmllint >/dev/null 2>&1 || pkgs+=(libxml2-utils)
# Debian's package installs for Debian's interpreter, which may not be the
# python3 first on PATH (pyenv).
/usr/bin/python3 -c 'import exchangelib, requests_ntlm' >/dev/null 2>&1 || pkgs+=(python3-exchangelib python3-requests-ntlm)
if [ ${#pkgs[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi
