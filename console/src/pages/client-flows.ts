// The kinds of Client an administrator registers, one per flow, and the fields each one uses.
// A form shows only its flow's fields; `toClient` turns them into the Client resource Warden stores,
// in Aidbox's shape (grant_types plus per-grant settings under `auth.<grant>`).
import type { Resource } from '../resource.ts';

export type FlowId = 'basic' | 'client_credentials' | 'web' | 'spa' | 'password' | 'implicit' | 'smart';

export type FieldName =
  | 'redirect_uri'
  | 'access_token_expiration'
  | 'token_format'
  | 'refresh_token'
  | 'first_party'
  | 'allowed_origins'
  | 'scope'
  | 'launch_uri'
  | 'audience';

export interface Flow {
  id: FlowId;
  title: string;
  summary: string;
  /** Where the flow is described, for the curious. */
  spec: string;
  grant: 'basic' | 'client_credentials' | 'authorization_code' | 'password' | 'implicit';
  /** Whether the Client has a secret: confidential clients do, public ones (SPAs, mobile) cannot keep one. */
  secret: 'required' | 'optional' | 'none';
  fields: FieldName[];
}

export const FLOWS: Flow[] = [
  {
    id: 'basic', title: 'Basic auth', grant: 'basic', secret: 'required', fields: [],
    summary: 'A backend service sends its id and secret with every request (HTTP Basic).', spec: 'RFC 7617',
  },
  {
    id: 'client_credentials', title: 'Client credentials', grant: 'client_credentials', secret: 'required',
    fields: ['access_token_expiration', 'token_format', 'audience'],
    summary: 'A backend service trades its id and secret for an access token at /auth/token.', spec: 'RFC 6749 §4.4',
  },
  {
    id: 'web', title: 'Web application', grant: 'authorization_code', secret: 'required',
    fields: ['redirect_uri', 'access_token_expiration', 'token_format', 'refresh_token', 'first_party', 'scope'],
    summary: 'A server-side web app sends people to the login page and exchanges the code with its secret.', spec: 'RFC 6749 §4.1',
  },
  {
    id: 'spa', title: 'Single-page app (PKCE)', grant: 'authorization_code', secret: 'none',
    fields: ['redirect_uri', 'allowed_origins', 'access_token_expiration', 'token_format', 'refresh_token', 'first_party', 'scope'],
    summary: 'A browser or mobile app that cannot keep a secret; PKCE binds the code to it.', spec: 'RFC 7636',
  },
  {
    id: 'password', title: 'Resource owner password', grant: 'password', secret: 'optional',
    fields: ['access_token_expiration', 'token_format', 'refresh_token'],
    summary: 'A trusted first-party app posts a user\'s login and password to /auth/token.', spec: 'RFC 6749 §4.3',
  },
  {
    id: 'implicit', title: 'Implicit', grant: 'implicit', secret: 'none',
    fields: ['redirect_uri', 'access_token_expiration', 'token_format'],
    summary: 'Legacy browser apps get the token in the redirect. Prefer a single-page app with PKCE.', spec: 'RFC 6749 §4.2',
  },
  {
    id: 'smart', title: 'SMART on FHIR app', grant: 'authorization_code', secret: 'optional',
    fields: ['launch_uri', 'redirect_uri', 'scope', 'refresh_token', 'access_token_expiration'],
    summary: 'A SMART App Launch 2.x app: EHR or standalone launch with SMART scopes; PKCE always.', spec: 'SMART App Launch 2.x',
  },
];

export const flowById = (id: string): Flow | undefined => FLOWS.find((flow) => flow.id === id);

type Settings = Record<string, unknown>;

const split = (text: string | undefined) => (text ?? '').split(/[\s,]+/).map((part) => part.trim()).filter(Boolean);

