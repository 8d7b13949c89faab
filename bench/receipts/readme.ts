// Writes the receipt benchmark's figures into bench/README.md under its own heading, leaving every other
// section as it is (creating the file if it is missing): analysis written by hand goes in another section,
// which a run never overwrites.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const HEADING = '## Receipts: the last `npm run bench:receipts` run';
const LAST_RUN = fileURLToPath(new URL('./last-run.json', import.meta.url));

export interface ReceiptFigures {
  seed: number;
  cores: number;
  pages: number;
  raw: number;
  rawBefore: number;
  rawAfter: number;
  pipeline: number;
  p50: number;
  p95: number;
  p99: number;
  burst: number;
  rawChromiumMs: number;
  rawNodeMs: number;
  rawPrints: number;
  rawRenders: number;
  blankPrintMs: number;
  steady: {
    rate: number;
    seconds: number;
    sent: number;
    achieved: number;
    p50: number;
    p95: number;
    p99: number;
    maxBacklog: number;
    drainMs: number;
    cpuPerReceipt: string[];
    cpuMsPerReceipt: number;
  };
  tpsOn: number;
  tpsOff: number;
  receipts: number;
  rendered: number;
  peakRss: number;
  peakPss: number;
  early: number;
  late: number;
  growth: number;
  nodeEarly: number;
  nodeLate: number;
  processes: number;
  audit: number;
  workerExit: number | null;
  loadAvg: string;
  database: string;
  temporalNice: number;
  breakdown: string[];
  cpuPerReceipt: string[];
  cpuMsPerReceipt: number;
  cpuWhileOn: string[];
  /** The TPS rounds again with PostgreSQL and pgbench on CPU 0, the worker tree and Temporal on the rest. */
  split?: { tpsOn: number; tpsOff: number; rendered: number };
  /** The burst again with the worker tree on CPU 1 and PostgreSQL and Temporal on CPU 0, against the raw
   *  renderer on CPU 1. */
  splitBurst?: { pipeline: number; raw: number; p50: number; p95: number; cpuPerReceipt: string[] };
}

/** JSON as the project's formatter (biome) lays it out: short arrays of plain values on one line. */
function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /^( *)("[^"\n]+": )?\[\n([^[\]{}]*?)\n\1\](,?)$/gm,
    (whole, indent: string, key: string | undefined, body: string, comma: string) => {
      const one = `${indent}${key ?? ''}[${body
        .split('\n')
        .map((item) => item.trim())
        .join(' ')}]${comma}`;
      return one.length <= 110 ? one : whole;
    },
  );
}

