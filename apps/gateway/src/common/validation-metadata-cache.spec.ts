import { IsInt, IsString, Min, MinLength, ValidateNested, getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { plainToInstance, Type } from 'class-transformer';
import { cacheValidationMetadata } from './validation-metadata-cache.js';

class Part {
  @IsInt()
  @Min(1)
  count!: number;
}

class Whole {
  @IsString()
  name!: string;

  @ValidateNested()
  @Type(() => Part)
  part!: Part;
}

/** Every constraint message, nested ones included. */
const messages = (errors: ValidationError[]): string[] =>
  errors.flatMap((error) => [...Object.values(error.constraints ?? {}), ...messages(error.children ?? [])]);

const problems = (cls: new () => object, plain: object) => messages(validateSync(plainToInstance(cls, plain), { whitelist: true, forbidUnknownValues: true }));

describe('cacheValidationMetadata', () => {
  const storage = getMetadataStorage();
  const uncached = storage.getTargetValidationMetadatas.bind(storage);
  cacheValidationMetadata();
  cacheValidationMetadata(); // a second install changes nothing

  it('finds the same rules as class-validator, once for each class', () => {
    expect(problems(Whole, { name: 'a', part: { count: 2 } })).toEqual([]);
    expect(storage.getTargetValidationMetadatas(Whole, '', false, false)).toEqual(uncached(Whole, '', false, false));
    const first = storage.getTargetValidationMetadatas(Part, '', false, false);
    expect(storage.getTargetValidationMetadatas(Part, '', false, false)).toBe(first); // the remembered answer
  });

  it('still reports every problem and strips unknown fields, request after request', () => {
    for (let round = 0; round < 3; round++) {
      expect(problems(Whole, { name: 7, part: { count: 0 } }).join(' ')).toMatch(/name must be a string.*count must not be less than 1/s);
      const instance = plainToInstance(Whole, { name: 'a', part: { count: 1, extra: true }, extra: true });
      expect(validateSync(instance, { whitelist: true, forbidUnknownValues: true })).toEqual([]);
      expect(instance).toEqual(Object.assign(new Whole(), { name: 'a', part: Object.assign(new Part(), { count: 1 }) }));
    }
  });

  it('sees rules added after a class was first validated (a subclass, a decorator applied later)', () => {
    expect(problems(Whole, { name: 'a', part: { count: 1 } })).toEqual([]);
    class Longer extends Whole {
      @MinLength(3)
      declare name: string;
    }
    expect(problems(Longer, { name: 'ab', part: { count: 1 } }).join(' ')).toMatch(/name must be longer than or equal to 3 characters/);
    expect(problems(Whole, { name: 'ab', part: { count: 1 } })).toEqual([]); // the parent's rules are its own still

    class Late {
      @IsString()
      title!: string;
    }
    expect(problems(Late, { title: 'x' })).toEqual([]);
    MinLength(2)(Late.prototype, 'title'); // a rule added to a class already looked up
    expect(problems(Late, { title: 'x' })).toEqual(['title must be longer than or equal to 2 characters']);
  });
});
