import { HEADERS } from '#shared';
import { deadLetterView, replayHeaders, replayQueue } from './dead-letters.js';

describe('replayQueue', () => {
  it('takes the queue the consumer recorded', () => {
    expect(replayQueue({ [HEADERS.originalQueue]: 'geo_q' }, 'geo_q.dlq')).toBe('geo_q');
  });

  it("falls back to the broker's x-death, then to the queue whose DLQ it is", () => {
    expect(replayQueue({ 'x-death': [{ queue: 'export_q', reason: 'delivery_limit' }] }, 'export_q.dlq')).toBe('export_q');
    expect(replayQueue({}, 'saga_q.dlq')).toBe('saga_q');
  });

  it('never sends a message to a queue outside the contract, whatever its header says', () => {
    expect(replayQueue({ [HEADERS.originalQueue]: 'amq.somewhere' }, 'geo_q.dlq')).toBe('geo_q');
    expect(() => replayQueue({}, 'other.dlq')).toThrow(/not the dead-letter queue/);
  });
});

describe('replayHeaders', () => {
  it('drops what describes the dead-lettering and keeps the rest', () => {
    const headers = {
      [HEADERS.reason]: 'failed',
      [HEADERS.error]: 'Error: boom',
      [HEADERS.attempts]: 5,
      [HEADERS.originalQueue]: 'geo_q',
      [HEADERS.originalRoutingKey]: 'geo.noop',
      [HEADERS.deadLetteredAt]: '2026-01-01T00:00:00Z',
      'x-death': [],
      'x-correlation-id': 'job-1',
    };
    expect(replayHeaders(headers)).toEqual({ [HEADERS.originalRoutingKey]: 'geo.noop', 'x-correlation-id': 'job-1' });
  });
});

describe('deadLetterView', () => {
  it('shows reason, error, attempts and where it came from', () => {
    const view = deadLetterView(
      {
        payload: 'not json',
        routing_key: 'geo_q.dlq',
        properties: {
          message_id: 'm1',
          headers: { [HEADERS.reason]: 'malformed', [HEADERS.error]: 'SyntaxError: bad', [HEADERS.attempts]: 0, [HEADERS.originalQueue]: 'geo_q' },
        },
      },
      'geo_q.dlq',
    );
    expect(view).toMatchObject({ messageId: 'm1', reason: 'malformed', error: 'SyntaxError: bad', attempts: 0, originalQueue: 'geo_q', payload: 'not json' });
  });
});
