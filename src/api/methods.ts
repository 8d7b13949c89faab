// 405 Method Not Allowed with an Allow header for a known path asked with the wrong method (Fastify alone
// answers 404). Every method a path lacks gets a small hidden route; OPTIONS answers 204 with Allow.
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { ApiError } from './api-error.js';

// Every method a client may try on a path (QUERY is the new safe method with a body); those Fastify knows.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'];

/** Starts recording the methods of every route registered from now on; returns the record. */
export function recordRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = seen.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    if (methods.has('GET')) methods.add('HEAD');
    seen.set(route.url, methods);
  });
  return seen;
}

/** Call after every real route is registered. */
export function addMethodNotAllowed(app: FastifyInstance, seen: Map<string, Set<string>>, skip: RegExp) {
  const known = METHODS.filter((m) => app.supportedMethods.includes(m));
  for (const [url, methods] of [...seen]) {
    if (skip.test(url)) continue;
    const allow = known.filter((m) => methods.has(m)).join(', ');
    const missing = known.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      schema: { hide: true },
      // onRequest: answer before any body parsing, which would turn a bodyless QUERY into a 400.
      onRequest: async (request, reply) => {
        reply.header('Allow', allow);
        if (request.method === 'OPTIONS') return reply.code(204).send();
        throw new ApiError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allow}`);
      },
      handler: async () => undefined, // never reached: onRequest has answered
    });
  }
}
