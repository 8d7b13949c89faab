// Sorts what a schemathesis run reported (its ndjson event stream) into real findings and one known false
// positive: an ST201 "schema-violating request accepted" whose invalid part never reached the API.
// schemathesis 4.32.5 negates a query's additionalProperties with an extra key whose value serialises to
// nothing ({"before": 80, "": []} is sent as ?before=80) and negates "Authorization is required" by removing
// the header, which --auth adds back: the API then rightly accepts a valid request (upstream fixed cases of
// this kind in its PRs 4087 and 4762). So an ST201 is judged on the request as it was sent (the recorded
// method, URI, headers and body) against the OpenAPI document, and replayed: invalid and accepted is a finding.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { Ajv, type ValidateFunction } from 'ajv';

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema: object;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: object }> };
  security?: Record<string, string[]>[];
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  security?: Record<string, string[]>[];
}

/** A request as schemathesis recorded sending it. */
export interface SentRequest {
  method: string;
  uri: string;
  headers: Record<string, string[]>;
  body?: { $base64: string } | null;
}

export interface Verdict {
  /** Failed checks and errors that are real: the test fails on any. */
  findings: string[];
  /** ST201s whose request, as sent, is valid against the schema. */
  dismissed: string[];
}

// Parameters arrive as strings and are read as Fastify reads them (coerced to the declared type); JSON bodies
// are judged without coercion, as the schema says. Request schemas carry no formats (only responses do).
const wire = new Ajv({ coerceTypes: 'array', strict: false, allErrors: true, validateFormats: false });
const json = new Ajv({ strict: false, allErrors: true, validateFormats: false });

function check(validate: ValidateFunction, where: string, data: unknown): string[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map(
    (e) => `${where}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
  );
}

function objectSchema(params: Parameter[], additional: boolean): object {
  const lower = (p: Parameter) => (p.in === 'header' ? p.name.toLowerCase() : p.name);
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [lower(p), p.schema])),
    required: params.filter((p) => p.required || p.in === 'path').map(lower),
    additionalProperties: additional,
  };
}

/** What is wrong with the request as sent, by the OpenAPI document; empty when it is valid. */
export function schemaViolations(doc: OpenApiDocument, template: string, request: SentRequest): string[] {
  const method = request.method.toLowerCase();
  const op = doc.paths[template]?.[method];
  if (!op) return [`no operation ${method} ${template} in the document`];
  const params = op.parameters ?? [];
  const of = (where: Parameter['in']) => params.filter((p) => p.in === where);
  const url = new URL(request.uri);
  const violations: string[] = [];

  const parts = template.split(/\{([^}]+)\}/);
  const names = parts.filter((_, i) => i % 2 === 1);
  const literal = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const pattern = parts.map((s, i) => (i % 2 === 1 ? '([^/]*)' : literal(s))).join('');
  const match = new RegExp(`^${pattern}$`).exec(url.pathname);
  if (!match) return [`path ${url.pathname} does not match ${template}`];
  const path = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')]));
  violations.push(...check(wire.compile(objectSchema(of('path'), false)), 'path', path));

  // The API refuses undeclared query parameters, and schemathesis negates exactly that: the query is closed.
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const seen = query[k];
    query[k] = seen === undefined ? v : [...(Array.isArray(seen) ? seen : [seen]), v];
  }
  violations.push(...check(wire.compile(objectSchema(of('query'), false)), 'query', query));

  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v.length === 1 ? v[0] : v]),
  );
  violations.push(...check(wire.compile(objectSchema(of('header'), true)), 'header', headers));
  const security = op.security ?? doc.security ?? [];
  if (security.length > 0 && !/^Basic /i.test(String(headers.authorization ?? '')))
    violations.push('header: the operation requires Basic credentials and none were sent');

  const body = request.body ? Buffer.from(request.body.$base64, 'base64') : null;
  if (op.requestBody) {
    if (!body || body.length === 0) {
      if (op.requestBody.required) violations.push('body: required and none was sent');
    } else {
      const type =
        String(headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim()
          .toLowerCase() ?? '';
      const media = op.requestBody.content[type];
      if (!media) violations.push(`body: content type '${type}' is not declared`);
      else {
        try {
          violations.push(...check(json.compile(media.schema), 'body', JSON.parse(body.toString('utf8'))));
        } catch {
          violations.push('body: not JSON');
        }
      }
    }
  }
  return violations;
}

/** Sends the recorded request again, byte for byte, and returns the status. */
export function replay(request: SentRequest): Promise<number> {
  const body = request.body ? Buffer.from(request.body.$base64, 'base64') : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(request.uri, { method: request.method, headers: request.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Check {
  name: string;
  status: string;
  failure_info?: { failure: { code: string; title: string; message: string; operation: string } } | null;
}
interface Recorder {
  cases: Record<string, { value: { method: string; path: string } }>;
  checks: Record<string, Check[]>;
  interactions: Record<string, { request: SentRequest; response?: { status_code: number } | null }>;
}

/** Reads the ndjson events of one run and judges every failed check and every error in it. */
export async function judgeRun(eventsFile: string, doc: OpenApiDocument): Promise<Verdict> {
  const verdict: Verdict = { findings: [], dismissed: [] };
  for (const line of (await readFile(eventsFile, 'utf8')).split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as Record<string, Record<string, unknown>>;
    const [kind, data] = Object.entries(event)[0] ?? [];
    if (!kind || !data) continue;
    if (/Error/.test(kind)) verdict.findings.push(`${kind}: ${JSON.stringify(data).slice(0, 2000)}`);
    if (kind !== 'ScenarioFinished') continue;
    if (data.status === 'error')
      verdict.findings.push(`scenario error: ${JSON.stringify(data).slice(0, 2000)}`);
    const recorder = data.recorder as Recorder;
    for (const [caseId, checks] of Object.entries(recorder.checks ?? {})) {
      for (const c of checks) {
        if (c.status === 'success' || c.status === 'skip') continue;
        const failure = c.failure_info?.failure;
        const interaction = recorder.interactions[caseId];
        const request = interaction?.request;
        const said = `${failure?.code ?? c.status} ${failure?.title ?? c.name} at ${request?.method} ${request?.uri}`;
        const template = recorder.cases[caseId]?.value.path;
        if (failure?.code !== 'ST201' || !request || !template) {
          verdict.findings.push(`${said}: ${failure?.message ?? JSON.stringify(c)}`);
          continue;
        }
        const violations = schemaViolations(doc, template, request);
        if (violations.length === 0) {
          verdict.dismissed.push(`${said}: valid as sent, its invalid part never reached the API`);
          continue;
        }
        const status = await replay(request);
        verdict.findings.push(
          `${said}: invalid as sent (${violations.join('; ')}), answered ` +
            `${interaction?.response?.status_code} to schemathesis and ${status} to the replay`,
        );
      }
    }
  }
  return verdict;
}
