// What the dashboard JSON and the alert rules ask Prometheus for, read by Prometheus's own PromQL grammar
// (@prometheus-io/lezer-promql): every selector's metric name and the labels it matches on. An expression
// that does not parse is an error here, as it would be in Prometheus or Grafana.
import { readFile } from 'node:fs/promises';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';

export const DASHBOARD = 'deploy/grafana/dashboards/wallet.json';
export const ALERT_RULES = 'deploy/prometheus/alerts.yml';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Prometheus's own series, not served by anything of ours. */
const PROMETHEUS_OWN = new Set(['up']);

export interface Selector {
  metric: string;
  labels: string[];
  expr: string;
}

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

function children(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling)
    if (child.name === name) found.push(child);
  return found;
}

/** The selectors of one expression; throws if it is not valid PromQL. */
export function selectors(expr: string): Selector[] {
  const tree = parser.parse(expr);
  const found: Selector[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) throw new Error(`not valid PromQL at ${ref.from}: ${expr}`);
      if (ref.name !== 'VectorSelector') return;
      const [identifier] = children(ref.node, 'Identifier');
      if (!identifier) throw new Error(`a selector without a metric name: ${expr}`);
      const labels = children(ref.node, 'LabelMatchers')
        .flatMap((m) => m.getChildren('UnquotedLabelMatcher'))
        .flatMap((m) => m.getChildren('LabelName'))
        .map((l) => expr.slice(l.from, l.to));
      found.push({ metric: expr.slice(identifier.from, identifier.to), labels, expr });
    },
  });
  return found;
}

/** Every selector of the dashboard and the alert rules, Prometheus's own series left out. */
export async function monitoringSelectors(): Promise<Selector[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  const rules = parse(await readFile(ALERT_RULES, 'utf8'));
  return [...expressions(dashboard), ...expressions(rules)]
    .flatMap(selectors)
    .filter((s) => !PROMETHEUS_OWN.has(s.metric));
}
