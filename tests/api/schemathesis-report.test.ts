// The judge of schemathesis's reports (tests/helpers/schemathesis-report.ts) against the API's own document:
// it must call invalid what the API must refuse, valid what it may accept, and dismiss nothing else.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext } from '../helpers/api.js';
import {
  judgeRun,
  type OpenApiDocument,
  replay,
  type SentRequest,
  schemaViolations,
} from '../helpers/schemathesis-report.js';

let ctx: ApiContext;
let app: FastifyInstance;
let url: string;
let doc: OpenApiDocument;
let auth: string;

beforeAll(async () => {
  ctx = await createApiContext();
  auth = (await ctx.user('judge', '100.00')).auth;
  await ctx.user('judge_receiver');
  app = await ctx.build();
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  doc = (await app.inject('/docs/json')).json();
});

const json = (body: unknown) => ({ $base64: Buffer.from(JSON.stringify(body)).toString('base64') });
const get = (query: string, headers: Record<string, string[]> = {}): SentRequest => ({
  method: 'GET',
  uri: `${url}/api/wallet/holds/${query}`,
  headers: { Authorization: [auth], ...headers },
});
const post = (body: SentRequest['body'], type = 'application/json'): SentRequest => ({
  method: 'POST',
  uri: `${url}/api/wallet/transfer/`,
  headers: { Authorization: [auth], 'Content-Type': [type] },
  body,
});

describe('schemaViolations', () => {
  it('finds the request of seed 194561176 valid as sent, and the API accepts it', async () => {
    expect(schemaViolations(doc, '/api/wallet/holds/', get('?before=80'))).toEqual([]);
    expect(await replay(get('?before=80'))).toBe(200);
  });

  it('finds each invalid query, header, path and body invalid, and the API refuses each', async () => {
    const invalid: [string, SentRequest][] = [
      ['/api/wallet/holds/', get('?before=80&foo=bar')],
      ['/api/wallet/holds/', get('?before=80&=x')],
      ['/api/wallet/holds/', get('?before=abc')],
      ['/api/wallet/holds/', get('?status=lost')],
      ['/api/wallet/holds/', { ...get('?before=80'), headers: {} }],
      ['/api/wallet/holds/{hold_id}/', { ...get(''), uri: `${url}/api/wallet/holds/abc/` }],
      ['/api/wallet/transfer/', post(json({ receiver_id: 2, amount: '1.00', memo: 'x' }))],
      ['/api/wallet/transfer/', post(json({ receiver_id: '2', amount: '1.00' }))],
      ['/api/wallet/transfer/', post(json({ receiver_id: 2, amount: '1.001' }))],
      ['/api/wallet/transfer/', post(null)],
      ['/api/wallet/transfer/', post({ $base64: Buffer.from('{"receiver_id":').toString('base64') })],
      ['/api/wallet/transfer/', post(json({ receiver_id: 2, amount: '1.00' }), 'text/plain')],
    ];
    for (const [template, request] of invalid) {
      const where = `${request.method} ${request.uri} ${JSON.stringify(request.headers)}`;
      expect(schemaViolations(doc, template, request), where).not.toEqual([]);
      expect(await replay(request), where).toBeGreaterThanOrEqual(400);
    }
  });

  it('finds a valid transfer valid', () => {
    const ok = post(json({ receiver_id: 2, amount: '1.00' }));
    expect(schemaViolations(doc, '/api/wallet/transfer/', ok)).toEqual([]);
  });
});

describe('judgeRun', () => {
  it('dismisses an ST201 only when its request is valid as sent; every other failure is a finding', async () => {
    const st201 = { code: 'ST201', title: 'Schema-violating request accepted', message: 'm', operation: 'o' };
    const scenario = (id: string, request: SentRequest, code = st201) => ({
      ScenarioFinished: {
        status: 'failure',
        recorder: {
          cases: { [id]: { value: { method: request.method, path: '/api/wallet/holds/' } } },
          checks: {
            [id]: [{ name: 'negative_data_rejection', status: 'failure', failure_info: { failure: code } }],
          },
          interactions: { [id]: { request, response: { status_code: 200 } } },
        },
      },
    });
    const events = [
      scenario('a', get('?before=80')),
      scenario('b', get('?before=80&foo=bar')),
      scenario('c', get('?before=80'), { ...st201, code: 'ST301', title: 'Undocumented status code' }),
      { NonFatalError: { message: 'boom' } },
    ];
    const file = path.join(os.tmpdir(), `judge-${process.pid}.ndjson`);
    await writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const verdict = await judgeRun(file, doc);
    expect(verdict.dismissed).toHaveLength(1);
    expect(verdict.dismissed[0]).toMatch(/\?before=80: valid as sent/);
    expect(verdict.findings).toHaveLength(3);
    expect(verdict.findings[0]).toMatch(
      /foo=bar: invalid as sent \(query .*additional.*answered 200 to schemathesis and 400/,
    );
    expect(verdict.findings[1]).toMatch(/^ST301 /);
    expect(verdict.findings[2]).toMatch(/^NonFatalError/);
  });
});
