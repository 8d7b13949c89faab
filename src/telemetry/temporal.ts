// Trace context through Temporal (@temporalio/interceptors-opentelemetry): the client interceptor puts the
// caller's context in the workflow start's headers, the workflow interceptor (bundled with the workflows)
// carries it to the activities it schedules, and the activity interceptor makes each activity a span of that
// trace. Installed always: with tracing off the tracer is OpenTelemetry's no-op one.
import { createRequire } from 'node:module';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { currentTracing } from './tracing.js';

/** The workflow interceptor module (it exports `interceptors`), for the workflow bundle
 *  (src/temporal/workflow-bundle.ts). */
export const WORKFLOW_INTERCEPTOR_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

export function clientInterceptors() {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

export function activityInterceptors(): NonNullable<WorkerOptions['interceptors']> {
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
  };
}

// The workflow's own spans (RunWorkflow, StartActivity) are made inside the workflow sandbox by the
// interceptor's OpenTelemetry 1.x SDK and handed out through this sink; this process runs the 2.x SDK, whose
// processors read a parent's context and the instrumentation scope under their 2.x names.
interface V1Span {
  parentSpanId?: string;
  instrumentationLibrary?: { name: string; version?: string };
  spanContext(): { traceId: string; traceFlags: number };
}

/** The sink the workflow interceptor exports through: to this process's span processor, or nowhere. */
export function workflowSpanSinks(): NonNullable<WorkerOptions['sinks']> {
  const processor = {
    onStart: () => undefined,
    onEnd(span: V1Span) {
      const tracing = currentTracing();
      if (!tracing) return;
      const { traceId, traceFlags } = span.spanContext();
      const upgraded = Object.assign(span, {
        instrumentationScope: span.instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
        parentSpanContext: span.parentSpanId
          ? { traceId, spanId: span.parentSpanId, traceFlags, isRemote: false }
          : undefined,
      });
      tracing.processor.onEnd(upgraded as never);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  // The resource is read when a span is exported; spans keep the one given here.
  const resource = currentTracing()?.resource ?? ({ attributes: {} } as never);
  return { exporter: makeWorkflowExporter(processor as never, resource as never) } as never;
}
