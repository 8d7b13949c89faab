// A port already taken gets a message that names the variable that moves it, not a stack trace.
import { createServer } from 'node:net';

export interface PortNeed {
  port: number;
  what: string;
  variable: string;
}

export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(needs: PortNeed[]): Promise<void> {
  const taken: string[] = [];
  for (const need of needs) {
    if (!(await isFree(need.port))) {
      taken.push(
        `port ${need.port} (${need.what}) is in use on 127.0.0.1: stop what holds it, or set ${need.variable}`,
      );
    }
  }
  if (taken.length) throw new Error(taken.join('\n'));
}
