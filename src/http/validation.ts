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

/** The global ValidationPipe: unknown fields are refused, and every 400 message names its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors)),
  });
}
