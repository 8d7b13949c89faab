// `npm run cli -- user create <username>` and `user password <username>`. The password comes from a prompt
// without echo, or from the first line of stdin when piped; never from the command line, where `ps` and
// shell history would show it.
import { hashPassword, MAX_PASSWORD_LENGTH } from './auth/passwords.js';
import { describeProblem, verifyChains } from './books/verifier.js';
import { ConfigError, loadConfig } from './config.js';
import { openOrJoinDatabase } from './db/database.js';
import { ledger } from './db/ledger.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { SqlState, sqlStateOf } from './db/sqlstate.js';
import { runStatementsCommand, STATEMENTS_USAGE } from './statements/cli.js';

const USAGE = `usage: npm run cli -- user create <username>
       npm run cli -- user password <username>
       npm run cli -- verify [--user <id>]
       ${STATEMENTS_USAGE}`;

class CliError extends Error {}

function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CliError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden('Password: ');
    if (first !== (await promptHidden('Repeat password: '))) throw new CliError('the passwords do not match');
    return first;
  }
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const line = text.split(/\r?\n/)[0] ?? '';
  if (text === '')
    throw new CliError('no password on stdin (pipe one line, or run in a terminal to be prompted)');
  return line;
}

function checkPassword(password: string): void {
  if (password.length === 0) throw new CliError('the password is empty');
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new CliError(`the password is over ${MAX_PASSWORD_LENGTH} characters`);
  // Basic auth cannot carry control characters, so such a password could never log in.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\x00-\x1f\x7f]/.test(password)) throw new CliError('the password contains control characters');
  if (password.length < 8) console.error('warning: a password under 8 characters is easy to guess');
}

// The embedded server may already be running under `npm run dev` or `npm start`: use it, do not start another.
async function connectDatabase(config: ReturnType<typeof loadConfig>) {
  const db = await openOrJoinDatabase(config);
  if (db.embedded) await migrate(db.url);
  return db;
}

// `verify [--user N]`: every hash chain recomputed here, outside the database (src/books/verifier.ts).
async function verify(args: string[]): Promise<void> {
  const user = args[0] === '--user' && args.length === 2 ? args[1] : undefined;
  if (!(args.length === 0 || (user !== undefined && /^[1-9]\d{0,18}$/.test(user)))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    const result = await verifyChains(db.url, { userId: user, role: config.databaseRole });
    for (const p of result.problems) console.log(describeProblem(p));
    const checked = `${result.entries} entries of ${result.wallets} wallet(s) checked`;
    if (result.problems.length > 0) {
      console.error(`${checked}: ${result.problems.length} problem(s)`);
      process.exitCode = 1;
    } else console.log(`${checked}: every chain is whole`);
  } finally {
    await db.stop();
  }
}

async function run(args: string[]): Promise<void> {
  if (args[0] === 'verify') return verify(args.slice(1));
  const [noun, verb, username, ...rest] = args;
  if (noun === 'statements') {
    const line = await runStatementsCommand(args.slice(1), loadConfig()).catch((error: Error) => {
      throw error.message.startsWith('usage:') ? new CliError(error.message) : error;
    });
    console.log(line);
    return;
  }
  if (noun !== 'user' || (verb !== 'create' && verb !== 'password') || !username || rest.length > 0) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if (username.includes(':'))
    throw new CliError('a username cannot contain ":" (Basic auth could not send it)');
  const config = loadConfig();
  const password = await readPassword();
  checkPassword(password);
  const hash = await hashPassword(password);
  const db = await connectDatabase(config);
  const pool = createPool({ url: db.url, max: 1, role: config.databaseRole, applicationName: 'wallet-cli' });
  // An idle connection dropped by the server (a shutdown racing our exit) must not crash the CLI: the work
  // is done or has failed with its own error by then.
  pool.on('error', () => undefined);
  try {
    if (verb === 'create') {
      const id = await ledger.createUser(pool, username, hash);
      console.log(`created user "${username}" with id ${id}`);
    } else {
      const id = await ledger.setPassword(pool, username, hash);
      console.log(`set a new password for user "${username}" (id ${id})`);
    }
  } catch (error) {
    const state = sqlStateOf(error);
    if (state === SqlState.usernameTaken)
      throw new CliError(`a user named "${username}" already exists (names ignore case)`);
    if (state === SqlState.invalidUsername) {
      throw new CliError(
        'a username has 1 to 150 characters, no control characters, no leading or trailing spaces',
      );
    }
    if (state === SqlState.userNotFound) throw new CliError(`no user named "${username}"`);
    throw error;
  } finally {
    await pool.end();
    await db.stop();
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  const known = error instanceof CliError || error instanceof ConfigError;
  console.error(`error: ${known ? error.message : String(error)}`);
  process.exitCode = 1;
}
// Explicitly: a prompt on a terminal can leave stdin open, which would keep the process alive.
process.exit(process.exitCode ?? 0);
