// The cheapest workflow there is: completes in its first task. Temporal's floor per receipt.
import { patched } from '@temporalio/workflow';
export async function emptyWorkflow(): Promise<boolean> {
  return true;
}

// The same behind a patch marker, as receiptWorkflow is: what the version marker costs per receipt.
export async function patchedWorkflow(): Promise<boolean> {
  return patched('floor-patch');
}
