import { TEST_ADMIN, type RunningService } from './services.js';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the gateway: JSON in, JSON out, with an Authorization header when given. */
export class Client {
  constructor(
    readonly baseUrl: string,
    readonly authorization?: string,
  ) {}

  static async admin(gateway: RunningService): Promise<Client> {
    const { body } = await new Client(gateway.url).post<{ access_token: string }>('/token', TEST_ADMIN);
    return new Client(gateway.url, `Bearer ${body.access_token}`);
  }

  as(authorization: string | undefined): Client {
    return new Client(this.baseUrl, authorization);
  }

  get<T = unknown>(path: string): Promise<Reply<T>> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>('POST', path, body);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.authorization ? { authorization: this.authorization } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
}
