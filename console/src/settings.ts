// What the server tells the console about itself: its client id and the endpoints to log in through.

export interface ConsoleSettings {
  clientId: string;
  redirectUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  logoutEndpoint: string;
  baseUrl: string;
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const response = await fetch('/console/config.json', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new Error(`Could not load the console settings (HTTP ${response.status})`);
  return (await response.json()) as ConsoleSettings;
}
