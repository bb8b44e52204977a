import { useEffect, useState } from 'preact/hooks';
import { queues as queuesApi, type DeadLetter, type QueueInfo } from '../api';
import { Alert, formatTime } from '../components';

function DeadLetters({ queue, canChange, onChanged }: { queue: QueueInfo; canChange: boolean; onChanged: () => void }) {
  const work = queue.deadLetterOf!;
  const [letters, setLetters] = useState<DeadLetter[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Discarding all is for good: asked once more, with the count. */
  const [confirmDiscard, setConfirmDiscard] = useState(false);

  const load = () => queuesApi.deadLetters(work).then(setLetters, (failure: Error) => setError(failure.message));
  useEffect(() => void load(), [work, queue.messages]);

  const act = async (action: 'replay' | 'discard', messageId?: string) => {
    setBusy(true);
    setError(null);
    try {
      if (action === 'replay') await queuesApi.replay(work, messageId);
      else await queuesApi.discard(work, messageId);
      await load();
      onChanged();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="dead-letters" aria-labelledby={`dl-${work}`} data-queue={queue.name}>
      <h3 id={`dl-${work}`}>
        Dead letters of {work} ({queue.messages})
      </h3>
      {canChange && (
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void act('replay')}>
            Replay all to {work}
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => setConfirmDiscard(true)}>
            Discard all…
          </button>
        </div>
      )}
      {confirmDiscard && (
        <div class="confirm" role="alertdialog" aria-labelledby={`discard-${work}`}>
          <p id={`discard-${work}`}>
            Discard all {queue.messages} dead letters of {work}? They cannot be replayed afterwards.
          </p>
          <button
            type="button"
            class="danger"
            disabled={busy}
            autoFocus
            onClick={() => {
              setConfirmDiscard(false);
              void act('discard');
            }}
          >
            Discard {queue.messages}
          </button>
          <button type="button" class="secondary" onClick={() => setConfirmDiscard(false)}>
            Keep them
          </button>
        </div>
      )}
      {error && <Alert>{error}</Alert>}
      <ul class="letters">
        {letters?.map((letter) => (
          <li class="letter" data-message-id={letter.messageId ?? ''}>
            <dl class="facts">
              <dt>Reason</dt>
              <dd>{letter.reason ?? '—'}</dd>
              <dt>Error</dt>
              <dd class="error-text">{letter.error ?? '—'}</dd>
              <dt>Attempts</dt>
              <dd>{letter.attempts ?? '—'}</dd>
              <dt>Dead-lettered</dt>
              <dd>{formatTime(letter.deadLetteredAt)}</dd>
              <dt>Goes back to</dt>
              <dd>
                {letter.originalQueue}
                {letter.originalRoutingKey && <span class="muted"> (routing key {letter.originalRoutingKey})</span>}
              </dd>
              <dt>Message</dt>
              <dd>
                <code>{letter.messageId ?? '—'}</code> {letter.type}
              </dd>
            </dl>
            <details>
              <summary>Body</summary>
              <pre class="json">{letter.payload}</pre>
            </details>
            {canChange && letter.messageId && (
              <div class="actions">
                <button type="button" class="small" disabled={busy} onClick={() => void act('replay', letter.messageId!)}>
                  Replay
                </button>
                <button type="button" class="small danger" disabled={busy} onClick={() => void act('discard', letter.messageId!)}>
                  Discard
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function QueuesPage({ canChange }: { canChange: boolean }) {
  const [data, setData] = useState<{ vhost: string; managementUi: string | null; queues: QueueInfo[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    queuesApi.list().then(
      (loaded) => {
        setData(loaded);
        setError(null);
      },
      (failure: Error) => setError(failure.message),
    );
  }, [tick]);
  useEffect(() => {
    const timer = window.setInterval(() => setTick((value) => value + 1), 5_000);
    return () => window.clearInterval(timer);
  }, []);

  return (
    <section aria-labelledby="queues-title">
      <h1 id="queues-title">Queues</h1>
      {data?.managementUi && (
        <p>
          <a href={data.managementUi} target="_blank" rel="noreferrer">
            Open the RabbitMQ management UI
          </a>{' '}
          <span class="muted">(vhost {data.vhost})</span>
        </p>
      )}
      {error && <Alert>{error}</Alert>}
      <div class="table-scroll">
        <table class="queues">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Messages</th>
              <th scope="col">Ready</th>
              <th scope="col">Unacked</th>
              <th scope="col">Consumers</th>
              <th scope="col">In /s</th>
              <th scope="col">Out /s</th>
              <th scope="col">Acked /s</th>
            </tr>
          </thead>
          <tbody>
            {data?.queues.map((queue) => (
              <tr data-queue={queue.name} class={queue.deadLetterOf && queue.messages > 0 ? 'has-dead-letters' : undefined}>
                <th scope="row">{queue.name}</th>
                <td class="messages">{queue.messages}</td>
                <td>{queue.ready}</td>
                <td>{queue.unacked}</td>
                <td>{queue.consumers}</td>
                <td>{queue.rates.publish}</td>
                <td>{queue.rates.deliver}</td>
                <td>{queue.rates.ack}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data?.queues
        .filter((queue) => queue.deadLetterOf && queue.messages > 0)
        .map((queue) => (
          <DeadLetters key={queue.name} queue={queue} canChange={canChange} onChanged={() => setTick((value) => value + 1)} />
        ))}
      {data && !data.queues.some((queue) => queue.deadLetterOf && queue.messages > 0) && <p class="muted">No dead letters.</p>}
    </section>
  );
}
