// In `npm run dev` the API writes two JSON lines per request (pino's "incoming request" and "request
// completed"), which bury the banner within a few requests. Here each request becomes one short line, other
// API events one readable line, and the worker's lines lose the timestamp and name the prefix repeats.
// LOG_LEVEL=debug (or trace) passes every line through as written: the full JSON.

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
// Fields every pino line has, or that the short form already shows.
const ROUTINE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime']);
const MAX_OPEN_REQUESTS = 1000;

type PinoLine = Record<string, unknown> & { level?: number; msg?: string; reqId?: string };

export type LineFormatter = (line: string) => string | undefined;

export function passThrough(level: string): boolean {
  return level === 'debug' || level === 'trace';
}

function parse(line: string): PinoLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as PinoLine;
  } catch {
    return undefined;
  }
}

function extras(entry: PinoLine): string {
  const shown = Object.entries(entry)
    .filter(([key]) => !ROUTINE.has(key))
    .map(([key, value]) => {
      const text =
        typeof value === 'object' && value !== null && 'message' in value
          ? String((value as { message: unknown }).message)
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
      return `${key}=${text}`;
    });
  return shown.length ? ` (${shown.join(', ')})` : '';
}

/** For the API's pino output: returns the line to print, or undefined to print nothing. */
export function apiLines(level: string): LineFormatter {
  if (passThrough(level)) return (line) => line;
  // reqId -> "METHOD /url" and the error code the request ended with, until the request completes
  const open = new Map<string, { request: string; code?: string }>();
  return (line) => {
    const entry = parse(line);
    if (!entry) return line;
    const req = entry.req as { method?: string; url?: string } | undefined;
    if (entry.msg === 'incoming request' && entry.reqId && req) {
      if (open.size >= MAX_OPEN_REQUESTS) open.delete(open.keys().next().value as string);
      open.set(entry.reqId, { request: `${req.method} ${req.url}` });
      return undefined;
    }
    // A client error (logged at info with its code) joins its request's line: one line per request.
    const pending = entry.reqId ? open.get(entry.reqId) : undefined;
    if (pending && entry.level === 30 && typeof entry.code === 'string') {
      pending.code = entry.code;
      return undefined;
    }
    if (entry.msg === 'request completed' && entry.reqId) {
      const { request, code } = open.get(entry.reqId) ?? { request: 'request' };
      open.delete(entry.reqId);
      const status = (entry.res as { statusCode?: number } | undefined)?.statusCode ?? '?';
      return `${status} ${request} ${Math.round(Number(entry.responseTime ?? 0))} ms${code ? ` ${code}` : ''}`;
    }
    const name = LEVEL_NAMES[entry.level ?? 30] ?? 'INFO';
    return `${name} ${entry.msg ?? ''}${extras(entry)}`;
  };
}

/** For the worker's lines ("<ISO time> LEVEL [worker] message"): the prefix already names it. */
export function workerLines(level: string): LineFormatter {
  if (passThrough(level)) return (line) => line;
  return (line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z (\w+) \[worker\] /, '$1 ');
}
