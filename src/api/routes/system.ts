// Liveness and readiness, for load balancers and operators. Neither needs credentials nor reveals any user data.
import type { FastifyInstance } from 'fastify';
import { ledger } from '../../db/ledger.js';
import { RECEIPT_BACKLOG_COUNT_CAP } from '../../db/rows.js';
import type { AppContext } from '../context.js';

const DB_CHECK_MS = 1000;
const CAP = RECEIPT_BACKLOG_COUNT_CAP.toLocaleString('en');

const readyResponse = {
  type: 'object',
  required: ['status', 'database', 'temporal', 'receipt_backlog', 'receipt_starts'],
  properties: {
    status: {
      type: 'string',
      enum: ['ready', 'degraded', 'unavailable'],
      description:
        'degraded: serving, but receipts wait (Temporal down, or this process cannot start workflows)',
    },
    database: { type: 'string', enum: ['up', 'down'] },
    temporal: { type: 'string', enum: ['up', 'down', 'disabled'] },
    receipt_backlog: {
      type: ['object', 'null'],
      description:
        `Receipts not rendered yet; null when the database is down. The counts stop at ${CAP}, so that ` +
        `this answer costs the same at any backlog: each is exact up to ${CAP}; above, it is ${CAP} and its ` +
        '_capped flag is true (more than that many). oldest_pending_at is always exact: how late receipts are.',
      required: ['pending', 'pending_capped', 'unstarted', 'unstarted_capped', 'oldest_pending_at'],
      properties: {
        pending: { type: 'integer', minimum: 0, maximum: RECEIPT_BACKLOG_COUNT_CAP },
        pending_capped: { type: 'boolean', description: `true: more than ${CAP} receipts are pending` },
        unstarted: {
          type: 'integer',
          minimum: 0,
          maximum: RECEIPT_BACKLOG_COUNT_CAP,
          description: 'Pending receipts whose workflow has not been started',
        },
        unstarted_capped: { type: 'boolean', description: `true: more than ${CAP} are unstarted` },
        oldest_pending_at: {
          type: ['string', 'null'],
          format: 'date-time',
          description: "When the oldest pending receipt's transaction was made; null when none is pending",
        },
      },
    },
    receipt_starts: {
      type: 'object',
      description: 'Whether this API process can start receipt workflows; when not, why',
      required: ['state', 'reason'],
      properties: {
        state: { type: 'string', enum: ['starting', 'not_starting', 'disabled'] },
        reason: { type: ['string', 'null'] },
      },
    },
  },
};

async function backlog(ctx: AppContext) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('database check timed out')), DB_CHECK_MS);
  });
  try {
    // The backlog query is also the database check: it only answers when the database does.
    const row = await Promise.race([ledger.receiptBacklog(ctx.pool), timeout]);
    return { ...row, oldest_pending_at: row.oldest_pending_at?.toISOString() ?? null };
  } finally {
    clearTimeout(timer);
  }
}

export async function systemRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get(
    '/health',
    {
      schema: {
        summary: 'The process is up',
        tags: ['system'],
        response: {
          200: {
            description: 'Always, while the process runs',
            type: 'object',
            properties: { status: { type: 'string', enum: ['ok'] } },
          },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'The database (required) and Temporal (optional) are reachable; the receipt backlog',
        tags: ['system'],
        response: {
          200: { description: 'Serving requests', ...readyResponse },
          503: { description: 'The database is unreachable', ...readyResponse },
        },
      },
    },
    async (request, reply) => {
      const [db, temporal] = await Promise.all([
        backlog(ctx).catch((error: unknown) => {
          request.log.warn({ err: error }, 'readiness: database check failed');
          return null;
        }),
        ctx.receipts.health(),
      ]);
      const starts = ctx.receipts.startState();
      const receiptsWait = temporal === 'down' || starts.state === 'not_starting';
      const status = !db ? 'unavailable' : receiptsWait ? 'degraded' : 'ready';
      if (!db) reply.code(503).header('Retry-After', '2');
      return { status, database: db ? 'up' : 'down', temporal, receipt_backlog: db, receipt_starts: starts };
    },
  );
}
