// Reads the schema picture of db/schema-snapshot.sql from a database.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SNAPSHOT_FILE = path.join(root, 'db/schema.snapshot');

export async function readSchemaSnapshot(db: Pick<pg.Pool, 'query'>): Promise<string> {
  const query = await readFile(path.join(root, 'db/schema-snapshot.sql'), 'utf8');
  const { rows } = await db.query(query);
  return `${rows.map((r) => r.line).join('\n')}\n`;
}
