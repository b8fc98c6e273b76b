/**
 * Load generator, run as a child process of bench/run.ts (so that the load does not share an
 * event loop with the orchestrator or the server). The IPC entry only: it serves the LoadSpecs the
 * orchestrator sends, one at a time, with bench/lib/load-run.ts (closed loop through autocannon's
 * programmatic API, or open loop at a fixed arrival rate), and forwards the runs' progress.
 */
import { runLoadSpec, type LoadSpec } from './lib/load-run.js';
import { sendProgress, serveRuns } from './lib/worker-rpc.js';

export type { LoadResult, LoadSpec } from './lib/load-run.js';

// One run at a time; the orchestrator keeps this process for all its runs (no start-up per run).
serveRuns((spec: LoadSpec) => runLoadSpec(spec, sendProgress));
