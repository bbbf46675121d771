#!/usr/bin/env bash
# Installs what shotline's build, demo and tests need, only where it is missing.
# Debian/Ubuntu: system packages through apt-get (as root, or with sudo when available).
# Usage: scripts/setup.sh [--tests]   (--tests also installs the renderers and cross-check tools)
set -euo pipefail

want_tests=0
[[ "${1:-}" == "--tests" ]] && want_tests=1

need_apt=()
command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
if [[ $want_tests == 1 ]]; then
  command -v blender >/dev/null 2>&1 || need_apt+=(blender)
  command -v exrheader >/dev/null 2>&1 || need_apt+=(openexr)
  command -v iinfo >/dev/null 2>&1 || need_apt+=(openimageio-tools)
  command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
  command -v ociobakelut >/dev/null 2>&1 || need_apt+=(opencolorio-tools)
  # The dashboard test drives a real headless Chromium through chromedriver (WebDriver).
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need_apt+=(fonts-dejavu-core)
  command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || need_apt+=(python3-pip)
  # The Python module's tests build and install the wheel into a fresh venv.
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
  # The farm tests run a real single-node Slurm cluster (scripts/slurm.sh).
  [[ -x /usr/sbin/slurmctld ]] || command -v slurmctld >/dev/null 2>&1 || need_apt+=(slurm-wlm)
  [[ -x /usr/sbin/munged ]] || command -v munged >/dev/null 2>&1 || need_apt+=(munge)
  # Tractor job scripts are Tcl: the farm tests read them back with tclsh.
  command -v tclsh >/dev/null 2>&1 || need_apt+=(tcl)
  # The benchmarks (bench/*.sh) time commands with hyperfine.
  command -v hyperfine >/dev/null 2>&1 || need_apt+=(hyperfine)
fi

if [[ ${#need_apt[@]} -gt 0 ]]; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: need root (or sudo) to install: ${need_apt[*]}" >&2; exit 2
    fi
  fi
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [[ $want_tests == 1 ]]; then
  # The reference ASC MHL implementation, used by the ingest tests to verify our manifests.
  if ! command -v ascmhl-debug >/dev/null 2>&1; then
    echo "setup: installing ascmhl from PyPI" >&2
    python3 -m pip install -q ascmhl 2>/dev/null || python3 -m pip install -q --break-system-packages ascmhl
    # pyenv installs console scripts behind shims that exist only after a rehash.
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    if ! command -v ascmhl-debug >/dev/null 2>&1; then
      echo "setup: ascmhl-debug is not on PATH after installing ascmhl" >&2
      exit 2
    fi
  fi
fi

if [[ $want_tests == 1 ]]; then
  # Open Job Description's reference CLI: the farm tests check and run exported templates.
  if ! command -v openjd >/dev/null 2>&1; then
    echo "setup: installing openjd-cli from PyPI" >&2
    python3 -m pip install -q openjd-cli 2>/dev/null || python3 -m pip install -q --break-system-packages openjd-cli
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    if ! command -v openjd >/dev/null 2>&1; then
      echo "setup: openjd is not on PATH after installing openjd-cli" >&2
      exit 2
    fi
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo (Rust 1.95 or newer) is required; install it with rustup" >&2
  exit 2
fi
