// The FHIR API's one error renderer: every failure leaves as a FHIR OperationOutcome with a precise message,
// domain errors (src/errors.ts) included; a 500 never carries internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidCredentials, Throttled, UnstorableText } from '../errors.ts';
import { FhirError, badRequest, notFound, payloadTooLarge, tooManyRequests, unauthorized, unsupportedMediaType } from '../fhir/outcome.ts';
import { challengeFor } from './challenges.ts';
import { sendResource } from './reply-format.ts';

/** A domain error as the FHIR API says it; null for what is not one. */
function fromDomain(error: unknown): FhirError | null {
  if (error instanceof InvalidCredentials) return unauthorized(error.message, challengeFor(error));
  if (error instanceof Throttled) return tooManyRequests('Too many failed authentications; try again later', error.retryAfter);
  if (error instanceof UnstorableText) return badRequest(error.message, 'value');
  return null;
}

/** Any error the FHIR API can answer precisely (a FhirError, a domain error, bad input Fastify refused); null for a 500. */
export function asFhirError(error: unknown, bodyLimit = 0): FhirError | null {
  if (error instanceof FhirError) return error;
  return fromDomain(error) ?? (error instanceof Error ? fromFastify(error as FastifyError, bodyLimit) : null);
}

/** Turns what Fastify itself throws for bad input into the matching FhirError. */
function fromFastify(error: FastifyError, bodyLimit: number): FhirError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge(`Request body is larger than the limit of ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType('Unsupported Content-Type: send application/fhir+json, application/json, text/yaml or application/x-www-form-urlencoded');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('Content-Length does not match the body', 'structure');
    case 'FST_ERR_BAD_URL':
      return badRequest('Malformed URL: a path segment is not valid percent-encoding', 'structure');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new FhirError(414, 'too-long', 'A path segment is too long');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new FhirError(error.statusCode, 'invalid', error.message);
  }
  return null;
}

/**
 * Errors the router raises before any route or error handler runs (a URL that does not decode, a path
 * segment over maxParamLength). Passed to Fastify as `frameworkErrors`, so they too answer an OperationOutcome.
 */
export function frameworkErrorHandler(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = fromFastify(error, bodyLimit) ?? badRequest('Malformed request', 'structure');
    return sendResource(request, reply, known.status, known.outcome);
  };
}

export function registerErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A route may have a limit of its own (POST / takes Bundles up to WARDEN_BUNDLE_BODY_LIMIT).
    const known = asFhirError(error, request.routeOptions.bodyLimit ?? bodyLimit);
    if (known) {
      reply.headers(known.headers);
      return sendResource(request, reply, known.status, known.outcome);
    }
    request.log.error({ err: error }, 'unhandled error');
    const outcome = new FhirError(500, 'exception', `Internal server error (request id ${request.id})`).outcome;
    return sendResource(request, reply, 500, outcome);
  });

  app.setNotFoundHandler((request, reply) => {
    const error = notFound(`No route for ${request.method} ${request.url.split('?')[0].slice(0, 200)}`);
    return sendResource(request, reply, 404, error.outcome);
  });
}
