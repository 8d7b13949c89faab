// Reads the runnable examples out of README.md and docs/*.md and compares what they print with what the README says.
// The format of a marked block is documented at the top of tests/dev/readme-examples.test.ts.

export interface Example {
  kind: 'sh' | 'sql';
  line: number; // in its file, for the test's name
  command: string;
  expected: string[]; // the comment lines right after the command, comment marker removed
}

export interface Readme {
  examples: Example[];
  /** Lines of sh blocks that only set variables (U=...; API=...): every later command runs after them. */
  setup: string[];
}

const MARKER = /^<!-- readme-example\b.*-->\s*$/;
const ASSIGNMENTS = /^(\s*[A-Za-z_]\w*=\S*\s*;?)+$/;

export function readmeExamples(markdown: string): Readme {
  const lines = markdown.split('\n');
  const readme: Readme = { examples: [], setup: [] };
  for (let i = 0; i < lines.length; i++) {
    const fence = MARKER.test(lines[i] ?? '') ? /^```(sh|sql)\s*$/.exec(lines[i + 1] ?? '') : null;
    if (!fence) continue;
    const kind = fence[1] as 'sh' | 'sql';
    const start = i + 2;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    parseBlock(kind, lines.slice(start, end), start + 1, readme);
    i = end;
  }
  return readme;
}

function parseBlock(kind: 'sh' | 'sql', block: string[], firstLine: number, readme: Readme) {
  const comment = kind === 'sh' ? '#' : '--';
  for (let i = 0; i < block.length; i++) {
    const text = block[i] ?? '';
    if (text.trim() === '' || text.startsWith(comment)) continue;
    const line = firstLine + i;
    const parts = [text];
    // A shell command continues after a trailing backslash; an SQL statement runs to its semicolon.
    const continues = (s: string) =>
      kind === 'sh' ? s.endsWith('\\') : !s.replace(/--.*$/, '').trimEnd().endsWith(';');
    while (continues(parts[parts.length - 1] ?? '') && i + 1 < block.length) parts.push(block[++i] ?? '');
    const expected: string[] = [];
    while ((block[i + 1] ?? '').startsWith(comment)) expected.push((block[++i] ?? '').slice(comment.length));
    const command = parts.join('\n');
    if (kind === 'sh' && ASSIGNMENTS.test(command)) readme.setup.push(command);
    else readme.examples.push({ kind, line, command, expected });
  }
}

const TIMESTAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?|Z)?$/;

/** A pattern from an expected text: literal, except that `...` stands for anything. */
export function pattern(expected: string): RegExp {
  const parts = expected.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*?')}$`);
}

/**
 * For a curl example: the JSON body pattern when its expected lines are a JSON document (continued over several
 * `#` lines), else undefined (then each expected line must match a line of its output, as for any command).
 * `curl -s` prints the body only, so the README never shows a status a reader would not see.
 */
export function curlBody(expected: string[]): RegExp | undefined {
  const text = expected.map((l) => l.trim()).join('');
  return /^[{[]/.test(text) ? pattern(text) : undefined;
}

/** psql's output as rows of cells: no separator lines, no "(n rows)" footer, spacing ignored. */
export function psqlRows(text: string[]): string[][] {
  return text
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^[-+]+$/.test(l) && !/^\(\d+ rows?\)$/.test(l))
    .map((l) => l.split('|').map((cell) => cell.trim().replace(/\s+/g, ' ')));
}

/** Differences between psql's output and the README's: a timestamp matches any timestamp, `...` anything. */
export function psqlDifferences(actual: string[], expected: string[]): string[] {
  const [got, want] = [psqlRows(actual), psqlRows(expected)];
  const problems: string[] = [];
  for (let r = 0; r < Math.max(got.length, want.length); r++) {
    const [g, w] = [got[r], want[r]];
    const same =
      g !== undefined &&
      w !== undefined &&
      g.length === w.length &&
      w.every((cell, c) => {
        const other = g[c] ?? '';
        return pattern(cell).test(other) || (TIMESTAMP.test(cell) && TIMESTAMP.test(other));
      });
    if (!same) problems.push(`row ${r + 1}: got ${JSON.stringify(g)}, README says ${JSON.stringify(w)}`);
  }
  return problems;
}
