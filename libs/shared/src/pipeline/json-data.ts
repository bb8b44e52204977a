/**
 * The type of `JSON.parse(JSON.stringify(value))` for a value of type T: what a step's output becomes once
 * cached, and so what every later reader of it gets (fresh or cached, the runner hands out the same). A Date
 * becomes a string (its `toJSON`), functions and undefined properties disappear, undefined array items
 * become null. A type that has no JSON form (bigint) becomes never, so using it fails to compile.
 */
export type JsonData<T> = T extends { toJSON(...args: never[]): infer J }
  ? JsonData<J>
  : T extends string | number | boolean | null
    ? T
    : T extends undefined | void | symbol | ((...args: never[]) => unknown)
      ? undefined
      : T extends readonly (infer Item)[]
        ? JsonItem<Item>[]
        : T extends bigint
          ? never
          : T extends object
            ? { [K in keyof T as K extends string ? K : never]: JsonData<T[K]> }
            : never;

/** An array item or a top-level value: where JSON writes null for what it cannot represent. */
type JsonItem<T> = T extends undefined | void | symbol | ((...args: never[]) => unknown) ? null : JsonData<T>;

/** A step's output as stored and as later steps read it (a step that returns nothing is stored as null). */
export type StepData<T> = JsonItem<T>;
