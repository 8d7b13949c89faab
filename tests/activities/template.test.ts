// The receipt's HTML: escaping of every user-controlled value, and the fields a receipt must show.
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/activities/escape-html.js';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import { formatUtc, receiptHtml } from '../../src/activities/receipt-template.js';

const base: ReceiptDocument = {
  transactionId: 7,
  kind: 'transfer',
  createdAt: '2025-12-31T23:59:59.999Z',
  sender: { id: 1, username: 'alice' },
  receiver: { id: 2, username: 'bob' },
  amount: '0.01',
  recordSha256: 'a'.repeat(64),
};

describe('receipt template', () => {
  it('escapes the characters that could leave a text node or an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
    expect(escapeHtml(42)).toBe('42');
  });

  it('never puts a user-controlled tag into the page', () => {
    const hostile = '<img src=http://127.0.0.1:9/x><script>alert(1)</script>"\'';
    const html = receiptHtml({
      ...base,
      sender: { id: 1, username: hostile },
      receiver: { id: 2, username: hostile },
    });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain(
      '&lt;img src=http://127.0.0.1:9/x&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;',
    );
  });

  it('forbids every resource by its own Content-Security-Policy as a further layer', () => {
    expect(receiptHtml(base)).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('shows the date and time in UTC, to the second', () => {
    expect(formatUtc('2025-12-31T23:59:59.999Z')).toEqual({ date: '2025-12-31', time: '23:59:59' });
    expect(formatUtc('2025-06-01T02:03:04+02:00')).toEqual({ date: '2025-06-01', time: '00:03:04' });
    expect(() => formatUtc('yesterday')).toThrow(/not a timestamp/);
  });

  it('names the sender of a transfer and no sender for a deposit', () => {
    expect(receiptHtml(base)).toContain('alice');
    const deposit = receiptHtml({ ...base, kind: 'deposit', sender: null });
    expect(deposit).toContain('none (deposit)');
    expect(deposit).toContain('Deposit');
  });

  it('says which hold a capture settles, and nothing of holds for a transfer', () => {
    const capture = receiptHtml({ ...base, kind: 'capture', holdId: 17 });
    expect(capture).toContain('<tr><th>Type</th><td>Capture</td></tr>');
    expect(capture).toContain('<tr><th>Settles</th><td>hold 17</td></tr>');
    expect(receiptHtml(base)).not.toContain('Settles');
  });
});
