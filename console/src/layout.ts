// The frame around every page: brand, navigation, who is logged in, and the main area pages render into.
import { h, icon } from './ui/dom.ts';

export const SECTIONS = [
  { id: 'clients', title: 'Clients', icon: 'client' },
  { id: 'users', title: 'Users', icon: 'user' },
  { id: 'roles', title: 'Roles', icon: 'role' },
  { id: 'policies', title: 'Access policies', icon: 'policy' },
  { id: 'introspectors', title: 'Token introspectors', icon: 'introspector' },
  { id: 'identity-providers', title: 'Identity providers', icon: 'introspector' },
  { id: 'sessions', title: 'Sessions', icon: 'session' },
  { id: 'events', title: 'Events', icon: 'policy' },
  { id: 'resources', title: 'Resources', icon: 'resources' },
  { id: 'rest', title: 'REST console', icon: 'terminal' },
] as const;

export interface Shell {
  root: HTMLElement;
  main: HTMLElement;
  select(section: string): void;
}

export function shell(userName: string, onLogout: () => void): Shell {
  const links = SECTIONS.map((section) =>
    h('a', { href: `/console/${section.id}`, class: 'nav-link', 'data-section': section.id }, icon(section.icon), h('span', {}, section.title)),
  );
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const root = h('div', { class: 'app' },
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' },
        h('img', { src: '/console/favicon.svg', alt: '', width: 28, height: 28 }),
        h('div', {}, h('strong', {}, 'Warden'), h('span', {}, 'Admin console')),
      ),
      h('nav', { 'aria-label': 'Sections' }, links),
      h('div', { class: 'sidebar-foot' },
        h('div', { class: 'whoami' }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, userName.slice(0, 1).toUpperCase()),
          h('div', {}, h('span', { class: 'muted' }, 'Signed in as'), h('strong', { 'data-testid': 'whoami' }, userName))),
        h('button', { type: 'button', class: 'btn btn-ghost btn-block', onclick: onLogout }, icon('logout'), 'Log out'),
      ),
    ),
    main,
  );
  return {
    root,
    main,
    select(section) {
      for (const link of links) {
        if (link.dataset.section === section) {
          link.setAttribute('aria-current', 'page');
          // On a narrow window the sections scroll sideways: keep the current one in sight.
          if (window.matchMedia('(max-width: 900px)').matches) link.scrollIntoView({ block: 'nearest', inline: 'nearest' });
        } else {
          link.removeAttribute('aria-current');
        }
      }
    },
  };
}

export function pageHeader(title: string, description: string, ...actions: (HTMLElement | null)[]): HTMLElement {
  return h('header', { class: 'page-header' },
    h('div', {}, h('h1', {}, title), h('p', { class: 'lead' }, description)),
    h('div', { class: 'page-actions' }, actions),
  );
}
