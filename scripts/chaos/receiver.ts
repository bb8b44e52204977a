import { createServer, type Server } from 'node:http';

/** A portal's webhook endpoint for the followups: answers 204 at once and counts the deliveries per job id. */
export class FollowupReceiver {
  readonly deliveries = new Map<string, number>();

  private constructor(private readonly server: Server) {}

  static async listen(port: number): Promise<FollowupReceiver> {
    let receiver: FollowupReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const job = JSON.parse(Buffer.concat(chunks).toString()) as { id?: unknown };
          if (typeof job.id === 'string') receiver!.deliveries.set(job.id, (receiver!.deliveries.get(job.id) ?? 0) + 1);
          response.writeHead(204).end();
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    receiver = new FollowupReceiver(server);
    return receiver;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
