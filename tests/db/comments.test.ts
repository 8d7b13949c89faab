// psql explains the ledger to a DBA: everything the roles wallet_app and wallet_worker can reach (the schema,
// the roles, tables and views, columns, functions), found in the catalogs rather than in a list kept by hand,
// has a comment; db/comments.sql is installed as written; and the procedures migration generator re-applies it.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT } from '../helpers/receipt-worker.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const ROLES = `ARRAY['wallet_app', 'wallet_worker']`;

/** The public surface without a comment, one line per object: what a role may use and psql shows bare. */
const UNCOMMENTED = `
  SELECT 'schema ' || nspname AS object FROM pg_namespace n
   WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'public')
     AND EXISTS (SELECT 1 FROM unnest(${ROLES}) r WHERE has_schema_privilege(r, n.oid, 'USAGE'))
     AND obj_description(n.oid, 'pg_namespace') IS NULL
  UNION ALL
  SELECT 'role ' || rolname FROM pg_roles r
   WHERE rolname = ANY (${ROLES}) AND shobj_description(r.oid, 'pg_authid') IS NULL
  UNION ALL
  SELECT 'relation ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'wallet' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
     AND EXISTS (SELECT 1 FROM unnest(${ROLES}) r
                  WHERE has_table_privilege(r, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES')
                     OR has_any_column_privilege(r, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
     AND obj_description(c.oid, 'pg_class') IS NULL
  UNION ALL
  SELECT 'column ' || c.oid::regclass::text || '.' || a.attname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE n.nspname = 'wallet' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
     AND EXISTS (SELECT 1 FROM unnest(${ROLES}) r
                  WHERE has_column_privilege(r, c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
     AND col_description(c.oid, a.attnum) IS NULL
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'wallet'
     AND EXISTS (SELECT 1 FROM unnest(${ROLES}) r WHERE has_function_privilege(r, p.oid, 'EXECUTE'))
     AND obj_description(p.oid, 'pg_proc') IS NULL
  ORDER BY 1`;

/** Every comment on an object of schema wallet (its domains included), and on the two roles. */
const ALL_COMMENTS = `
  SELECT d.classoid::regclass::text AS catalog, d.objoid::text AS object, d.objsubid AS sub, d.description
    FROM pg_description d
   WHERE (d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT p.oid FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'wallet'))
      OR (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT c.oid FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'wallet'))
      OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = 'wallet'::regnamespace)
      OR (d.classoid = 'pg_type'::regclass AND d.objoid IN (SELECT t.oid FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'wallet' AND t.typtype = 'd'))
  UNION ALL
  SELECT 'pg_authid', rolname, 0, shobj_description(r.oid, 'pg_authid') FROM pg_roles r
   WHERE rolname = ANY (${ROLES})
  ORDER BY 1, 2, 3`;

describe('comments on the SQL surface', () => {
  it('leave nothing the roles can reach without one (add it to db/comments.sql)', async () => {
    expect((await db.admin.query(UNCOMMENTED)).rows.map((r) => r.object)).toEqual([]);
  });

  it('are found missing from the catalogs: a new granted function, a bare column, a bare table', async () => {
    const client = await db.client();
    try {
      await client.query('BEGIN');
      await client.query(`CREATE FUNCTION wallet.new_thing() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
      await client.query('GRANT EXECUTE ON FUNCTION wallet.new_thing TO wallet_worker');
      await client.query('COMMENT ON COLUMN wallet.holds.status IS NULL');
      await client.query('COMMENT ON TABLE wallet.receipts IS NULL');
      await client.query('COMMENT ON ROLE wallet_app IS NULL');
      expect((await client.query(UNCOMMENTED)).rows.map((r) => r.object)).toEqual([
        'column wallet.holds.status',
        'function wallet.new_thing()',
        'relation wallet.receipts',
        'role wallet_app',
      ]);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('are installed by the migrations exactly as db/comments.sql writes them', async () => {
    const installed = (await db.admin.query(ALL_COMMENTS)).rows;
    const file = await readFile(path.join(PROJECT_ROOT, 'db/comments.sql'), 'utf8');
    expect(installed).toHaveLength(file.match(/^\s*COMMENT ON /gm)?.length ?? 0); // one object each
    const client = await db.client();
    try {
      await client.query('BEGIN');
      await client.query(file);
      expect((await client.query(ALL_COMMENTS)).rows).toEqual(installed);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('are re-applied after the grants by every generated procedures migration', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-comments-'));
    try {
      await mkdir(path.join(dir, 'db', 'migrations'), { recursive: true });
      for (const file of ['procedures', 'grants.sql', 'comments.sql'])
        await cp(path.join(PROJECT_ROOT, 'db', file), path.join(dir, 'db', file), { recursive: true });
      const run = spawnSync(
        path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
        [path.join(PROJECT_ROOT, 'scripts/procedures-migration.ts'), 'probe', 'audit.sql'],
        { cwd: dir, encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      const [written] = await readdir(path.join(dir, 'db', 'migrations'));
      const text = await readFile(path.join(dir, 'db', 'migrations', written ?? ''), 'utf8');
      const comments = await readFile(path.join(PROJECT_ROOT, 'db/comments.sql'), 'utf8');
      expect(text.indexOf('-- ==== db/comments.sql ====')).toBeGreaterThan(
        text.indexOf('-- ==== db/grants.sql ===='),
      );
      expect(text.endsWith(comments)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
