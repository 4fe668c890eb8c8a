#!/usr/bin/env bash
# Installs the Debian packages the board builds and emulation need, only when missing.
# Idempotent: a second run prints "boards: toolchain present" and does nothing.
# Usage: bash boards/install.sh [--check]   (--check: report only, exit 1 if anything missing)
set -euo pipefail

# package -> a file it provides (cheap presence test that does not depend on dpkg state)
declare -A PROBE=(
  [wabt]=/usr/bin/wasm2c
  [gcc-arm-none-eabi]=/usr/bin/arm-none-eabi-gcc
  [libnewlib-arm-none-eabi]=/usr/lib/arm-none-eabi/newlib/nosys.specs
  [qemu-system-arm]=/usr/bin/qemu-system-arm
  [gcc-riscv64-unknown-elf]=/usr/bin/riscv64-unknown-elf-gcc
  [picolibc-riscv64-unknown-elf]=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
  [qemu-system-misc]=/usr/bin/qemu-system-riscv32
  [gcc]=/usr/bin/gcc
)
# gcc (host): builds the instruction-counting QEMU plugin (boards/qemu-plugin/hgecount.c)
ORDER=(wabt gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc gcc)

find_missing() {
  missing=()
  for p in "${ORDER[@]}"; do
    if [ ! -e "${PROBE[$p]}" ]; then missing+=("$p"); fi
  done
}
find_missing

if [ ${#missing[@]} -eq 0 ]; then
  echo "boards: toolchain present (${ORDER[*]})" >&2
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "boards: missing ${missing[*]}"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "boards: missing ${missing[*]} and no apt-get here; install them by hand" >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "boards: missing ${missing[*]}; need root to apt-get install" >&2; exit 2; fi
fi
# Test files run in parallel and each makes sure of the toolchain: one installs, the others
# wait for it (apt would refuse a second concurrent install), then look again.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/hge-boards-install.lock"
  flock 9
  find_missing
  if [ ${#missing[@]} -eq 0 ]; then echo "boards: toolchain present (installed meanwhile)" >&2; exit 0; fi
fi
echo "boards: installing missing Debian packages: ${missing[*]} (one-time; all of them: ~2.4 GB, ~35 s)" >&2
t0=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq -o DPkg::Lock::Timeout=300 >&2
$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  { echo "boards: apt-get install ${missing[*]} failed" >&2; exit 3; }
t1=$(date +%s)
for p in "${missing[@]}"; do
  if [ ! -e "${PROBE[$p]}" ]; then echo "boards: $p installed but ${PROBE[$p]} not found" >&2; exit 3; fi
done
echo "boards: installed ${missing[*]} in $((t1 - t0)) s" >&2
