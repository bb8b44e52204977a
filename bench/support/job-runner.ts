import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { pino } from 'pino';
import { Broker, EXCHANGES, type CommandKey, type Commands } from '#shared';

interface JobEnded {
  type: string;
  payload: { jobId: string; error?: unknown; result?: unknown };
}

export interface JobRun<Result> {
  jobId: string;
  /** From publishing the command to the job's `job.succeeded`. */
  ms: number;
  result: Result;
}

/**
 * Runs jobs straight on a service, as the gateway would start them: publishes a job's command and waits for its
 * `job.succeeded` (a `job.failed` throws) on a queue of its own bound to the events exchange. The benches time a
 * service's work this way, without the gateway in the path.
 */
export async function jobRunner(amqpUrl: string) {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGES.events, 'job.#');
  const broker = new Broker(
    { urls: [amqpUrl], connectionName: 'bench', deliveryLimit: 10, retryDelaysMs: [1_000], maxAttempts: 1, maxUnconfirmed: 100, heartbeatSeconds: 30 },
    pino({ level: 'warn' }),
  );
  await broker.start();
  await broker.ready();
  const waiting = new Map<string, (event: JobEnded) => void>();
  await channel.consume(queue, (message) => {
    if (!message) return;
    const event = JSON.parse(message.content.toString()) as JobEnded;
    if (event.type === 'job.succeeded' || event.type === 'job.failed') waiting.get(event.payload.jobId)?.(event);
    channel.ack(message);
  });
  return {
    async run<Result, K extends CommandKey = CommandKey>(key: K, payload: Omit<Commands[K], 'jobId'>): Promise<JobRun<Result>> {
      const jobId = randomUUID();
      const ended = new Promise<JobEnded>((resolve) => waiting.set(jobId, resolve));
      const start = performance.now();
      await broker.publishCommand(key, { ...payload, jobId } as Commands[K], { correlationId: jobId });
      const event = await ended;
      waiting.delete(jobId);
      if (event.type !== 'job.succeeded') throw new Error(`${key} failed: ${JSON.stringify(event.payload.error)}`);
      return { jobId, ms: performance.now() - start, result: event.payload.result as Result };
    },
    async close(): Promise<void> {
      await broker.close();
      await connection.close();
    },
  };
}

/** The peak resident memory of a process (VmHWM), in MB. */
export function peakRssMb(pid: number | 'self'): number {
  const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
}

/** CPU seconds (user + system) a process has used: its own, or (`children`) those of its children it has waited for. */
export function cpuSeconds(pid: number | 'self', children = false): number {
  // the fields after the command's closing parenthesis: utime, stime, cutime, cstime are the 12th to 15th of them
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const [user, system] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(user) + Number(system)) / 100; // clock ticks, 100 a second on Linux
}
