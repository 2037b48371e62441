import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { RENDERER_TYPES, RendererType } from '@app/sc-protocol';
import { IsModelName, SESSION_TOKEN_MAX_LENGTH, SESSION_TOKEN_PATTERN, SESSION_TOKEN_RULE } from '../model-name.validator';

export class CreateSpawnDto {
  @ApiPropertyOptional({ enum: RENDERER_TYPES, default: 'csr', description: 'Client-side (csr) or server-side (ssr) rendering' })
  @IsOptional()
  @IsIn(RENDERER_TYPES, { message: 'rendererType must be "csr" or "ssr"' })
  rendererType?: RendererType;

  @ApiPropertyOptional({ example: 'microengine', description: 'Model to load, relative to the model search directories (--model-file)' })
  @IsOptional()
  @IsModelName()
  model?: string;

  @ApiPropertyOptional({ example: 's3cr3t-token', description: 'Token the viewer must present (--session-token)' })
  @IsOptional()
  @IsString({ message: 'sessionToken must be a string' })
  @Length(1, SESSION_TOKEN_MAX_LENGTH, { message: `sessionToken must be ${SESSION_TOKEN_RULE}` })
  @Matches(SESSION_TOKEN_PATTERN, { message: `sessionToken must be ${SESSION_TOKEN_RULE}` })
  sessionToken?: string;
}
