/**
 * End to end: what /docs-json says each route answers is what it answers. A live response of each documented
 * status is validated (ajv) against the schema the document gives for that route and status; every error status
 * has its own example, which itself fits the schema; nullable fields carry their real type.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import { rawRequest, startTrackedApp } from './support/spawner-e2e';

const KEY = 'k3y-openapi-live-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const JSON_BODY = { 'content-type': 'application/json', ...AUTH };
const ENV = {
  ...FAST_TIMINGS,
  SC_PORT_BASE: '29600',
  SC_MAX_SPAWNS: '1',
  SSR_ENABLED: 'false',
  API_KEYS: KEY,
  BODY_LIMIT: '1kb',
};

type Schema = Record<string, unknown>;
type Responses = Record<string, { content?: Record<string, { schema?: Schema; example?: unknown }> }>;
interface Document {
  paths: Record<string, Record<string, { responses: Responses; requestBody?: { required?: boolean } }>>;
  components: { schemas: Record<string, Schema> };
}

describe('OpenAPI document against live responses (e2e)', () => {
  const cleanup = useCleanup();

  it('each documented status of each route answers with a body its schema accepts', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const document = (await rawRequest(app.url, 'GET', '/docs-json')).json() as Document;
    const ajv = new Ajv({ strict: false, allErrors: true });
    // Formats the document names (date-time, uri...) are checked, not ignored with a warning.
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
    const validators = new Map<string, ValidateFunction>();
    const problems: string[] = [];
    const checked = new Set<string>();

    /** The schema of `path` `method` `status` as documented (JSON), compiled once. */
    function validatorFor(path: string, method: string, status: number): ValidateFunction | undefined {
      const key = `${method} ${path} ${status}`;
      if (!validators.has(key)) {
        const schema = document.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
        if (!schema) return undefined;
        validators.set(key, ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/', '"openapi#/')) as Schema));
      }
      return validators.get(key);
    }

    /** Sends a request and checks its answer against the document. */
    async function check(
      documented: string,
      method: string,
      url: string,
      expected: number,
      body?: string,
      headers: Record<string, string> = body === undefined ? AUTH : JSON_BODY,
    ) {
      const answer = await rawRequest(app.url, method.toUpperCase(), url, body, headers);
      const name = `${method.toUpperCase()} ${documented} ${expected}`;
      checked.add(name);
      if (answer.status !== expected) {
        problems.push(`${name}: answered ${answer.status} ${answer.body.slice(0, 200)}`);
        return answer;
      }
      const validate = validatorFor(documented, method, expected);
      if (!validate) problems.push(`${name}: not in the document`);
      else if (!validate(answer.json())) {
        problems.push(`${name}: ${ajv.errorsText(validate.errors)} in ${answer.body.slice(0, 300)}`);
      }
      return answer;
    }

    // The spawn routes: the refusals of a request's own fault while a slot is free (at a full node the door answers
    // 503 first), an empty POST (the body is optional), then the rest.
    await check('/spawn', 'post', '/spawn', 400, '{"rendererType":"vr"}');
    await check('/spawn', 'post', '/spawn', 403, '{"rendererType":"ssr"}');
    await check('/spawn', 'post', '/spawn', 415, 'x', { 'content-type': 'text/xml' });
    const tooLarge = await check('/spawn', 'post', '/spawn', 413, JSON.stringify({ model: 'm'.repeat(2000) }));
    // The example says what the service says, but for the limit.
    const documented413 = document.paths['/spawn'].post.responses['413'].content!['application/json'].example as {
      message: string;
    };
    expect((tooLarge.json() as { message: string }).message.replace(/\d+/, 'N')).toBe(
      documented413.message.replace(/\d+/, 'N'),
    );
    const created = await check('/spawn', 'post', '/spawn', 200, undefined, {});
    const id = (created.json() as { id: string }).id;
    await check('/spawn', 'post', '/spawn', 503, '{}');
    await check('/health/ready', 'get', '/health/ready', 503);
    await check('/api/spawn', 'post', '/api/spawn', 503, '{}');
    await check('/api/spawn', 'post', '/api/spawn', 400, '{"class":"vr_session"}');
    await check('/api/spawn', 'post', '/api/spawn', 415, 'x', { 'content-type': 'text/xml' });
    await check('/service', 'post', '/service', 503, '{}');

    // Reading: live views with their nullable fields, history, the HOOPS pages, health at capacity.
    await check('/spawns', 'get', '/spawns', 200);
    await check('/spawns', 'get', '/spawns', 401, undefined, {});
    await check('/spawns/{id}', 'get', `/spawns/${id}`, 200);
    await check('/spawns/{id}', 'get', '/spawns/no-such-spawn', 404);
    await check('/spawns/{id}/logs', 'get', `/spawns/${id}/logs`, 200);
    await check('/spawns/{id}/logs', 'get', '/spawns/no-such-spawn/logs', 404);
    await check('/api/history', 'get', '/api/history', 200);
    await check('/api/history', 'get', '/api/history', 401, undefined, {});
    await check('/api/states', 'get', '/api/states', 200);
    await check('/api/status', 'get', '/api/status', 200);
    await check('/api/spawns', 'get', '/api/spawns', 200);
    await check('/api/help', 'get', '/api/help', 200);
    await check('/health', 'get', '/health', 200);

    // Stopping: accepted, then the ended view (exit code, end reason set) still fits the schema.
    await check('/spawns/{id}', 'delete', `/spawns/${id}`, 202);
    await check('/spawns/{id}', 'delete', '/spawns/no-such-spawn', 404);
    expect(problems).toEqual([]);
    expect(checked.size).toBeGreaterThanOrEqual(25);
  });

  it('every error status has its own example, fitting its schema; nullable fields have a real type', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_PORT_BASE: '29650' });
    const document = (await rawRequest(app.url, 'GET', '/docs-json')).json() as Document;
    const ajv = new Ajv({ strict: false, allErrors: true });
    // Formats the document names (date-time, uri...) are checked, not ignored with a warning.
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          const json = response.content?.['application/json'];
          if (!json?.schema || Number(status) < 400) continue;
          const name = `${method.toUpperCase()} ${path} ${status}`;
          if (json.example === undefined) {
            problems.push(`${name}: no example`);
            continue;
          }
          const example = json.example as { statusCode?: number };
          if ('statusCode' in example && example.statusCode !== Number(status))
            problems.push(`${name}: example is a ${example.statusCode}`);
          const schema = JSON.parse(JSON.stringify(json.schema).replaceAll('"#/', '"openapi#/')) as Schema;
          if (!ajv.validate(schema, json.example)) problems.push(`${name}: example ${ajv.errorsText()}`);
        }
      }
    }
    for (const [schemaName, schema] of Object.entries(document.components.schemas)) {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const [property, definition] of Object.entries(properties)) {
        if (definition.nullable !== true) continue;
        const typed = typeof definition.type === 'string' && (definition.type !== 'object' || definition.properties);
        if (!typed && !definition.$ref && !definition.allOf)
          problems.push(`${schemaName}.${property}: nullable without a real type`);
      }
    }
    expect(document.paths['/spawn'].post.requestBody?.required).toBe(false);
    expect(problems).toEqual([]);
  });
});
