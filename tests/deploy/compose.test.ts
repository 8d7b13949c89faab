// docker-compose.yml cannot run on these machines; this checks that it parses and states exactly the stack we
// mean: its services, health checks, published ports, variables, roles and compiled commands.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is compose interpolation, compared as text
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const text = await readFile('docker-compose.yml', 'utf8');
const compose = parse(text);
const services = compose.services;

describe('docker-compose.yml', () => {
  it('names every service of the stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'grafana',
        'jaeger',
        'ledger-db',
        'migrate',
        'prometheus',
        'temporal',
        'temporal-db',
        'temporal-ui',
        'worker',
      ].sort(),
    );
  });

  it('uses PostgreSQL 17 and a Temporal server backed by PostgreSQL', () => {
    expect(services['ledger-db'].image).toBe('postgres:17');
    expect(services['temporal-db'].image).toBe('postgres:17');
    expect(services.temporal.environment.DB).toBe('postgres12');
    expect(services.temporal.environment.POSTGRES_SEEDS).toBe('temporal-db');
  });

  it('has these health checks on the long-running services', () => {
    const checks = Object.fromEntries(
      Object.entries<{ healthcheck?: { test: string[] } }>(services)
        .filter(([, s]) => s.healthcheck)
        .map(([name, s]) => [name, s.healthcheck?.test.slice(0, 2)]),
    );
    expect(checks).toEqual({
      'ledger-db': ['CMD-SHELL', 'pg_isready -U wallet_owner -d wallet'],
      'temporal-db': ['CMD-SHELL', 'pg_isready -U temporal'],
      temporal: [
        'CMD-SHELL',
        'temporal operator cluster health --address $$(hostname -i):7233 | grep -q SERVING',
      ],
      api: ['CMD', 'node'],
      worker: ['CMD', 'node'],
    });
    expect(services.api.healthcheck.test[3]).toContain("fetch('http://127.0.0.1:3000/health')");
    expect(services.worker.healthcheck.test[3]).toContain("includes('chrom'+'ium')");
  });

  it('publishes exactly the API, the Temporal UI, Prometheus, Grafana and Jaeger, on loopback', () => {
    const ports = Object.fromEntries(
      Object.entries<{ ports?: string[] }>(services)
        .filter(([, s]) => s.ports)
        .map(([name, s]) => [name, s.ports]),
    );
    expect(ports).toEqual({
      api: ['127.0.0.1:3000:3000'],
      'temporal-ui': ['127.0.0.1:8233:8080'],
      prometheus: ['127.0.0.1:9090:9090'],
      grafana: ['127.0.0.1:3001:3000'],
      jaeger: ['127.0.0.1:16686:16686'],
    });
  });

  it('takes every secret from .env, and .env.example lists every variable', async () => {
    expect(text).not.toMatch(/^\s+[A-Z_]*(PASSWORD|PWD):\s*(?!\$\{)\S/m);
    const example = await readFile('.env.example', 'utf8');
    const used = [...new Set([...text.matchAll(/\$\{([A-Z_]+)[:?}-]/g)].map((m) => m[1]))].sort();
    expect(used).toEqual([
      'DEPOSITS_ENABLED',
      'GRAFANA_ADMIN_PASSWORD',
      'LOG_LEVEL',
      'POSTGRES_PASSWORD',
      'TEMPORAL_DB_PASSWORD',
      'WALLET_API_PASSWORD',
      'WALLET_WORKER_PASSWORD',
    ]);
    for (const variable of used) expect(example, `${variable} in .env.example`).toContain(`${variable}=`);
  });

  it('runs compiled JavaScript, the API and the worker each under its own role', () => {
    expect(services.api).toMatchObject({ build: '.', command: ['node', 'dist/server.js'] });
    expect(services.worker).toMatchObject({ build: '.', command: ['node', 'dist/worker.js'] });
    expect(services.api.environment).toEqual({
      DATABASE_URL:
        'postgres://wallet_api:${WALLET_API_PASSWORD:?set WALLET_API_PASSWORD in .env}@ledger-db:5432/wallet',
      DATABASE_ROLE: 'wallet_app',
      HOST: '0.0.0.0',
      PORT: 3000,
      TEMPORAL_ADDRESS: 'temporal:7233',
      DEPOSITS_ENABLED: '${DEPOSITS_ENABLED:-false}',
      LOG_LEVEL: '${LOG_LEVEL:-info}',
      METRICS_HOST: '0.0.0.0',
      METRICS_PORT: 9464,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_SERVICE_NAME: 'wallet-api',
    });
    expect(services.worker.environment).toEqual({
      DATABASE_URL:
        'postgres://wallet_receipts:${WALLET_WORKER_PASSWORD:?set WALLET_WORKER_PASSWORD in .env}@ledger-db:5432/wallet',
      DATABASE_ROLE: 'wallet_worker',
      TEMPORAL_ADDRESS: 'temporal:7233',
      CHROMIUM_PATH: '/usr/bin/chromium',
      LOG_LEVEL: '${LOG_LEVEL:-info}',
      METRICS_HOST: '0.0.0.0',
      WORKER_METRICS_PORT: 9465,
      TEMPORAL_METRICS_PORT: 9466,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_SERVICE_NAME: 'wallet-worker',
    });
  });

  it('migrates as the owner, then makes one login role per process role', () => {
    const script = services.migrate.command.join(' ');
    expect(script).toContain('node dist/db/migrate-cli.js');
    expect(script).toContain('node dist/db/grant-login-cli.js wallet_api wallet_app');
    expect(script).toContain('node dist/db/grant-login-cli.js wallet_receipts wallet_worker');
    expect(Object.keys(services.migrate.environment).sort()).toEqual([
      'DATABASE_URL',
      'WALLET_API_PASSWORD',
      'WALLET_WORKER_PASSWORD',
    ]);
    expect(services.migrate.environment.DATABASE_URL).toMatch(/^postgres:\/\/wallet_owner:/);
  });

  it('starts the API and the worker after the migration and a healthy Temporal', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on, name).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        temporal: { condition: 'service_healthy' },
      });
    }
  });
});

