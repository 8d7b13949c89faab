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

export function bundleWorkflows(workflowsPath: string): Promise<WorkflowBundle> {
  // The OpenTelemetry workflow interceptor carries a start's trace context to the activities (a no-op
  // while tracing is off): it must be in the bundle, as a prebuilt bundle ignores the worker's own list.
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTOR_MODULE],
    logger: new DefaultLogger('WARN'),
  });
}

/** The prebuilt bundle when there is one, else a fresh bundle of workflowsPath. */
export async function loadWorkflowBundle(
  workflowsPath: string,
  prebuilt = PREBUILT_BUNDLE,
): Promise<WorkflowBundle> {
  if (existsSync(prebuilt)) return { code: await readFile(prebuilt, 'utf8') };
  return bundleWorkflows(workflowsPath);
}

/** Build time: bundles workflowsPath into the file the worker loads. */
export async function writeWorkflowBundle(workflowsPath: string, target = PREBUILT_BUNDLE): Promise<void> {
  const { code } = await bundleWorkflows(workflowsPath);
  await writeFile(target, code);
}
