// A statement's HTML: a header with the wallet and period, the summary, every entry of the period in a table
// that runs over as many A4 pages as it needs (its header row repeats on each), and at the end the closing
// entry number and chain hash, which the holder can check with wallet.verify_head. "Page x of y" comes from
// CSS margin boxes (counter(page), counter(pages)), so the renderer's print options stay those of receipts.
// Every value passes through escapeHtml; the page is printed with JavaScript off and the network blocked.
import { escapeHtml } from '../activities/escape-html.js';
import type { StatementDocument, StatementEntry } from './statement-document.js';

const STYLE = `*{box-sizing:border-box}html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@page{@bottom-right{content:"Page " counter(page) " of " counter(pages);font:8pt 'DejaVu Sans',sans-serif;color:#555}
@bottom-left{content:"Atomic Wallet statement";font:8pt 'DejaVu Sans',sans-serif;color:#555}}
body{margin:0;color:#111;font:9pt/1.35 'DejaVu Sans','WenQuanYi Zen Hei',sans-serif}
header{border-bottom:2px solid #111;padding-bottom:4mm;margin-bottom:5mm}h1{font-size:18pt;margin:0 0 1mm}
h2{font-size:11pt;margin:6mm 0 2mm}.sub{color:#444;font-size:10pt}
table{width:100%;border-collapse:collapse}thead{display:table-header-group}tr{break-inside:avoid}
th,td{text-align:left;vertical-align:top;padding:1.2mm 1.5mm;border-bottom:1px solid #ddd}
th{color:#444;font-weight:normal}.num{text-align:right;white-space:nowrap}
.summary th{width:50mm}.summary td{font-size:11pt}.mono{font-family:'DejaVu Sans Mono',monospace;font-size:7pt;white-space:nowrap}
.closing{margin-top:6mm;border-top:2px solid #111;padding-top:3mm}footer{margin-top:6mm;color:#555;font-size:8pt}`;

const KIND: Record<string, string> = {
  transfer: 'Transfer',
  deposit: 'Deposit',
  capture: 'Capture',
  refund: 'Refund',
};

/** "2026-11-30 23:59:59 UTC" from an ISO timestamp. */
export function utc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${iso}`);
  const text = d.toISOString();
  const ms = text.slice(19, 23);
  return `${text.slice(0, 10)} ${text.slice(11, 19)}${ms === '.000' ? '' : ms} UTC`;
}

function counterparty(e: StatementEntry): string {
  if (e.counterparty_id === null) return 'outside the ledger';
  return `user #${escapeHtml(e.counterparty_id)}`;
}

function row(e: StatementEntry): string {
  const sign = e.direction === 'sent' ? '-' : '+';
  return `<tr><td class="num">${escapeHtml(e.entry)}</td><td>${escapeHtml(utc(e.created_at))}</td>
<td>${escapeHtml(e.transaction_id)}</td><td>${escapeHtml(KIND[e.kind] ?? e.kind)}</td>
<td>${e.direction === 'sent' ? 'to' : 'from'} ${counterparty(e)}</td>
<td class="num">${sign}${escapeHtml(e.amount)}</td><td class="num">${escapeHtml(e.balance_after)}</td></tr>`;
}

export function statementHtml(doc: StatementDocument): string {
  const s = doc.summary;
  const period = `${utc(doc.from)} to ${utc(doc.to)}`;
  const entries =
    doc.entries.length === 0
      ? '<p>No entries in this period.</p>'
      : `<table class="entries"><thead><tr><th class="num">Entry</th><th>Date (UTC)</th><th>Transaction</th>
<th>Type</th><th>Counterparty</th><th class="num">Amount</th><th class="num">Balance after</th></tr></thead>
<tbody>${doc.entries.map(row).join('\n')}</tbody></table>`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Statement of wallet ${escapeHtml(doc.userId)}</title><style>${STYLE}</style></head><body>
<header><h1>Statement</h1><div class="sub">Atomic Wallet &middot; ${escapeHtml(doc.username)} (user #${escapeHtml(doc.userId)})
&middot; ${escapeHtml(period)} (the end is excluded)</div></header>
<table class="summary"><tr><th>Opening balance</th><td>${escapeHtml(s.opening_balance)}</td></tr>
<tr><th>Money in</th><td>+${escapeHtml(s.total_in)}</td></tr><tr><th>Money out</th><td>-${escapeHtml(s.total_out)}</td></tr>
<tr><th>Closing balance</th><td>${escapeHtml(s.closing_balance)}</td></tr>
<tr><th>Entries</th><td>${escapeHtml(s.entries)}</td></tr></table>
<h2>Entries</h2>${entries}
<div class="closing"><table class="summary"><tr><th>Closing balance</th><td>${escapeHtml(s.closing_balance)}</td></tr>
<tr><th>Closing entry</th><td>${escapeHtml(s.closing_entry)}</td></tr>
<tr><th>Closing chain hash</th><td class="mono">${escapeHtml(s.closing_hash ?? 'none (no entries yet)')}</td></tr></table></div>
<footer>The closing entry and chain hash identify this wallet's history up to the end of the period: any change
to an earlier entry changes the hash (check it with wallet.verify_head).</footer></body></html>`;
}
