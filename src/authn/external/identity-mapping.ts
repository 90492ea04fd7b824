// Who an external token speaks for, in Warden's terms. Another provider vouches only for its own identities:
// a local Client or User is one an introspector's tokens may speak for only when the introspector created it
// (a User made by `create_user` carries the tag `https://warden.dev/provisioning|TokenIntrospector/<id>`, which
// an administrator may also put on a Client or User) or lists it in `speaks_for`. Warden's own first-party
// clients (the root client, `first_party: true` such as the console) never: a provider that issues tokens with
// `client_id: warden-console, sub: admin` does not get the console's administrator (OWASP ASVS 5.0 V10.3.2).
//   user:   the User named by the `box_user` claim (Aidbox's convention), else by `sub` — unless `sub` is the
//           client itself (RFC 9068 §2.2, a token without a resource owner). A missing User is created just in
//           time when the introspector has `create_user`; without it, `box_user` must name a User the
//           introspector may speak for, while any other `sub` simply leaves the identity without a user.
//   client: the Client named by `client_id` (else `azp`) when the introspector may speak for it, so
//           AccessPolicies linked to that Client apply to the external app; otherwise a synthetic Client named
//           `TokenIntrospector/<id>`, which no stored Client can be (ids cannot hold "/").
import { clientModel } from '../../iam/client-model.ts';
import { prepareUser } from '../../iam/user.ts';
import { userModel } from '../../iam/user-model.ts';
import type { TokenIntrospector } from '../../iam/token-introspector.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../../store/resource-store.ts';
import type { Identity } from '../identity.ts';
import { invalidToken } from './errors.ts';

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** The tag a resource made for (or handed to) a TokenIntrospector carries: system and code `TokenIntrospector/<id>`. */
export const PROVISIONING_SYSTEM = 'https://warden.dev/provisioning';

const provisioningTag = (introspector: TokenIntrospector) => ({ system: PROVISIONING_SYSTEM, code: `TokenIntrospector/${introspector.id}` });

/** Whether `introspector`'s tokens may speak for this local Client or User (see the header). */
function speaksFor(introspector: TokenIntrospector, resource: Resource): boolean {
  const listed = introspector.speaks_for?.some((ref) => ref.resourceType === resource.resourceType && ref.id === resource.id);
  if (listed) return true;
  const { code } = provisioningTag(introspector);
  const tags = (resource.meta as { tag?: unknown } | undefined)?.tag;
  return Array.isArray(tags) && tags.some((tag) => tag?.system === PROVISIONING_SYSTEM && tag?.code === code);
}

export interface ExternalClaims {
  method: 'external-jwt' | 'external-opaque';
  introspector: TokenIntrospector;
  /** The verified JWT claims, or the introspection answer. */
  claims: Record<string, unknown>;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function scopesOf(claims: Record<string, unknown>): string[] | undefined {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((scope): scope is string => typeof scope === 'string');
  return undefined;
}

export class ExternalIdentityMapper {
  constructor(
    private readonly resources: ResourceStore,
    private readonly rootClientId: string | undefined,
  ) {}

  async identity({ method, introspector, claims }: ExternalClaims): Promise<Identity> {
    const clientId = text(claims.client_id) ?? text(claims.azp);
    const [client, user] = await Promise.all([this.client(introspector, clientId), this.user(introspector, claims, clientId)]);
    const identity: Identity = { method, client, ...(user && { user }) };
    if (method === 'external-jwt') identity.jwt = claims;
    else identity.introspection = claims;
    const scopes = scopesOf(claims);
    if (scopes) identity.scopes = scopes;
    return identity;
  }

  private async client(introspector: TokenIntrospector, clientId: string | undefined): Promise<Resource> {
    if (clientId && clientId !== this.rootClientId && RESOURCE_ID.test(clientId)) {
      const current = await this.resources.read('Client', clientId);
      const local = current && !current.deleted ? current.resource : undefined;
      if (local && !clientModel(local).firstParty && speaksFor(introspector, local)) {
        if (!clientModel(local).active) throw invalidToken(`Client "${clientId}" is deactivated`);
        return local;
      }
    }
    return {
      resourceType: 'Client',
      id: `TokenIntrospector/${introspector.id}`,
      external: true,
      token_introspector: { resourceType: 'TokenIntrospector', id: introspector.id },
      ...(clientId && { client_id: clientId }),
    };
  }

  private async user(introspector: TokenIntrospector, claims: Record<string, unknown>, clientId: string | undefined) {
    if (claims.box_user !== undefined && !text(claims.box_user)) throw invalidToken('The box_user claim must be a User id');
    const named = text(claims.box_user);
    const sub = text(claims.sub);
    const userId = named ?? (sub !== clientId ? sub : undefined);
    if (!userId) return undefined;
    const current = RESOURCE_ID.test(userId) ? await this.resources.read('User', userId) : null;
    let user = current && !current.deleted ? current.resource : undefined;
    if (!user && introspector.create_user) user = await this.createUser(introspector, userId, claims);
    if (!user) {
      if (named) throw invalidToken(`The User named by the token's box_user claim does not exist`);
      return undefined;
    }
    if (!speaksFor(introspector, user)) {
      if (named) throw invalidToken(`TokenIntrospector "${introspector.id}" may not speak for the User named by the token's box_user claim`);
      return undefined;
    }
    if (!userModel(user).active) throw invalidToken(`User "${user.id}" is deactivated`);
    return user;
  }

  /** Just-in-time provisioning: the User the provider vouches for, with the claims worth keeping. */
  private async createUser(introspector: TokenIntrospector, id: string, claims: Record<string, unknown>): Promise<Resource> {
    if (!RESOURCE_ID.test(id)) throw invalidToken('The token names a user whose id is not a valid User id, so it cannot be created');
    const email = text(claims.email);
    const resource = await prepareUser({
      resourceType: 'User',
      id,
      ...(email && /^[^@\s]+@[^@\s]+$/.test(email) && { email }),
      ...(text(claims.name) && { name: { formatted: text(claims.name) } }),
      identifier: [{ system: text(claims.iss) ?? `TokenIntrospector/${introspector.id}`, value: text(claims.sub) ?? id }],
      meta: { tag: [provisioningTag(introspector)] },
    });
    try {
      return (await this.resources.write(resource, null)).resource;
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      // Another request created (or a deleted version holds) this id; use what is there now.
      const current = await this.resources.read('User', id);
      if (current && !current.deleted) return current.resource;
      throw invalidToken(`User "${id}" was deleted and is not recreated from a token`);
    }
  }
}
