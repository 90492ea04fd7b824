// The hash chain that makes the audit trail tamper-evident: link n's hash covers event n's content, its
// number and link n-1's hash, so changing, removing or reordering any stored event breaks every link after
// it. The head row (migration 0120) moves only from where a writer read it (src/audit/trail.ts), so there is one
// chain across server processes.
import { hash } from 'node:crypto';
import type { Resource } from '../fhir/resource.ts';
import type { Database, Queryable } from '../store/database.ts';

export const GENESIS = '0'.repeat(64);
export const CHAIN_EXTENSION = 'https://warden.dev/fhir/StructureDefinition/audit-chain';

/** Canonical texts of frozen values (src/audit/event.ts's constant parts, frozen to the leaves): each is serialised once. */
const frozenTexts = new WeakMap<object, string>();

/** JSON with object keys sorted at every level: the same value always gives the same text (as JSONB reorders keys). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (!Object.isFrozen(value)) return serialise(value);
  let text = frozenTexts.get(value);
  if (text === undefined) frozenTexts.set(value, (text = serialise(value)));
  return text;
}

/** `"key":` for each key met: keys are few (the FHIR element names), their quoting is done once. */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 10_000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function serialise(value: object): string {
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i > 0 ? ',' : '') + (value[i] === undefined ? 'null' : canonicalJson(value[i]));
    return `${text}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  keys.sort();
  let text = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    text += (text.length > 1 ? ',' : '') + quotedKey(key) + canonicalJson(item);
  }
  return `${text}}`;
}

/**
 * An event as its chain link and its stored row need it: `content`, the canonical text the link's hash covers (the
 * event without its store metadata, meta.versionId and lastUpdated, and without its chain link), and the same
 * texts again for the stored JSON, so that it is spliced from them rather than serialised a second time.
 */
export interface EventText {
  content: string;
  /** `"key":value` of each member but meta and extension, comma-separated, as in `content`. */
  members: string;
  /** meta without versionId and lastUpdated; the extensions but the chain link. */
  meta: Record<string, unknown>;
  extension: unknown[];
}

export function eventText(event: Resource): EventText {
  const { meta, extension, ...rest } = event;
  const { versionId: _v, lastUpdated: _l, ...metaRest } = (meta ?? {}) as Record<string, unknown>;
  const others = (Array.isArray(extension) ? extension : []).filter((item: { url?: string }) => item?.url !== CHAIN_EXTENSION);
  const hasMeta = Object.keys(metaRest).length > 0;
  const keys = Object.keys(rest);
  if (hasMeta) keys.push('meta');
  if (others.length > 0) keys.push('extension');
  keys.sort();
  let content = '';
  let members = '';
  for (const key of keys) {
    const value = key === 'meta' ? metaRest : key === 'extension' ? others : (rest as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const member = quotedKey(key) + canonicalJson(value);
    content += (content.length > 0 ? ',' : '') + member;
    if (key !== 'meta' && key !== 'extension') members += (members.length > 0 ? ',' : '') + member;
  }
  return { content: `{${content}}`, members, meta: metaRest, extension: others };
}

export function linkHash(previous: string, seq: bigint | number | string, event: Resource): string {
  return hashLink(previous, seq, contentOf(event));
}

/** The canonical text a link's hash covers of its event: computed once per event, whatever its place in the chain. */
export const contentOf = (event: Resource): string => eventText(event).content;

export const hashLink = (previous: string, seq: bigint | number | string, content: string): string =>
  hash('sha256', `${previous}\n${String(seq)}\n${content}`);

export interface ChainHead {
  seq: bigint;
  hash: string;
}

export interface Link {
  seq: bigint;
  previous: string;
  hash: string;
}

/** Numbers and links events, by the content each covers (contentOf), after `head`. */
export function linkAfter(head: ChainHead, contents: readonly string[]): Link[] {
  let seq = head.seq;
  let previous = head.hash;
  return contents.map((content) => {
    seq += 1n;
    const link = { seq, previous, hash: hashLink(previous, seq, content) };
    previous = link.hash;
    return link;
  });
}

/**
 * The event as stored, as JSON text: its members, its meta with the version and time written, and its link
 * written into it too (extension CHAIN_EXTENSION), so an exported copy can be checked on its own. The store keeps
 * JSONB, whose key order is its own: the members need not be in order.
 */
export function storedText(text: EventText, link: Link, lastUpdated: string): string {
  const chain = {
    url: CHAIN_EXTENSION,
    extension: [
      { url: 'sequence', valueString: String(link.seq) },
      { url: 'previous', valueString: link.previous },
      { url: 'hash', valueString: link.hash },
    ],
  };
  const meta = JSON.stringify({ ...text.meta, versionId: '1', lastUpdated });
  return `{${text.members},"meta":${meta},"extension":${JSON.stringify([...text.extension, chain])}}`;
}

export async function readHead(db: Queryable, lock = false): Promise<ChainHead> {
  const [head] = await db.query<{ seq: string; hash: string }>(`select seq::text as seq, hash from audit_chain_head${lock ? ' for update' : ''}`);
  return { seq: BigInt(head.seq), hash: head.hash };
}

export interface ChainReport {
  /** Links checked. */
  checked: number;
  /** The first link that does not hold, and why; none when the whole chain holds. */
  firstBreak?: { seq: string; id?: string; reason: string };
  /** The first and last link checked (the first may follow links removed by the retention sweep). */
  from?: string;
  to?: string;
}

const PAGE = 1000;

/**
 * Walks the chain from the oldest link kept to the head, recomputing each hash from the stored event: names
 * the first link whose event was changed, removed, or whose link rows were rewritten.
 */
export async function verifyChain(db: Database): Promise<ChainReport> {
  const [head] = await db.query<{ seq: string; hash: string; swept_seq: string; swept_hash: string }>(
    'select seq::text as seq, hash, swept_seq::text as swept_seq, swept_hash from audit_chain_head',
  );
  let expectedSeq = BigInt(head.swept_seq) + 1n;
  let previous = head.swept_hash;
  let checked = 0;
  const report = (seq: bigint | string, reason: string, id?: string): ChainReport => ({
    checked,
    firstBreak: { seq: String(seq), ...(id && { id }), reason },
    from: String(BigInt(head.swept_seq) + 1n),
    to: head.seq,
  });
  for (;;) {
    const rows = await db.query<{ seq: string; id: string; previous: string; hash: string; resource: string | null }>(
      `select c.seq::text as seq, c.id, c.previous, c.hash, r.resource::text as resource
       from audit_chain c left join resource r on r.type = 'AuditEvent' and r.id = c.id
       where c.seq >= $1 order by c.seq limit ${PAGE}`,
      [String(expectedSeq)],
    );
    for (const row of rows) {
      const seq = BigInt(row.seq);
      if (seq !== expectedSeq) return report(expectedSeq, `link ${expectedSeq} is missing (the next kept is ${row.seq})`);
      if (row.previous !== previous) return report(seq, 'its link does not follow the one before (the chain was rewritten)', row.id);
      if (row.resource === null) return report(seq, 'its AuditEvent was deleted', row.id);
      const event = JSON.parse(row.resource) as Resource;
      if (linkHash(previous, seq, event) !== row.hash) return report(seq, 'its AuditEvent was changed after it was written', row.id);
      previous = row.hash;
      expectedSeq += 1n;
      checked++;
    }
    if (rows.length < PAGE) break;
  }
  if (expectedSeq - 1n !== BigInt(head.seq)) return report(expectedSeq, `links ${expectedSeq} to ${head.seq} are missing`);
  if (previous !== head.hash) return report(head.seq, 'the head does not match the last link');
  return { checked, from: String(BigInt(head.swept_seq) + 1n), to: head.seq };
}
