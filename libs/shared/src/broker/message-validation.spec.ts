import { randomUUID } from 'node:crypto';
import { COMMAND_CONTRACTS } from '../contracts/commands.js';
import { MalformedMessageError, parseEnvelope, validatePayload } from './message-validation.js';

const envelope = (overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'geo.noop',
  version: 1,
  occurredAt: new Date().toISOString(),
  correlationId: 'job-1',
  causationId: null,
  payload: { jobId: randomUUID(), sleepMs: 5 },
  ...overrides,
});
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('message validation', () => {
  it('accepts a well-formed envelope and payload, dropping unknown payload fields', async () => {
    const parsed = parseEnvelope(bytes(envelope({ payload: { jobId: randomUUID(), extra: 'x' } })));
    const payload = validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed);
    expect(payload).not.toHaveProperty('extra');
  });

  it.each([
    ['not JSON', '{', /body is not JSON/],
    ['a JSON array', '[1]', /not a JSON object/],
    ['an envelope without id', envelope({ id: undefined }), /id must be a UUID/],
    ['an envelope without payload', envelope({ payload: undefined }), /payload must be an object/],
  ])('rejects %s', async (_what, body, reason) => {
    expect(() => parseEnvelope(bytes(body))).toThrow(reason);
    expect(() => parseEnvelope(bytes(body))).toThrow(MalformedMessageError);
  });

  it('names each bad payload field', async () => {
    const parsed = parseEnvelope(bytes(envelope({ payload: { jobId: 'nope', sleepMs: -1 } })));
    expect(() => validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed)).toThrow(/jobId: jobId must be a UUID; sleepMs: sleepMs must not be less than 0/);
  });

  it('refuses a payload version newer than the contract', async () => {
    const parsed = parseEnvelope(bytes(envelope({ version: 2 })));
    expect(() => validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed)).toThrow(/version 2 is newer than the supported 1/);
  });
});
