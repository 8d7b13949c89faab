// Writes a migration that installs the current db/procedures/*.sql: a changed procedure ships as a new
// migration, and migrations already applied stay frozen. Usage: npm run db:procedures-migration -- <name>
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROCEDURE_FILES } from '../src/db/procedure-files.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:procedures-migration -- <name in snake_case>');
  process.exit(2);
}
const dir = 'db/migrations';
const numbers = (await readdir(dir)).map((f) => Number.parseInt(f, 10)).filter(Number.isFinite);
const next = String(Math.max(0, ...numbers) + 1).padStart(4, '0');
const parts = ['-- Up Migration', `-- Generated from db/procedures by scripts/procedures-migration.ts.`];
for (const file of PROCEDURE_FILES) {
  parts.push(
    `\n-- ==== db/procedures/${file} ====\n`,
    await readFile(path.join('db/procedures', file), 'utf8'),
  );
}
parts.push('\nGRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA wallet TO wallet_app;');
parts.push('REVOKE EXECUTE ON FUNCTION wallet.reject_transaction_change() FROM wallet_app;');
parts.push('REVOKE EXECUTE ON FUNCTION wallet.guard_hold_change() FROM wallet_app;\n');
const target = path.join(dir, `${next}_${name}.sql`);
await writeFile(target, parts.join('\n'));
console.log(`wrote ${target}`);
