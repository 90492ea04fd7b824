// Which `_revinclude` values a type takes: every `Source:code` whose reference parameter may point at it.
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { searchParametersOf } from './parameters.ts';

let byTarget: Map<string, string[]> | undefined;

export function reverseIncludesOf(type: string): string[] {
  if (!byTarget) {
    byTarget = new Map();
    for (const source of [...RESOURCE_TYPES].sort()) {
      for (const parameter of searchParametersOf(source).values()) {
        if (parameter.type !== 'reference') continue;
        const targets = parameter.targets.length > 0 ? parameter.targets : [...RESOURCE_TYPES];
        for (const target of targets) {
          if (!byTarget.has(target)) byTarget.set(target, []);
          byTarget.get(target)!.push(`${source}:${parameter.code}`);
        }
      }
    }
  }
  return byTarget.get(type) ?? [];
}
