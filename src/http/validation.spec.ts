import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateSpawnDto } from '../spawn/dto/create-spawn.dto';
import { flattenValidationErrors } from './validation';

describe('flattenValidationErrors', () => {
  it('says each broken rule of a field once, even when two rules share a message (an empty session token)', async () => {
    const errors = await validate(plainToInstance(CreateSpawnDto, { sessionToken: '' }));
    expect(flattenValidationErrors(errors)).toEqual([
      "sessionToken must be 1 to 256 printable ASCII characters without spaces, not starting with '-'",
    ]);
  });
});
