/** One problem with a request body, as FastAPI (Pydantic 2) reported it: SMS-Rio's API answered these with 422. */
export interface FieldProblem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

/** A body SMS-Rio's API would have refused before doing anything: 422 `{detail: [FieldProblem]}`. */
export class ExportRequestError extends Error {
  override readonly name = 'ExportRequestError';

  constructor(readonly detail: FieldProblem[]) {
    super(detail.map((problem) => `${problem.loc.join('.')}: ${problem.msg}`).join('; '));
  }
}

/** The input of the `export.convert` job a `POST /export/` asks for. */
export interface ExportRequest {
  uri: string;
  tables?: string[];
  charset?: string;
}

const stringProblem = (loc: (string | number)[], input: unknown): FieldProblem => ({ type: 'string_type', loc, msg: 'Input should be a valid string', input });

/**
 * `POST /export/`'s body: `{gcs_uri | uri, tables?, charset?}`. The original took `{gcs_uri: str}` and refused a body
 * without it, or with a non-string, with FastAPI's 422; those problems keep that answer. `uri` is the same field
 * under its geojobs name (any scheme the convert job reads); given both, they must agree. Other keys are ignored, as
 * Pydantic did. What only the job's own validation knows (a scheme, a charset) is left to it.
 */
export function exportRequest(body: unknown): ExportRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ExportRequestError([
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body },
    ]);
  }
  const fields = body as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const { gcs_uri: gcsUri, uri, tables, charset } = fields;
  if (gcsUri === undefined && uri === undefined) problems.push({ type: 'missing', loc: ['body', 'gcs_uri'], msg: 'Field required', input: body });
  if (gcsUri !== undefined && typeof gcsUri !== 'string') problems.push(stringProblem(['body', 'gcs_uri'], gcsUri));
  if (uri !== undefined && typeof uri !== 'string') problems.push(stringProblem(['body', 'uri'], uri));
  if (typeof gcsUri === 'string' && typeof uri === 'string' && gcsUri !== uri) {
    problems.push({ type: 'value_error', loc: ['body', 'uri'], msg: 'Value error, gcs_uri and uri name the same file: give one of them', input: uri });
  }
  if (tables !== undefined && tables !== null) {
    if (!Array.isArray(tables)) problems.push({ type: 'list_type', loc: ['body', 'tables'], msg: 'Input should be a valid list', input: tables });
    else tables.forEach((table, index) => typeof table !== 'string' && problems.push(stringProblem(['body', 'tables', index], table)));
  }
  if (charset !== undefined && charset !== null && typeof charset !== 'string') problems.push(stringProblem(['body', 'charset'], charset));
  if (problems.length > 0) throw new ExportRequestError(problems);
  return {
    uri: (gcsUri ?? uri) as string,
    ...(Array.isArray(tables) ? { tables: tables as string[] } : {}),
    ...(typeof charset === 'string' ? { charset } : {}),
  };
}
