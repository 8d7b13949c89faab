// The metric names the dashboard JSON and the alert rules use, read from their PromQL expressions.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export const DASHBOARD = 'deploy/grafana/dashboards/wallet.json';
export const ALERT_RULES = 'deploy/prometheus/alerts.yml';

// Every metric this project serves or scrapes starts so; labels and PromQL words never do.
const METRIC = /\b(?:wallet|http_server|temporal)_[a-z0-9_]+\b/g;

function expressions(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) expressions(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') found.push(value);
      else expressions(value, found);
    }
  }
  return found;
}

/** Dashboard and alert expressions (`expr` wherever it appears). */
export async function monitoringExpressions() {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  const rules = parse(await readFile(ALERT_RULES, 'utf8'));
  return { dashboard: expressions(dashboard), alerts: expressions(rules) };
}

export async function metricNamesUsed(): Promise<Set<string>> {
  const { dashboard, alerts } = await monitoringExpressions();
  return new Set([...dashboard, ...alerts].flatMap((expr) => expr.match(METRIC) ?? []));
}
