import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from '../shared/domain-error.js';

/**
 * Strict input: unknown fields, wrong types and bad enum values are 400 VALIDATION_FAILED with one
 * entry per field. No implicit conversion, so "12" is not a number.
 */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new DomainError(400, 'VALIDATION_FAILED', 'the request is invalid', { errors: flatten(errors) }),
  });
}

function flatten(errors: ValidationError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
