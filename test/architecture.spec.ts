import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The folders of src/ form layers: a folder may import only from folders below it, so each can be
 * read, tested and changed without the ones above. A cycle between two folders means neither can,
 * and it grows: once there is one, nothing stops the next import from either side.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
/** Files directly in src/ (app.module.ts, main.ts, …): the composition root, imported by nobody. */
const ROOT = '.';

interface Import {
  from: string;
  specifier: string;
  /** The file under src/ it names, or null for a package or a file outside src/. */
  target: string | null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** ESM specifiers name the compiled file (`./x.js`); the source is `./x.ts`. */
function resolveRelative(from: string, specifier: string): string | null {
  const path = resolve(dirname(from), specifier);
  if (!path.startsWith(SRC + sep)) return null;
  const candidates = [path.replace(/\.js$/, '.ts'), `${path}.ts`, join(path, 'index.ts'), path];
  return candidates.find((candidate) => existsSync(candidate)) ?? path;
}

/** Every import and re-export, type-only ones included: they tie the folders as much as the others. */
function importsOf(file: string): Import[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.map(({ fileName }) => ({
    from: file,
    specifier: fileName,
    target: fileName.startsWith('.') ? resolveRelative(file, fileName) : null,
  }));
}

const folderOf = (file: string): string => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0] : ROOT;
};

const show = (file: string) => relative(resolve(SRC, '..'), file);

const files = sourceFiles(SRC);
const imports = new Map(files.map((file) => [file, importsOf(file)]));

/** Folder → folder it imports → one import that makes the edge (to name it when it is wrong). */
function folderGraph(): Map<string, Map<string, Import>> {
  const graph = new Map<string, Map<string, Import>>();
  for (const list of imports.values()) {
    for (const imp of list) {
      if (!imp.target) continue;
      const [a, b] = [folderOf(imp.from), folderOf(imp.target)];
      if (a === b) continue;
      const edges = graph.get(a) ?? new Map<string, Import>();
      if (!edges.has(b)) edges.set(b, imp);
      graph.set(a, edges);
    }
  }
  return graph;
}

/** A cycle as its folders, first one repeated at the end; null when the graph has none. */
function findCycle(graph: Map<string, Map<string, Import>>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (folder: string): string[] | null => {
    if (path.includes(folder)) return [...path.slice(path.indexOf(folder)), folder];
    if (done.has(folder)) return null;
    path.push(folder);
    for (const next of [...(graph.get(folder)?.keys() ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(folder);
    return null;
  };
  for (const folder of [...graph.keys()].sort()) {
    const cycle = visit(folder);
    if (cycle) return cycle;
  }
  return null;
}

function describeCycle(graph: Map<string, Map<string, Import>>, cycle: string[]): string {
  const steps = cycle.slice(1).map((to, i) => {
    const imp = graph.get(cycle[i])!.get(to)!;
    return `  ${cycle[i]} -> ${to}: ${show(imp.from)} imports '${imp.specifier}'`;
  });
  return `folder import cycle ${cycle.join(' -> ')}\n${steps.join('\n')}`;
}

/**
 * Everything `file` depends on within src/, with the chain of imports that reaches it, so that a
 * decider that reaches a framework through a helper is caught as well as one that imports it.
 */
function reachable(file: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[file, [show(file)]]]);
  const queue = [file];
  for (let current = queue.shift(); current; current = queue.shift()) {
    for (const imp of imports.get(current) ?? []) {
      if (!imp.target || chains.has(imp.target) || !imports.has(imp.target)) continue;
      chains.set(imp.target, [...chains.get(current)!, show(imp.target)]);
      queue.push(imp.target);
    }
  }
  return chains;
}

describe('architecture', () => {
  it('sees the imports of src/, type-only ones included', () => {
    // A reader that missed files or `import type` would let every check below pass unseen.
    expect(files.length).toBeGreaterThan(50);
    const leadEvents = imports.get(join(SRC, 'leads', 'lead.events.ts')) ?? [];
    expect(leadEvents.map((i) => i.specifier)).toContain('../qualify-setting/qualify-lead-setting.decider.js');
    expect([...(folderGraph().get('leads')?.keys() ?? [])]).toEqual(expect.arrayContaining(['event-store', 'records', 'uniqueness', 'shared']));
  });

  it('has no import cycle between the folders of src/', () => {
    const graph = folderGraph();
    const cycle = findCycle(graph);
    expect(cycle && describeCycle(graph, cycle)).toBeNull();
  });

  it('keeps the deciders free of the framework and of the HTTP edge', () => {
    const deciders = files.filter((file) => file.endsWith('.decider.ts') || file === join(SRC, 'event-store', 'decider.ts'));
    expect(deciders.map(show)).toEqual(expect.arrayContaining(['src/leads/lead.decider.ts', 'src/event-store/decider.ts']));
    const violations: string[] = [];
    for (const decider of deciders) {
      for (const [file, chain] of reachable(decider)) {
        if (file.startsWith(join(SRC, 'http') + sep)) violations.push(chain.join(' -> '));
        for (const imp of imports.get(file) ?? []) {
          if (imp.specifier.startsWith('@nestjs/')) violations.push(`${chain.join(' -> ')} -> ${imp.specifier}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
