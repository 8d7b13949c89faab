// Creates (or updates) a login role that is a member of wallet_app and nothing more: what the API and the
// worker should log in as in production. Usage: LOGIN_PASSWORD=... tsx src/db/grant-login-cli.ts wallet_api
import pg from 'pg';

const name = process.argv[2];
const password = process.env.LOGIN_PASSWORD;
if (!name || !/^[a-z_][a-z0-9_]{0,62}$/.test(name) || !password) {
  console.error('usage: LOGIN_PASSWORD=<password> tsx src/db/grant-login-cli.ts <role_name>');
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
      : "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE wallet_app', $1::text, $2::text) AS sql",
    [name, password],
  );
  await client.query(rows[0].sql);
  await client.query(`GRANT wallet_app TO ${name}`);
  console.log(`${exists ? 'updated' : 'created'} login role ${name} (member of wallet_app)`);
} finally {
  await client.end();
}
