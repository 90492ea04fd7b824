// GET /health: 200 when the store answers, 503 when it does not.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';

export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/health', { config: { public: true } }, async (_request, reply) => {
    try {
      await ctx.db.query('select 1');
      return reply.send({ status: 'pass' });
    } catch {
      return reply.code(503).send({ status: 'fail', description: 'the store does not answer' });
    }
  });
}
