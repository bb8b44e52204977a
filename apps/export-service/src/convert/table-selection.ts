import { MAX_CONVERT_TABLES } from '#shared';
import { ConvertInputError, type SourceTable } from './table-source.js';

/** Tables named in a message before "… and N more". */
const NAMED_IN_MESSAGES = 50;

const listed = (names: readonly string[]): string => {
  const shown = names.slice(0, NAMED_IN_MESSAGES).map((name) => JSON.stringify(name));
  const more = names.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
};

/**
 * The tables a convert writes: the ones `wanted` names, in the database's order, or every one. A name the database
 * does not hold fails the job naming the tables it does hold; a database of more than MAX_CONVERT_TABLES tables
 * with no selection fails too, naming the count, rather than writing thousands of CSVs nobody asked for.
 */
export function selectTables(tables: readonly SourceTable[], wanted?: readonly string[], limit = MAX_CONVERT_TABLES): SourceTable[] {
  if (wanted === undefined || wanted.length === 0) {
    if (tables.length === 0) throw new ConvertInputError('the database holds no tables');
    if (tables.length > limit) {
      throw new ConvertInputError(`the database holds ${tables.length} tables, over the limit of ${limit} for one export: name the ones you want in "tables"`);
    }
    return [...tables];
  }
  const names = new Set(tables.map((table) => table.name));
  const missing = wanted.filter((name) => !names.has(name));
  if (missing.length > 0) {
    const which = missing.length === 1 ? `no table ${JSON.stringify(missing[0])}` : `no tables ${listed(missing)}`;
    throw new ConvertInputError(`the database has ${which}; its tables are ${listed(tables.map((table) => table.name))}`);
  }
  const chosen = new Set(wanted);
  return tables.filter((table) => chosen.has(table.name));
}
