import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { DomainError } from '../shared/domain-error.js';

const BODY_OPTIONAL = Symbol('bodyOptional');

/**
 * On a command body class: the request may come without a body at all (it reads as `{}`). Without
 * it, a missing body is 400 like any other missing field.
 */
export function BodyOptional(): ClassDecorator {
  return (target) => {
    Object.defineProperty(target, BODY_OPTIONAL, { value: true });
  };
}

// Own property only: a subclass (the bulk body extends the qualify body) decides for itself.
const isBodyOptional = (metatype: unknown): boolean => typeof metatype === 'function' && Object.prototype.hasOwnProperty.call(metatype, BODY_OPTIONAL);

const invalid = (errors: { field: string; message: string }[]) => new DomainError('VALIDATION_FAILED', 'the request is invalid', { errors });

/**
 * Strict input: unknown fields, wrong types and bad enum values are 400 VALIDATION_FAILED with one
 * entry per field. No implicit conversion, so "12" is not a number. A body is a JSON object.
 */
class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => invalid(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' && typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (!dto) return super.transform(value, metadata);
    if (value === undefined && isBodyOptional(metadata.metatype)) value = {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const got = value === undefined ? 'no body' : value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw invalid([{ field: 'body', message: `the body must be a JSON object; got ${got}` }]);
    }
    const unknown = unknownKeys(metadata.metatype as new () => object, value as Record<string, unknown>).map((field) => ({
      field,
      message: `property ${field} should not exist`,
    }));
    try {
      const result: unknown = await super.transform(value, metadata);
      if (unknown.length) throw invalid(unknown);
      return result;
    } catch (error) {
      if (!(error instanceof DomainError) || !unknown.length || error.code !== 'VALIDATION_FAILED') throw error;
      // One answer names every bad field: the validator's findings and the keys it could not see.
      const found = (error.details.errors ?? []) as { field: string; message: string }[];
      const named = new Set(found.map((e) => e.field));
      throw invalid([...found, ...unknown.filter((e) => !named.has(e.field))]);
    }
  }
}

export function strictValidationPipe(): ValidationPipe {
  return new StrictValidationPipe();
}

/**
 * Keys of the body that the class does not declare. The whitelist of class-validator cannot be
 * trusted with this alone: class-transformer silently skips a key the instance already has
 * (`toString`, `constructor`, `valueOf`, every Object.prototype member), so the whitelist never
 * sees it. Checked on the raw body, before any transformation. Command bodies are flat; their
 * nested values are arrays of strings, which validation checks.
 */
function unknownKeys(metatype: new () => object, body: Record<string, unknown>): string[] {
  const declared = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', true, false)
      .map((m) => m.propertyName),
  );
  return Object.keys(body).filter((key) => !declared.has(key));
}

function flatten(errors: ValidationError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
