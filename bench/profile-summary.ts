/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and self
 * time by area (a package under node_modules, the service's own files, Node internals, GC).
 * Percentages are of the busy time (idle excluded).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=30]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  fn: string;
  where: string;
  area: string;
  selfMs: number;
  percent: number;
}

export function summariseProfile(
  file: string,
  top = 30,
): {
  text: string;
  top: ProfileEntry[];
  inclusiveTop: { fn: string; ms: number; percent: number }[];
  byArea: Record<string, number>;
  busyMs: number;
  wallMs: number;
} {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const entries = new Map<string, ProfileEntry>();
  const areas: Record<string, number> = {};
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const area = areaOf(url, functionName);
    const entry = entries.get(key) ?? { fn: functionName || '(anonymous)', where, area, selfMs: 0, percent: 0 };
    entry.selfMs += us / 1000;
    entries.set(key, entry);
    areas[area] = (areas[area] ?? 0) + us / 1000;
  }
  const busyMs = busy / 1000;

  // Inclusive time of the service's own functions and of a few library entry points: a sample
  // counts once for every distinct function on its stack (async continuations start new stacks,
  // so this is the synchronous share).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      if (!url || !(url.includes('.bench-dist/') || INCLUSIVE_LIBS.some((l) => url.includes(l)))) continue;
      const key = `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const inclusiveTop = [...inclusive.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), percent: Math.round((us / 1000 / busyMs) * 1000) / 10 }));
  const sorted = [...entries.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const e of sorted) {
    e.percent = Math.round((e.selfMs / busyMs) * 1000) / 10;
    e.selfMs = Math.round(e.selfMs);
  }
  const byArea = Object.fromEntries(
    Object.entries(areas)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Math.round((v / busyMs) * 1000) / 10]),
  );
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const lines = [
    `${file}`,
    `wall ${Math.round(wallMs)} ms, busy (non-idle) ${Math.round(busyMs)} ms`,
    '',
    'self time by area (% of busy):',
    ...Object.entries(byArea)
      .slice(0, 20)
      .map(([k, v]) => `  ${String(v).padStart(5)} %  ${k}`),
    '',
    `top ${top} functions by self time:`,
    ...sorted.slice(0, top).map((e) => `  ${String(e.percent).padStart(5)} %  ${String(e.selfMs).padStart(7)} ms  ${e.fn}  ${e.where}`),
    '',
    `top ${top} service functions (and library entry points) by inclusive synchronous time:`,
    ...inclusiveTop.map((e) => `  ${String(e.percent).padStart(5)} %  ${String(e.ms).padStart(7)} ms  ${e.fn}`),
  ];
  return { text: lines.join('\n'), top: sorted.slice(0, top), inclusiveTop, byArea, busyMs, wallMs };
}

/** Library functions worth an inclusive figure (where the service hands work to them). */
const INCLUSIVE_LIBS = [
  'jsonwebtoken/verify',
  'class-validator/cjs/validation/ValidationExecutor',
  'class-transformer/cjs/TransformOperationExecutor',
  'typeorm/query-builder/',
  'typeorm/entity-manager/EntityManager',
  '@nestjs/core/router/router-execution-context',
  'fastify/lib/route',
];

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const dist = path.indexOf('.bench-dist/');
  if (dist >= 0) return `src/${path.slice(dist + '.bench-dist/'.length)}`;
  return path.replace(/^.*\/work\/main\//, '');
}

function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : 'native / V8 builtins';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = path.indexOf('.bench-dist/');
  if (dist >= 0)
    return `service: src/${
      path
        .slice(dist + '.bench-dist/'.length)
        .split('/')
        .slice(0, -1)
        .join('/') || '.'
    }`;
  return path;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(summariseProfile(file, Number(top ?? 30)).text);
}
