// Admin commands on the store the environment names (the same settings as the server):
//   node dist/cli.js <command>   or, from a checkout,   npm run warden -- <command>
// On PostgreSQL they run beside the servers, which hear of each change through NOTIFY. The embedded store is
// held by one process at a time, so on it they refuse to run while the server does (src/store/embedded-lock.ts).
import { readFileSync } from 'node:fs';
import { createAdmin, resetPassword } from './admin/admin-user.ts';
import { AdminError } from './admin/admin-error.ts';
import { exportIam, importIam } from './admin/iam-bundle.ts';
import { RESOURCE_TYPES } from './fhir/resource-types.ts';
import { reindex } from './search/reindex.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { Database } from './store/database.ts';
import { openDatabase } from './store/open-database.ts';
import { EmbeddedStoreInUse } from './store/embedded-lock.ts';
import { migrate } from './store/migrations.ts';
import { FhirError } from './fhir/outcome.ts';
import { ResourceStore } from './store/resource-store.ts';
import { writeResourceIndexes } from './iam/resource-indexes.ts';
import { KeyStore, SIGNING_ALGS, type SigningAlg } from './tokens/keys.ts';
import { verifyChain } from './audit/chain.ts';

const USAGE = `usage: warden <command>
  rotate-keys [RS256|ES256]    add a signing key that signs from now on; earlier keys keep verifying
  retire-key <kid>             stop publishing a key: the tokens it signed no longer verify
  create-admin [<user id>]     make a User (default: WARDEN_ADMIN_USER, warden-admin) with the Role admin;
                               password on stdin
  reset-password <user id>     set a User's password; password on stdin
  export                       write the IAM configuration (Clients, Users, AccessPolicies, Roles,
                               TokenIntrospectors) to stdout as a Bundle
  import <file>                create or replace the resources of such a Bundle ("-": stdin)
  reindex [<type>...]          rebuild the search index of the stored resources (all types by default),
                               after an upgrade that changed it; the server may keep running
  verify-audit                 check the AuditEvents' hash chain; names the first link that does not hold`;

/** The password comes on stdin, never in the arguments, where `ps` and the shell history would show it. */
function passwordFromStdin(): string {
  if (process.stdin.isTTY) throw new AdminError('pipe the password on stdin, e.g. printf %s "$PASSWORD" | warden ...');
  const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (!password) throw new AdminError('the password on stdin is empty');
  return password;
}

type Command = (db: Database, args: string[], config: Config) => Promise<string>;

const commands: Record<string, Command> = {
  async 'rotate-keys'(db, [alg], { tokenSigningAlg: signingAlg }) {
    const chosen = (alg ?? signingAlg) as SigningAlg;
    if (!SIGNING_ALGS.includes(chosen)) throw new AdminError(`the algorithm must be one of ${SIGNING_ALGS.join(', ')}`);
    const kid = await new KeyStore(db, signingAlg).rotate(chosen);
    return `new signing key ${kid} (${chosen}); earlier keys keep verifying until retired`;
  },
  async 'retire-key'(db, [kid], { tokenSigningAlg: signingAlg }) {
    if (!kid) throw new AdminError('name the kid to retire');
    await new KeyStore(db, signingAlg).retire(kid);
    return `retired ${kid}`;
  },
  // Not `admin` by default: Aidbox's seed example makes a User with that id (POST /User), which must stay free.
  async 'create-admin'(db, [userId], { adminUser }) {
    userId ??= adminUser;
    await createAdmin(new ResourceStore(db, writeResourceIndexes), userId, passwordFromStdin());
    return `User ${userId} is an administrator: log in at /console`;
  },
  async 'reset-password'(db, [userId]) {
    if (!userId) throw new AdminError('name the User');
    await resetPassword(new ResourceStore(db, writeResourceIndexes), userId, passwordFromStdin());
    return `password of User ${userId} set`;
  },
  async export(db) {
    process.stdout.write(`${JSON.stringify(await exportIam(new ResourceStore(db, writeResourceIndexes)), null, 2)}\n`);
    return '';
  },
  async 'verify-audit'(db) {
    const report = await verifyChain(db);
    const range = report.from && report.to ? ` (links ${report.from} to ${report.to})` : '';
    if (report.firstBreak) {
      const { seq, id, reason } = report.firstBreak;
      throw new AdminError(`the audit chain is broken at link ${seq}${id ? `, AuditEvent/${id}` : ''}: ${reason}; ${report.checked} links before it hold${range}`);
    }
    return `the audit chain holds: ${report.checked} AuditEvents checked${range}`;
  },
  async import(db, [file]) {
    if (!file) throw new AdminError('name the Bundle file ("-" for stdin)');
    const bundle: unknown = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
    const { created, updated } = await importIam(new ResourceStore(db, writeResourceIndexes), db, bundle);
    return `imported: ${created} created, ${updated} replaced`;
  },
  async reindex(db, types) {
    const unknown = types.find((type) => !RESOURCE_TYPES.has(type));
    if (unknown !== undefined) throw new AdminError(`unknown resource type "${unknown}"`);
    const count = await reindex(db, types, (done) => process.stderr.write(`\rreindexed ${done}`));
    return `\nreindexed ${count} resources`;
  },
};

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(USAGE);
    return name ? 2 : 0;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    await migrate(db);
    const message = await command(db, args, config);
    if (message) console.error(message);
    return 0;
  } finally {
    await db.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof Error)) throw error;
  // A refused input (a bad Bundle entry, an unknown User) is told as such; anything else is a bug, with its stack.
  const known = [AdminError, ConfigError, EmbeddedStoreInUse, FhirError, SyntaxError].some((type) => error instanceof type);
  console.error(`warden: ${known ? error.message : (error.stack ?? error.message)}`);
  process.exitCode = known ? 2 : 1;
}
