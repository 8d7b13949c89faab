// Resident memory of a process tree, from /proc: the worker and every Chromium process under it.
// RSS counts pages shared between processes once per process (the question asked: "sum RSS"); PSS splits
// shared pages among their users, so the PSS sum is closer to what the tree really costs the machine.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessMemory {
  pid: number;
  /** The process's role: `node`, or Chromium's --type (renderer, zygote, utility...), or `browser`. */
  role: string;
  rssKb: number;
  pssKb: number;
}

export interface TreeMemory {
  at: number;
  processes: number;
  rssKb: number;
  pssKb: number;
  /** The RSS of the tree's non-Chromium processes (the worker's node). */
  nodeRssKb: number;
  parts: ProcessMemory[];
}

function roleOf(pid: number): string {
  try {
    // Chromium's children rewrite their command line into one space-separated string.
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    const cmdline = raw.includes('\0') ? raw.split('\0') : raw.split(' ');
    if (!cmdline[0]) return '(no command line)';
    if (!/chrom/i.test(cmdline[0])) return cmdline[0].split('/').pop() ?? '?';
    const type = cmdline.find((a) => a.startsWith('--type='))?.slice('--type='.length);
    const sub = cmdline
      .find((a) => a.startsWith('--utility-sub-type='))
      ?.split('.')
      .pop();
    return `chromium ${type ?? 'browser'}${sub ? ` (${sub})` : ''}`;
  } catch {
    return '?';
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function field(file: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(file);
  return match ? Number(match[1]) : 0;
}

export function treePids(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

export function treeMemory(root: number): TreeMemory {
  const parts: ProcessMemory[] = [];
  for (const pid of treePids(root)) {
    try {
      const rssKb = field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      const pssKb = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
      parts.push({ pid, role: roleOf(pid), rssKb, pssKb });
    } catch {
      // exited while we read it (or a zombie, which holds no memory)
    }
  }
  const sum = (key: 'rssKb' | 'pssKb') => parts.reduce((total, p) => total + p[key], 0);
  const nodeRssKb = parts.filter((p) => !p.role.startsWith('chromium')).reduce((t, p) => t + p.rssKb, 0);
  return {
    at: Date.now(),
    processes: parts.length,
    rssKb: sum('rssKb'),
    pssKb: sum('pssKb'),
    nodeRssKb,
    parts,
  };
}

/** Samples the tree every `everyMs` until stopped, tagging each sample with a progress count; keeps the
 *  per-process breakdown of the peak sample only. */
export function sampleMemory(root: number, everyMs: number, progress: () => number) {
  const samples: (Omit<TreeMemory, 'parts'> & { progress: number })[] = [];
  let peak: TreeMemory | undefined;
  const take = () => {
    const { parts, ...total } = treeMemory(root);
    if (!peak || total.rssKb > peak.rssKb) peak = { ...total, parts };
    samples.push({ ...total, progress: progress() });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    peak: () => peak,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system, ms) used so far by every live process of a tree, grouped by `group(role)`. */
export function treeCpuMs(
  root: number,
  group: (role: string) => string,
  include: (pid: number) => boolean = () => true,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of treePids(root).filter(include)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the name: state is field 3 of the man page, so utime (14) and stime (15) are at 11 and 12.
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      const key = group(roleOf(pid));
      out.set(key, (out.get(key) ?? 0) + ms);
    } catch {
      // exited while we read it
    }
  }
  return out;
}

/** CPU ms of a process's children that exited and were waited for (cutime + cstime): the worker's qpdf runs. */
export function childrenCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  } catch {
    return 0;
  }
}
