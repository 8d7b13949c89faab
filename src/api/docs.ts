// The OpenAPI document (generated from the route schemas) at /docs/json, Swagger UI at /docs, and security
// headers on every response, with a CSP that Swagger UI works under (its scripts and styles are same-origin).
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const docs = fp(
  async (app: FastifyInstance) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          baseUri: ["'self'"],
          connectSrc: ["'self'"],
          fontSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          imgSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          // The one inline style Swagger UI 5 injects; a newer one may add another (only its look suffers).
          styleSrc: ["'self'", "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"],
        },
      },
      // Plain HTTP on localhost is the default setup: do not pin browsers to HTTPS from here.
      strictTransportSecurity: false,
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Atomic wallet API',
          version: '1.0.0',
          description:
            'Transfers between wallets, balances, history and PDF receipts. Amounts are decimal strings ' +
            'with two decimals. Every error is {"error": "...", "code": "..."}.',
        },
        components: { securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } } },
        tags: [
          { name: 'wallet', description: 'Money: transfer, deposit, balance' },
          { name: 'transactions', description: 'History and receipts' },
          { name: 'holds', description: 'Two-phase transfers: reserve now, capture or release later' },
          { name: 'statements', description: 'What happened in a period: JSON, or a PDF rendered once' },
          { name: 'system', description: 'Health and readiness' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } });
  },
  { name: 'wallet-docs', fastify: '5.x' },
);
