// 405 Method Not Allowed with an Allow header for a known path asked with the wrong method (Fastify alone
// answers 404). Every method a path lacks gets a small hidden route; OPTIONS answers 204 with Allow.
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { ApiError } from './api-error.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

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
  for (const [url, methods] of [...seen]) {
    if (skip.test(url)) continue;
    const allow = METHODS.filter((m) => methods.has(m)).join(', ');
    const missing = METHODS.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      schema: { hide: true },
      handler: async (request, reply) => {
        reply.header('Allow', allow);
        if (request.method === 'OPTIONS') return reply.code(204).send();
        throw new ApiError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allow}`);
      },
    });
  }
}
