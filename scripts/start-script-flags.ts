import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The node flags of package.json's start script (the words between `node` and the script), so
 * that the tests and the benchmark run the service the way `npm start` does.
 */
export function startScriptNodeFlags(root = process.cwd()): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const start = scripts.start;
  const words = start.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json's start script does not begin with node: ${start}`);
  return words.slice(1).filter((word) => word.startsWith('--'));
}
