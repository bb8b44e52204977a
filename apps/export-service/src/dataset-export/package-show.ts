import { STATUS_CODES } from 'node:http';
import { EXPORT_NAME_PATTERN, type CkanResourceV1, type JobErrorV1 } from '#shared';

/** A portal dataset as `package_show` describes it: the fields an export uses. */
export interface PortalDataset {
  id: string;
  /** The dataset's URL name on the portal (`roads-of-the-region`). */
  name: string;
  title: string;
  resources: CkanResourceV1[];
}

/** What the portal's answer to `package_show` means for the export: the dataset, or why there is none. */
export type PackageShowOutcome = { dataset: PortalDataset } | { error: JobErrorV1 };

/** How much of a portal's answer an error quotes. */
const EXCERPT_CHARS = 300;

export const excerpt = (body: string): string => {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
};

const statusLine = (status: number): string => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

/** CKAN's `{success: false, error: {__type, message}}`, when the body is that. */
function ckanError(body: string): { type: string; message: string } | undefined {
  try {
    const error = asRecord(asRecord(JSON.parse(body))?.error);
    return error ? { type: text(error.__type), message: text(error.message) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The dataset in a `package_show` answer, or a readable error: a dataset the portal does not have (404, or CKAN's
 * "Not Found Error"), one it will not show us (403), and any other answer — by then final, after the client's `tries`
 * of a 5xx — quoted with its status and the start of its body, which is what an operator needs to see.
 */
export function readPackageShow(datasetId: string, status: number, body: string, tries = 1): PackageShowOutcome {
  const portalError = ckanError(body);
  if (status === 404 || portalError?.type === 'Not Found Error') {
    return {
      error: { type: 'export', class: 'DatasetNotFound', message: `the portal has no dataset "${datasetId}" (package_show answered ${statusLine(status)})` },
    };
  }
  if (status === 401 || status === 403 || portalError?.type === 'Authorization Error') {
    return {
      error: {
        type: 'export',
        class: 'DatasetNotAuthorized',
        message: `the portal refused to show dataset "${datasetId}" (package_show answered ${statusLine(status)}: ${excerpt(portalError?.message || body)})`,
      },
    };
  }
  if (status !== 200) {
    const after = tries > 1 ? ` (${tries} tries)` : '';
    return {
      error: {
        type: 'export',
        class: 'PortalUnavailable',
        message: `the portal answered ${statusLine(status)} to package_show${after}: ${excerpt(body) || '(no body)'}`,
      },
    };
  }
  let answer: Record<string, unknown> | undefined;
  try {
    answer = asRecord(JSON.parse(body));
  } catch {
    answer = undefined;
  }
  const result = asRecord(answer?.result);
  if (!answer || answer.success !== true || !result) {
    return {
      error: { type: 'export', class: 'PortalAnswerInvalid', message: `the portal's answer to package_show is not a dataset: ${excerpt(body) || '(no body)'}` },
    };
  }
  const resources = (Array.isArray(result.resources) ? result.resources : []).map(asRecord).filter((resource) => resource !== undefined);
  return {
    dataset: {
      id: text(result.id) || datasetId,
      name: text(result.name) || datasetId,
      title: text(result.title) || text(result.name) || datasetId,
      resources: resources.map((resource, index) => ({
        id: (text(resource.id) || `resource-${index + 1}`).slice(0, 200),
        name: text(resource.name).slice(0, 1_000),
        url: text(resource.url),
        format: text(resource.format).slice(0, 100),
      })),
    },
  };
}

/** A file name made of `text`: letters, digits and `._-`, starting with a letter or digit (EXPORT_NAME_PATTERN), or `fallback`. */
export function safeName(text: string, fallback: string): string {
  const cleaned = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, 100);
  return EXPORT_NAME_PATTERN.test(cleaned) ? cleaned : fallback;
}

/**
 * One name per item, made safe by `safeName` and unique among them (a second `roads` becomes `roads-2`): the storage
 * folders of a dataset's resources (by id), and their folders in the ZIP (by name).
 */
export function uniqueNames(texts: readonly string[], fallback: string): string[] {
  const taken = new Set<string>();
  return texts.map((text) => {
    const base = safeName(text, fallback).slice(0, 90);
    let name = base;
    for (let suffix = 2; taken.has(name.toLowerCase()); suffix++) name = `${base}-${suffix}`;
    taken.add(name.toLowerCase());
    return name;
  });
}
