import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
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
}
