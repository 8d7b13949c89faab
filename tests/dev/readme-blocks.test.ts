// The README example reader and its comparisons (tests/dev/readme-blocks.ts) accept what they should and
// catch a wrong amount, status or row.
import { describe, expect, it } from 'vitest';
import { curlBody, psqlDifferences, readmeExamples } from './readme-blocks.js';

const markdown = [
  '```sh',
  'curl -s $API/not-marked',
  '```',
  '<!-- readme-example: any note -->',
  '```sh',
  'U=alice:pw; API=http://127.0.0.1:3000',
  '',
  '# a comment',
  'curl -s -u $U \\',
  '  $API/api/wallet/balance/',
  '# {"user_id":1,',
  '#  "balance":"950.00"}',
  '```',
  '<!-- readme-example -->',
  '```sql',
  'SELECT * FROM wallet.deposit(3,',
  '  100.00);   -- a note',
  '--  transaction_id | balance | created_at | replayed',
  '--               5 |  100.00 | 2026-11-27 22:39:51.1+00 | f',
  '```',
].join('\n');

describe('readmeExamples', () => {
  it('reads only marked blocks: variables, commands with continuations, their expected output', () => {
    const readme = readmeExamples(markdown);
    expect(readme.setup).toEqual(['U=alice:pw; API=http://127.0.0.1:3000']);
    expect(readme.examples).toEqual([
      {
        kind: 'sh',
        line: 9,
        command: 'curl -s -u $U \\\n  $API/api/wallet/balance/',
        expected: [' {"user_id":1,', '  "balance":"950.00"}'],
      },
      {
        kind: 'sql',
        line: 16,
        command: 'SELECT * FROM wallet.deposit(3,\n  100.00);   -- a note',
        expected: [
          '  transaction_id | balance | created_at | replayed',
          '               5 |  100.00 | 2026-11-27 22:39:51.1+00 | f',
        ],
      },
    ]);
  });
});

describe('curlBody', () => {
  it('reads a JSON body pattern over several lines, in which ... stands for anything', () => {
    const want = curlBody([' {"id":3,...,', '   "amount":"50.00"}']);
    expect('{"id":3,"kind":"transfer","amount":"50.00"}').toMatch(want ?? /never/);
    expect('{"id":3,"kind":"transfer","amount":"50.01"}').not.toMatch(want ?? /never/);
  });

  it('leaves other output to be matched line by line', () => {
    expect(curlBody([' 200'])).toBeUndefined();
    expect(curlBody([])).toBeUndefined();
  });
});

describe('psqlDifferences', () => {
  const expected = [
    ' transaction_id | balance | created_at | replayed',
    ' 5 | 100.00 | 2026-01-01 00:00:00+00 | f',
  ];
  it('ignores spacing, separators, the footer and the exact time', () => {
    const actual = [
      ' transaction_id | balance |          created_at           | replayed ',
      '----------------+---------+-------------------------------+----------',
      '              5 |  100.00 | 2026-11-27 17:15:34.715201+00 | f',
      '(1 row)',
    ];
    expect(psqlDifferences(actual, expected)).toEqual([]);
  });

  it('catches a different amount and a missing row', () => {
    const actual = [
      ' transaction_id | balance | created_at | replayed',
      ' 5 | 100.01 | 2026-01-01 00:00:00+00 | f',
    ];
    expect(psqlDifferences(actual, expected)).toHaveLength(1);
    expect(psqlDifferences(actual.slice(0, 1), expected)).toHaveLength(1);
  });
});
