/** An identifier for SQL, always quoted: `"it""s"`. PostgreSQL's quoting; Firebird's is the same. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * A postgres:// URL as a libpq keyword string (`host='…' port='…' …`, what GDAL's `PG:` takes), with extra keywords
 * (`application_name`, `active_schema`); values quoted, empty ones left out.
 */
export function libpqConnectionString(url: string, extra: Record<string, string> = {}): string {
  const parsed = new URL(url);
  const words: Record<string, string> = {
    host: parsed.hostname,
    port: parsed.port || '5432',
    dbname: decodeURIComponent(parsed.pathname.slice(1)),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    ...extra,
  };
  return Object.entries(words)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}='${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}
