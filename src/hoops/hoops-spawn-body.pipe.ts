import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { flattenValidationErrors } from '../http/validation';
import { HoopsSpawnDto } from './dto/hoops-spawn.dto';

/**
 * The HOOPS spawn body, read as that server reads it: unknown keys are ignored (not refused, unlike the
 * global ValidationPipe), an empty body is `{}`, and a JSON text sent as text/plain is JSON.
 */
@Injectable()
export class HoopsSpawnBodyPipe implements PipeTransform<unknown, Promise<HoopsSpawnDto>> {
  async transform(raw: unknown): Promise<HoopsSpawnDto> {
    const body = typeof raw === 'string' ? parseTextBody(raw) : raw;
    const plain =
      body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0) ? {} : body;
    if (typeof plain !== 'object' || Array.isArray(plain)) {
      throw new BadRequestException(
        'the request body must be a JSON object: {"class": "csr_session"|"ssr_session", "params": {...}}',
      );
    }
    const dto = plainToInstance(HoopsSpawnDto, plain);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: false });
    if (errors.length > 0) throw new BadRequestException(flattenValidationErrors(errors).join('; '));
    return dto;
  }
}

/** Browser clients may post JSON as text/plain to avoid a CORS preflight; the HOOPS Server reads it as JSON. */
function parseTextBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestException(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}
