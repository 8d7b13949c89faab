// The API's request metrics as a Fastify plugin: duration by route template, method and status, requests in
// flight, and money operations by outcome. A money route names its operation in its config
// (`config: { operation: 'refund' }`): that one line makes it counted; no other change is needed here.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { toApiError } from '../api/errors.js';
import { httpActiveRequests, httpRequestDuration, idempotentReplays, moneyOperations } from './names.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The money operation this route performs (wallet_operations_total's `operation` label). */
    operation?: string;
    /** How many operations one request carries (a batch: its items); 1 when absent. */
    operationCount?: (request: FastifyRequest) => number;
  }
}

// OpenTelemetry's rule for methods outside the known set: one label value, so a client cannot add series.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY']);
const errorCodes = new WeakMap<FastifyRequest, string>();

declare module 'fastify' {
  interface FastifyRequest {
    /** process.hrtime.bigint() when the request came in; 0n once counted (or never started). */
    metricsStartedAt: bigint;
  }
}

// Callback-style hooks, not async ones: they run on every request, and an async hook costs a promise each.
export const httpMetrics = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('metricsStartedAt', 0n);
    app.addHook('onRequest', (request, _reply, done) => {
      request.metricsStartedAt = process.hrtime.bigint();
      httpActiveRequests.inc();
      done();
    });
    // Before the error handler answers: the code the client will get is the outcome.
    app.addHook('onError', (request, _reply, error, done) => {
      errorCodes.set(request, toApiError(error).apiError.code);
      done();
    });
    // A client that hangs up may get no onResponse: the in-flight gauge must come down anyway, once.
    app.addHook('onRequestAbort', (request, done) => {
      if (request.metricsStartedAt !== 0n) {
        request.metricsStartedAt = 0n;
        httpActiveRequests.dec();
      }
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const start = request.metricsStartedAt;
      if (start !== 0n) {
        request.metricsStartedAt = 0n;
        httpActiveRequests.dec();
        countResponse(request, reply.statusCode, reply.getHeader('idempotent-replayed') === 'true', start);
      }
      done();
    });
  },
  { name: 'wallet-http-metrics', fastify: '5.x' },
);

function countResponse(request: FastifyRequest, status: number, replayed: boolean, start: bigint) {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  httpRequestDuration.observe(
    {
      // Unmatched paths share one label: a scanner trying paths must not add series.
      http_route: request.routeOptions.url ?? 'unmatched',
      http_request_method: METHODS.has(request.method) ? request.method : '_OTHER',
      http_response_status_code: status,
    },
    seconds,
  );
  const { operation, operationCount } = request.routeOptions.config ?? {};
  if (!operation) return;
  if (replayed) idempotentReplays.inc({ operation });
  const outcome =
    status < 400 ? (replayed ? 'replayed' : 'ok') : (errorCodes.get(request) ?? `http_${status}`);
  moneyOperations.inc({ operation, outcome }, operationCount ? operationCount(request) : 1);
}
