import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, ValidateBy } from 'class-validator';
import { argvValueProblem } from '@app/sc-protocol';

export const SESSION_TOKEN_MAX_LENGTH = 256;
/** Printable ASCII without spaces: it travels on a command line and in a viewer's first message. */
export const SESSION_TOKEN_PATTERN = /^[\x21-\x7e]+$/;
export const SESSION_TOKEN_RULE = `1 to ${SESSION_TOKEN_MAX_LENGTH} printable ASCII characters without spaces, not starting with '-'`;

/** The one session-token rule of both APIs; `field` is the name the messages use (e.g. params.sessionToken). */
export function IsSessionToken(field: string): PropertyDecorator {
  const message = `${field} must be ${SESSION_TOKEN_RULE}`;
  return applyDecorators(
    IsString({ message: `${field} must be a string` }),
    Length(1, SESSION_TOKEN_MAX_LENGTH, { message }),
    Matches(SESSION_TOKEN_PATTERN, { message }),
    ValidateBy(
      {
        name: 'isArgvValue',
        validator: { validate: (value) => typeof value !== 'string' || argvValueProblem(value) === undefined },
      },
      { message },
    ),
  );
}
