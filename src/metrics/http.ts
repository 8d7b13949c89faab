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
const started = new WeakMap<FastifyRequest, bigint>();
const errorCodes = new WeakMap<FastifyRequest, string>();

export const httpMetrics = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request) => {
      started.set(request, process.hrtime.bigint());
      httpActiveRequests.inc();
    });
    // Before the error handler answers: the code the client will get is the outcome.
    app.addHook('onError', async (request, _reply, error) => {
      errorCodes.set(request, toApiError(error).apiError.code);
    });
    // A client that hangs up may get no onResponse: the in-flight gauge must come down anyway, once.
    app.addHook('onRequestAbort', async (request) => {
      if (started.delete(request)) httpActiveRequests.dec();
    });
    app.addHook('onResponse', async (request, reply) => {
      const start = started.get(request);
      if (start === undefined || !started.delete(request)) return;
      httpActiveRequests.dec();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = reply.statusCode;
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
      const replayed = reply.getHeader('idempotent-replayed') === 'true';
      if (replayed) idempotentReplays.inc({ operation });
      const outcome =
        status < 400 ? (replayed ? 'replayed' : 'ok') : (errorCodes.get(request) ?? `http_${status}`);
      moneyOperations.inc({ operation, outcome }, operationCount ? operationCount(request) : 1);
    });
  },
  { name: 'wallet-http-metrics', fastify: '5.x' },
);
