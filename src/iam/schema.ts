// Compiles the JSON Schemas of IAM resources and turns their failures into one precise message.
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { unprocessable } from '../fhir/outcome.ts';
import type { Resource } from '../store/resource-store.ts';

// Made, and each schema compiled, at first use: compiling them all at import cost a quarter of a second of every start.
let ajv: Ajv | undefined;

function describe(error: ErrorObject): { path: string; message: string } {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)';
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { path: path === '(root)' ? extra : `${path}.${extra}`, message: `unknown property "${extra}"` };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return { path, message: `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}` };
  }
  return { path, message: error.message ?? 'is invalid' };
}

/** Returns a check that throws a 422 OperationOutcome naming the first offending field. */
export function compileResourceSchema(schema: SchemaObject): (resource: Resource) => void {
  let validate: ValidateFunction | undefined;
  return (resource) => {
    // The schemas are this source's own constants (their tests hold them): not checked against the meta-schema at
    // each start, which would compile that too.
    validate ??= (ajv ??= new Ajv({ allErrors: false, strict: true, validateSchema: false })).compile(schema);
    if (validate(resource)) return;
    const { path, message } = describe(validate.errors![0]);
    const field = `${(resource as Resource).resourceType}.${path}`;
    throw unprocessable(`${field} ${message}`, [field]);
  };
}
