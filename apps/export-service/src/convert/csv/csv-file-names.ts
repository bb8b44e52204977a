/** Longest stem of a CSV's name in the ZIP, before a `_2` suffix and `.csv`. */
const MAX_STEM = 100;

/** A table name as a file name that unpacks the same on every system: letters, digits, `._-`, no leading dot. */
export function csvStem(table: string): string {
  const stem = table
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+|[._]+$/g, '')
    .slice(0, MAX_STEM);
  return stem.length > 0 ? stem : 'table';
}

/**
 * The CSV file of each table, in order: safe (see `csvStem`) and unique even where two names differ only by what was
 * replaced or by case (a ZIP unpacked on a case-insensitive disk), by `_2`, `_3` … suffixes.
 */
export function csvFileNames(tables: readonly string[]): string[] {
  const taken = new Set<string>(['readme']);
  return tables.map((table) => {
    const stem = csvStem(table);
    let name = stem;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem}_${n}`;
    taken.add(name.toLowerCase());
    return `${name}.csv`;
  });
}
