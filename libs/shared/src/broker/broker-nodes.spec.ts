import { BrokerNodes, connectOptionsOf } from './broker-nodes.js';

describe('BrokerNodes', () => {
  const urls = ['amqp://geo%2Fuser:p%40ss@127.0.0.1:5672/my%2Fvhost', 'amqp://u:p@127.0.0.1:5682', 'amqps://u:p@rabbit.example.org?heartbeat=7'];

  it('reads each URL as amqplib connection settings', () => {
    expect(connectOptionsOf(urls[0], 15)).toEqual({
      protocol: 'amqp',
      hostname: '127.0.0.1',
      port: 5672,
      username: 'geo/user',
      password: 'p@ss',
      vhost: 'my%2Fvhost', // amqplib unescapes the vhost itself
      heartbeat: 15,
    });
    expect(connectOptionsOf(urls[2], 15)).toMatchObject({ protocol: 'amqps', port: 5671, heartbeat: 7, vhost: undefined });
  });

  it('points the endpoint at the next node on every reconnect attempt, round and round', () => {
    const nodes = new BrokerNodes(urls, 15);
    expect(nodes.current).toBe('127.0.0.1:5672');
    const seen = [1, 2, 3, 4].map((attempt) => (nodes.nextDelay(attempt, () => 1), nodes.current));
    expect(seen).toEqual(['127.0.0.1:5682', 'rabbit.example.org:5671', '127.0.0.1:5672', '127.0.0.1:5682']);
    expect(nodes.endpoint).toMatchObject({ hostname: '127.0.0.1', port: 5682, username: 'u', vhost: undefined });
  });

  it('waits longer only once every node of a round was tried', () => {
    const nodes = new BrokerNodes(urls, 15);
    const delays = [1, 2, 3, 4, 5, 6, 7, 30].map((attempt) => nodes.nextDelay(attempt, () => 1));
    expect(delays).toEqual([200, 200, 200, 400, 400, 400, 800, 5_000]);
  });

  it('keeps the single-broker backoff for one node', () => {
    const nodes = new BrokerNodes([urls[1]], 15);
    expect([1, 2, 3].map((attempt) => nodes.nextDelay(attempt, () => 1))).toEqual([200, 400, 800]);
    expect(nodes.current).toBe('127.0.0.1:5682');
  });
});
