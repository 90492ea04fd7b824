// FHIR Bundles for search and history, with paging links.
import type { Resource, Version } from '../store/resource-store.ts';

export interface Page {
  /** URL of this page without its paging parameters. */
  baseUrl: string;
  params: URLSearchParams;
  page: number;
  count: number;
  /** Total matches when known. */
  total?: number;
  /** Whether more results follow this page (known without a total when a page came back full). */
  hasNext: boolean;
}

function pageLinks(page: Page) {
  // The parameters are serialised once; each link appends its own _page and _count, as set() would.
  const params = new URLSearchParams(page.params);
  params.delete('_page');
  params.delete('_count');
  const prefix = `${page.baseUrl}?${params.size > 0 ? `${params}&` : ''}_page=`;
  const link = (relation: string, n: number) => ({ relation, url: `${prefix}${n}&_count=${page.count}` });
  const links = [link('self', page.page), link('first', 1)];
  if (page.page > 1) links.push(link('previous', page.page - 1));
  if (page.hasNext) links.push(link('next', page.page + 1));
  if (page.total !== undefined && page.count > 0) links.push(link('last', Math.max(1, Math.ceil(page.total / page.count))));
  return links;
}

export function searchBundle(baseUrl: string, resources: Resource[], page: Page) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== undefined && { total: page.total }),
    link: pageLinks(page),
    entry: resources.map((resource) => ({
      fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

/**
 * A search Bundle as JSON text, the resource of entry `i` spliced from `texts[i]` when there is one: the resource's
 * stored JSON, which the entry sends unchanged, so it is not serialised again. Other entries are stringified.
 */
export function searchBundleJson(bundle: ReturnType<typeof searchBundle>, texts: readonly (string | undefined)[]): string {
  const { entry, ...head } = bundle;
  const entries = (entry as { fullUrl?: string; resource?: unknown; search?: unknown }[]).map((item, i) => {
    const text = texts[i];
    if (text === undefined) return JSON.stringify(item);
    return `{"fullUrl":${JSON.stringify(item.fullUrl)},"resource":${text},"search":${JSON.stringify(item.search)}}`;
  });
  return `${JSON.stringify(head).slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

export function historyBundle(baseUrl: string, versions: Version[], page: Page) {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: page.total,
    link: pageLinks(page),
    entry: versions.map((version, index) => {
      const { resourceType, id } = version.resource;
      // The next entry is the previous version when the history is of one resource.
      const previous = versions[index + 1];
      const previousIsDeletion = previous?.deleted === true && previous.resource.id === id && previous.resource.resourceType === resourceType;
      const isCreate = version.versionId === '1' || previousIsDeletion;
      return {
        fullUrl: `${baseUrl}/${resourceType}/${id}`,
        ...(!version.deleted && { resource: version.resource }),
        request: {
          method: version.deleted ? 'DELETE' : isCreate ? 'POST' : 'PUT',
          url: version.deleted || !isCreate ? `${resourceType}/${id}` : resourceType,
        },
        response: {
          status: version.deleted ? '204' : isCreate ? '201' : '200',
          etag: `W/"${version.versionId}"`,
          lastModified: version.lastUpdated,
        },
      };
    }),
  };
}
