// The short log lines of `npm run dev` (src/dev/log-lines.ts), from lines the API and worker really write.
import { describe, expect, it } from 'vitest';
import { apiLines, workerLines } from '../../src/dev/log-lines.js';

const incoming =
  '{"level":30,"time":1795797965511,"pid":1,"hostname":"vm","reqId":"r1","req":{"method":"POST",' +
  '"url":"/api/wallet/transfer/","host":"127.0.0.1:3000","remoteAddress":"127.0.0.1","remotePort":43938},' +
  '"msg":"incoming request"}';
const completed =
  '{"level":30,"time":1795797967409,"pid":1,"hostname":"vm","reqId":"r1","res":{"statusCode":201},' +
  '"responseTime":14.4,"msg":"request completed"}';
const warning =
  '{"level":40,"time":1795797967406,"pid":1,"hostname":"vm","component":"receipts","reason":"slow",' +
  '"openMs":5000,"msg":"receipt workflow starts paused: Temporal is unavailable"}';
const failure =
  '{"level":50,"time":1,"pid":1,"hostname":"vm","reqId":"r9","err":{"type":"Error","message":"boom",' +
  '"stack":"Error: boom\\n    at x"},"msg":"request failed"}';

describe('apiLines', () => {
  it('prints one short line per request, when it completes', () => {
    const format = apiLines('info');
    expect(format(incoming)).toBeUndefined();
    expect(format(completed)).toBe('201 POST /api/wallet/transfer/ 14 ms');
  });

  it('folds a client error into its request line: one line per request', () => {
    const format = apiLines('info');
    const refused =
      '{"level":30,"time":1795797967400,"pid":1,"hostname":"vm","reqId":"r1","code":"insufficient_funds",' +
      '"msg":"Insufficient funds"}';
    expect(format(incoming)).toBeUndefined();
    expect(format(refused)).toBeUndefined();
    expect(format(completed.replace('201', '422'))).toBe(
      '422 POST /api/wallet/transfer/ 14 ms insufficient_funds',
    );
  });

  it('prints other events as level, message and their own fields, without a stack', () => {
    const format = apiLines('info');
    expect(format(warning)).toBe(
      'WARN receipt workflow starts paused: Temporal is unavailable (component=receipts, reason=slow, openMs=5000)',
    );
    expect(format(failure)).toBe('ERROR request failed (err=boom)');
  });

  it('passes lines that are not JSON through', () => {
    expect(apiLines('info')('plain text')).toBe('plain text');
  });

  it('passes the full JSON through at debug and trace', () => {
    for (const level of ['debug', 'trace']) {
      const format = apiLines(level);
      expect(format(incoming)).toBe(incoming);
      expect(format(completed)).toBe(completed);
    }
  });
});

describe('workerLines', () => {
  it('drops the timestamp and the name the prefix repeats', () => {
    expect(
      workerLines('info')('2026-11-27T16:50:48.533Z INFO [worker] Chromium started (pid 2, 2 pages)'),
    ).toBe('INFO Chromium started (pid 2, 2 pages)');
  });
});
