// The resource REST API's routes. Static paths (/metadata, /auth/..., /health) win over these patterns.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { sendResource } from '../http/reply-format.ts';
import { capabilityStatement } from './capability.ts';
import { crudHandlers } from './crud.ts';
import { deleteCurrentSession } from './current-session.ts';
import { historyHandlers } from './history.ts';
import { searchHandler } from './search.ts';
import { validateHandlers } from '../validation/operation.ts';

export function resourceRoutes(app: FastifyInstance, ctx: AppContext, version: string): void {
  const crud = crudHandlers(ctx);
  const history = historyHandlers(ctx);
  const capability = capabilityStatement(ctx, version);
  const validate = validateHandlers(ctx);

  app.get('/metadata', { config: { public: true } }, (request, reply) => sendResource(request, reply, 200, capability));
  app.delete('/Session', { config: { public: true } }, deleteCurrentSession(ctx));
  app.get('/:type', searchHandler(ctx));
  app.post('/:type', crud.create);
  app.post('/:type/$validate', validate.type);
  app.post('/:type/:id/$validate', validate.instance);
  app.get('/:type/:id', crud.read);
  app.put('/:type/:id', crud.update);
  app.patch('/:type/:id', crud.patch);
  app.delete('/:type/:id', crud.remove);
  app.get('/:type/:id/_history', history.history);
  app.get('/:type/:id/_history/:versionId', history.vread);
}
