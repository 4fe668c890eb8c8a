#!/usr/bin/env bash
# Finds the toolchain the board builds and emulation need, and installs the missing Debian
# packages only when asked to (--yes): without it, it says what is missing and how to install
# it, and exits 1. Programs are looked for on PATH (a toolchain unpacked in /opt or ~/.local
# counts), libraries where the compiler on PATH finds them.
# Usage: bash boards/install.sh [--check | --yes]
#   (none)   report; exit 0 when everything is there, 1 (with the apt-get line) when not
#   --check  the same, one line
#   --yes    install the missing Debian packages (apt-get; ~2.4 GB for all of them)
# `npm test` runs it with --yes (the test suite needs the boards' tools).
set -euo pipefail

# package -> a program on PATH, or a file (libraries: relative to the compiler's sysroot)
declare -A PROBE=(
  [wabt]=cmd:wasm2c
  [gcc-arm-none-eabi]=cmd:arm-none-eabi-gcc
  [libnewlib-arm-none-eabi]=lib:arm-none-eabi-gcc:nosys.specs
  [qemu-system-arm]=cmd:qemu-system-arm
  [gcc-riscv64-unknown-elf]=cmd:riscv64-unknown-elf-gcc
  [picolibc-riscv64-unknown-elf]=lib:riscv64-unknown-elf-gcc:picolibc.specs
  [qemu-system-misc]=cmd:qemu-system-riscv32
  [gcc]=cmd:gcc
  [chromium]=cmd:chromium
  [python3]=cmd:python3
)
# gcc (host): builds the instruction-counting QEMU plugin (boards/qemu-plugin/hgecount.c);
# chromium: the live view's test drives it through puppeteer-core (tests/boards-live.test.ts);
# python3: the README's device server in Python (tests/device-file.test.ts)
ORDER=(wabt gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc gcc chromium python3)

present() { # a PROBE entry: cmd:NAME on PATH, or lib:COMPILER:FILE the compiler finds
  local probe=$1
  case $probe in
    cmd:*) command -v "${probe#cmd:}" >/dev/null 2>&1 ;;
    lib:*)
      local rest=${probe#lib:} cc=${probe#lib:}
      cc=${cc%%:*}
      local file=${rest#*:}
      command -v "$cc" >/dev/null 2>&1 || return 1
      local found
      found=$("$cc" -print-file-name="$file" 2>/dev/null) || return 1
      [ "$found" != "$file" ] && [ -e "$found" ] && return 0
      # picolibc's specs live beside the compiler's sysroot, not on its search path
      [ -e "/usr/lib/picolibc/${cc%-gcc}/$file" ] || [ -e "$(dirname "$(command -v "$cc")")/../lib/picolibc/${cc%-gcc}/$file" ] ;;
  esac
}
find_missing() {
  missing=()
  for p in "${ORDER[@]}"; do
    if ! present "${PROBE[$p]}"; then missing+=("$p"); fi
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
if [ "${1:-}" != "--yes" ]; then
  echo "boards: missing ${missing[*]} (not on PATH)." >&2
  echo "boards: install them with: bash boards/install.sh --yes   (runs: sudo apt-get install ${missing[*]}; up to ~2.4 GB)" >&2
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
apt_install() { $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }
# An install cut short earlier (a killed run, a machine saved mid-install) leaves dpkg
# "interrupted", and apt refuses every install until it is finished: finish it, then try again.
apt_install || { $SUDO dpkg --configure -a >/dev/null 2>&1 && apt_install; } ||
  { echo "boards: apt-get install ${missing[*]} failed" >&2; exit 3; }
t1=$(date +%s)
for p in "${missing[@]}"; do
  if ! present "${PROBE[$p]}"; then echo "boards: $p installed but ${PROBE[$p]#*:} not found" >&2; exit 3; fi
done
echo "boards: installed ${missing[*]} in $((t1 - t0)) s" >&2
