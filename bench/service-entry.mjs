/**
 * Starts the service built into .bench-dist, exactly as `node .bench-dist/main.js` does, under a
 * command line of its own. On shared machines other jobs clean up their own service processes by
 * command-line pattern (observed: a `node …/.bench-dist/main.js` probe received SIGTERM while a
 * differently named twin did not), which killed the benchmark's service mid-run.
 */
await import(new URL('../.bench-dist/main.js', import.meta.url).href);
