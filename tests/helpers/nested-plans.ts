// The plans of the statements INSIDE a function call: EXPLAIN of `SELECT wallet.f()` shows only a function
// scan, so this turns on auto_explain for one session (superuser: LOAD), with nested statements, JSON format,
// sent to the client as NOTICEs, with the rows each node actually read, and collects the plan of every
// statement the call ran. Free of vitest imports.
import type pg from 'pg';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** Opens auto_explain on a dedicated superuser client; `run` calls return the plans of what they ran. */
export async function nestedPlans(client: pg.Client) {
  await client.query("LOAD 'auto_explain'");
  for (const setting of [
    'auto_explain.log_min_duration = 0',
    'auto_explain.log_nested_statements = on',
    'auto_explain.log_format = json',
    'auto_explain.log_analyze = on', // actual rows: what each node read, not what the planner guessed
    'auto_explain.log_timing = off',
    'auto_explain.log_level = notice',
    'client_min_messages = notice',
  ]) {
    await client.query(`SET ${setting}`);
  }
  let captured: string[] = [];
  client.on('notice', (notice) => captured.push(notice.message ?? ''));
  return async function run(sql: string, values: unknown[] = []): Promise<PlanNode[]> {
    captured = [];
    await client.query(sql, values);
    return captured.flatMap((message) => {
      const json = message.slice(message.indexOf('{'));
      if (!message.includes('plan:') || json.length === 0) return [];
      return [(JSON.parse(json) as { Plan: PlanNode }).Plan];
    });
  };
}

/** Every node of the plans, depth first. */
export function planNodes(plans: PlanNode[]): PlanNode[] {
  return plans.flatMap((plan) => [plan, ...planNodes(plan.Plans ?? [])]);
}

/** How each node reads wallet.receipts: "Seq Scan", or "Index Scan receipts_unstarted" and the like. */
export function receiptsAccess(plans: PlanNode[]): string[] {
  return planNodes(plans)
    .filter((node) => node['Relation Name'] === 'receipts')
    .map((node) => {
      // A bitmap heap scan reads the table through the bitmap index scans under it.
      const indexes =
        node['Node Type'] === 'Bitmap Heap Scan'
          ? planNodes(node.Plans ?? []).map((n) => n['Index Name'])
          : [node['Index Name']];
      return [node['Node Type'], ...indexes].filter(Boolean).join(' ');
    });
}

/** Rows of wallet.receipts the plans looked at: those returned by each scan of it and those its filters
 *  threw away (the cost that grows with a backlog when an index does not fit the predicate). */
export function receiptsRowsRead(plans: PlanNode[]): number {
  let total = 0;
  for (const node of planNodes(plans)) {
    if (node['Relation Name'] !== 'receipts' || node['Node Type'] === 'ModifyTable') continue;
    const loops = Number(node['Actual Loops'] ?? 1);
    total += (Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0)) * loops;
    total += Number(node['Rows Removed by Index Recheck'] ?? 0);
  }
  return total;
}
