// Temporal's floor for a receipt: the server's CPU (and this process's: client and worker SDK) for a workflow
// that does nothing and completes in one task. N workflows, 20 started at a time, on a fresh dev server.
// Prints one JSON line. Usage: node --import tsx bench/receipts/temporal-floor.ts [workflows] [nice] [type]
// [persistence] (type: emptyWorkflow, or patchedWorkflow for the cost of a version marker as receiptWorkflow
// has; persistence: pipeline, the bench stack's Temporal, or file for a dev server on a SQLite file as
// `npm run dev` keeps it).
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { fileTemporal, type TemporalPersistence } from './floors.js';
import { treeCpuMs } from './memory.js';
import { type BenchTemporal, benchTemporal } from './stack.js';

const [workflows = 400, nice = 10] = process.argv.slice(2, 4).map(Number);
const type = process.argv[4] ?? 'emptyWorkflow';
const persistence = (process.argv[5] ?? 'pipeline') as TemporalPersistence;
Runtime.install({ logger: new DefaultLogger('ERROR') });
const temporal: BenchTemporal =
  persistence === 'file'
    ? await fileTemporal(nice).then((t) => ({
        ...t,
        backend: 'dev' as const,
        cpuPids: () => [t.process.pid ?? 0],
      }))
    : await benchTemporal(nice);
// The server's CPU, and with BENCH_TEMPORAL=postgres its own PostgreSQL's: both are the floor's.
const temporalPids = temporal.cpuPids();
const serverMs = () =>
  temporalPids.flatMap((pid) => [...treeCpuMs(pid, () => 'server').values()]).reduce((a, b) => a + b, 0);
const selfMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await Worker.create({
  connection,
  taskQueue: 'floor',
  workflowsPath: fileURLToPath(new URL('./floor/workflows.ts', import.meta.url)),
});
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
try {
  const one = (id: string) => client.workflow.execute(type, { taskQueue: 'floor', workflowId: id });
  await Promise.all(Array.from({ length: 20 }, (_, i) => one(`warm-${i}`))); // bundle loaded, caches warm
  const [s0, c0] = [serverMs(), selfMs()];
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < workflows) await one(`floor-${next++}`);
    }),
  );
  console.log(
    JSON.stringify({
      type,
      persistence,
      workflows,
      serverMs: (serverMs() - s0) / workflows,
      sdkMs: (selfMs() - c0) / workflows,
    }),
  );
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await client.connection.close();
  await temporal.stop();
}
