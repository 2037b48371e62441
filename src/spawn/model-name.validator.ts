import { registerDecorator, ValidationOptions } from 'class-validator';
import { argvValueProblem } from '@app/sc-protocol';

export const MODEL_NAME_MAX_LENGTH = 200;
// ':' is allowed: it smuggles neither an option nor a path (the simulator reads `scsim:<fault>` names this way).
const SEGMENT = /^[A-Za-z0-9 _.+():-]+$/;

export const MODEL_NAME_RULE =
  `a plain relative model name: at most ${MODEL_NAME_MAX_LENGTH} characters; letters, digits, space and . _ - + ( ) : ` +
  `in parts separated by '/'; no '.' or '..' part; not starting with '-' or '/'`;

/** Whether a client-supplied model name is safe to hand to the server as --model-file. */
export function isPlainModelName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  if (argvValueProblem(value, MODEL_NAME_MAX_LENGTH) !== undefined || value.startsWith('/')) return false;
  return value.split('/').every((part) => SEGMENT.test(part) && part !== '.' && part !== '..' && part.trim() === part);
}

export function IsModelName(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isModelName',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `$property must be ${MODEL_NAME_RULE}`, ...options },
      validator: { validate: isPlainModelName },
    });
}
