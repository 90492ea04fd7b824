// What a signed-in user may read on their own, whatever app they use: the decision `GET /{type}/{id}` would get
// from the user's policies alone. The SMART pickers offer and accept only what this allows (SMART App Launch:
// an app's reach is the intersection of its scopes and the user's permissions).
import type { AppContext } from '../context.ts';
import { ownPatientOf } from '../iam/user.ts';
import type { Resource } from '../store/resource-store.ts';
import { confinedResources, type ResourceView } from './confined-resources.ts';
import { asUserAlone, decide } from './decide.ts';
import { rolesOf } from './policy-store.ts';
import { buildRequestObject } from './request-object.ts';
import { sqlRunner } from './sql-runner.ts';

export type UserReadCheck = (type: string, id: string) => Promise<boolean>;

/** A check of what `user` may read, with the policies in force now. A patient user may read their own record. */
export function userReadCheck(ctx: AppContext, user: Resource): UserReadCheck {
  const runner = sqlRunner(ctx.db);
  const own = ownPatientOf(user);
  return async (type, id) => {
    if (type === 'Patient' && id === own) return true;
    const set = await ctx.policies.fresh();
    const roles = rolesOf(set, { user });
    const object = buildRequestObject({ method: 'GET', url: `/${type}/${encodeURIComponent(id)}`, identity: { user }, roles });
    return (await decide(set, asUserAlone(object), runner)).allowed;
  };
}

/** The store as `user` may read it on their own: what the SMART pickers list and accept. */
export function resourcesVisibleTo(ctx: AppContext, user: Resource): ResourceView {
  return confinedResources(ctx.resources, { mayRead: userReadCheck(ctx, user) }, ctx.config.baseUrl);
}
