import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The service's build for the run; removed at the end. */
export const DIST = join(ROOT, '.bench-dist');
export const RESULTS = join(ROOT, 'bench', 'results');
