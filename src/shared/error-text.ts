/**
 * What a log line says of a thrown value: its `message` (or `stack`) when it has one, else the value
 * itself. Anything can be thrown: an Error, a string, an object from a library.
 */
export function errorText(error: unknown, part: 'message' | 'stack' = 'message'): string {
  const text = typeof error === 'object' && error !== null ? (error as Partial<Record<typeof part, unknown>>)[part] : undefined;
  return String(text ?? error);
}
