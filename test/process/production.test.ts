// The production install path, on a copy of this checkout as a fresh clone would have it: the build `npm start`
// makes when dist/ is missing, `npm prune --omit=dev`, then `node dist/main.js` must serve with only the production dependencies installed,
// and the admin commands (`node dist/cli.js`) must refuse an embedded store that the running server holds.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { basic, request, ROOT } from '../helpers/server.ts';

const checkout = fileURLToPath(new URL('../../', import.meta.url));
// Outside the checkout, so that no module can be found in the checkout's own node_modules by walking up.
const clone = mkdtempSync(join(tmpdir(), 'warden-production-'));
const dataDir = join(clone, 'data');
const run = (command: string, args: string[], input?: string) =>
  spawnSync(command, args, { cwd: clone, encoding: 'utf8', input, env: { PATH: process.env.PATH, WARDEN_DATA_DIR: dataDir } });

before(() => {
  // The files git would check out (tracked, and new ones not ignored): no dist/, no data/.
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: checkout, encoding: 'utf8' });
  for (const file of files.split('\0').filter(Boolean)) {
    if (!existsSync(join(checkout, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(checkout, file), join(clone, file));
  }
  // What `npm ci` would install, as hard links (fast); npm's own record is copied, since npm rewrites it.
  execFileSync('cp', ['-al', join(checkout, 'node_modules'), join(clone, 'node_modules')]);
  rmSync(join(clone, 'node_modules/.package-lock.json'));
  cpSync(join(checkout, 'node_modules/.package-lock.json'), join(clone, 'node_modules/.package-lock.json'));
  // What `npm start` runs first: on a fresh clone there is no dist/, so it builds (`npm run build`).
  const built = run('node', ['scripts/prestart.mjs']);
  assert.equal(built.status, 0, `npm start's build:\n${built.stdout}${built.stderr}`);
  assert.match(built.stderr, /first start, building/);
  const pruned = run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund']);
  assert.equal(pruned.status, 0, `npm prune:\n${pruned.stdout}${pruned.stderr}`);
});
after(() => rmSync(clone, { recursive: true, force: true }));

const startBuilt = (): Promise<ServerProcess> => spawnServer({ WARDEN_DATA_DIR: dataDir }, { cwd: clone, args: ['dist/main.js'] });

test('after npm prune --omit=dev the build serves the FHIR API and the console, and exits 0 on SIGTERM', async () => {
  assert.equal(existsSync(join(clone, 'node_modules/typescript')), false, 'the development dependencies were pruned');
  assert.equal(existsSync(join(clone, 'node_modules/tsx')), false);
  const server = await startBuilt();
  try {
    const metadata = await request(server.url, 'GET', '/metadata');
    assert.equal(metadata.status, 200);
    assert.equal(metadata.body.resourceType, 'CapabilityStatement');
    const created = await request(server.url, 'POST', '/Patient', {
      headers: { authorization: basic(ROOT.id, ROOT.secret) },
      body: { resourceType: 'Patient', name: [{ family: 'Built' }] },
    });
    assert.equal(created.status, 201);
    const console = await fetch(`${server.url}/console/`);
    assert.equal(console.status, 200, 'the console was built into dist/console');
    const login = await fetch(`${server.url}/auth/login`);
    assert.match(await login.text(), /<style>[^<]+<\/style>|stylesheet/, 'the pages have their stylesheet');
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
});

test('npm start runs the existing build when the build tools are pruned', () => {
  const result = run('node', ['scripts/prestart.mjs']);
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /building/);
});

test('a key rotated by the admin command is refused while the server holds the embedded store, and kept after', async () => {
  let server = await startBuilt();
  let rotatedKid: string;
  try {
    const refused = run('node', ['dist/cli.js', 'rotate-keys']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /embedded store .* is in use by process \d+: stop it first/);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
  const rotated = run('node', ['dist/cli.js', 'rotate-keys']);
  assert.equal(rotated.status, 0, rotated.stderr);
  rotatedKid = /new signing key (\S+)/.exec(rotated.stderr)![1];
  server = await startBuilt();
  try {
    const jwks = await request(server.url, 'GET', '/.well-known/jwks.json');
    assert.ok(jwks.body.keys.some((key: { kid: string }) => key.kid === rotatedKid), 'the rotated key survived the restart');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

test('the IAM configuration exported as a Bundle imports into another store; create-admin and reset-password set a User', () => {
  const created = run('node', ['dist/cli.js', 'create-admin', 'ops'], 'first-Passw0rd');
  assert.equal(created.status, 0, created.stderr);
  const again = run('node', ['dist/cli.js', 'create-admin', 'ops'], 'other-Passw0rd');
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists already: use reset-password/);
  assert.equal(run('node', ['dist/cli.js', 'reset-password', 'ops'], 'second-Passw0rd').status, 0);
  assert.equal(run('node', ['dist/cli.js', 'reset-password', 'nobody'], 'x').status, 2);

  const exported = run('node', ['dist/cli.js', 'export']);
  assert.equal(exported.status, 0, exported.stderr);
  const bundle = JSON.parse(exported.stdout) as { entry: { resource: { resourceType: string; id: string; password?: string } }[] };
  const ops = bundle.entry.find((entry) => entry.resource.resourceType === 'User' && entry.resource.id === 'ops')!;
  assert.ok(ops.resource.password && !ops.resource.password.includes('Passw0rd'), 'passwords travel as hashes');
  assert.ok(bundle.entry.some((entry) => entry.resource.resourceType === 'Role' && entry.resource.id === 'ops-admin'));

  const other = spawnSync('node', ['dist/cli.js', 'import', '-'], {
    cwd: clone, encoding: 'utf8', input: exported.stdout, env: { PATH: process.env.PATH, WARDEN_DATA_DIR: join(clone, 'other-data') },
  });
  assert.equal(other.status, 0, other.stderr);
  assert.match(other.stderr, /imported: \d+ created/);
  const reexported = spawnSync('node', ['dist/cli.js', 'export'], {
    cwd: clone, encoding: 'utf8', env: { PATH: process.env.PATH, WARDEN_DATA_DIR: join(clone, 'other-data') },
  });
  const ids = (text: string) => (JSON.parse(text) as typeof bundle).entry.map((entry) => `${entry.resource.resourceType}/${entry.resource.id}`).sort();
  assert.deepEqual(ids(reexported.stdout), ids(exported.stdout));

  const bad = run('node', ['dist/cli.js', 'import', '-'], JSON.stringify({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'p' } }] }));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /entry 0: expected a resource of type Client/);
});
