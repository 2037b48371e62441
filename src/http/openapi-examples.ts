import { STATUS_CODES } from 'http';
import type { OpenAPIObject } from '@nestjs/swagger';

const ERROR_SCHEMA = '#/components/schemas/ErrorResponseDto';
/** The HOOPS Server's failure shape, {status: 'failed', reason}, on its spawn routes. */
const HOOPS_FAILURE_SCHEMA = '#/components/schemas/HoopsFailureDto';
/** Spawn routes: an empty POST is a valid request (every field has a default). */
const OPTIONAL_BODY_PATHS = new Set(['/spawn', '/api/spawn', '/service']);

/** A message as the service sends it, per status, for the examples (the description says when it happens). */
const EXAMPLE_MESSAGES: Record<number, string> = {
  400: 'rendererType must be one of the following values: csr, ssr',
  401: 'a valid API key is needed: Authorization: Bearer <key>',
  403: 'ssr rendering is disabled on this server (SSR_ENABLED=false)',
  404: 'no spawn with id 3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11',
  409: 'the spawn was stopped before it was ready: stopped by DELETE /spawns/:id',
  413: 'the request body is larger than 65536 bytes (BODY_LIMIT)',
  415: 'the request body must be JSON sent as Content-Type: application/json (got "text/xml")',
  421: 'this is node node-a; the request is for node-b',
  429: 'too many spawn requests from this client: 30 per 60 s (SPAWN_RATE_LIMIT); retry in 12 s',
  500: 'internal error',
  502: 'the server exited before it was ready: exit code 3 (invalid_license)',
  503: 'all 32 spawn slots are in use',
  504: 'the server was not ready within 30 s (SPAWN_READY_TIMEOUT_S); it was stopped',
};

type Content = Record<string, { schema?: { $ref?: string }; example?: unknown }>;
type Responses = Record<string, { description?: string; content?: Content }>;
type Operation = { requestBody?: { required?: boolean }; responses: Responses };

/** An error response as the service sends it: {statusCode, message, error}. */
export function errorExample(status: number): { statusCode: number; message: string; error?: string } {
  return {
    statusCode: status,
    message: EXAMPLE_MESSAGES[status] ?? STATUS_CODES[status] ?? '',
    error: STATUS_CODES[status],
  };
}

/**
 * Makes the document say what the service does: each error status of each route gets its own example (not one
 * shared 503), a route that takes a body also lists 413 and 415, and the spawn routes' bodies are optional.
 */
export function refineOpenApiDocument(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(item)) {
      if (!value || typeof value !== 'object' || !('responses' in value)) continue;
      const operation = value as Operation;
      const refs = Object.values(operation.responses).map((r) => r.content?.['application/json']?.schema?.$ref);
      const failure = refs.includes(HOOPS_FAILURE_SCHEMA) ? HOOPS_FAILURE_SCHEMA : ERROR_SCHEMA;
      if (operation.requestBody) {
        if (OPTIONAL_BODY_PATHS.has(path) && method === 'post') operation.requestBody.required = false;
        operation.responses['413'] ??= errorResponse('The body is larger than BODY_LIMIT', failure);
        operation.responses['415'] ??= errorResponse(
          'The body is not JSON in UTF-8 (Content-Type: application/json, no other charset), or is compressed',
          failure,
        );
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.['application/json'];
        if (!json || json.example !== undefined) continue;
        if (json.schema?.$ref === ERROR_SCHEMA) json.example = errorExample(+status);
        if (json.schema?.$ref === HOOPS_FAILURE_SCHEMA)
          json.example = { status: 'failed', reason: errorExample(+status).message };
      }
    }
  }
}

function errorResponse(description: string, schema: string): Responses[string] {
  return { description, content: { 'application/json': { schema: { $ref: schema } } } };
}
