/**
 * End to end: /docs-json describes every route the application registers (and nothing it does not), each with
 * typed responses, the bearer scheme exactly where the guard asks for a key, Retry-After on 429/503 where it is
 * sent, this service's own health examples, and the WebSocket proxy.
 */
import { load } from 'js-yaml';
import { registeredRoutes } from './support/operable';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import { rawRequest, startTrackedApp } from './support/spawner-e2e';

const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '25700', SC_MAX_SPAWNS: '2', API_KEYS: 'k3y-docs-0123456789abcdef' };
/** Swagger's own pages, served beside the document. */
const SWAGGER_PAGES = /^\/docs(\/|-json$|-yaml$|$)/;

type Operation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<
    string,
    { description?: string; content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }
  >;
};

describe('OpenAPI document (e2e)', () => {
  const cleanup = useCleanup();

  it('lists exactly the registered routes, typed, with access and Retry-After', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const answer = await rawRequest(app.url, 'GET', '/docs-json');
    expect(answer.status).toBe(200);
    const document = answer.json() as { paths: Record<string, Record<string, Operation>>; components: any };
    const toOpenApi = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const registered = registeredRoutes(app.app)
      .filter((route) => !SWAGGER_PAGES.test(route.path))
      .map((route) => `${route.method} ${toOpenApi(route.path)}`)
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .filter((name) => name !== 'GET /ws/{token}') // the WebSocket upgrade, served beside the router
      .sort();
    expect(documented).toEqual(registered);
    expect(registered.length).toBeGreaterThan(15);

    expect(document.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    const open = new Set([
      'GET /',
      'GET /assets/{file}',
      'GET /health',
      'GET /health/ready',
      'GET /api/states',
      'POST /liveliness/{id}',
      'POST /api/spawns/{id}',
      'POST /spawn',
      'POST /api/spawn',
      'POST /service',
    ]);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (name === 'GET /ws/{token}') continue;
        // Every operation answers something documented, and every success has a typed body (204s excepted).
        const statuses = Object.keys(operation.responses);
        expect({ name, statuses }).toEqual({ name, statuses: expect.arrayContaining([expect.stringMatching(/^2/)]) });
        for (const [status, response] of Object.entries(operation.responses)) {
          expect({ name, status, description: typeof response.description }).toEqual({
            name,
            status,
            description: 'string',
          });
          if (status.startsWith('2') && status !== '204') {
            const media = Object.values(response.content ?? {});
            expect({ name, status, typed: media.length > 0 && media.every((m) => m.schema !== undefined) }).toEqual({
              name,
              status,
              typed: true,
            });
          }
          if (status === '429')
            expect({ name, headers: response.headers }).toEqual({
              name,
              headers: { 'Retry-After': expect.anything() },
            });
        }
        if (open.has(name)) expect({ name, security: operation.security }).toEqual({ name, security: [] });
        else {
          expect({ name, security: operation.security }).toEqual({ name, security: [{ bearer: [] }] });
          expect({ name, has401: '401' in operation.responses }).toEqual({ name, has401: true });
        }
      }
    }
    // Spawn routes: 429 and 503 both document Retry-After.
    for (const [path, method] of [
      ['/spawn', 'post'],
      ['/api/spawn', 'post'],
      ['/service', 'post'],
    ] as const) {
      for (const status of ['429', '503']) {
        expect(document.paths[path][method].responses[status].headers).toEqual({ 'Retry-After': expect.anything() });
      }
    }
    // HOOPS responses are typed.
    expect(document.paths['/api/status'].get.responses['200'].content!['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HoopsStatusDto',
    });
    expect(document.paths['/api/spawns'].get.responses['200'].content!['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HoopsSpawnListDto',
    });
    expect(document.paths['/api/spawn'].post.responses['500'].content!['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HoopsFailureDto',
    });
    // Health: this service's own example, not Terminus's stock "database".
    const health = JSON.stringify(document.paths['/health/ready']);
    expect(health).not.toContain('database');
    expect(document.paths['/health/ready'].get.responses['503']).toBeDefined();
    expect(health).toContain('spawner');
    // The relay's capability is the session's relay token; its spawn id (in every list, and in `ps`) opens nothing.
    const relay = document.paths['/ws/{token}'].get as Operation & { description: string; parameters: unknown[] };
    expect(relay.parameters).toEqual([expect.objectContaining({ name: 'token', in: 'path' })]);
    expect(relay.description).not.toMatch(/session id is the capability/);
    expect(relay.responses).toEqual(
      expect.objectContaining({
        '101': expect.anything(),
        '404': expect.anything(),
        '409': expect.anything(),
        '502': expect.anything(),
        '503': expect.anything(),
        '504': expect.anything(),
      }),
    );
  });

  it('with SPAWN_AUTH=required and METRICS_PUBLIC=true the document follows', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_AUTH: 'required', METRICS_PUBLIC: 'true' });
    const document = (await rawRequest(app.url, 'GET', '/docs-json')).json();
    expect(document.paths['/spawn'].post.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/metrics'].get.security).toEqual([]);
  });

  it('serves one document as JSON, as YAML and inside Swagger UI, the same on every request', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const json = await rawRequest(app.url, 'GET', '/docs-json');
    const yaml = await rawRequest(app.url, 'GET', '/docs-yaml');
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(yaml.headers['content-type']).toBe('text/yaml; charset=utf-8');
    expect(load(yaml.body)).toEqual(json.json());
    expect((await rawRequest(app.url, 'GET', '/docs-json')).body).toBe(json.body);
    expect((await rawRequest(app.url, 'GET', '/docs-yaml')).body).toBe(yaml.body);
    expect((await rawRequest(app.url, 'HEAD', '/docs-yaml')).headers['content-length']).toBe(
      String(Buffer.byteLength(yaml.body)),
    );
    const ui = await rawRequest(app.url, 'GET', '/docs/swagger-ui-init.js');
    expect(ui.body).toContain('"swaggerDoc": {');
    expect(ui.body).toContain('"operationId": "WsProxy_connect"');
  });
});
