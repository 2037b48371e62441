import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every error answer (Nest's shape), as the HTTP edge renders it. */
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', description: 'The HTTP status' })
  statusCode: number;

  @ApiProperty({
    description: 'What went wrong, for a person (validation errors may list several)',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  })
  message: string | string[];

  @ApiPropertyOptional({ description: "The status's reason phrase" })
  error?: string;
}
