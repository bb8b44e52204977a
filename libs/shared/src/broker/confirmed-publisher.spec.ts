import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfirmChannel } from 'amqplib';
import { ConfirmedPublisher, MessageNackedError } from './confirmed-publisher.js';

/** A confirm channel that keeps each publish's callback, for the test to confirm (null) or nack (an error). */
class HeldChannel extends EventEmitter {
  readonly callbacks: ((error: Error | null) => void)[] = [];
  publish(_exchange: string, _key: string, _content: Buffer, _options: unknown, callback: (error: Error | null) => void): boolean {
    this.callbacks.push(callback);
    return true;
  }
}

describe('ConfirmedPublisher', () => {
  const setUp = () => {
    const stuck: ConfirmChannel[] = [];
    const publisher = new ConfirmedPublisher(100, (channel) => stuck.push(channel), 20);
    const channel = new HeldChannel();
    publisher.attach(channel as unknown as ConfirmChannel);
    const publish = () => publisher.publish('x', 'k', Buffer.from('{}'), { messageId: String(channel.callbacks.length) }).catch((error: Error) => error);
    const answer = async (error: Error | null) => {
      const outcome = publish();
      channel.callbacks[channel.callbacks.length - 1](error);
      return outcome;
    };
    return { stuck, channel, answer };
  };

  it('reports a channel that has answered only nacks for the set time, once, and not one that confirmed meanwhile', async () => {
    const { stuck, channel, answer } = setUp();
    expect(await answer(new Error('nack'))).toBeInstanceOf(MessageNackedError);
    await answer(new Error('nack'));
    expect(stuck).toHaveLength(0);
    await sleep(30);
    await answer(new Error('nack'));
    expect(stuck).toEqual([channel]);

    await answer(new Error('nack'));
    await sleep(30);
    expect(await answer(null)).toBeUndefined();
    await answer(new Error('nack'));
    expect(stuck).toHaveLength(1);
  });
});
