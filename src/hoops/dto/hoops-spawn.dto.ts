import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsObject, IsOptional, IsString, ValidateBy, ValidateNested } from 'class-validator';
import { argvValueProblem } from '@app/sc-protocol';
import { SpawnLinksDto, IsModelName, MODEL_NAME_RULE, IsSessionToken } from '../../spawn';

export const HOOPS_SESSION_CLASSES = ['csr_session', 'ssr_session'] as const;
export type HoopsSessionClass = (typeof HOOPS_SESSION_CLASSES)[number];

/** The longest model folder path a client may send. */
export const MODEL_DIRECTORY_MAX_LENGTH = 1024;
export const MODEL_DIRECTORY_RULE = `folder paths of at most ${MODEL_DIRECTORY_MAX_LENGTH} characters, not starting with '-', without NUL or line breaks`;

export class HoopsSpawnParamsDto {
  @ApiPropertyOptional({ example: 's3cr3t-token' })
  @IsOptional()
  @IsSessionToken('params.sessionToken')
  sessionToken?: string;

  @ApiPropertyOptional({ example: 'microengine' })
  @IsOptional()
  @IsModelName({ message: `params.model must be ${MODEL_NAME_RULE}` })
  model?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['/srv/models/project-a'],
    description: 'Honoured only inside the configured model roots; searched before the configured folders',
  })
  @IsOptional()
  @IsArray({ message: 'params.modelSearchDirectories must be an array of folder paths' })
  @IsString({ each: true, message: 'params.modelSearchDirectories must contain only strings' })
  @ValidateBy(
    {
      name: 'isArgvValue',
      validator: {
        validate: (value) =>
          typeof value !== 'string' || argvValueProblem(value, MODEL_DIRECTORY_MAX_LENGTH) === undefined,
      },
    },
    { each: true, message: `params.modelSearchDirectories entries must be ${MODEL_DIRECTORY_RULE}` },
  )
  modelSearchDirectories?: string[];

  @ApiPropertyOptional({
    deprecated: true,
    description: 'Legacy; accepted and ignored (this service receives liveliness itself)',
  })
  @IsOptional()
  readyEndpoint?: unknown;

  @ApiPropertyOptional({ deprecated: true, description: 'Legacy; accepted and ignored' })
  @IsOptional()
  statusEndpoint?: unknown;

  @ApiPropertyOptional({ deprecated: true, description: 'Legacy; accepted and ignored' })
  @IsOptional()
  disconnectEndpoint?: unknown;

  @ApiPropertyOptional({ deprecated: true, description: 'Legacy (a number as a string); accepted and ignored' })
  @IsOptional()
  statusUpdateFrequency?: unknown;
}

export class HoopsSpawnDto {
  @ApiPropertyOptional({ enum: HOOPS_SESSION_CLASSES, default: 'csr_session' })
  @IsOptional()
  @IsIn(HOOPS_SESSION_CLASSES, { message: `class must be one of ${HOOPS_SESSION_CLASSES.join(', ')}` })
  class?: HoopsSessionClass;

  @ApiPropertyOptional({ type: HoopsSpawnParamsDto })
  @IsOptional()
  @IsObject({ message: 'params must be an object' })
  @ValidateNested()
  @Type(() => HoopsSpawnParamsDto)
  params?: HoopsSpawnParamsDto;
}

export class HoopsSpawnOkDto {
  @ApiProperty({ example: 'ok' })
  result: 'ok';

  @ApiProperty({ example: '3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11' })
  serviceId: string;

  @ApiProperty({ example: { ws: 'ws://viewer.example.com:11000' } })
  endpoints: { ws: string };

  @ApiPropertyOptional({
    example: true,
    description: 'An extension, present only when the server came ready from the warm pool (SC_WARM_POOL_CSR/SSR)',
  })
  warm?: true;
  @ApiProperty({ example: 'node-a', description: 'Extra key: the node (NODE_NAME) that runs the session' })
  node: string;

  @ApiProperty({ type: SpawnLinksDto, description: 'Extra key: where to find the session again' })
  links: SpawnLinksDto;
}

export class HoopsFailureDto {
  @ApiProperty({ example: 'failed' })
  status: 'failed';

  @ApiProperty({ description: 'What went wrong, for a person' })
  reason: string;
}
