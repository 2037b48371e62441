import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { createValidationPipe } from '../../http/validation';
import { MODEL_NAME_MAX_LENGTH, MODEL_NAME_RULE } from '../model-name.validator';
import { SESSION_TOKEN_MAX_LENGTH, SESSION_TOKEN_RULE } from '../session-token.validator';
import { CreateSpawnDto } from './create-spawn.dto';

const BODY: ArgumentMetadata = { type: 'body', metatype: CreateSpawnDto, data: '' };

/** Runs the application's own global pipe, as POST /spawn does. */
describe('CreateSpawnDto through the global ValidationPipe', () => {
  let pipe: ValidationPipe;
  beforeAll(() => {
    pipe = createValidationPipe();
  });

  async function messagesFor(body: unknown): Promise<string[]> {
    let thrown: unknown;
    try {
      await pipe.transform(body, BODY);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadRequestException);
    const exception = thrown as BadRequestException;
    expect(exception.getStatus()).toBe(400);
    const response = exception.getResponse() as { statusCode: number; message: string[]; error: string };
    expect(response.statusCode).toBe(400);
    expect(Array.isArray(response.message)).toBe(true);
    return response.message;
  }

  describe('valid bodies', () => {
    it.each([
      [{}],
      [{ rendererType: 'csr' }],
      [{ rendererType: 'ssr' }],
      [{ model: 'microengine' }],
      [{ rendererType: 'ssr', model: 'sub/bnc.scz', sessionToken: 's3cr3t-token' }],
      [{ model: 'scsim:never-ready' }],
      [{ model: 'scsim:exit-before-ready:4' }],
      [{ sessionToken: 'x'.repeat(SESSION_TOKEN_MAX_LENGTH) }],
      [{ model: 'm'.repeat(MODEL_NAME_MAX_LENGTH) }],
    ])('%j passes and comes out as a CreateSpawnDto with the same values', async (body) => {
      const result = await pipe.transform(body, BODY);
      expect(result).toBeInstanceOf(CreateSpawnDto);
      expect({ ...result }).toEqual(body);
    });

    it('leaves rendererType untouched: absent stays absent (the controller picks csr), given stays as given', async () => {
      const none = (await pipe.transform({ model: 'microengine' }, BODY)) as CreateSpawnDto;
      expect(none.rendererType).toBeUndefined();
      const ssr = (await pipe.transform({ rendererType: 'ssr' }, BODY)) as CreateSpawnDto;
      expect(ssr.rendererType).toBe('ssr');
    });

    it('null counts as absent (IsOptional)', async () => {
      const result = (await pipe.transform(
        { rendererType: null, model: null, sessionToken: null },
        BODY,
      )) as CreateSpawnDto;
      expect(result.rendererType).toBeNull();
      expect(result.model).toBeNull();
    });
  });

  describe('invalid bodies: 400 whose messages name the field', () => {
    it('an unknown field', async () => {
      expect(await messagesFor({ rendererType: 'csr', class: 'csr_session' })).toEqual([
        'class: property class should not exist',
      ]);
    });

    it.each(['webgl', 'CSR', '', 1, ['csr']])('rendererType %j', async (rendererType) => {
      expect(await messagesFor({ rendererType })).toEqual(['rendererType must be "csr" or "ssr"']);
    });

    it.each([
      ['../x'],
      ['/abs'],
      ['-rf'],
      ['a/../b'],
      ['m'.repeat(MODEL_NAME_MAX_LENGTH + 1)],
      ['bad;chars'],
      ['bad|chars'],
      ['$(reboot)'],
      ['a\nb'],
      ['scsim:../../x'],
      [42],
      [''],
    ])('model %j', async (model) => {
      expect(await messagesFor({ model })).toEqual([`model must be ${MODEL_NAME_RULE}`]);
    });

    it.each([
      ['with space'],
      ['x'.repeat(SESSION_TOKEN_MAX_LENGTH + 1)],
      [''],
      ['tab\there'],
      ['naïve'],
      ['--license-file=/etc/shadow'],
      ['-x'],
      ['a\nb'],
      ['a\0b'],
    ])('sessionToken %j', async (sessionToken) => {
      const messages = await messagesFor({ sessionToken });
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(message).toBe(`sessionToken must be ${SESSION_TOKEN_RULE}`);
    });

    it('a non-string sessionToken', async () => {
      const messages = await messagesFor({ sessionToken: 12345 });
      expect(messages).toContain('sessionToken must be a string');
      for (const message of messages) expect(message.startsWith('sessionToken ')).toBe(true);
    });

    it('several bad fields: one message per problem, each naming its field', async () => {
      const messages = await messagesFor({ rendererType: 'x', model: '../etc', sessionToken: 'a b', extra: 1 });
      expect(messages).toEqual(
        expect.arrayContaining([
          'rendererType must be "csr" or "ssr"',
          `model must be ${MODEL_NAME_RULE}`,
          `sessionToken must be ${SESSION_TOKEN_RULE}`,
          'extra: property extra should not exist',
        ]),
      );
      for (const field of ['rendererType', 'model', 'sessionToken', 'extra']) {
        expect(messages.some((m) => m.includes(field))).toBe(true);
      }
    });
  });
});
