/**
 * A name in OGR SQL: in double quotes, a quote inside escaped by a backslash (OGR SQL's only escape; a backslash before
 * anything else is itself). A name ending in a backslash cannot be written so (its closing quote would read as
 * escaped): see `ogrSqlCanName`.
 */
export const quoteOgr = (name: string): string => `"${name.replaceAll('"', '\\"')}"`;

/** Whether OGR SQL can name `name` at all. */
export const ogrSqlCanName = (name: string): boolean => !name.endsWith('\\');
