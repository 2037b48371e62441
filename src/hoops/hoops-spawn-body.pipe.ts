import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { validationMessages } from '../http';
import { HoopsSpawnDto } from './dto/hoops-spawn.dto';

/**
 * The HOOPS spawn body, read as that server reads it: unknown keys are ignored (not refused, unlike the
 * global ValidationPipe) and an empty body is `{}`. The body was read as JSON (text/plain included), bounded
 * and checked by RequestBodyInterceptor before it gets here.
 */
@Injectable()
export class HoopsSpawnBodyPipe implements PipeTransform<unknown, Promise<HoopsSpawnDto>> {
  async transform(raw: unknown): Promise<HoopsSpawnDto> {
    const plain = raw === undefined ? {} : raw;
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
      throw new BadRequestException(
        'the request body must be a JSON object: {"class": "csr_session"|"ssr_session", "params": {...}}',
      );
    }
    const dto = plainToInstance(HoopsSpawnDto, plain);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: false });
    if (errors.length > 0) throw new BadRequestException(validationMessages(errors).join('; '));
    return dto;
  }
}
