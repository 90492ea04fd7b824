// Rotates the access-token signing key of the database the environment names, for every server process
// using it (they hear of it through NOTIFY):  npx tsx src/tokens/rotate-keys.ts [RS256|ES256] [--retire <kid>]
import { loadConfig } from '../config.ts';
import { openDatabase } from '../store/open-database.ts';
import { migrate } from '../store/migrations.ts';
import { KeyStore, SIGNING_ALGS, type SigningAlg } from './keys.ts';

const config = loadConfig();
const args = process.argv.slice(2);
const db = await openDatabase(config);
try {
  await migrate(db);
  const keys = new KeyStore(db, config.tokenSigningAlg);
  const retire = args.indexOf('--retire');
  if (retire >= 0) {
    await keys.retire(args[retire + 1] ?? '');
    console.log(`retired ${args[retire + 1]}`);
  } else {
    const alg = (args[0] ?? config.tokenSigningAlg) as SigningAlg;
    if (!SIGNING_ALGS.includes(alg)) throw new Error(`algorithm must be one of ${SIGNING_ALGS.join(', ')}`);
    console.log(`new signing key ${await keys.rotate(alg)} (${alg}); earlier keys keep verifying until retired`);
  }
} finally {
  await db.close();
}
