import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { BadRequestException } from '@nestjs/common';
import { CreateSpawnDto } from '../spawn/dto/create-spawn.dto';
import {
  createValidationPipe,
  flattenValidationErrors,
  MAX_VALIDATION_MESSAGES,
  validationMessages,
} from './validation';

describe('flattenValidationErrors', () => {
  it('says each broken rule of a field once, even when two rules share a message (an empty session token)', async () => {
    const errors = await validate(plainToInstance(CreateSpawnDto, { sessionToken: '' }));
    expect(flattenValidationErrors(errors)).toEqual([
      "sessionToken must be 1 to 256 printable ASCII characters without spaces, not starting with '-'",
    ]);
  });
});

describe('validationMessages', () => {
  const unknownKeys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 0]));
  const errorsFor = (body: object) =>
    validate(plainToInstance(CreateSpawnDto, body), { whitelist: true, forbidNonWhitelisted: true });

  it(`lists every problem up to ${MAX_VALIDATION_MESSAGES}`, async () => {
    const messages = validationMessages(await errorsFor(unknownKeys(MAX_VALIDATION_MESSAGES)));
    expect(messages).toHaveLength(10);
    expect(messages[9]).toBe('k9: property k9 should not exist');
  });

  it('lists the first 10 and says how many more', async () => {
    const messages = validationMessages(await errorsFor({ ...unknownKeys(25), rendererType: 'x' }));
    expect(messages).toHaveLength(11);
    expect(messages[0]).toBe('k0: property k0 should not exist');
    expect(messages[10]).toBe('and 16 more');
  });

  it('is what the global pipe answers', async () => {
    const refusal = await createValidationPipe()
      .transform(unknownKeys(100), { type: 'body', metatype: CreateSpawnDto, data: '' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(BadRequestException);
    const { message } = (refusal as BadRequestException).getResponse() as { message: string[] };
    expect(message).toHaveLength(11);
    expect(message[10]).toBe('and 90 more');
  });
});
