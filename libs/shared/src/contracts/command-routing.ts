import { COMMAND_CONTRACTS, type CommandKey } from './commands.js';
import { QUEUE_BINDINGS, topicMatches, type CommandQueue, type TopicMatches } from './routing.js';

type PatternsOf<Q extends CommandQueue> = (typeof QUEUE_BINDINGS)[Q]['patterns'][number];

/** Whether one of `Q`'s bindings receives `K`: `true` if any pattern matches. */
type Receives<Q extends CommandQueue, K extends string> = true extends { [P in PatternsOf<Q>]: TopicMatches<K, P> }[PatternsOf<Q>] ? true : false;

/** The command keys the topology routes to queue `Q`, worked out by the compiler from the bindings. */
export type CommandsRoutedTo<Q extends CommandQueue> = { [K in CommandKey]: Receives<Q, K> extends true ? K : never }[CommandKey];

/** The same at run time: every command key with a contract that one of the queue's bindings receives. */
export function commandsRoutedTo(queue: CommandQueue): CommandKey[] {
  const patterns: readonly string[] = QUEUE_BINDINGS[queue].patterns;
  return (Object.keys(COMMAND_CONTRACTS) as CommandKey[]).filter((key) => patterns.some((pattern) => topicMatches(pattern, key)));
}
