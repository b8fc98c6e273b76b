import { invalidArgument, resourceNotFound, unknownProperty } from './odata-errors.js';

/** Dataverse's default and largest page: 5000 records. */
export const DEFAULT_PAGE_SIZE = 5000;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A resource path segment: `leads` or `leads(<id>)` (braces around the id allowed, as Dataverse does). */
export interface Target {
  entitySet: string;
  id?: string;
}

/**
 * `leads(3f2504e0-…)` → {entitySet: 'leads', id}. Fastify cannot route on `(`, so the controller
 * takes the whole segment and parses it here. A key that is not a GUID names no record.
 */
export function parseTarget(segment: string): Target {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/.exec(segment);
  if (!match) throw resourceNotFound(segment);
  const [, entitySet, key] = match;
  if (key === undefined) return { entitySet };
  const id = key.replace(/^\{(.*)\}$/, '$1').replace(/^leadid=|^accountid=|^contactid=|^opportunityid=/, '');
  if (!UUID.test(id)) throw invalidArgument(`Bad Request - Error in query syntax: the key '${key}' of segment '${segment}' is not a GUID.`);
  return { entitySet, id: id.toLowerCase() };
}

/** A comparison of `$filter`: `attribute eq value` (string, number, GUID or null). */
export interface FilterTerm {
  attribute: string;
  value: string | number | null;
}

export interface ODataQuery {
  select?: string[];
  /** Cap on the total number of records across every page. */
  top?: number;
  filter: FilterTerm[];
  skiptoken?: string;
}

const SUPPORTED_OPTIONS = new Set(['$select', '$top', '$filter', '$skiptoken']);

/**
 * The query options of a request. `attributes` are the names the entity type has; `$select` and
 * `$filter` naming anything else is 400 like Dataverse. Options the surface does not implement
 * ($expand, $orderby, $count, $apply, …) are refused rather than silently ignored.
 */
export function parseQuery(query: Record<string, unknown>, type: string, attributes: ReadonlySet<string>): ODataQuery {
  for (const key of Object.keys(query)) {
    if (!SUPPORTED_OPTIONS.has(key)) throw invalidArgument(`The query parameter '${key}' is not supported.`);
  }
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidArgument(`The query parameter '${name}' is specified more than once.`);
    return value;
  };
  const result: ODataQuery = { filter: [] };
  const select = single('$select');
  if (select !== undefined) {
    result.select = select.split(',').map((s) => s.trim());
    for (const name of result.select) if (!attributes.has(name)) throw unknownProperty(name, type);
  }
  const top = single('$top');
  if (top !== undefined) {
    if (!/^\d{1,9}$/.test(top.trim()))
      throw invalidArgument(`Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`);
    result.top = Number(top.trim());
  }
  const filter = single('$filter');
  if (filter !== undefined) result.filter = parseFilter(filter, type, attributes);
  const skiptoken = single('$skiptoken');
  if (skiptoken !== undefined) result.skiptoken = skiptoken;
  return result;
}

/**
 * `$filter`: comparisons with `eq`, joined by `and` (parentheses around a term allowed). Values:
 * 'text' ('' for a quote), numbers, GUIDs, null. Anything richer is 400.
 */
export function parseFilter(text: string, type: string, attributes: ReadonlySet<string>): FilterTerm[] {
  const terms: FilterTerm[] = [];
  const tokens = tokenize(text);
  let i = 0;
  const next = () => tokens[i++];
  const unsupported = () => invalidArgument(`The $filter '${text}' is not supported: use attribute eq value, joined by and.`);
  for (;;) {
    let open = 0;
    while (tokens[i] === '(') {
      open++;
      i++;
    }
    const attribute = next();
    const op = next();
    const raw = next();
    if (attribute === undefined || op?.toLowerCase() !== 'eq' || raw === undefined) throw unsupported();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(attribute)) throw unsupported();
    if (!attributes.has(attribute)) throw unknownProperty(attribute, type);
    terms.push({ attribute, value: literal(raw, unsupported) });
    for (; open > 0; open--) if (next() !== ')') throw unsupported();
    const joiner = next();
    if (joiner === undefined) return terms;
    if (joiner.toLowerCase() !== 'and') throw unsupported();
  }
}

function literal(raw: string, unsupported: () => Error): string | number | null {
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  if (raw === 'null') return null;
  if (UUID.test(raw)) return raw.toLowerCase();
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  throw unsupported();
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*('(?:[^']|'')*'|\(|\)|[^\s()']+)/y;
  let rest = text.trim();
  while (rest.length) {
    pattern.lastIndex = 0;
    const match = pattern.exec(rest);
    if (!match) throw invalidArgument(`The $filter '${text}' could not be parsed.`);
    tokens.push(match[1]);
    rest = rest.slice(match[0].length).trimStart();
  }
  return tokens;
}

/**
 * `Prefer: odata.maxpagesize=N` (and `return=representation`), as Dataverse reads them. A page
 * size above 5000 counts as 5000.
 */
export function parsePrefer(header: string | undefined): { maxPageSize?: number; returnRepresentation: boolean } {
  const result: { maxPageSize?: number; returnRepresentation: boolean } = { returnRepresentation: false };
  for (const part of (header ?? '').split(',')) {
    const item = part.trim();
    const size = /^odata\.maxpagesize\s*=\s*"?(\d{1,9})"?$/i.exec(item);
    if (size && Number(size[1]) > 0) result.maxPageSize = Math.min(Number(size[1]), DEFAULT_PAGE_SIZE);
    if (/^return\s*=\s*"?representation"?$/i.test(item)) result.returnRepresentation = true;
  }
  return result;
}

/** The absolute base of the surface as the client reached it: `<protocol>://<host>/api/data/v9.2/`. */
export function serviceRoot(request: { protocol?: string; headers: Record<string, string | string[] | undefined> }): string {
  const host = request.headers.host;
  const protocol = request.protocol ?? 'http';
  return `${protocol}://${typeof host === 'string' ? host : 'localhost'}/api/data/v9.2/`;
}

/** The URL of the next page: the same query with the cursor and what is left of $top. */
export function nextLink(root: string, entitySet: string, query: Record<string, unknown>, skiptoken: string, topLeft: number | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === '$skiptoken' || key === '$top' || typeof value !== 'string') continue;
    params.set(key, value);
  }
  if (topLeft !== undefined) params.set('$top', String(topLeft));
  params.set('$skiptoken', skiptoken);
  return `${root}${entitySet}?${params.toString().replace(/%24/g, '$').replace(/%2C/gi, ',')}`;
}
