import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/config.js';
import { createApp } from './app.js';
import { migrateDatabase } from './database/data-source.js';
import { errorText } from './shared/error-text.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // Before anything else touches the database, and so that a database newer than this code stops
  // start-up with the one line below rather than a framework's stack trace.
  await migrateDatabase(config.database);
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  new Logger('Main').log(`listening on http://${config.host}:${config.port} (events: ${config.eventStore}, database: ${config.database.kind})`);
}

main().catch((error: unknown) => {
  console.error(`start-up failed: ${errorText(error)}`);
  process.exit(1);
});
