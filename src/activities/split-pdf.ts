// Splitting one printed PDF of N pages into N one-page PDFs with qpdf (Debian package `qpdf`). One process
// per print, never per receipt: qpdf 11 split a 20-page print in about 13 ms.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const QPDF_PATH = '/usr/bin/qpdf';

/** The pages of `pdf`, each as its own PDF, in page order. */
export async function splitPages(pdf: Uint8Array, qpdf = QPDF_PATH): Promise<Buffer[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-receipts-split-'));
  try {
    const input = path.join(dir, 'print.pdf');
    await writeFile(input, pdf);
    // Output names carry zero-padded page numbers (page-01.pdf ...), so a sort keeps the page order.
    await run(qpdf, ['--split-pages', input, path.join(dir, 'page-%d.pdf')]);
    const names = (await readdir(dir)).filter((n) => n.startsWith('page-')).sort();
    return await Promise.all(names.map((n) => readFile(path.join(dir, n))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
