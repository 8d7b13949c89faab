#!/usr/bin/env bash
# Makes sure a Chromium for Puppeteer, `pdftotext` (tests read receipts back) and fonts (Latin + CJK names on
# receipts) exist. Idempotent: does nothing when all are present. Installs from Debian's packages as root,
# because Puppeteer's own browser download cannot be fetched on machines that reach only package registries.
# Usage: bash scripts/ensure-chromium.sh [--check]   (--check also runs a headless smoke test)
set -euo pipefail

check=0
[[ "${1:-}" == "--check" ]] && check=1
started=$SECONDS
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# apt's screens of output go to a file; the terminal gets one line saying what happens and where to look.
install_log="$root/.tools/ensure-chromium.log"
PACKAGES=(chromium poppler-utils qpdf fonts-dejavu-core fonts-wqy-zenhei)

log() { echo "ensure-chromium: $*" >&2; }
show_log_tail() { log "last lines of $install_log:"; tail -n 15 "$install_log" >&2 || true; }

fonts_present() {
  [[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf && -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]]
}

have_all() { [[ -x /usr/bin/chromium ]] && command -v pdftotext >/dev/null && command -v qpdf >/dev/null && fonts_present; }

apt_install() {
  # The lock timeout covers another apt run in progress; the one retry covers a transient mirror failure.
  # apt verifies signatures as the unprivileged _apt user in $TMPDIR: where /tmp is not world-writable
  # (seen here: mode 755) `apt-get update` silently keeps stale or no lists, so give it a 1777 dir.
  local opts=(-o DPkg::Lock::Timeout=300) tmp rc=0
  tmp="$(mktemp -d /var/tmp/ensure-chromium.XXXXXX)" && chmod 1777 "$tmp"
  TMPDIR="$tmp" apt-get "${opts[@]}" update -qq &&
    TMPDIR="$tmp" DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y -qq --no-install-recommends \
      "${PACKAGES[@]}" || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

if [[ -n "${CHROMIUM_PATH:-}" && -x "${CHROMIUM_PATH}" ]]; then
  # An explicitly chosen browser (e.g. a developer's own machine): do not touch the system packages.
  browser="$CHROMIUM_PATH"
  command -v pdftotext >/dev/null || log "warning: pdftotext missing (install poppler-utils); PDF tests need it"
elif have_all; then
  browser=/usr/bin/chromium
else
  [[ -n "${CHROMIUM_PATH:-}" ]] && log "CHROMIUM_PATH=$CHROMIUM_PATH is not executable; falling back"
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing Chromium, pdftotext or fonts, and cannot install them here (needs root and apt-get)."
    log "install: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}"
    log "or set CHROMIUM_PATH to a Chromium/Chrome binary (and install poppler-utils for pdftotext)."
    exit 1
  fi
  mkdir -p "$(dirname "$install_log")"
  log "installing ${PACKAGES[*]} with apt-get, once (a minute or two; output in ${install_log#"$root"/})"
  if ! apt_install >>"$install_log" 2>&1; then
    log "apt-get failed; retrying once in 10 s"
    sleep 10
    apt_install >>"$install_log" 2>&1 || { show_log_tail; exit 1; }
  fi
  have_all || { show_log_tail; log "install finished but something is still missing"; exit 1; }
  log "installed in $((SECONDS - started)) s"
  browser=/usr/bin/chromium
fi

# Debian's /usr/bin/chromium wrapper prints harmless shell noise on stderr on some hosts: keep stdout only.
version="$("$browser" --version 2>/dev/null || echo 'unknown version')"

if [[ $check == 1 ]]; then
  profile="$(mktemp -d)"
  trap 'rm -rf "$profile"' EXIT
  smoke_started=$SECONDS
  if ! out="$(timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --disable-background-networking --user-data-dir="$profile" \
    --dump-dom about:blank 2>/dev/null)" || [[ "$out" != *"<html"* ]]; then
    log "smoke test FAILED: '$browser --headless --dump-dom about:blank' gave no page"
    exit 1
  fi
  log "smoke test passed in $((SECONDS - smoke_started)) s"
fi

echo "chromium ok: $browser ($version) in $((SECONDS - started)) s"
