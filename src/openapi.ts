import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createApp } from './app.js';
import { loadConfig } from './config/config.js';
import { errorText } from './shared/error-text.js';

/**
 * `npm run lint:openapi`: writes the OpenAPI document the service serves at /docs-json to the file
 * named by the first argument (default openapi.json), for `redocly lint`. The document comes from
 * the code (the @nestjs/swagger decorators, which need the compiler's decorator metadata: hence a
 * compiled entry point, not tsx); this boots the service on an in-memory database and reads it.
 */
async function main(): Promise<void> {
  const out = process.argv[2] ?? 'openapi.json';
  // Quiet: the document is the output (the framework would log its start-up before useLogger).
  Logger.overrideLogger(false);
  const config = loadConfig({ DATABASE_URL: 'sqlite::memory:', JWT_SECRET: 'openapi-document-only-0123456789-abcdef', LOG_LEVEL: 'silent' });
  const app = await createApp(config, { logger: false, docsUi: false });
  try {
    await app.init();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/docs-json`);
    if (!res.ok) throw new Error(`/docs-json answered ${res.status}`);
    writeFileSync(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
  } finally {
    await app.close();
  }
  console.error(`wrote ${out}`);
}

main().catch((error: unknown) => {
  console.error(`openapi failed: ${errorText(error, 'stack')}`);
  process.exit(1);
});
