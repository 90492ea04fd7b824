// What the server tells the console about itself: its client id and the endpoints to log in through.

export interface ConsoleSettings {
  clientId: string;
  redirectUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  logoutEndpoint: string;
  baseUrl: string;
  /** Clients Warden makes at every start (the root client from the environment, the console's own), by id. */
  managedClients?: Record<string, string>;
}

let loaded: ConsoleSettings | null = null;

/** The settings loaded at start, for pages that need them. */
export function consoleSettings(): ConsoleSettings | null {
  return loaded;
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const response = await fetch('/console/config.json', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new Error(`Could not load the console settings (HTTP ${response.status})`);
  loaded = (await response.json()) as ConsoleSettings;
  return loaded;
}
