// What must hold before an AccessPolicy is stored: it compiles (schema, patterns, regexes, links) and its
// SQL plans, read-only, on this database. A policy that is stored is a policy that runs.
import { unprocessable } from '../fhir/outcome.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { compilePolicy, verifyPolicy } from './compile.ts';
import { PolicyError } from './policy.ts';
import { sqlRunner } from './sql-runner.ts';

export async function prepareAccessPolicy(policy: Resource, db?: Database): Promise<Resource> {
  try {
    const compiled = compilePolicy(policy);
    if (db) await verifyPolicy(compiled, sqlRunner(db));
  } catch (error) {
    if (error instanceof PolicyError) throw unprocessable(error.message, [error.path]);
    throw error;
  }
  return policy;
}
