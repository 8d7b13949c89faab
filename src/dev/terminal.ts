// `npm run dev` starts here. The stack (src/dev/main.ts: PostgreSQL, Temporal, the worker, the API) runs in
// a session of its own, so a Ctrl-C never reaches PostgreSQL or the worker directly: this process alone gets
// the terminal's signals and asks the stack for one orderly stop (API, worker, Temporal, PostgreSQL), or,
// on a second press, to stop now.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PressCounter } from './presses.js';

const stackScript = fileURLToPath(new URL('./main.ts', import.meta.url));
// execArgv carries `--import tsx`; the IPC channel carries stop requests, and its end tells the stack that
// this process is gone (then it stops in order too).
const stack = spawn(process.execPath, [...process.execArgv, stackScript], {
  detached: true,
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});

const presses = new PressCounter();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    const stop = presses.receive(signal, Date.now());
    if (stop && stack.connected) stack.send({ stop });
  });
}

stack.on('error', (error) => {
  console.error(`[dev] cannot start the stack: ${error.message}`);
  process.exit(1);
});
stack.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
