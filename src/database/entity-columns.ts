import { getMetadataArgsStorage } from 'typeorm';

/** An entity class, as its decorators registered it. */
type EntityClass = abstract new (...args: never[]) => object;

/**
 * What an entity declares, read from its decorators: code that writes a table in plain SQL takes
 * its column and index lists from here, so the entity stays the one place they are declared.
 */
export function entityColumns(entity: EntityClass): { property: string; column: string }[] {
  return getMetadataArgsStorage()
    .columns.filter((c) => c.target === entity)
    .map((c) => ({ property: c.propertyName, column: c.options.name ?? c.propertyName }));
}

export function entityIndexes(entity: EntityClass): { name: string; columns: string[] }[] {
  const columnOf = new Map(entityColumns(entity).map((c) => [c.property, c.column]));
  return getMetadataArgsStorage()
    .indices.filter((i) => i.target === entity)
    .map((i) => ({ name: i.name!, columns: (i.columns as string[]).map((property) => columnOf.get(property)!) }));
}
