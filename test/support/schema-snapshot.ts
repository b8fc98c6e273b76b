import type { Database } from '../../src/database/database.js';

export interface TableShape {
  columns: string[];
  indexes: string[];
}

/**
 * A database's schema as comparable text: per table its columns (name, type, nullability,
 * default) and its indexes (name, uniqueness, columns), sorted. Two databases with equal
 * snapshots have the same tables, columns, types and indexes.
 */
export async function schemaSnapshot(db: Database): Promise<Record<string, TableShape>> {
  return db.isSqlite ? sqliteSnapshot(db) : postgresSnapshot(db);
}

async function sqliteSnapshot(db: Database): Promise<Record<string, TableShape>> {
  const tables: { name: string }[] = await db.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`);
  const out: Record<string, TableShape> = {};
  for (const { name } of tables) {
    const columns: { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[] = await db.query(
      `SELECT * FROM pragma_table_info('${name}')`,
    );
    const indexes: { name: string; unique: number }[] = await db.query(`SELECT * FROM pragma_index_list('${name}')`);
    const described = [];
    for (const index of indexes) {
      const parts: { name: string }[] = await db.query(`SELECT name FROM pragma_index_info('${index.name}') ORDER BY seqno`);
      described.push(`${index.name} ${index.unique ? 'unique ' : ''}(${parts.map((p) => p.name).join(', ')})`);
    }
    out[name] = {
      columns: columns
        .map(
          (c) =>
            `${c.name} ${c.type.toLowerCase()}${c.notnull ? ' not null' : ''}${c.dflt_value !== null ? ` default ${c.dflt_value}` : ''}${c.pk ? ` pk${c.pk}` : ''}`,
        )
        .sort(),
      indexes: described.sort(),
    };
  }
  return out;
}

async function postgresSnapshot(db: Database): Promise<Record<string, TableShape>> {
  const columns: {
    table_name: string;
    column_name: string;
    data_type: string;
    character_maximum_length: number | null;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }[] = await db.query(`SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default, is_identity
                    FROM information_schema.columns WHERE table_schema = 'public'`);
  const indexes: { tablename: string; indexname: string; indexdef: string }[] = await db.query(
    `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
  );
  const out: Record<string, TableShape> = {};
  for (const c of columns) {
    out[c.table_name] ??= { columns: [], indexes: [] };
    const type = `${c.data_type}${c.character_maximum_length ? `(${c.character_maximum_length})` : ''}`;
    out[c.table_name].columns.push(
      `${c.column_name} ${type}${c.is_nullable === 'NO' ? ' not null' : ''}${c.column_default !== null ? ` default ${c.column_default}` : ''}${c.is_identity === 'YES' ? ' identity' : ''}`,
    );
  }
  for (const i of indexes) out[i.tablename]?.indexes.push(i.indexdef.replace(/ ON public\./, ' ON '));
  for (const shape of Object.values(out)) {
    shape.columns.sort();
    shape.indexes.sort();
  }
  return out;
}
