// OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set, then spans
// go by OTLP (http/protobuf; the exporter reads the standard OTEL_* variables itself). Tests pass their own
// span processor (in memory). Started before the app is built: the pg patch and the Fastify plugin must be in
// place before the first query and the first route.
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

type Env = Record<string, string | undefined>;

export interface Tracing {
  provider: NodeTracerProvider;
  resource: Resource;
  processor: SpanProcessor;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The running tracing, if any (buildApp and the worker ask whether to add their instrumentation). */
export function currentTracing(): Tracing | undefined {
  return active;
}

export function tracingRequested(env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts tracing for this process when asked for (env) or given a processor (tests); else does nothing and
 * returns undefined. Idempotent: a second call returns the running one.
 */
export function startTracing(opts: { serviceName: string; env?: Env; processor?: SpanProcessor }) {
  if (active) return active;
  const env = opts.env ?? process.env;
  if (!opts.processor && !tracingRequested(env)) return undefined;
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || opts.serviceName });
  const processor = opts.processor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register(); // global tracer provider, W3C propagator, AsyncLocalStorage context manager
  patchPg(provider);
  active = {
    provider,
    resource,
    processor,
    async shutdown() {
      active = undefined;
      await provider.shutdown();
      trace.disable();
    },
  };
  return active;
}

/**
 * pg's query spans. Patched by hand: this project is ES modules, whose imports the instrumentation's require
 * hook never sees. pg is CommonJS, so require() here returns the very module every `import pg` got.
 * requireParentSpan: only queries inside a traced operation (a request, an activity) make spans, not the
 * dispatcher's polls every few milliseconds.
 */
function patchPg(provider: NodeTracerProvider): void {
  const instrumentation = new PgInstrumentation({ enabled: false, requireParentSpan: true });
  instrumentation.setTracerProvider(provider);
  const pg = createRequire(import.meta.url)('pg');
  const definitions = (instrumentation as unknown as { init(): PatchDefinition[] }).init();
  const version = createRequire(import.meta.url)('pg/package.json').version as string;
  definitions.find((d) => d.name === 'pg')?.patch?.(pg, version);
}

interface PatchDefinition {
  name: string;
  patch?: (exports: unknown, version?: string) => unknown;
}
