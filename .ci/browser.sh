#!/usr/bin/env bash
# Headless Chromium for the browser tests (test/cors.browser.spec.ts): Debian's chromium, installed
# with apt-get when no Chromium binary is found. Prints where it is. The tests look in the same
# places (CHROMIUM_PATH first); under CI=true a browser test without Chromium fails, not skips.
set -euo pipefail

candidates=(/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome-stable /usr/bin/google-chrome)

find_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] && { echo "$CHROMIUM_PATH"; return 0; }
    return 1
  fi
  local candidate
  for candidate in "${candidates[@]}"; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

echo "== Chromium"
if ! chromium=$(find_chromium); then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    echo "FATAL: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
    exit 1
  fi
  echo "Chromium is not installed: installing Debian's chromium with apt"
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "FATAL: apt-get could not install chromium" >&2
    exit 1
  fi
  rm -f "$log"
  chromium=$(find_chromium) || { echo "FATAL: apt installed chromium, but none of ${candidates[*]} is there" >&2; exit 1; }
fi
# Chromium prints its version without starting a browser; a broken install shows here already.
version=$("$chromium" --version 2>/dev/null | head -n 1) || { echo "FATAL: $chromium --version failed" >&2; exit 1; }
echo "Chromium: $chromium ($version)"
