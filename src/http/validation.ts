import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** Flattens class-validator errors (nested ones too) into messages that each name their field. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    // Several rules of one field may share a message (an empty session token breaks its length and its pattern).
    const messages = new Set(Object.values(error.constraints ?? {}));
    const own = [...messages].map((message) => {
      if (message.startsWith(path)) return message;
      if (message.startsWith(error.property)) return `${parent}.${message}`;
      return `${path}: ${message}`;
    });
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

/** How many of a body's validation problems a 400 lists. */
export const MAX_VALIDATION_MESSAGES = 10;

/** A 400's messages: the first MAX_VALIDATION_MESSAGES of flattenValidationErrors, then how many more there are. */
export function validationMessages(errors: ValidationError[]): string[] {
  const all = flattenValidationErrors(errors);
  if (all.length <= MAX_VALIDATION_MESSAGES) return all;
  return [...all.slice(0, MAX_VALIDATION_MESSAGES), `and ${all.length - MAX_VALIDATION_MESSAGES} more`];
}

/**
 * The global ValidationPipe: unknown fields are refused, every 400 message names its field, and a 400 lists at most
 * MAX_VALIDATION_MESSAGES of them.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
  });
}
