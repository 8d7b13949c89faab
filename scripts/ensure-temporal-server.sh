#!/usr/bin/env bash
# Finds or builds the real Temporal server (the production shape: Temporal on PostgreSQL, as docker-compose.yml
# runs it) and its SQL schema tool, and prints the folder holding `temporal-server`, `temporal-sql-tool` and
# `schema/` on the LAST stdout line; progress goes to stderr.
# No registry these machines reach ships the server as a binary, so it is built from the Go module proxy. The
# module needs a newer Go than Debian's or the machine's 1.26.8: GOTOOLCHAIN makes the go command fetch
# the approved toolchain from the same proxy (76 MB, once per machine). A cold build takes about 3 minutes on
# 2 cores; a warm Go build cache makes it seconds.
# Usage: bash scripts/ensure-temporal-server.sh
set -euo pipefail

SERVER_VERSION=v1.32.2
export GOTOOLCHAIN="${TEMPORAL_GOTOOLCHAIN:-go1.27.3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/temporal-server"
install_log="$root/.tools/ensure-temporal-server.log"

log() { echo "ensure-temporal-server: $*" >&2; }
ready() { [[ -x "$dir/temporal-server" && -x "$dir/temporal-sql-tool" && -d "$dir/schema/postgresql" ]]; }

if ready && [[ "$(cat "$dir/VERSION" 2>/dev/null)" == "$SERVER_VERSION" ]]; then
  echo "$dir"
  exit 0
fi
command -v go >/dev/null || { log "Go is needed to build the Temporal server (apt-get install golang, or go.dev/dl)"; exit 1; }

mkdir -p "$dir"
exec 9>"$dir.lock"
flock -w 1200 9 || { log "timed out waiting for $dir.lock"; exit 1; }
started=$SECONDS
log "building go.temporal.io/server $SERVER_VERSION with $GOTOOLCHAIN (minutes when cold; output in $install_log)"
if ! GOBIN="$dir" go install "go.temporal.io/server/cmd/server@$SERVER_VERSION" \
  "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION" >>"$install_log" 2>&1; then
  tail -n 15 "$install_log" >&2
  log "go install failed"
  exit 1
fi
mv -f "$dir/server" "$dir/temporal-server"
mv -f "$dir/sql" "$dir/temporal-sql-tool"
# The SQL schemas (and their versioned upgrades) ship inside the module, not in the binaries.
modroot="$(go env GOMODCACHE)/go.temporal.io/server@$SERVER_VERSION"
rm -rf "$dir/schema" && mkdir -p "$dir/schema"
cp -r "$modroot/schema/postgresql" "$dir/schema/postgresql"
chmod -R u+w "$dir/schema"
echo "$SERVER_VERSION" >"$dir/VERSION"
log "built in $((SECONDS - started)) s"
echo "$dir"
