// `npm run migrate`: applies every migration to DATABASE_URL, or to the embedded PostgreSQL.
import { loadConfig } from '../config.js';
import { openOrJoinDatabase } from './database.js';
import { DatabaseStartError } from './embedded.js';
import { migrate } from './migrate.js';

// Beside `npm run dev` it migrates the dev database rather than failing to start a second server.
const db = await openOrJoinDatabase(loadConfig()).catch((error) => {
  if (!(error instanceof DatabaseStartError)) throw error;
  console.error(`cannot migrate: ${error.message}`);
  process.exit(1);
});
try {
  const applied = await migrate(db.url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await db.stop();
}
