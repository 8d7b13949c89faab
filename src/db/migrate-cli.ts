// `npm run migrate`: applies every migration to DATABASE_URL, or to the embedded PostgreSQL.
import { loadConfig } from '../config.js';
import { openDatabase } from './database.js';
import { migrate } from './migrate.js';

const db = await openDatabase(loadConfig());
try {
  const applied = await migrate(db.url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await db.stop();
}
