// The statement's HTML: hostile text stays text, every entry is a row, the end carries the closing head, and
// the pure helpers the workflows use (ids, last month, the CLI's month) say what they should.
import { describe, expect, it } from 'vitest';
import { monthPeriod } from '../../src/statements/cli.js';
import type { StatementDocument } from '../../src/statements/statement-document.js';
import { statementHtml, utc } from '../../src/statements/statement-template.js';
import { canonicalIso, previousMonth, statementWorkflowId } from '../../src/workflows/statement-types.js';

const doc = (overrides: Partial<StatementDocument> = {}): StatementDocument => ({
  userId: 7,
  username: 'alice',
  from: '2026-11-01T00:00:00Z',
  to: '2026-12-01T00:00:00Z',
  summary: {
    opening_balance: '100.00',
    closing_balance: '80.50',
    total_in: '10.50',
    total_out: '30.00',
    entries: 2,
    closing_entry: 3,
    closing_hash: 'ab'.repeat(32),
  },
  entries: [
    {
      entry: 2,
      transaction_id: 42,
      kind: 'transfer',
      direction: 'sent',
      counterparty_id: 8,
      amount: '30.00',
      balance_after: '70.00',
      created_at: '2026-11-12T09:30:00.123Z',
      hash: 'cd'.repeat(32),
    },
    {
      entry: 3,
      transaction_id: 57,
      kind: 'refund',
      direction: 'received',
      counterparty_id: 8,
      amount: '10.50',
      balance_after: '80.50',
      created_at: '2026-11-13T10:00:00Z',
      hash: 'ab'.repeat(32),
    },
  ],
  ...overrides,
});

describe('statement HTML', () => {
  it('escapes the holder’s name and loads nothing', () => {
    const html = statementHtml(doc({ username: '<img src=x onerror=alert(1)>&"' }));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/<script|https?:/);
  });

  it('has a row per entry with its sign, the page counter and the closing head at the end', () => {
    const html = statementHtml(doc());
    expect(html.match(/<tr><td class="num">/g)).toHaveLength(2);
    expect(html).toContain('to user #8');
    expect(html).toContain('-30.00');
    expect(html).toContain('+10.50');
    expect(html).toContain('Refund');
    expect(html).toContain('counter(page) " of " counter(pages)');
    const end = html.slice(html.indexOf('class="closing"'));
    expect(end).toContain('Closing entry</th><td>3<');
    expect(end).toContain('ab'.repeat(32));
  });

  it('says so when the period has no entries', () => {
    expect(statementHtml(doc({ entries: [] }))).toContain('No entries in this period.');
  });

  it('prints instants in UTC, with milliseconds only when there are some', () => {
    expect(utc('2026-11-12T09:30:00.123Z')).toBe('2026-11-12 09:30:00.123 UTC');
    expect(utc('2026-11-13T11:00:00+01:00')).toBe('2026-11-13 10:00:00 UTC');
    expect(() => utc('not a time')).toThrow();
  });
});

describe('statement periods and ids', () => {
  it('names a period by its instants in UTC, so one period is one workflow', () => {
    expect(canonicalIso(new Date('2026-12-01T01:00:00+01:00'))).toBe('2026-12-01T00:00:00Z');
    expect(canonicalIso(new Date('2026-12-01T00:00:00.5Z'))).toBe('2026-12-01T00:00:00.500Z');
    expect(statementWorkflowId(7, '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')).toBe(
      'statement-7-2026-11-01T00:00:00Z-2026-12-01T00:00:00Z',
    );
  });

  it('finds last month across a year boundary, and the CLI’s month', () => {
    expect(previousMonth(new Date('2026-01-01T00:30:00Z'))).toEqual({
      from: '2025-12-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(previousMonth(new Date('2026-03-31T23:59:59Z'))).toEqual({
      from: '2026-02-01T00:00:00Z',
      to: '2026-03-01T00:00:00Z',
    });
    expect(monthPeriod('2026-12')).toEqual({ from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z' });
    for (const bad of ['2026-13', '2026-1', 'last', '2026-00']) expect(monthPeriod(bad)).toBeUndefined();
  });
});
