// The API as a Fastify plugin (walletApi) plus buildApp(deps), which makes a configured Fastify instance
// around it. Everything the routes need arrives as deps, so tests can pass a test pool or a fake Temporal.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import type { Config } from '../config.js';
import { ledger } from '../db/ledger.js';
import { httpMetrics } from '../metrics/http.js';
import { trackPool } from '../metrics/pool.js';
import { countedReceiptStarts } from '../metrics/receipt-starts.js';
import { requestTracing } from '../telemetry/request-tracing.js';
import { currentTracing } from '../telemetry/tracing.js';
import { connectTemporalClient, connectWithSearchAttributes } from '../temporal/client.js';
import { type AuthOptions, walletAuth } from './auth.js';
import type { AppContext } from './context.js';
import { docs } from './docs.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { addMethodNotAllowed, recordRoutes } from './methods.js';
import { createTemporalReceiptStarter, type ReceiptStarter } from './receipts.js';
import { batchRoutes } from './routes/batch.js';
import { holdRoutes } from './routes/holds.js';
import { refundRoutes } from './routes/refunds.js';
import { statementRoutes } from './routes/statements.js';
import { systemRoutes } from './routes/system.js';
import { transactionRoutes } from './routes/transactions.js';
import { walletRoutes } from './routes/wallet.js';
import { createTemporalStatementStarter, type StatementStarter } from './statements.js';
import { integersFromText } from './validation.js';

export const BODY_LIMIT = 16 * 1024;

export interface AppDeps {
  /** A pool acting as wallet_app. */
  pool: pg.Pool;
  config: Pick<
    Config,
    'depositsEnabled' | 'logLevel' | 'temporalAddress' | 'temporalNamespace' | 'receiptTaskQueue'
  >;
  /** Default: Temporal at config.temporalAddress, connected on the first start and closed with the app. */
  receipts?: ReceiptStarter;
  /** Default: Temporal at config.temporalAddress, connected on the first statement PDF asked for. */
  statements?: StatementStarter;
  auth?: AuthOptions;
  /** Default: pino at config.logLevel, with credentials redacted. */
  logger?: FastifyServerOptions['logger'];
  /** Collect request metrics (default true; the server turns them off when METRICS_PORT serves none). */
  metrics?: boolean;
}

export const walletApi = fp(
  async (app: FastifyInstance, opts: AppContext & { auth?: AuthOptions }) => {
    const ctx: AppContext = {
      pool: opts.pool,
      receipts: opts.receipts,
      statements: opts.statements,
      depositsEnabled: opts.depositsEnabled,
    };
    app.decorateRequest('user', null);
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler(notFoundHandler);
    app.removeContentTypeParser('text/plain'); // JSON only: anything else is a 415
    app.addHook('preValidation', integersFromText);
    // While closing, answers end their keep-alive connection, so close() is not held up by idle sockets.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', async (request, reply) => {
      reply.header('X-Request-Id', request.id);
      if (closing) reply.header('Connection', 'close');
      if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
    });
    const routes = recordRoutes(app);
    await app.register(docs);
    await app.register(systemRoutes, ctx);
    await app.register(async (secured) => {
      await secured.register(walletAuth, { pool: ctx.pool, auth: opts.auth });
      await secured.register(walletRoutes, ctx);
      await secured.register(batchRoutes, ctx);
      await secured.register(transactionRoutes, ctx);
      await secured.register(holdRoutes, ctx);
      await secured.register(refundRoutes, ctx);
      await secured.register(statementRoutes, ctx);
    });
    addMethodNotAllowed(app, routes, /^\/docs/);
  },
  { name: 'wallet-api', fastify: '5.x' },
);

// A client's X-Request-Id is kept when it is short and plain, so logs can be joined across services.
function genReqId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
}

// Errors Node's HTTP parser raises before Fastify sees a request: answer in the same JSON shape.
function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive']
        : [400, 'Bad Request', 'bad_request', 'The HTTP request is malformed'];
  const body = JSON.stringify({ error: message, code });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? {
      level: deps.config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    bodyLimit: BODY_LIMIT,
    requestTimeout: 30_000, // the whole request must arrive within this (slow-client protection)
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId,
    clientErrorHandler,
    forceCloseConnections: 'idle', // close() ends idle keep-alive sockets, lets in-flight requests finish
  });
  let receipts = deps.receipts;
  if (!receipts) {
    const { temporalAddress: address, temporalNamespace: namespace, receiptTaskQueue } = deps.config;
    const log = app.log.child({ component: 'receipts' });
    receipts = createTemporalReceiptStarter({
      connect: () => connectWithSearchAttributes({ address, namespace }, log),
      taskQueue: receiptTaskQueue,
      log,
      onStarted: (transactionId) => {
        ledger.markReceiptsStarted(deps.pool, [transactionId]).catch((error: unknown) => {
          log.warn({ err: error, transactionId }, 'could not mark the receipt started');
        });
      },
    });
    const owned = receipts;
    app.addHook('onClose', () => owned.close());
  }
  // Metrics and traces first, so that they see every route and hook registered after them.
  trackPool('api', deps.pool);
  if (deps.metrics ?? true) await app.register(httpMetrics);
  if (currentTracing()) await app.register(requestTracing());
  let statements = deps.statements;
  if (!statements) {
    const { temporalAddress: address, temporalNamespace: namespace, receiptTaskQueue } = deps.config;
    const owned = createTemporalStatementStarter({
      connect: () => connectTemporalClient({ address, namespace }),
      taskQueue: receiptTaskQueue,
    });
    statements = owned;
    app.addHook('onClose', () => owned.close());
  }
  await app.register(walletApi, {
    pool: deps.pool,
    receipts: countedReceiptStarts(receipts),
    statements,
    depositsEnabled: deps.config.depositsEnabled,
    auth: deps.auth,
  });
  return app;
}
