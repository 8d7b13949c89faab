// The migrated schema is the reviewed one, and the canonical procedure files are what migrations install.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROCEDURE_FILES } from '../../src/db/procedure-files.js';
import { readSchemaSnapshot, SNAPSHOT_FILE } from '../../src/db/schema-snapshot.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const FUNCTION_DEFINITIONS = `
  SELECT p.oid::regprocedure::text AS name, md5(pg_get_functiondef(p.oid)) AS hash
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'wallet' ORDER BY 1`;

describe('schema', () => {
  it('matches the committed db/schema.snapshot (run `npm run db:snapshot` after a reviewed change)', async () => {
    expect(await readSchemaSnapshot(db.admin)).toBe(await readFile(SNAPSHOT_FILE, 'utf8'));
  });

  it('has every db/procedures file installed exactly as written', async () => {
    const installed = (await db.admin.query(FUNCTION_DEFINITIONS)).rows;
    for (const file of PROCEDURE_FILES) {
      await db.admin.query(await readFile(`db/procedures/${file}`, 'utf8'));
    }
    // Re-running the canonical sources changed nothing: no function differs, none is missing from migrations.
    expect((await db.admin.query(FUNCTION_DEFINITIONS)).rows).toEqual(installed);
  });

  it('lists every procedure file in src/db/procedure-files.ts', async () => {
    const { readdir } = await import('node:fs/promises');
    expect((await readdir('db/procedures')).sort()).toEqual([...PROCEDURE_FILES].sort());
  });
});
