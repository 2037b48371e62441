import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { RENDERER_TYPES, type RendererType } from '@app/sc-protocol';
import { IsModelName } from '../model-name.validator';
import { IsSessionToken } from '../session-token.validator';

export class CreateSpawnDto {
  @ApiPropertyOptional({
    enum: RENDERER_TYPES,
    default: 'csr',
    description: 'Client-side (csr) or server-side (ssr) rendering',
  })
  @IsOptional()
  @IsIn(RENDERER_TYPES, { message: 'rendererType must be "csr" or "ssr"' })
  rendererType?: RendererType;

  @ApiPropertyOptional({
    example: 'microengine',
    description: 'Model to load, relative to the model search directories (--model-file)',
  })
  @IsOptional()
  @IsModelName()
  model?: string;

  @ApiPropertyOptional({ example: 's3cr3t-token', description: 'Token the viewer must present (--session-token)' })
  @IsOptional()
  @IsSessionToken('sessionToken')
  sessionToken?: string;

  @ApiPropertyOptional({
    example: 3600,
    description:
      "This session's lifetime limit in seconds: it is ended (close code 4002) once this old; never above the node's SC_MAX_SESSION_S",
  })
  @IsOptional()
  @IsInt({ message: 'maxSessionSeconds must be a whole number of seconds' })
  @Min(1, { message: 'maxSessionSeconds must be at least 1' })
  @Max(31_536_000, { message: 'maxSessionSeconds must be at most 31536000 (a year)' })
  maxSessionSeconds?: number;
}
