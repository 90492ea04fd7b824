// History-API routing under /console/. The server answers every extension-less /console/* path with the app.

export interface PageContext {
  main: HTMLElement;
  params: Record<string, string>;
  navigate: (path: string) => void;
}

export type Page = (context: PageContext) => Promise<void> | void;

export interface Route {
  pattern: string;
  page: Page;
  /** The navigation entry to mark as current. */
  section: string;
}

export function match(routes: Route[], path: string): { route: Route; params: Record<string, string> } | null {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const pattern = route.pattern.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((segment, index) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(parts[index]!);
        return parts[index] !== '';
      }
      return segment === parts[index];
    });
    if (ok) return { route, params };
  }
  return null;
}

/** Same-page links: <a href="/console/..."> are followed without a reload. */
export function interceptLinks(navigate: (path: string) => void): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith('/console/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
