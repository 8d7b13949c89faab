// `npx tsx bench/sql/per-call.ts`: what the transfer's own statements cost, without commits, round trips or
// other clients: CALLS transfers between random wallets in one statement of one backend (LATERAL calls), for
// wallet.transfer, bench.transfer_unchained (the pre-books transfer) and the minimal function, in alternating
// rounds (the first one a warm-up), medians in microseconds per call, wall time and the backend's CPU.
// bench:sql gives the rates with commits; this isolates the function bodies, where a schema change (a CHECK,
// an index, a domain) shows its own cost.
// VARIANTS=<file.json> adds variants: [{"name", "fn", "db", "sql"}], each db a copy of the migrated one with
// "sql" applied (e.g. an index dropped), so a change can be measured before it is written as a migration.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';
import { WALLETS } from './scripts.js';

const CALLS = Number(process.env.CALLS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Variant {
  name: string;
  fn: string;
  db?: string; // a copy of the migrated database, made once per name; default: the migrated one
  sql?: string; // applied to that copy
}
const variants: Variant[] = [
  { name: 'wallet.transfer', fn: 'wallet.transfer' },
  { name: 'without chains (bench.transfer_unchained)', fn: 'bench.transfer_unchained' },
  { name: 'minimal function (bench.transfer)', fn: 'bench.transfer' },
  ...(process.env.VARIANTS ? (JSON.parse(await readFile(process.env.VARIANTS, 'utf8')) as Variant[]) : []),
];

const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-per-call-'));
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
const urlOf = (name: string) => Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
const clients = new Map<string, pg.Client>();
try {
  const admin = new pg.Client(server.url);
  admin.on('error', () => undefined); // the server stops under it at the end
  await admin.connect();
  await admin.query('CREATE DATABASE base');
  await migrate(urlOf('base'));
  const setup = new pg.Client(urlOf('base'));
  await setup.connect();
  for (const file of ['setup.sql', 'minimal.sql', 'unchained.sql'])
    await setup.query(await readFile(new URL(`./${file}`, import.meta.url), 'utf8'));
  await setup.end();
  // Copies first: a template must have no connections.
  for (const name of new Set(variants.map((v) => v.db ?? 'base')))
    if (name !== 'base') await admin.query(`CREATE DATABASE ${name} TEMPLATE base`);
  for (const v of variants) {
    const name = v.db ?? 'base';
    if (clients.has(name)) continue;
    const client = new pg.Client(urlOf(name));
    client.on('error', () => undefined);
    await client.connect();
    if (v.sql) await client.query(v.sql);
    await client.query('VACUUM ANALYZE');
    clients.set(name, client);
  }
  await admin.end();

  // The backend's own CPU (user + system, from /proc) beside the wall time: it does not depend on what else
  // the machine runs. Ticks are 10 ms, a few per cent of a round.
  const backendPid = new Map<pg.Client, number>();
  for (const client of clients.values())
    backendPid.set(client, (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const cpuMs = async (client: pg.Client) => {
    const stat = await readFile(`/proc/${backendPid.get(client)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const v of round % 2 ? [...variants].reverse() : variants) {
      const client = clients.get(v.db ?? 'base') as pg.Client;
      const start = process.hrtime.bigint();
      const cpuStart = await cpuMs(client);
      await client.query(`
        SELECT count(*) FROM generate_series(1, ${CALLS}) g,
          LATERAL (SELECT 1 + floor(random() * ${WALLETS})::int + g * 0 AS a) x,
          LATERAL ${v.fn}(x.a, 1 + (x.a + floor(random() * ${WALLETS - 1})::int) % ${WALLETS}, 0.01) f`);
      if (round === 0) continue; // warm-up
      times.get(v.name)?.push(Number(process.hrtime.bigint() - start) / 1000 / CALLS);
      cpu.get(v.name)?.push((((await cpuMs(client)) - cpuStart) * 1000) / CALLS);
    }
  }
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(
    `${os.availableParallelism()} cores, load ${load.join(' ')}, ${CALLS} calls x ${ROUNDS} rounds`,
  );
  const first = median(times.get(variants[0]?.name ?? '') ?? []);
  for (const v of variants) {
    const us = median(times.get(v.name) ?? []);
    const cpuUs = median(cpu.get(v.name) ?? []);
    console.log(
      `${v.name.padEnd(48)} ${us.toFixed(1).padStart(7)} us/call (backend CPU ${cpuUs.toFixed(1)} us)  ` +
        `${(us / first).toFixed(2)}x the first`,
    );
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const client of clients.values()) await client.end().catch(() => undefined);
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
