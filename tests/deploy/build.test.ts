// `npm run build` makes what the image runs: compiled JavaScript that plain node starts (no tsx), and a
// workflow bundle that replays the recorded workflow histories exactly as the source does (replay.test.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, quietTemporalRuntime } from '../helpers/receipt-worker.js';
import { fixtures } from '../workflows/histories.js';

const run = promisify(execFile);
const DIST = `${PROJECT_ROOT}dist`;

beforeAll(async () => {
  quietTemporalRuntime();
  await run('npm', ['run', 'build'], { cwd: PROJECT_ROOT });
}, 600_000);

/** Runs a compiled entry point with plain node (no --import tsx); resolves with its exit code and stderr. */
async function plainNode(script: string, env: Record<string, string>) {
  return run(process.execPath, [`${DIST}/${script}`], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
}

describe('npm run build', () => {
  it('compiles the API, the worker, migrations and the CLI to dist/', () => {
    for (const file of ['server.js', 'worker.js', 'cli.js', 'db/migrate-cli.js', 'db/grant-login-cli.js']) {
      expect(existsSync(`${DIST}/${file}`), file).toBe(true);
    }
  });

  it('gives entry points that plain node loads whole (a bad setting is reported, not a missing module)', async () => {
    // ESM loads every imported module before main runs: reaching the config check means the graph loaded.
    const api = await plainNode('server.js', { PORT: 'eighty' });
    expect(api).toEqual({
      code: 1,
      stderr: 'configuration error: PORT must be a whole number from 0 to 65535, got "eighty"\n',
    });
    const worker = await plainNode('worker.js', { RECEIPT_PAGES: 'two' });
    expect(worker.code).toBe(1);
    expect(worker.stderr).toBe(
      'configuration error: RECEIPT_PAGES must be a whole number from 1 to 32, got "two"\n',
    );
  });

  it('makes the worker load the prebuilt bundle, not webpack at start', async () => {
    const compiled = await import(`${DIST}/temporal/workflow-bundle.js`);
    expect(compiled.PREBUILT_BUNDLE).toBe(`${DIST}/workflow-bundle.js`);
    const loaded = await compiled.loadWorkflowBundle('/nonexistent/workflows/index.js');
    expect(loaded.code).toBe(await readFile(`${DIST}/workflow-bundle.js`, 'utf8'));
    // A tracing worker loads the second bundle; only that one carries the OpenTelemetry workflow interceptor.
    const traced = await compiled.loadWorkflowBundle('/nonexistent/workflows/index.js', { traced: true });
    expect(traced.code).toBe(await readFile(`${DIST}/workflow-bundle-traced.js`, 'utf8'));
    expect(traced.code).toContain('OpenTelemetryInboundInterceptor');
    expect(loaded.code).not.toContain('OpenTelemetryInboundInterceptor');
  });

  it('bundles workflows that replay every recorded history as the source does', async () => {
    const code = await readFile(`${DIST}/workflow-bundle.js`, 'utf8');
    const histories = await fixtures();
    // The current receipt workflow's three, the earlier versions' (v1-*, v2-*), the batch workflow's two and
    // the statement workflows' two (statement-rendered, monthly-rendered).
    expect(histories).toHaveLength(13);
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories))
      results.push(result);
    expect(results.map((r) => [r.workflowId, r.error])).toEqual(
      histories.map((h) => [h.workflowId, undefined]),
    );
  }, 120_000);
});
