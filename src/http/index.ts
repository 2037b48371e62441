/** The HTTP edge: errors and their mapping, request bodies, CORS, connection cap, OpenAPI, listening. */
export { abortOnClientGone, whenAnswerLost } from './abort-on-client-gone';
export { storeNoAnswers } from './cache-control';
export { clientAddressOf, compileTrust, expressTrustProxy, isLoopbackAddress, type TrustTest } from './client-address';
export {
  applyHttpTimeouts,
  capConnectionsPerClient,
  capPipelinedRequests,
  holdConnectionUntil,
  isAnswering,
} from './connection-cap';
export { isOwnPageOrigin, ownHostNamesOf, useCors } from './cors';
export { echoed } from './echoed-text';
export { ErrorResponseDto } from './error-response.dto';
export { CLIENT_CLOSED_REQUEST, ClientError, rejectionReasonOf, toHttpErrorView } from './http-error';
export { HttpErrorFilter, markRefusal, prepare } from './http-error.filter';
export { refuseUpgrade } from './http-refusal';
export { listenWithBacklog, SOMAXCONN_FILE, somaxconnWarning } from './listen';
export { refuseConnectRequests, refuseUnknownMethods } from './method-not-allowed';
export { buildOpenApiDocument, RETRY_AFTER_HEADER, serveOpenApi } from './openapi';
export { AcceptsJsonAsText, RequestBodyInterceptor } from './request-body';
export { createValidationPipe, flattenValidationErrors, validationMessages } from './validation';
