// The receipt's HTML: one A4 page, system fonts only (DejaVu for Latin, WenQuanYi Zen Hei for CJK), no
// scripts, no external resources. Every user-controlled value passes through escapeHtml; the page is also
// rendered with JavaScript off and all network requests blocked (renderer.ts), so hostile text stays text.
import { escapeHtml } from './escape-html.js';
import type { ReceiptDocument, ReceiptParty } from './receipt-document.js';

/** "2025-01-31 12:34:56 UTC" from an ISO timestamp. */
export function formatUtc(iso: string): { date: string; time: string } {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${iso}`);
  const [date = '', rest = ''] = d.toISOString().split('T');
  return { date, time: rest.slice(0, 8) };
}

function party(p: ReceiptParty | null, none: string): string {
  if (!p) return `<span class="none">${escapeHtml(none)}</span>`;
  return `<span class="user">${escapeHtml(p.username)}</span> <span class="id">(user #${escapeHtml(p.id)})</span>`;
}

// One stylesheet for a whole print: each receipt is a <section> that starts a new A4 page, so a batch of N
// receipts prints as N pages (renderer.ts splits them). Page size and margins come from page.pdf().
const STYLE = `*{box-sizing:border-box}html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;color:#111;font:11pt/1.45 'DejaVu Sans','WenQuanYi Zen Hei',sans-serif}
section{break-after:page}section:last-child{break-after:auto}
header{border-bottom:2px solid #111;padding-bottom:6mm;margin-bottom:8mm}h1{font-size:20pt;margin:0 0 1mm}
.sub{color:#444;font-size:10pt}table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:3mm 2mm;border-bottom:1px solid #ccc}
th{width:42mm;color:#444;font-weight:normal}td{overflow-wrap:anywhere}.amount td{font-size:16pt;font-weight:bold}
.id,.none{color:#555}.mono{font-family:'DejaVu Sans Mono',monospace;font-size:9pt}
footer{margin-top:10mm;color:#555;font-size:9pt}`;

const FOOTER = `This receipt certifies a transaction recorded in the wallet ledger. The SHA-256 fingerprint is computed by
the ledger over the transaction record (id, type, sender, receiver, amount, time) and identifies it exactly.`;

/** One receipt's page. */
function receiptSection(doc: ReceiptDocument): string {
  const { date, time } = formatUtc(doc.createdAt);
  const kind = { transfer: 'Transfer', deposit: 'Deposit', capture: 'Capture', refund: 'Refund' }[doc.kind];
  const settles = !doc.holdId ? '' : `\n  <tr><th>Settles</th><td>hold ${escapeHtml(doc.holdId)}</td></tr>`;
  const refunds = !doc.refundOf
    ? ''
    : `\n  <tr><th>Refund of</th><td>Refund of transaction ${escapeHtml(doc.refundOf)}</td></tr>`;
  const id = escapeHtml(doc.transactionId);
  return `<section><header><h1>Payment receipt</h1><div class="sub">Atomic Wallet &middot; transaction ${id}</div></header>
<table><tr><th>Transaction</th><td>${id}</td></tr><tr><th>Type</th><td>${kind}</td></tr>${settles}${refunds}
<tr><th>Date (UTC)</th><td>${escapeHtml(date)}</td></tr><tr><th>Time (UTC)</th><td>${escapeHtml(time)}</td></tr>
<tr><th>From</th><td>${party(doc.sender, 'none (deposit)')}</td></tr><tr><th>To</th><td>${party(doc.receiver, '')}</td></tr>
<tr class="amount"><th>Amount</th><td>${escapeHtml(doc.amount)}</td></tr>
<tr><th>Record SHA-256</th><td class="mono">${escapeHtml(doc.recordSha256)}</td></tr></table>
<footer>${FOOTER}</footer></section>`;
}

/** The HTML of one print: the given receipts, one A4 page each, in order. */
export function receiptsHtml(docs: readonly ReceiptDocument[]): string {
  const only = docs.length === 1 ? docs[0] : undefined;
  const title = only ? `Receipt for transaction ${escapeHtml(only.transactionId)}` : 'Receipts';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title><style>${STYLE}</style></head>
<body>${docs.map(receiptSection).join('\n')}</body></html>`;
}

export function receiptHtml(doc: ReceiptDocument): string {
  return receiptsHtml([doc]);
}
