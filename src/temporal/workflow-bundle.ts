// The workflow bundle, built ahead of time by `npm run build` (Temporal's production advice: no webpack at
// worker start, and the code that runs is the code that was built and tested) and bundled on the fly only in
// development, where no prebuilt one sits next to the running code.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULE } from '../telemetry/temporal.js';

/** dist/workflow-bundle.js beside the compiled code; under tsx it would be src/workflow-bundle.js (absent). */
export const PREBUILT_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
/** The same workflows with the OpenTelemetry workflow interceptor, for a worker that traces. */
export const PREBUILT_TRACED_BUNDLE = fileURLToPath(new URL('../workflow-bundle-traced.js', import.meta.url));

/**
 * traced: with the OpenTelemetry workflow interceptor, which carries a start's trace context to the activities.
 * Only a tracing worker gets it: the interceptor makes and exports its spans from the workflow sandbox whether
 * or not anyone collects them, which cost 6.5 ms of the worker's CPU per receipt (20.1 against 13.6 ms in a
 * 1,000-receipt burst, bench:receipts, 2026-12-04). A prebuilt bundle ignores the worker's own list, hence two.
 */
export function bundleWorkflows(workflowsPath: string, traced: boolean): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: traced ? [WORKFLOW_INTERCEPTOR_MODULE] : [],
    logger: new DefaultLogger('WARN'),
  });
}

/** The prebuilt bundle when there is one, else a fresh bundle of workflowsPath. */
export async function loadWorkflowBundle(
  workflowsPath: string,
  { traced = false, prebuilt }: { traced?: boolean; prebuilt?: string } = {},
): Promise<WorkflowBundle> {
  prebuilt ??= traced ? PREBUILT_TRACED_BUNDLE : PREBUILT_BUNDLE;
  if (existsSync(prebuilt)) return { code: await readFile(prebuilt, 'utf8') };
  return bundleWorkflows(workflowsPath, traced);
}

/** Build time: bundles workflowsPath into the two files the worker loads (untraced and traced). */
export async function writeWorkflowBundle(workflowsPath: string): Promise<void> {
  await writeFile(PREBUILT_BUNDLE, (await bundleWorkflows(workflowsPath, false)).code);
  await writeFile(PREBUILT_TRACED_BUNDLE, (await bundleWorkflows(workflowsPath, true)).code);
}
