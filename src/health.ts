// Probes for an orchestrator or a load balancer:
//   GET /health        200 when the store answers, 503 when it does not
//   GET /health/live   200 while the process answers at all (a failing liveness probe restarts it)
//   GET /health/ready  200 when it can serve: store reachable, migrations applied, signing keys loaded, the
//                      cache following the store's announcements; 503 naming what is not (take it out of rotation)
import type { FastifyInstance } from 'fastify';
import { authServices } from './authn/services.ts';
import type { AppContext } from './context.ts';
import { loadMigrations } from './store/migrations.ts';

const PUBLIC = { config: { public: true } };

export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  const latestMigration = Math.max(...loadMigrations().map((migration) => migration.version));

  app.get('/health', PUBLIC, async (_request, reply) => {
    try {
      await ctx.db.query('select 1');
      return reply.send({ status: 'pass' });
    } catch {
      return reply.code(503).send({ status: 'fail', description: 'the store does not answer' });
    }
  });

  app.get('/health/live', PUBLIC, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'pass' }));

  app.get('/health/ready', PUBLIC, async (_request, reply) => {
    const problems: string[] = [];
    try {
      const [row] = await ctx.db.query<{ version: number | null }>('select max(version) as version from warden_migration');
      if (Number(row.version) < latestMigration) problems.push(`the store's schema is at migration ${row.version}, not ${latestMigration}`);
    } catch {
      problems.push('the store does not answer');
    }
    try {
      authServices(ctx).keys.current();
    } catch {
      problems.push('no signing key is loaded');
    }
    if (!ctx.feed.following()) problems.push("the cache is not following the store's announcements");
    reply.header('cache-control', 'no-store');
    if (problems.length === 0) return reply.send({ status: 'pass' });
    return reply.code(503).send({ status: 'fail', description: problems.join('; ') });
  });
}