/** Form values (name → text, checkboxes "on") onto a Client; `base` keeps what the form does not show. */
export function toClient(flow: Flow, values: Record<string, string>, base: Resource | null): Resource {
  const client: Resource = { ...(base ?? {}), resourceType: 'Client' };
  if (!base) client.id = values.id?.trim();
  for (const key of ['name', 'description'] as const) {
    const value = values[key]?.trim();
    if (value) client[key] = value;
    else delete client[key];
  }
  const grants = new Set<string>((base?.grant_types as string[] | undefined) ?? []);
  grants.add(flow.grant);
  const fields = new Set(flow.fields);
  if (fields.has('refresh_token') && values.refresh_token === 'on') grants.add('refresh_token');
  client.grant_types = [...grants];

  const auth: Record<string, Settings> = { ...((base?.auth as Record<string, Settings> | undefined) ?? {}) };
  const settings: Settings = { ...(auth[flow.grant] ?? {}) };
  const setNumber = (key: string) => {
    const raw = values[key]?.trim();
    if (raw) settings[key] = Number(raw);
    else delete settings[key];
  };
  if (fields.has('redirect_uri')) {
    const uris = split(values.redirect_uri);
    if (uris.length === 1) settings.redirect_uri = uris[0];
    else if (uris.length > 1) settings.redirect_uri = uris;
    else delete settings.redirect_uri;
    // The form showed the older top-level, comma-separated redirect_uri too: it now lives with its grant only.
    delete client.redirect_uri;
  }
  if (fields.has('access_token_expiration')) setNumber('access_token_expiration');
  if (fields.has('token_format')) settings.token_format = values.token_format === 'opaque' ? 'opaque' : 'jwt';
  if (fields.has('refresh_token')) settings.refresh_token = values.refresh_token === 'on';
  if (fields.has('audience')) {
    if (values.audience?.trim()) settings.audience = values.audience.trim();
    else delete settings.audience;
  }
  if (flow.grant === 'authorization_code') {
    // Public clients must use PKCE (RFC 9700 §2.1.1 recommends it for everyone; SMART 2.x requires it).
    settings.pkce = flow.id !== 'web' || values.pkce === 'on';
    settings.secret_required = flow.secret === 'required' || (flow.secret === 'optional' && values.confidential === 'on');
  }
  if (flow.grant === 'password') settings.secret_required = values.confidential === 'on';
  if (flow.grant !== 'basic') auth[flow.grant] = settings;
  if (Object.keys(auth).length) client.auth = auth;

  if (fields.has('first_party')) client.first_party = values.first_party === 'on';
  if (fields.has('allowed_origins')) {
    const origins = split(values.allowed_origins);
    if (origins.length) client.allowed_origins = origins;
    else delete client.allowed_origins;
  }
  if (fields.has('scope')) {
    const scopes = split(values.scope);
    if (scopes.length) client.scope = scopes;
    else delete client.scope;
  }
  if (flow.id === 'smart') {
    client.type = 'smart-app';
    const smart = { ...((base?.smart as Settings | undefined) ?? {}) };
    if (values.launch_uri?.trim()) smart.launch_uri = values.launch_uri.trim();
    else delete smart.launch_uri;
    if (client.name) smart.name = client.name;
    client.smart = smart;
  }
  if (flow.secret === 'none' || (flow.secret === 'optional' && values.confidential !== 'on')) delete client.secret;
  return client;
}

/**
 * A SMART app's calls are allowed by its scopes only once a `smart-on-fhir` AccessPolicy links it: the form
 * makes this one with the Client, so an app registered here works at once.
 */
export function smartPolicyFor(clientId: string): Resource {
  return {
    resourceType: 'AccessPolicy',
    id: `smart-${clientId}`.slice(0, 64),
    description: `Lets the SMART scopes granted to ${clientId} decide what it may do (made with the Client by the console).`,
    engine: 'smart-on-fhir',
    link: [{ resourceType: 'Client', id: clientId }],
  };
}

/** Whether one of these policies lets the SMART scopes of `clientId` decide. */
export function hasSmartPolicy(policies: Resource[], clientId: string): boolean {
  return policies.some((policy) => {
    if (policy.engine !== 'smart-on-fhir') return false;
    const links = (policy.link as { id?: string; reference?: string }[] | undefined) ?? [];
    return links.length === 0 || links.some((link) => link.id === clientId || link.reference === `Client/${clientId}`);
  });
}

/**
 * Which flow an existing Client was made for, so its edit form shows the right fields. A Client without
 * grant_types but with a top-level redirect_uri is Aidbox's older web-app shape ("Users and Clients"): the server
 * lets it use the code flow, so it is a web app (with a secret) or a single-page app (without).
 */
export function flowOf(client: Resource): Flow {
  const grants = (client.grant_types as string[] | undefined) ?? [];
  const auth = (client.auth as Record<string, Settings> | undefined) ?? {};
  const olderWebApp = !Array.isArray(client.grant_types) && client.redirect_uri !== undefined;
  let id: FlowId = 'basic';
  if (client.type === 'smart-app' || client.smart) id = 'smart';
  else if (olderWebApp || grants.includes('authorization_code') || grants.includes('code')) {
    id = auth.authorization_code?.secret_required === false || !client.secret ? 'spa' : 'web';
  } else if (grants.includes('implicit')) id = 'implicit';
  else if (grants.includes('password')) id = 'password';
  else if (grants.includes('client_credentials')) id = 'client_credentials';
  return flowById(id)!;
}

/** The values an edit form starts from. */
export function valuesOf(client: Resource, flow: Flow): Record<string, string> {
  const settings = (((client.auth as Record<string, Settings> | undefined) ?? {})[flow.grant] ?? {}) as Settings;
  const list = (value: unknown) => (Array.isArray(value) ? value.join('\n') : typeof value === 'string' ? value : '');
  // Aidbox's top-level redirect_uri separates its URIs by commas: one per line, as the form asks.
  const uris = (value: unknown) => (typeof value === 'string' ? split(value).join('\n') : list(value));
  return {
    id: client.id ?? '',
    name: typeof client.name === 'string' ? client.name : '',
    description: typeof client.description === 'string' ? client.description : '',
    redirect_uri: [uris(settings.redirect_uri), uris(client.redirect_uri)].filter(Boolean).join('\n'),
    access_token_expiration: settings.access_token_expiration === undefined ? '' : String(settings.access_token_expiration),
    token_format: settings.token_format === 'opaque' ? 'opaque' : 'jwt',
    refresh_token: settings.refresh_token ? 'on' : '',
    audience: typeof settings.audience === 'string' ? settings.audience : '',
    first_party: client.first_party ? 'on' : '',
    allowed_origins: list(client.allowed_origins),
    scope: list(client.scope),
    launch_uri: typeof (client.smart as Settings | undefined)?.launch_uri === 'string' ? String((client.smart as Settings).launch_uri) : '',
    pkce: settings.pkce ? 'on' : '',
    confidential: client.secret ? 'on' : '',
  };
}
