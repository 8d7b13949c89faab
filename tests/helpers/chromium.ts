// Chromium and PDF helpers for tests: the browser path, reading a PDF back as text, and finding processes a
// test left behind (through /proc: no `ps` needed).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolveChromiumPath } from '../../src/activities/chromium.js';

export function testChromiumPath(): string {
  return resolveChromiumPath(process.env.CHROMIUM_PATH);
}

/** The text of a PDF as pdftotext (poppler-utils) reads it, whitespace collapsed to single spaces. */
export function pdfText(pdf: Buffer | Uint8Array): string {
  const out = execFileSync('pdftotext', ['-enc', 'UTF-8', '-', '-'], { input: pdf, encoding: 'utf8' });
  return out.replace(/\s+/g, ' ').trim();
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string;
  /** Start time in clock ticks since boot: with the pid, identifies a process even if the pid is reused. */
  started: string;
  cmdline: string;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return {
      pid,
      ppid: Number(fields[1]),
      state: fields[0] ?? '?',
      started: fields[19] ?? '',
      cmdline,
    };
  } catch {
    return undefined; // gone while we looked
  }
}

export function allProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((p): p is ProcessInfo => p !== undefined);
}

/** Every live descendant of `rootPid` (children, grandchildren, ...). */
export function descendants(rootPid: number): ProcessInfo[] {
  const all = allProcesses();
  const found: ProcessInfo[] = [];
  const parents = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/**
 * Those of `snapshot` still running: same pid and start time, and not a zombie. Zombies are already dead;
 * they linger only where PID 1 does not reap orphans (as in this project's sandbox).
 */
export function stillRunning(snapshot: ProcessInfo[]): ProcessInfo[] {
  return snapshot.filter((p) => {
    const now = readProcess(p.pid);
    return now !== undefined && now.started === p.started && now.state !== 'Z';
  });
}

/** Waits until no process of `snapshot` runs; returns the ones still running after `timeoutMs`. */
export async function waitUntilGone(snapshot: ProcessInfo[], timeoutMs = 15_000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let left = stillRunning(snapshot);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = stillRunning(snapshot);
  }
  return left;
}

export function isChromium(p: ProcessInfo): boolean {
  return /chrom/i.test(p.cmdline);
}
