import type { FileSystem } from '../adapters/file-system.adapter';
import { ApiKeys } from '../auth/api-keys';
import type { AccessSettings, ServersSettings } from '../config';
import { loggerParams } from './logging.module';

type ReqSerializer = (request: object) => { userAgent?: string; remoteAddress?: string; url: string };
type LogMethod = (this: unknown, args: unknown[], method: (...args: unknown[]) => void) => void;

describe('the access log line of a request', () => {
  const params = loggerParams(
    { logLevel: 'info', logFormat: 'json' } as AccessSettings,
    {} as ServersSettings,
    new ApiKeys([]),
    {} as FileSystem,
  );
  const [options] = params.pinoHttp as [{ serializers: { req: ReqSerializer }; hooks: { logMethod: LogMethod } }];
  const serialize = (userAgent?: string) =>
    options.serializers.req({
      id: '1',
      method: 'GET',
      url: '/x',
      headers: userAgent ? { 'user-agent': userAgent } : {},
    });

  it('writes a User-Agent with control characters escaped: obs-text C1 (CSI, NEL) never reaches the reader raw', () => {
    // Node reads header bytes 0x80-0xff as latin1: 0x9b is U+009B, a terminal's CSI; 0x85 is U+0085 (NEL).
    const { userAgent } = serialize('a\u009b2J\u0085FAKE');
    expect(userAgent).toBe('a\\x9b2J\\x85FAKE');
    expect(userAgent).not.toMatch(/[\u0080-\u009f]/);
  });

  it("escapes the client's address too: under TRUST_PROXY=true it is whatever X-Forwarded-For said", () => {
    const request = { id: '1', method: 'GET', url: '/x', headers: {}, raw: { ip: '1.2.3.4\u009b2J\u0085FAKE' } };
    expect(options.serializers.req(request).remoteAddress).toBe('1.2.3.4\\x9b2J\\x85FAKE');
    expect(options.serializers.req({ ...request, raw: { ip: '::1' } }).remoteAddress).toBe('::1');
  });

  it('keeps a plain User-Agent as sent, and none when none was sent', () => {
    expect(serialize('Mozilla/5.0 (X11; Linux x86_64)').userAgent).toBe('Mozilla/5.0 (X11; Linux x86_64)');
    expect(serialize().userAgent).toBeUndefined();
  });

  it("escapes them in every line's message too, e.g. a refused WebSocket's Origin (JSON escapes neither C1)", () => {
    const written: unknown[][] = [];
    options.hooks.logMethod.call(null, ['origin "http://evil\u009b2J\u0085FAKE" may not open'], (...args) =>
      written.push(args),
    );
    expect(written).toEqual([['origin "http://evil\\x9b2J\\x85FAKE" may not open']]);
  });
});
