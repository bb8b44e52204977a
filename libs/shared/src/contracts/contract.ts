/** A class whose instances are a message payload: the type for the compiler, the decorators for validation. */
export type PayloadClass<T> = new () => T;

export interface MessageContract<T> {
  version: number;
  payload: PayloadClass<T>;
}

/** One contract per key of a message map, so a map and its contracts cannot drift apart. */
export type ContractsOf<M> = { [K in keyof M]: MessageContract<M[K]> };
