// docker-compose.yml cannot run on these machines; this checks that it parses, names every service, keeps
// secrets out of the file and binds published ports to loopback.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const compose = parse(await readFile('docker-compose.yml', 'utf8'));
const text = await readFile('docker-compose.yml', 'utf8');

describe('docker-compose.yml', () => {
  it('names every service of the stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'api',
        'ledger-db',
        'migrate',
        'temporal',
        'temporal-db',
        'temporal-setup',
        'temporal-ui',
        'worker',
      ].sort(),
    );
  });

  it('uses PostgreSQL 16 or newer and a Temporal server backed by PostgreSQL', () => {
    for (const db of ['ledger-db', 'temporal-db']) {
      expect(Number(/postgres:(\d+)/.exec(compose.services[db].image)?.[1])).toBeGreaterThanOrEqual(16);
    }
    expect(compose.services.temporal.environment.DB).toMatch(/^postgres/);
  });

  it('has health checks on the long-running services', () => {
    for (const name of ['ledger-db', 'temporal-db', 'temporal', 'api', 'worker']) {
      expect(compose.services[name].healthcheck?.test, name).toBeDefined();
    }
  });

  it('takes every secret from .env and publishes ports on loopback only', async () => {
    expect(text).not.toMatch(/^\s+[A-Z_]*(PASSWORD|PWD):\s*(?!\$\{)\S/m);
    const example = await readFile('.env.example', 'utf8');
    for (const variable of text.matchAll(/\$\{([A-Z_]+)[:?}-]/g)) {
      expect(example, `${variable[1]} is missing from .env.example`).toContain(`${variable[1]}=`);
    }
    for (const service of Object.values<{ ports?: string[] }>(compose.services)) {
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('builds the API and worker from the Dockerfile with their commands', () => {
    expect(compose.services.api.build).toBe('.');
    expect(compose.services.api.command.join(' ')).toContain('src/server.ts');
    expect(compose.services.worker.command.join(' ')).toContain('src/worker.ts');
  });
});
