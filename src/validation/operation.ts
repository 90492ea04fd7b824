// $validate (R4 resource-operation-validate): `POST /{type}/$validate` and `POST /{type}/{id}/$validate`, with
// `mode` (create, update, delete, profile) and `profile`, given in the query or as Parameters. The answer is
// 200 with an OperationOutcome, valid or not; 4xx only when the request itself cannot be carried out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { asFhirError } from '../http/errors.ts';
import { sendResource } from '../http/reply-format.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { checkId, checkResourceBody, checkType } from '../resources/validate.ts';
import type { Resource } from '../store/resource-store.ts';
import { outcomeOf, type ValidationIssue } from './issues.ts';
import { isFhirType, resourceIssues } from './validate.ts';

const MODES = new Set(['create', 'update', 'delete', 'profile']);

interface ValidateInput {
  resource?: unknown;
  mode?: string;
  profile?: string;
}

type Parameter = { name?: unknown; resource?: unknown; valueCode?: unknown; valueUri?: unknown; valueCanonical?: unknown; valueString?: unknown };

/** The body as Parameters (resource, mode, profile), or the resource itself; the query gives mode and profile too. */
function inputOf(request: FastifyRequest, type: string): ValidateInput {
  const query = request.query as Record<string, unknown>;
  const single = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
  const input: ValidateInput = { mode: single('mode'), profile: single('profile') };
  const body = request.body as { resourceType?: unknown; parameter?: unknown } | undefined | null;
  if (body && typeof body === 'object' && body.resourceType === 'Parameters' && type !== 'Parameters') {
    const parameters = Array.isArray(body.parameter) ? (body.parameter as Parameter[]) : [];
    for (const parameter of parameters) {
      if (parameter?.name === 'resource') input.resource = parameter.resource;
      if (parameter?.name === 'mode' && typeof parameter.valueCode === 'string') input.mode = parameter.valueCode;
      const profile = parameter?.valueUri ?? parameter?.valueCanonical ?? parameter?.valueString;
      if (parameter?.name === 'profile' && typeof profile === 'string') input.profile = profile;
    }
  } else if (body !== undefined && body !== null) {
    input.resource = body;
  }
  if (input.mode !== undefined && !MODES.has(input.mode)) {
    throw badRequest(`Unknown $validate mode "${input.mode.slice(0, 40)}": use create, update, delete or profile`, 'value', ['mode']);
  }
  return input;
}

/** IAM types are checked by their own write rules; their refusal becomes the issue. */
async function iamIssues(ctx: AppContext, resource: Resource): Promise<ValidationIssue[]> {
  try {
    await applyWriteRules(resource, ctx.db);
    return [];
  } catch (error) {
    const known = asFhirError(error);
    if (known && known.status < 500) return known.outcome.issue;
    throw error;
  }
}

async function validate(ctx: AppContext, resource: Resource, profile: string | undefined): Promise<ValidationIssue[]> {
  if (!isFhirType(resource.resourceType)) return iamIssues(ctx, resource);
  return resourceIssues(ctx, resource, profile ? [profile] : []);
}

/** `resourcesFor(request)`: the store as the caller may see it (src/access/confined-resources.ts). */
export function validateHandlers(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView) {
  return {
    async type(request: FastifyRequest<{ Params: { type: string } }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const input = inputOf(request, type);
      if (input.mode === 'delete') throw badRequest('$validate with mode=delete names an instance: POST /{type}/{id}/$validate', 'invalid', ['mode']);
      if (input.mode === 'update' && (input.resource as { id?: unknown } | undefined)?.id === undefined) {
        throw badRequest('$validate with mode=update needs a resource with an id', 'required', ['id']);
      }
      const resource = checkResourceBody(input.resource, type);
      return sendResource(request, reply, 200, outcomeOf(await validate(ctx, resource, input.profile)));
    },

    async instance(request: FastifyRequest<{ Params: { type: string; id: string } }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const id = checkId(request.params.id);
      const input = inputOf(request, type);
      const current = await resourcesFor(request).read(type, id);
      const exists = current !== null && !current.deleted;
      if (input.mode === 'delete') {
        if (!exists) throw notFound(`${type}/${id} not found`);
        // Warden keeps no referential integrity, so nothing stands in the way of a delete.
        return sendResource(request, reply, 200, outcomeOf([]));
      }
      if (input.resource === undefined) {
        if (!exists) throw notFound(`${type}/${id} not found: send the resource to validate`);
        return sendResource(request, reply, 200, outcomeOf(await validate(ctx, current.resource, input.profile)));
      }
      const resource = checkResourceBody(input.resource, type, id);
      return sendResource(request, reply, 200, outcomeOf(await validate(ctx, resource, input.profile)));
    },
  };
}
