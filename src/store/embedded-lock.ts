// One process at a time on an embedded store: PGlite keeps the database in this process's memory and writes
// its folder back, so a second process on the same folder (a second server, an admin command while the server
// runs) would have its writes silently overwritten, or overwrite the server's. The holder's pid is kept in a
// lock file inside the folder; a file left by a process that no longer runs (a crash, a kill -9) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

const LOCK_FILE = 'warden.lock';
/** Folders this process holds, so a second open in the same process is refused as well. */
const held = new Set<string>();

export class EmbeddedStoreInUse extends Error {}

function isRunning(pid: number): boolean {
  // A restarted container gives its process the pid a crashed one had (often 1): our own pid is never "another".
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock, or throws EmbeddedStoreInUse naming the process that holds it; returns its release. */
export function lockEmbeddedStore(dataDir: string): () => void {
  const folder = resolve(dataDir);
  const path = join(folder, LOCK_FILE);
  if (held.has(folder)) throw new EmbeddedStoreInUse(`the embedded store in ${folder} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(folder);
      return () => {
        held.delete(folder);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (isRunning(holder)) {
        throw new EmbeddedStoreInUse(
          `the embedded store in ${folder} is in use by process ${holder}: stop it first ` +
            `(or, if no Warden process runs on it, delete ${path})`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new EmbeddedStoreInUse(`could not take the lock ${path}`);
}
