#!/usr/bin/env bash
# Set up everything cgidlint's tests and scenarios need on a fresh Debian/Ubuntu
# machine (run as root): the real httpd (the oracle), the jail tools, the
# Python package with its extras, and the offline Docker base image.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
need_apt=0
for b in apache2 debootstrap busybox curl ip; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || [ -x "/bin/$b" ] || need_apt=1
done
[ -x /bin/busybox ] || need_apt=1
if [ "$need_apt" = 1 ]; then
  apt-get update -qq
  apt-get install -y -qq apache2 debootstrap busybox-static curl iproute2 >/dev/null
fi
# The distribution's apache2 service is not wanted: tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop apache2 >/dev/null 2>&1 || true; fi

python3 -m pip install -q --disable-pip-version-check -e '.[scenarios,test]'

# Offline Docker base image (debootstrap + docker import; no registry needed).
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  python3 -m cgidlint.scenarios.images build debian12
else
  echo "setup: Docker engine not reachable: the docker scenario backend will not run" >&2
  if [ "${CGIDLINT_REQUIRE_SCENARIOS:-0}" = 1 ]; then exit 1; fi
fi
