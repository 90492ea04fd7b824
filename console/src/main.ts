// Starts the console: finish or begin the login, then draw the frame and route to the page asked for.
import './styles.css';
import { whenUnauthenticated } from './api.ts';
import { beginLogin, completeLogin, displayName, forget, session } from './auth.ts';
import { shell } from './layout.ts';
import { interceptLinks, match, type Route } from './router.ts';
import { loadSettings, type ConsoleSettings } from './settings.ts';
import { h, replace } from './ui/dom.ts';
import { alertBox, errorMessage } from './ui/feedback.ts';
import { clientEditPage, clientNewPage, clientsPage } from './pages/clients.ts';
import { identityProviderEditPage, identityProvidersPage } from './pages/identity-providers.ts';
import { introspectorEditPage, introspectorsPage } from './pages/introspectors.ts';
import { policiesPage, policyEditPage } from './pages/policies.ts';
import { resourceListPage, resourceNewPage, resourceTypesPage, resourceViewPage } from './pages/resource-browser.ts';
import { restConsolePage } from './pages/rest-console.ts';
import { roleEditPage, rolesPage } from './pages/roles.ts';
import { sessionsPage } from './pages/sessions.ts';
import { eventsPage } from './pages/events.ts';
import { userEditPage, usersPage } from './pages/users.ts';

const routes: Route[] = [
  { pattern: '/console/clients', page: clientsPage, section: 'clients' },
  { pattern: '/console/clients/new', page: clientNewPage, section: 'clients' },
  { pattern: '/console/clients/:id', page: clientEditPage, section: 'clients' },
  { pattern: '/console/users', page: usersPage, section: 'users' },
  { pattern: '/console/users/new', page: userEditPage, section: 'users' },
  { pattern: '/console/users/:id', page: userEditPage, section: 'users' },
  { pattern: '/console/roles', page: rolesPage, section: 'roles' },
  { pattern: '/console/roles/new', page: roleEditPage, section: 'roles' },
  { pattern: '/console/roles/:id', page: roleEditPage, section: 'roles' },
  { pattern: '/console/policies', page: policiesPage, section: 'policies' },
  { pattern: '/console/policies/new', page: policyEditPage, section: 'policies' },
  { pattern: '/console/policies/:id', page: policyEditPage, section: 'policies' },
  { pattern: '/console/introspectors', page: introspectorsPage, section: 'introspectors' },
  { pattern: '/console/introspectors/new', page: introspectorEditPage, section: 'introspectors' },
  { pattern: '/console/introspectors/:id', page: introspectorEditPage, section: 'introspectors' },
  { pattern: '/console/identity-providers', page: identityProvidersPage, section: 'identity-providers' },
  { pattern: '/console/identity-providers/new', page: identityProviderEditPage, section: 'identity-providers' },
  { pattern: '/console/identity-providers/:id', page: identityProviderEditPage, section: 'identity-providers' },
  { pattern: '/console/sessions', page: sessionsPage, section: 'sessions' },
  { pattern: '/console/events', page: eventsPage, section: 'events' },
  { pattern: '/console/rest', page: restConsolePage, section: 'rest' },
  { pattern: '/console/resources', page: resourceTypesPage, section: 'resources' },
  { pattern: '/console/resources/:type', page: resourceListPage, section: 'resources' },
  { pattern: '/console/resources/:type/new', page: resourceNewPage, section: 'resources' },
  { pattern: '/console/resources/:type/:id', page: resourceViewPage, section: 'resources' },
];

const app = document.getElementById('app')!;

function fatal(title: string, message: string, settings?: ConsoleSettings): void {
  replace(app, h('div', { class: 'center-card' },
    h('img', { src: '/console/favicon.svg', alt: '', width: 40, height: 40 }),
    h('h1', {}, title),
    alertBox(message),
    settings ? h('button', { type: 'button', class: 'btn btn-primary', onclick: () => beginLogin(settings, '/console/clients') }, 'Log in again') : null,
  ));
}

/**
 * Opened at another address than WARDEN_BASE_URL (an IP address while the setting says localhost): the login
 * would return to the other address and fail. Say which setting to change instead of trying.
 */
function wrongAddress(here: string, baseUrl: string): void {
  replace(app, h('div', { class: 'center-card', 'data-testid': 'base-url-mismatch' },
    h('img', { src: '/console/favicon.svg', alt: '', width: 40, height: 40 }),
    h('h1', {}, 'Open the console at Warden\'s address'),
    alertBox(`This page was opened at ${here}, but Warden's address (the setting WARDEN_BASE_URL) is ${baseUrl}. ` +
      `Logging in from here cannot work: the login returns to ${baseUrl}. Open the console there, or restart Warden with ` +
      `WARDEN_BASE_URL=${here} if this is the address people use.`),
    h('a', { href: `${baseUrl}/console/`, class: 'btn btn-primary' }, `Open ${baseUrl}/console`),
  ));
}

async function start(): Promise<void> {
  let settings: ConsoleSettings;
  try {
    settings = await loadSettings();
  } catch (error) {
    return fatal('The console could not start', errorMessage(error));
  }

  const expected = new URL(settings.baseUrl).origin;
  if (window.location.origin !== expected) return wrongAddress(window.location.origin, settings.baseUrl);

  if (window.location.pathname === '/console/callback') {
    try {
      const next = await completeLogin(settings, new URL(window.location.href));
      // Drop code and state from the address bar and from history.
      window.history.replaceState(null, '', next);
    } catch (error) {
      window.history.replaceState(null, '', '/console/');
      return fatal('Login failed', errorMessage(error), settings);
    }
  }

  const login = session();
  if (!login) {
    const here = window.location.pathname + window.location.search;
    await beginLogin(settings, window.location.pathname === '/console/' ? '/console/clients' : here);
    return;
  }
  whenUnauthenticated(() => void beginLogin(settings, window.location.pathname + window.location.search));

  const frame = shell(displayName(login), () => {
    forget();
    // Warden's logout page asks for confirmation (a POST with a CSRF token) and ends the browser session.
    window.location.assign(settings.logoutEndpoint);
  });
  replace(app, frame.root);

  let generation = 0;
  const render = async () => {
    const mine = ++generation;
    const path = window.location.pathname;
    if (path === '/console/' || path === '/console') return navigate('/console/clients', true);
    const found = match(routes, path);
    frame.select(found?.route.section ?? '');
    replace(frame.main, h('div', { class: 'loading', 'aria-busy': 'true' }, 'Loading…'));
    if (!found) {
      replace(frame.main, h('h1', {}, 'Page not found'), alertBox(`There is no console page at ${path}.`));
      return;
    }
    const main = h('div', { class: 'page' });
    try {
      await found.route.page({ main, params: found.params, navigate });
      if (mine !== generation) return;
      replace(frame.main, main);
    } catch (error) {
      if (mine !== generation) return;
      replace(frame.main, h('h1', {}, 'Something went wrong'), alertBox(errorMessage(error)));
    }
    frame.main.focus({ preventScroll: true });
  };

  function navigate(path: string, replaceEntry = false): void {
    if (replaceEntry) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
    void render();
  }

  interceptLinks(navigate);
  window.addEventListener('popstate', () => void render());
  await render();
}

void start();
