#!/usr/bin/env bash
# Prints the path of a schemathesis CLI (`st`) on its last stdout line, installing it from PyPI into
# .tools/schemathesis the first time. Used by tests/api/schemathesis.test.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=4.32.5
target=.tools/schemathesis
mkdir -p .tools
exec 9>.tools/schemathesis.lock
flock 9
if ! PYTHONPATH="$target" "$target/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "ensure-schemathesis: installing schemathesis $VERSION from PyPI into $target" >&2
  rm -rf "$target"
  python3 -m pip install --quiet --disable-pip-version-check --target "$target" "schemathesis==$VERSION" >&2
fi
echo "$PWD/$target/bin/st"
