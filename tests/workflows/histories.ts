// The recorded receipt histories (tests/workflows/fixtures/*.json), for replaying through workflow code.
import { readdir, readFile } from 'node:fs/promises';
import { historyFromJson } from './history-json.js';
import { FIXTURES } from './recording-stack.js';

export async function fixtures(): Promise<{ workflowId: string; history: unknown }[]> {
  const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => ({
      workflowId: name.replace(/\.json$/, ''),
      history: historyFromJson(JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8'))),
    })),
  );
}