/** A Markdown table with padded columns, the way the project's formatter (biome) lays them out. */
function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(3, ...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  const [head = [], ...body] = rows;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function receiptsSection(f: ReceiptFigures, date = new Date()): string {
  const ratio = f.pipeline / f.raw;
  const tps = f.tpsOn / f.tpsOff;
  const grew =
    f.growth > 10
      ? `yes (+${f.growth.toFixed(1)}%)`
      : `no (${f.growth >= 0 ? '+' : ''}${f.growth.toFixed(1)}%)`;
  return `${HEADING}

\`npm run bench:receipts\` (bench/receipts/run.ts). One run: the renderer alone (warm pages, no Temporal,
receipts coalesced as the worker does); then the worker as its own process (\`node --import tsx src/worker.ts\`,
default settings) with a Temporal dev server and a fresh ${f.database} database: ${f.burst} transfers in a burst
and the time until every PDF is stored, with the CPU each process spent per receipt; then a steady load of
${f.steady.rate} transfers/s for ${f.steady.seconds} s (through \`wallet.transfer\`, the dispatcher starting the
workflows as it does for a transfer made in psql); then transfer TPS (pgbench, 4 clients, \`wallet.transfer\`
as the API calls it, in a second database on the same server; bench/receipts/tps.ts says why) with the worker
rendering a backlog of 800 receipts vs frozen by SIGSTOP of its whole process tree, in alternating 5 s rounds
(with BENCH_SPLIT=1 also on split cores); the worker tree's memory (node and Chromium, from /proc) is sampled
every 0.5 s over every receipt of the run.

Last run: ${date.toISOString().slice(0, 10)}, ${f.cores} cores (load average at the end, pgbench included:
${f.loadAvg}: rates are depressed by the other users of the machine, CPU milliseconds much less so),
${f.pages} Chromium pages, seed ${f.seed}${f.temporalNice ? `, Temporal dev server at nice ${f.temporalNice}` : ''}.

${table([
  ['figure', 'value', 'target'],
  [
    'renderer raw rate (warm pages, no Temporal): before / after the burst, mean',
    `${f.rawBefore.toFixed(1)} / ${f.rawAfter.toFixed(1)}, ${f.raw.toFixed(1)} PDFs/s`,
    '',
  ],
  [
    `raw renderer: ${f.rawRenders} receipts in ${f.rawPrints} prints, CPU per receipt`,
    `Chromium ${f.rawChromiumMs.toFixed(1)} ms, node + qpdf ${f.rawNodeMs.toFixed(1)} ms`,
    '',
  ],
  ["Chromium's floor: a blank page printed alone", `${f.blankPrintMs.toFixed(1)} ms CPU per print`, ''],
  [`pipeline: ${f.burst}-transfer burst to the last stored PDF`, `${f.pipeline.toFixed(1)} receipts/s`, ''],
  [
    'CPU per receipt in the burst, all processes',
    `${f.cpuMsPerReceipt.toFixed(1)} ms`,
    'see the floors section above',
  ],
  ['pipeline / raw renderer, shared cores', pct(ratio), ''],
  ...(f.splitBurst
    ? [
        [
          'the same, worker on CPU 1, PostgreSQL and Temporal on CPU 0',
          `${f.splitBurst.pipeline.toFixed(1)} / ${f.splitBurst.raw.toFixed(1)} = ${pct(f.splitBurst.pipeline / f.splitBurst.raw)}`,
          `>= 80% ${f.splitBurst.pipeline / f.splitBurst.raw >= 0.8 ? 'met' : '**missed**'}`,
        ],
      ]
    : []),
  [
    `commit to stored PDF, p50 / p95 / p99 (burst of ${f.burst}: queueing included)`,
    `${f.p50.toFixed(0)} / ${f.p95.toFixed(0)} / ${f.p99.toFixed(0)} ms`,
    '',
  ],
  [
    `steady ${f.steady.rate} transfers/s for ${f.steady.seconds} s (${f.steady.achieved.toFixed(1)}/s achieved): commit to stored PDF p50 / p95 / p99`,
    `${f.steady.p50.toFixed(0)} / ${f.steady.p95.toFixed(0)} / ${f.steady.p99.toFixed(0)} ms`,
    `p95 < 2 s ${f.steady.p95 < 2000 ? 'met' : '**missed**'}`,
  ],
  [
    'steady: largest backlog; backlog at 0 after the load stopped',
    `${f.steady.maxBacklog}; ${(f.steady.drainMs / 1000).toFixed(1)} s`,
    `<= 5 s ${f.steady.drainMs <= 5000 ? 'met' : '**missed**'}`,
  ],
  ['steady: CPU per receipt, all processes', `${f.steady.cpuMsPerReceipt.toFixed(1)} ms`, ''],
  [
    'transfer TPS, worker running / frozen, shared cores',
    `${f.tpsOn.toFixed(0)} / ${f.tpsOff.toFixed(0)} = ${pct(tps)}`,
    `>= 50% ${tps >= 0.5 ? 'met' : '**missed**'}`,
  ],
  ...(f.split
    ? [
        [
          'the same, ledger on CPU 0 and receipts on the other core',
          `${f.split.tpsOn.toFixed(0)} / ${f.split.tpsOff.toFixed(0)} = ${pct(f.split.tpsOn / f.split.tpsOff)}`,
          `>= 95% ${f.split.tpsOn / f.split.tpsOff >= 0.95 ? 'met' : '**missed**'}`,
        ],
      ]
    : []),
  [`worker peak memory, sum of RSS over its tree (up to ${f.processes} processes)`, mb(f.peakRss), ''],
  ['the same as PSS (shared pages counted once)', mb(f.peakPss), ''],
  [
    `RSS at 10-30% vs 80-100% of the ${f.receipts} receipts: grew?`,
    `${mb(f.early)} -> ${mb(f.late)}: ${grew}`,
    '',
  ],
  [
    "of which the worker's node / its Chromium",
    `${mb(f.nodeEarly)} -> ${mb(f.nodeLate)} / ${mb(f.early - f.nodeEarly)} -> ${mb(f.late - f.nodeLate)}`,
    '',
  ],
  ['receipts rendered / transactions; audit problems', `${f.rendered} / ${f.receipts}; ${f.audit}`, 'all; 0'],
])}

CPU per receipt during the burst (user + system): ${f.cpuPerReceipt.join(', ')}; ${f.cpuMsPerReceipt.toFixed(1)} ms
in all (PostgreSQL counted only when the run owns the embedded server; qpdf is the worker's exited children).
With every core busy, that alone caps the pipeline at ${f.cores} x 1000 / ${f.cpuMsPerReceipt.toFixed(1)} = ${((f.cores * 1000) / f.cpuMsPerReceipt).toFixed(1)} receipts/s.
In the steady run: ${f.steady.cpuPerReceipt.join(', ')}. Under steady load fewer receipts share a print, so
Chromium's part per receipt is larger there than in the burst.${
    f.splitBurst
      ? ` With the worker on CPU 1 and PostgreSQL and Temporal on CPU 0, the burst drained at
${f.splitBurst.pipeline.toFixed(1)} receipts/s against a raw rate of ${f.splitBurst.raw.toFixed(1)} PDFs/s for the renderer alone on CPU 1
(${pct(f.splitBurst.pipeline / f.splitBurst.raw)}; p50 ${f.splitBurst.p50.toFixed(0)} ms, p95 ${f.splitBurst.p95.toFixed(0)} ms; CPU per receipt ${f.splitBurst.cpuPerReceipt.join(', ')}).`
      : ''
  }

CPU (share of one core) during the shared-core TPS rounds with the worker running: ${f.cpuWhileOn.join(', ')}
(PostgreSQL's share is not seen here: pgbench's backends exit before they are counted). The worker and its
Chromium run at nice 10 (RECEIPT_WORKER_NICE) and the Temporal dev server at nice ${f.temporalNice}, yet on shared
cores the transfers lose far more than the receipts' share of the CPU. That is this machine's scheduler, not
a lock: two busy loops at nice 19 cut the same pgbench run from about 4,360 to 625 TPS, and at SCHED_IDLE to
882 (kernel 6.18, preempt=none, 2026-11-27), while a busy loop on one core with PostgreSQL pinned to the
other cost nothing (3,071 vs 2,966 TPS). Priorities do not protect a latency-bound workload here; separate
cores do.${
    f.split
      ? ` With the cores split, the transfers ran ${pct(f.split.tpsOn / f.split.tpsOff)} of their frozen rate while the worker
rendered ${f.split.rendered} receipts, and ${pct(f.split.tpsOn / f.tpsOn)} of their shared-core rate with the worker running: on one
machine, give PostgreSQL and the receipt pipeline separate cores (the README's "For operators" says how).`
      : ''
  }

At the memory peak: ${f.breakdown.join('; ')}. Chromium's part stays flat over the run; the worker's node
part rises as V8 grows its heap before collecting (run with forced collections, the heap stays flat). An
earlier version kept every PDF alive for the browser's lifetime: this benchmark found it, and
tests/activities/renderer.test.ts guards against it.

Notes. The burst's percentiles measure the drain of ${f.burst} queued receipts, not one receipt's latency;
the steady run's are the latency at that rate. A page
shared by several processes counts once in each of their RSS, so the RSS sum overstates the tree; the PSS
sum splits shared pages and is the fairer total. The figures of the last run are also in
bench/receipts/last-run.json; \`npx tsx bench/receipts/readme.ts\` rewrites this section from them.
`;
}

export async function writeReceiptsSection(figures: ReceiptFigures, date = new Date()): Promise<void> {
  await writeFile(LAST_RUN, `${formatJson({ ...figures, date: date.toISOString() })}\n`);
  const section = receiptsSection(figures, date);
  const current = existsSync(README) ? await readFile(README, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(`${HEADING}\n`);
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${section}`;
  } else {
    const after = current.indexOf('\n## ', start + HEADING.length);
    const rest = after < 0 ? '' : current.slice(after + 1);
    next = `${current.slice(0, start)}${section}${rest ? `\n${rest}` : ''}`;
  }
  await writeFile(README, next);
}

// `npx tsx bench/receipts/readme.ts`: rewrite the section from the last run's figures (after a template edit).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { date, ...figures } = JSON.parse(await readFile(LAST_RUN, 'utf8')) as ReceiptFigures & {
    date: string;
  };
  await writeReceiptsSection(figures, new Date(date));
}