describe('the observability stack', () => {
  const prometheus = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8'));
  const rules = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8'));

  it('scrapes the API, the worker, the Temporal SDK in the worker and the Temporal server, on their ports', () => {
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job: { job_name: string; static_configs: { targets: string[] }[] }) => [
        job.job_name,
        job.static_configs.flatMap((c) => c.targets),
      ]),
    );
    expect(targets).toEqual({
      'wallet-api': [`api:${services.api.environment.METRICS_PORT}`],
      'wallet-worker': [`worker:${services.worker.environment.WORKER_METRICS_PORT}`],
      'wallet-worker-temporal-sdk': [`worker:${services.worker.environment.TEMPORAL_METRICS_PORT}`],
      'temporal-server': [`temporal:${services.temporal.environment.PROMETHEUS_ENDPOINT.split(':')[1]}`],
    });
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(services.prometheus.volumes).toContain(
      './deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
    );
  });

  it('has the five alerts, each with a runbook section in docs/observability.md', () => {
    const alerts = rules.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules);
    expect(alerts.map((a: { alert: string }) => a.alert).sort()).toEqual(
      [
        'ApiServerErrors',
        'DatabasePoolWaiting',
        'ReceiptDispatcherFailing',
        'ReceiptsPendingTooLong',
        'TemporalScheduleToStartHigh',
      ].sort(),
    );
    const docs = readFileSync('docs/observability.md', 'utf8');
    for (const alert of alerts) {
      expect(alert.annotations.runbook).toBe(`docs/observability.md#${alert.alert.toLowerCase()}`);
      expect(docs, alert.alert).toMatch(new RegExp(`^### ${alert.alert}$`, 'm'));
      expect(alert.expr, alert.alert).toBeTruthy();
    }
  });

  it('provisions Grafana with Prometheus and Jaeger and the dashboard from the repository', () => {
    const sources = parse(readFileSync('deploy/grafana/provisioning/datasources/datasources.yml', 'utf8'));
    expect(sources.datasources.map((d: { uid: string; url: string }) => [d.uid, d.url])).toEqual([
      ['prometheus', 'http://prometheus:9090'],
      ['jaeger', 'http://jaeger:16686'],
    ]);
    const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboards/wallet.json', 'utf8'));
    const uids = new Set(
      dashboard.panels.flatMap((p: { targets?: { datasource: { uid: string } }[] }) =>
        (p.targets ?? []).map((t) => t.datasource.uid),
      ),
    );
    expect([...uids]).toEqual(['prometheus']);
    expect(services.grafana.volumes).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
  });
});

describe('Dockerfile', () => {
  it('builds on a supported Node LTS and runs compiled code without tsx', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8');
    const images = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(images).toEqual(['node:22-bookworm-slim', 'node:22-bookworm-slim']);
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('RUN npm ci --omit=dev');
    expect(dockerfile).toMatch(/CMD \["node", "dist\/server\.js"\]\s*$/);
    expect(dockerfile).not.toMatch(/^(RUN|CMD|ENTRYPOINT).*tsx/m);
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    // exec: npm's shell hands its process to node, so a signal to npm reaches the service (docs/operators.md).
    expect(pkg.scripts).toMatchObject({
      start: 'exec node dist/server.js',
      worker: 'exec node dist/worker.js',
    });
  });
});
