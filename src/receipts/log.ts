// The receipt processes' logger: one line per event, level-filtered. Small on purpose; anything with
// info/warn/error (pino, console) fits.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function consoleLogger(level = 'info', name = 'receipts'): Logger {
  const min = Math.max(0, LEVELS.indexOf(level));
  const at = (lvl: string, write: (line: string) => void) => (message: string) => {
    if (LEVELS.indexOf(lvl) >= min)
      write(`${new Date().toISOString()} ${lvl.toUpperCase()} [${name}] ${message}`);
  };
  return { info: at('info', console.log), warn: at('warn', console.warn), error: at('error', console.error) };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/** "1 receipt", "2 receipts": a count with its noun in the right number (nouns that take an s). */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
