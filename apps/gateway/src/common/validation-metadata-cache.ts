import { getMetadataStorage, type MetadataStorage } from 'class-validator';

type TargetMetadatas = ReturnType<MetadataStorage['getTargetValidationMetadatas']>;
type Grouped = ReturnType<MetadataStorage['groupByPropertyName']>;

const INSTALLED = Symbol('geojobs validation metadata cache');

/**
 * Makes class-validator look up a class's rules once instead of on every validation. Its MetadataStorage answers
 * `getTargetValidationMetadatas` by filtering the class's rules and testing `instanceof` against every class that has
 * any (for inherited rules), then groups them by property, on every `validate` call and for every nested object: under
 * load, the largest part of validating a `POST /jobs` body. The rules only change when a decorator or schema adds one
 * (at import time), so the answer for the same class and options is the same until then: remembered here, and all of
 * it forgotten whenever a rule is added. Hand-written because class-validator has no option to cache its lookups;
 * the storage's own methods still do the work, the results are the same arrays the executor reads and never changes.
 * Idempotent.
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  const marked = storage as MetadataStorage & { [INSTALLED]?: true };
  if (marked[INSTALLED]) return;
  marked[INSTALLED] = true;

  let lookups = new Map<unknown, Map<string, TargetMetadatas>>();
  let groupings = new WeakMap<TargetMetadatas, Grouped>();
  const forget = () => {
    lookups = new Map();
    groupings = new WeakMap();
  };

  const addValidationMetadata = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    forget();
    addValidationMetadata(metadata);
  };

  const getTargetValidationMetadatas = storage.getTargetValidationMetadatas.bind(storage);
  storage.getTargetValidationMetadatas = (targetConstructor, targetSchema, always, strictGroups, groups) => {
    const options = `${targetSchema}\u0000${always}\u0000${strictGroups}\u0000${groups === undefined ? '' : JSON.stringify(groups)}`;
    let byOptions = lookups.get(targetConstructor);
    if (!byOptions) lookups.set(targetConstructor, (byOptions = new Map<string, TargetMetadatas>()));
    let found = byOptions.get(options);
    if (!found) byOptions.set(options, (found = getTargetValidationMetadatas(targetConstructor, targetSchema, always, strictGroups, groups)));
    return found;
  };

  const groupByPropertyName = storage.groupByPropertyName.bind(storage);
  storage.groupByPropertyName = (metadata) => {
    let grouped = groupings.get(metadata);
    if (!grouped) groupings.set(metadata, (grouped = groupByPropertyName(metadata)));
    return grouped;
  };
}
