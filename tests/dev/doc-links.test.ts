// Every relative link of the README and the docs/ pages leads somewhere: the file exists and, for a link to a
// heading (#...), the page has that heading (GitHub's anchors: lower case, punctuation dropped, spaces to -).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PAGES = ['README.md', 'bench/README.md', ...readdirSync('docs').map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** GitHub's anchor for a heading. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.*)$/gm)].map((m) => anchor(m[1] ?? '')));
}

function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // http(s), mailto: not checked here
    const [where = '', hash] = target.split('#');
    const resolved = where === '' ? file : path.normalize(path.join(path.dirname(file), where));
    if (!existsSync(resolved)) broken.push(`${target} (no ${resolved})`);
    else if (hash !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(hash))
      broken.push(`${target} (no heading #${hash} in ${resolved})`);
  }
  return broken;
}

describe('links between the pages', () => {
  it('makes GitHub anchors from headings', () => {
    expect(anchor('Processes and signals')).toBe('processes-and-signals');
    expect(anchor('The API in five curls')).toBe('the-api-in-five-curls');
    expect(anchor('Receipt dispatcher (`bench/receipts/poll-latency.ts`, `rate-cap.ts`)')).toBe(
      'receipt-dispatcher-benchreceiptspoll-latencyts-rate-capts',
    );
  });

  it('finds the README and the docs/ pages, each opening with who it is for', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['docs/api.md', 'docs/operators.md', 'docs/dba.md']));
    for (const page of ['docs/api.md', 'docs/operators.md', 'docs/dba.md']) {
      const opening = readFileSync(page, 'utf8').split('\n\n')[1] ?? '';
      expect(opening, page).toMatch(/^This page is for /);
    }
  });

  it.each(PAGES)('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});
