// Writes a migration that installs the current db/procedures/*.sql: a changed procedure ships as a new
// migration, and migrations already applied stay frozen.
// Usage: npm run db:procedures-migration -- <name> [file.sql ...]
// With file names, only those files (the ones that changed) go in, in install order, so a migration does not
// repeat every unchanged function; tests/db/schema.test.ts fails if a changed file was left out. The grants
// always go in whole: db/grants.sql starts from nothing, so it also covers functions a file adds; then
// db/comments.sql, whole, so a function that a file drops and creates again keeps its comment.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROCEDURE_FILES } from '../src/db/procedure-files.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:procedures-migration -- <name in snake_case>');
  process.exit(2);
}
const only = process.argv.slice(3);
const unknown = only.filter((f) => !PROCEDURE_FILES.includes(f));
if (unknown.length > 0) {
  console.error(`not in src/db/procedure-files.ts: ${unknown.join(', ')}`);
  process.exit(2);
}
const files = only.length > 0 ? PROCEDURE_FILES.filter((f) => only.includes(f)) : PROCEDURE_FILES;
const dir = 'db/migrations';
const numbers = (await readdir(dir)).map((f) => Number.parseInt(f, 10)).filter(Number.isFinite);
const next = String(Math.max(0, ...numbers) + 1).padStart(4, '0');
const parts = ['-- Up Migration', `-- Generated from db/procedures by scripts/procedures-migration.ts.`];
for (const file of files) {
  parts.push(
    `\n-- ==== db/procedures/${file} ====\n`,
    await readFile(path.join('db/procedures', file), 'utf8'),
  );
}
// Who may call what, re-applied after the functions are (re)created: db/grants.sql is the whole policy.
parts.push('\n-- ==== db/grants.sql ====\n', await readFile('db/grants.sql', 'utf8'));
// What each object is for, re-applied too: a function dropped and created again has lost its comment.
parts.push('\n-- ==== db/comments.sql ====\n', await readFile('db/comments.sql', 'utf8'));
const target = path.join(dir, `${next}_${name}.sql`);
await writeFile(target, parts.join('\n'));
console.log(`wrote ${target}`);
