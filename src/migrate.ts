import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ALL_ENTITIES } from './all-entities.js';
import { dataSourceOptions } from './database/data-source.js';
import { applyMigrations, migrationStatus } from './database/migrate.js';
import { ConfigError, loadConfig } from './config/config.js';
import { errorText } from './shared/error-text.js';

/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL without starting the service.
 * `npm run migrate -- --status`: lists every migration as applied or pending, and any the
 * database has that this code does not know. Exit code 1 on any failure.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = await new DataSource(dataSourceOptions(config.database, ALL_ENTITIES)).initialize();
  try {
    if (process.argv.includes('--status')) {
      const { migrations, unknown } = await migrationStatus(dataSource);
      for (const m of migrations) console.log(`${m.applied ? 'applied' : 'pending'}  ${m.name}`);
      for (const name of unknown) console.log(`unknown  ${name} (applied by a newer release)`);
      return;
    }
    const applied = await applyMigrations(dataSource);
    console.log(applied.length ? `applied ${applied.length}: ${applied.join(', ')}` : 'nothing to apply: the schema is current');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : `migrate failed: ${errorText(error)}`);
  process.exit(1);
});
