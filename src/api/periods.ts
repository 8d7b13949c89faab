// Instants and periods in query strings: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 timestamp with a
// zone (Z or +hh:mm), at most millisecond precision. Anything else, a date that does not exist (2026-02-30),
// a reversed range or a future instant is a 400 that says what a valid value looks like.
import { ApiError } from './api-error.js';

export const INSTANT_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2}))?$';
const INSTANT = new RegExp(INSTANT_PATTERN);
const DATE_PARTS = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-](\d{2}):(\d{2})))?$/;

export const INSTANT_RULE =
  'a date like 2026-11-01 (midnight UTC) or an RFC 3339 timestamp with a time zone like 2026-11-30T23:59:59Z ' +
  'or 2026-11-30T23:59:59.999+01:00';

function invalid(field: string, rule: string): ApiError {
  return new ApiError(400, 'validation_error', `${field} must be ${rule}`, {}, [
    { location: 'querystring', field, message: `must be ${rule}` },
  ]);
}

/** The instant a query value names, or a 400 naming the field. */
export function parseInstant(field: string, text: string): Date {
  const parts = DATE_PARTS.exec(text);
  if (!INSTANT.test(text) || !parts) throw invalid(field, INSTANT_RULE);
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone, zh = '00', zm = '00'] = parts;
  // Every field must be in range: Date.parse would quietly turn 2026-02-30 into March 2.
  const valid =
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate() &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59 &&
    (zone === undefined || zone === 'Z' || (Number(zh) <= 23 && Number(zm) <= 59));
  const date = new Date(zone === undefined ? `${text}T00:00:00Z` : text);
  if (!valid || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1) throw invalid(field, INSTANT_RULE);
  return date;
}

/** A balance's instant: not in the future (the balance then is not known yet). */
export function parsePast(field: string, text: string, now = new Date()): Date {
  const at = parseInstant(field, text);
  if (at > now) throw invalid(field, `${INSTANT_RULE}, not in the future`);
  return at;
}

export interface Period {
  from: Date;
  to: Date;
}

/** The first instant of the month `date` falls in, UTC. */
export const monthStart = (date: Date, monthsBack = 0) =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - monthsBack, 1));

/** [from, to) from the query; a missing end takes its default. from must be before to. */
export function parsePeriod(query: { from?: string; to?: string }, defaults: Period): Period {
  const from = query.from === undefined ? defaults.from : parseInstant('from', query.from);
  const to = query.to === undefined ? defaults.to : parseInstant('to', query.to);
  if (from >= to) {
    throw new ApiError(
      400,
      'validation_error',
      `from must be before to: the period is [from, to), for example from=2026-11-01&to=2026-12-01 (${INSTANT_RULE})`,
      {},
      [{ location: 'querystring', field: 'from', message: 'must be before to' }],
    );
  }
  return { from, to };
}
