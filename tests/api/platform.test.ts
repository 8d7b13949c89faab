// What surrounds the routes: health, readiness, unknown routes and methods, docs and the OpenAPI document,
// security headers, request ids and logs.
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, captureLogs, createApiContext, FakeReceipts, PASSWORD } from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let receipts: FakeReceipts;

beforeAll(async () => {
  ctx = await createApiContext();
  receipts = new FakeReceipts();
  app = await ctx.build({ receipts });
});

describe('health and readiness', () => {
  it('/health is 200 {status: ok}, with or without a trailing slash, without credentials', async () => {
    for (const url of ['/health', '/health/']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    }
  });

  it('/ready reports the database, Temporal and the receipt backlog', async () => {
    const u = await ctx.user('ready', '5.00'); // one deposit: one pending receipt
    receipts.healthState = 'up';
    const res = await app.inject('/ready');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'ready', database: 'up', temporal: 'up' });
    // The file's database is fresh and nothing starts workflows here: that deposit is the whole backlog.
    expect(body.receipt_backlog).toMatchObject({
      pending: 1,
      pending_capped: false,
      unstarted: 1,
      unstarted_capped: false,
    });
    expect(Date.parse(body.receipt_backlog.oldest_pending_at)).not.toBeNaN();
    expect(u.id).toBeGreaterThan(0);
  });

  it('/ready is 200 degraded while Temporal is down: transfers still work', async () => {
    receipts.healthState = 'down';
    const res = await app.inject('/ready/');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', database: 'up', temporal: 'down' });
    receipts.healthState = 'up';
  });
});

describe('unknown routes and methods', () => {
  it('404 not_found for an unknown path, in the error shape', async () => {
    for (const url of ['/', '/api', '/api/wallet/nothing', '/api/wallet/transactions/1/receipt/extra']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'Not found', code: 'not_found' });
    }
  });

  it.each([
    ['GET', '/api/wallet/transfer/', 'POST'],
    ['PUT', '/api/wallet/transfer', 'POST'],
    ['DELETE', '/api/wallet/balance/', 'GET, HEAD'],
    ['POST', '/api/wallet/transactions/', 'GET, HEAD'],
    ['PATCH', '/api/wallet/transactions/5/', 'GET, HEAD'],
    ['DELETE', '/api/wallet/transactions/5/receipt', 'GET, HEAD'],
    ['POST', '/health', 'GET, HEAD'],
  ])('405 method_not_allowed for %s %s, with Allow: %s', async (method, url, allow) => {
    const res = await app.inject({ method: method as 'GET', url });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json().code).toBe('method_not_allowed');
  });

  it('OPTIONS answers 204 with Allow', async () => {
    const res = await app.inject({ method: 'OPTIONS', url: '/api/wallet/transfer/' });
    expect(res.statusCode).toBe(204);
    expect(res.headers.allow).toBe('POST');
  });

  it('HEAD works where GET does', async () => {
    expect((await app.inject({ method: 'HEAD', url: '/health' })).statusCode).toBe(200);
  });
});

describe('docs and the OpenAPI document', () => {
  it('serves Swagger UI at /docs with security headers and a CSP that allows its own scripts', async () => {
    const res = await app.inject('/docs');
    const page = res.statusCode === 302 ? await app.inject(String(res.headers.location)) : res;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger-ui');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    const script = await app.inject('/docs/static/swagger-initializer.js');
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('./json');
  });

  it('publishes a valid OpenAPI 3 document listing every route with its schemas', async () => {
    const res = await app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as OpenAPIV3.Document;
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item ?? {})
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'POST /api/wallet/transfer/',
        'POST /api/wallet/transfer/batch/',
        'POST /api/wallet/deposit/',
        'GET /api/wallet/balance/',
        'GET /api/wallet/transactions/',
        'GET /api/wallet/transactions/{id}/',
        'GET /api/wallet/transactions/{id}/receipt',
        'POST /api/wallet/transactions/{id}/refund/',
        'GET /api/wallet/statement/',
        'GET /api/wallet/statement.pdf',
        'POST /api/wallet/holds/',
        'GET /api/wallet/holds/',
        'GET /api/wallet/holds/{hold_id}/',
        'POST /api/wallet/holds/{hold_id}/capture/',
        'POST /api/wallet/holds/{hold_id}/release/',
        'GET /health',
        'GET /ready',
      ].sort(),
    );
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item ?? {}) as [string, OpenAPIV3.OperationObject][]) {
        const where = `${method} ${path}`;
        const success = Object.entries(op.responses).filter(([s]) => s.startsWith('2'));
        expect(success.length, where).toBeGreaterThan(0);
        for (const [, response] of success) {
          const content = (response as OpenAPIV3.ResponseObject).content ?? {};
          expect(
            Object.values(content).every((c) => c.schema),
            where,
          ).toBe(true);
        }
        if (path.startsWith('/api/')) {
          expect(op.security, where).toEqual([{ basicAuth: [] }]);
          for (const status of ['401', '503']) {
            const schema = (op.responses[status] as OpenAPIV3.ResponseObject).content?.['application/json']
              ?.schema;
            expect((schema as OpenAPIV3.SchemaObject).required, `${where} ${status}`).toEqual([
              'error',
              'code',
            ]);
          }
        }
        if (method === 'post') {
          const body = (op.requestBody as OpenAPIV3.RequestBodyObject).content['application/json']?.schema;
          expect((body as OpenAPIV3.SchemaObject).additionalProperties, where).toBe(false);
          // Every POST that moves or reserves money takes a key; a release moves none, and its repeat says
          // hold_closed "released", which is the answer a retry needs.
          expect(
            op.parameters?.some((p) => 'name' in p && p.name === 'idempotency-key'),
            where,
          ).toBe(!path.endsWith('/release/'));
        }
      }
    }
    const transfer = doc.paths['/api/wallet/transfer/']?.post;
    expect(Object.keys(transfer?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '404', '409', '413', '415', '422', '503']),
    );
    const receipt = doc.paths['/api/wallet/transactions/{id}/receipt']?.get?.responses[
      '200'
    ] as OpenAPIV3.ResponseObject;
    expect(Object.keys(receipt.content ?? {})).toEqual(['application/pdf']);
  });
});

describe('request ids and logs', () => {
  it('echoes a plain X-Request-Id and makes one up otherwise', async () => {
    const given = await app.inject({ url: '/health', headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers['x-request-id']).toBe('trace-123');
    const made = await app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\u00ff' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs requests with their ids, and never the Authorization header or a password', async () => {
    const { stream, lines } = captureLogs();
    const logged = await ctx.build({ logger: { level: 'debug', stream } });
    const u = await ctx.user('logged', '10.00');
    const peer = await ctx.user('peer');
    await logged.inject({
      method: 'POST',
      url: '/api/wallet/transfer/',
      headers: { authorization: u.auth, 'x-request-id': 'req-abc' },
      payload: { receiver_id: peer.id, amount: '1.00' },
    });
    await logged.inject({
      url: '/api/wallet/balance/',
      headers: { authorization: `Basic ${btoa(`${u.username}:hunter2-wrong`)}` },
    });
    const text = lines.join('\n');
    expect(text).toContain('"reqId":"req-abc"');
    expect(text).toContain('"statusCode":201');
    expect(text).not.toContain(u.auth.slice(6));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('hunter2-wrong');
  });
});
