// The API's request spans (@fastify/otel): one span per request named by its route template, with method,
// path and status; a trace context sent by the client (traceparent) becomes the parent. Lifecycle hooks get
// no spans of their own (a dozen per request, none of them telling). /health is not traced: probes call it
// every few seconds.
import { FastifyOtelInstrumentation } from '@fastify/otel';

let instrumentation: FastifyOtelInstrumentation | undefined;

export function requestTracing() {
  instrumentation ??= new FastifyOtelInstrumentation({
    instrumentHooks: false,
    ignorePaths: (route: { url: string }) => route.url === '/health',
  });
  return instrumentation.plugin();
}
