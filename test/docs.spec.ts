import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The docs are the contract for users and maintainers: their links must lead somewhere inside the
 * repository, and the functions they name as where a rule lives must exist.
 */
const ROOT = resolve('.');
const MARKDOWN = [
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
  join(ROOT, 'README.md'),
];

/** Fenced code blocks blanked (line count kept), so their contents are not read as links or headings. */
const withoutFences = (text: string) => text.replace(/```[\s\S]*?```/g, (block) => '\n'.repeat(block.split('\n').length - 1));

/** GitHub's heading anchors: lower-cased, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutFences(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const text = match[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n ? `${slug}-${n}` : slug);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  withoutFences(readFileSync(file, 'utf8'))
    .split('\n')
    .forEach((text, i) => {
      const outsideCode = text.replace(/`[^`]*`/g, '');
      for (const match of outsideCode.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
        links.push({ file: relative(ROOT, file), line: i + 1, target: match[1] });
    });
  return links;
}

describe('docs', () => {
  const links = MARKDOWN.flatMap(linksOf);

  it('has links to check (the parser found them)', () => {
    expect(links.length).toBeGreaterThan(30);
  });

  it('every relative link names a file inside the repository, and an anchor that exists', () => {
    const broken: string[] = [];
    for (const { file, line, target } of links) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [path, anchor] = target.split('#');
      const dest = path ? resolve(dirname(join(ROOT, file)), path) : join(ROOT, file);
      if (!dest.startsWith(`${ROOT}/`)) broken.push(`${file}:${line} ${target}: outside the repository`);
      else if (!existsSync(dest)) broken.push(`${file}:${line} ${target}: no such file`);
      else if (anchor && (statSync(dest).isDirectory() || !dest.endsWith('.md') || !anchorsOf(dest).has(anchor)))
        broken.push(`${file}:${line} ${target}: no such anchor`);
    }
    expect(broken).toEqual([]);
  });

  it('every `src/…ts#name` a doc names (where a rule lives) is a file that declares that name', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const file of MARKDOWN) {
      const text = readFileSync(file, 'utf8');
      // `src/a/b.ts#first`, `#second` (a later `#name` in the same cell refers to the same file).
      for (const cell of text.matchAll(/`(src\/[\w./-]+\.ts)#(\w+)`((?:[^|\n]*?`#\w+`)*)/g)) {
        const [, path, first, rest] = cell;
        const names = [first, ...[...rest.matchAll(/`#(\w+)`/g)].map((m) => m[1])];
        const source = existsSync(path) ? readFileSync(path, 'utf8') : '';
        for (const name of names) {
          checked++;
          if (
            !new RegExp(`\\b(function|class|const|let|async|interface|type)\\s+${name}\\b|^\\s+(private |public |async |static )*${name}\\s*[(<]`, 'm').test(
              source,
            )
          ) {
            missing.push(`${relative(ROOT, file)}: ${path}#${name}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
