import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isLiveliness, Liveliness, LIVELINESS_VALUES } from '@app/sc-protocol';

/** The `liveliness` query value of a report, checked against the protocol's values. */
@Injectable()
export class LivelinessValuePipe implements PipeTransform<unknown, Liveliness> {
  transform(value: unknown): Liveliness {
    if (isLiveliness(value)) return value;
    throw new BadRequestException(
      `liveliness must be one of ${LIVELINESS_VALUES.join(', ')}, got ${JSON.stringify(value ?? null)}`,
    );
  }
}
