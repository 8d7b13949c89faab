// Creates (or updates) a login role that is a member of one process role and nothing more: what the API
// (wallet_app) and the worker (wallet_worker) log in as in production.
// Usage: LOGIN_PASSWORD=... node dist/db/grant-login-cli.js <login_name> [wallet_app|wallet_worker]
import pg from 'pg';

const PROCESS_ROLES = ['wallet_app', 'wallet_worker'];
const [name, member = 'wallet_app'] = process.argv.slice(2);
const password = process.env.LOGIN_PASSWORD;
if (!name || !/^[a-z_][a-z0-9_]{0,62}$/.test(name) || !PROCESS_ROLES.includes(member) || !password) {
  console.error('usage: LOGIN_PASSWORD=<password> grant-login-cli <login_name> [wallet_app|wallet_worker]');
  process.exit(2);
}
const client = new pg.Client(process.env.DATABASE_URL);
await client.connect();
try {
  const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  // Role statements take no bind parameters: quote with format(%I, %L) in the server instead.
  const { rows } = await client.query(
    exists
      ? "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql"
      : "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql",
    [name, password],
  );
  await client.query(rows[0].sql);
  await client.query(`GRANT ${member} TO ${name}`);
  console.log(`${exists ? 'updated' : 'created'} login role ${name} (member of ${member})`);
} finally {
  await client.end();
}
