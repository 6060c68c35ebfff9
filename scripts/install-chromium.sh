#!/usr/bin/env bash
# Installs Debian's chromium for test/browser.test.ts (which opens the HTML report in a
# real browser). Never fatal: without a browser that test skips with the reason printed,
# so this script exits 0 with a message whenever it cannot install.
set -u

for exe in chromium chromium-browser google-chrome; do
  if command -v "$exe" >/dev/null 2>&1; then
    echo "install-chromium: $exe already present at $(command -v "$exe")"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get on this host; the browser test will skip (install chromium by hand to run it)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-chromium: not root and no password-less sudo; the browser test will skip"
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine: update once, then install.
if ! apt-cache show chromium >/dev/null 2>&1; then
  echo "install-chromium: apt-get update"
  $SUDO apt-get update -qq || { echo "install-chromium: apt-get update failed; the browser test will skip"; exit 0; }
fi
echo "install-chromium: apt-get install chromium"
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium </dev/null; then
  echo "install-chromium: apt-get update and retry"
  $SUDO apt-get update -qq || true
  if ! $SUDO apt-get install -y -qq --no-install-recommends chromium </dev/null; then
    echo "install-chromium: could not install chromium; the browser test will skip"
    exit 0
  fi
fi
echo "install-chromium: installed $(command -v chromium || echo chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
exit 0
