import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';

/**
 * Checkpoints the SQLite WAL from a worker thread with its own connection.
 *
 * With SQLite's default (wal_autocheckpoint), the commit that pushes the WAL past 1,000 pages
 * copies them into the database file and fsyncs it, on the service's only connection, in the
 * middle of a command or a projection batch: the benchmark measured half of all COMMIT time
 * there (docs/performance.md). A PASSIVE checkpoint from another connection never blocks the
 * writer, and its fsync waits on a thread that serves no request. If the worker dies, the
 * service's connection takes checkpoints back (onFailure), so the WAL can never grow unchecked.
 *
 * The worker is evaluated from source (CommonJS, eval) rather than loaded from a file: the
 * service runs from dist/ and from TypeScript under Jest, and only an inline worker is found in both.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require('better-sqlite3');
const db = new Sqlite(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = NORMAL');
let stopped = false;
const tick = () => {
  if (stopped) return;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', ...result });
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: error.message });
  }
  timer = setTimeout(tick, workerData.intervalMs);
};
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort.postMessage({ type: 'stopped' });
});
`;

export interface WalCheckpointerOptions {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Called once if the worker stops working: the caller takes checkpoints back. */
  onFailure: (reason: string) => void;
}

export class WalCheckpointer {
  private readonly logger = new Logger(WalCheckpointer.name);
  /** Exposed so that tests can kill it and see the fallback. */
  readonly worker: Worker;
  failed = false;
  private stopping = false;
  /** WAL frames written and checkpointed at the last checkpoint, for metrics and tests. */
  last: { log: number; checkpointed: number; at: number } | null = null;

  constructor(private readonly options: WalCheckpointerOptions) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: options.path, intervalMs: options.intervalMs, busyTimeoutMs: options.busyTimeoutMs },
    });
    this.worker.unref();
    this.worker.on('message', (message: { type: string; log?: number; checkpointed?: number; message?: string }) => {
      if (message.type === 'checkpoint') this.last = { log: message.log!, checkpointed: message.checkpointed!, at: Date.now() };
      else if (message.type === 'error') this.logger.warn(`WAL checkpoint failed, will retry: ${message.message}`);
    });
    this.worker.on('error', (error) => this.fail(error.message));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.fail(`worker exited with code ${code}`);
    });
  }

  /** Stops the worker after its checkpoint in progress; the service's connection closes after. */
  async stop(): Promise<void> {
    if (this.stopping || this.failed) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await Promise.race([new Promise<void>((resolve) => this.worker.on('message', (m: { type: string }) => m.type === 'stopped' && resolve())), exited]);
    await this.worker.terminate();
  }

  private fail(reason: string): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    this.logger.error(`background WAL checkpoints stopped (${reason}); the service's connection takes them over`);
    this.options.onFailure(reason);
  }
}
