// `npm run build`, second step: bundles the compiled workflows (dist/workflows) into dist/workflow-bundle.js,
// which the worker loads instead of running webpack at start.
import { WORKFLOWS_PATH } from './receipts/temporal-worker.js';
import { PREBUILT_BUNDLE, writeWorkflowBundle } from './temporal/workflow-bundle.js';

await writeWorkflowBundle(WORKFLOWS_PATH);
console.log(`wrote ${PREBUILT_BUNDLE} from ${WORKFLOWS_PATH}`);
