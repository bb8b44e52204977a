import { ForbiddenException } from '@nestjs/common';
import fc from 'fast-check';
import type { TokenScope } from './principal.js';
import { assertWithinScope, isPlainPath, narrow, pathWithin, scopeAllows } from './token-scope.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
const segments = (min: number, max: number) => fc.array(segment, { minLength: min, maxLength: max });
const pathOf = (parts: readonly string[]) => `/${parts.join('/')}`;

const scope: fc.Arbitrary<TokenScope> = fc.record({
  methods: fc.subarray([...METHODS], { minLength: 1 }),
  paths: fc.array(
    segments(1, 3).chain((parts) => fc.constantFrom(pathOf(parts), `${pathOf(parts)}/`)), // a prefix may end in / or not
    { minLength: 1, maxLength: 3 },
  ),
});

/** The same rule by segments, written apart from the product's: each prefix's segments begin the path's. */
const oracle = (granted: TokenScope, method: string, parts: readonly string[]): boolean =>
  granted.methods.includes(method) &&
  granted.paths.some((prefix) => {
    const wanted = prefix.split('/').filter(Boolean);
    return wanted.every((part, index) => parts[index] === part);
  });

/** Spellings of `..` and `.` that a decoder or normaliser reads as dot segments. */
const dots = fc.constantFrom('..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e', '%2E');
/** Ways of hiding a step out of a prefix: each must be refused, whatever the prefix and the scope. */
const tricks = fc.oneof(
  fc.tuple(dots, segments(0, 2)).map(
    ([dot, rest]) =>
      (prefix: string) =>
        `${prefix}/${[dot, ...rest].join('/')}`,
  ),
  fc.tuple(dots, segments(1, 2)).map(
    ([dot, rest]) =>
      (prefix: string) =>
        `${prefix}/x/${dot}/${rest.join('/')}`,
  ),
  fc.tuple(fc.constantFrom('%2f', '%2F', '%5c', '%5C', '\\'), dots, segment).map(
    ([slash, dot, rest]) =>
      (prefix: string) =>
        `${prefix}${slash}${dot}${slash}${rest}`,
  ),
  fc.constantFrom('%', '%zz', '%e0%80').map((bad) => (prefix: string) => `${prefix}/${bad}`),
);

describe('temporary token scopes, by property', () => {
  it('allows exactly the methods and the paths at or below a prefix, by whole segments', () => {
    fc.assert(
      fc.property(scope, fc.constantFrom(...METHODS), segments(1, 5), (granted, method, parts) => {
        expect(scopeAllows(granted, method, pathOf(parts))).toBe(oracle(granted, method, parts));
      }),
    );
  });

  it('always allows a path inside the scope, with any method it names', () => {
    fc.assert(
      fc.property(
        scope.chain((granted) => fc.tuple(fc.constant(granted), fc.constantFrom(...granted.methods), fc.constantFrom(...granted.paths))),
        segments(0, 3),
        ([granted, method, prefix], below) => {
          const path = pathOf([...prefix.split('/').filter(Boolean), ...below]);
          expect(scopeAllows(granted, method, path)).toBe(true);
          expect(() => assertWithinScope({ name: 'ana', role: 'portal', via: 'temporary-token', scope: granted }, method, path)).not.toThrow();
        },
      ),
    );
  });

  it('never allows a method outside the scope', () => {
    fc.assert(
      fc.property(scope, fc.constantFrom(...METHODS), segments(0, 3), (granted, method, below) => {
        fc.pre(!granted.methods.includes(method));
        const path = pathOf([...granted.paths[0].split('/').filter(Boolean), ...below]);
        expect(scopeAllows(granted, method, path)).toBe(false);
        expect(() => assertWithinScope({ name: 'ana', role: 'portal', via: 'temporary-token', scope: granted }, method, path)).toThrow(ForbiddenException);
      }),
    );
  });

  it('never takes a longer segment for its prefix (/jobs/1 does not hold /jobs/10)', () => {
    fc.assert(
      fc.property(scope, segment, segments(0, 2), (granted, extra, below) => {
        const prefix = granted.paths[0].replace(/\/$/, '');
        fc.pre(!granted.paths.some((other) => pathWithin(`${prefix}${extra}`, other))); // another prefix may hold it fairly
        expect(scopeAllows(granted, granted.methods[0], pathOf([...`${prefix}${extra}`.split('/').filter(Boolean), ...below]))).toBe(false);
      }),
    );
  });

  it('refuses dot segments, encoded slashes and malformed escapes, even below an allowed prefix', () => {
    fc.assert(
      fc.property(scope, tricks, (granted, trick) => {
        const path = trick(granted.paths[0].replace(/\/$/, ''));
        expect(isPlainPath(path)).toBe(false);
        expect(scopeAllows(granted, granted.methods[0], path)).toBe(false);
      }),
    );
  });

  it('a token minted from a temporary token never allows what the first did not', () => {
    fc.assert(
      fc.property(scope, scope, fc.constantFrom(...METHODS), segments(1, 5), (current, wanted, method, parts) => {
        const path = pathOf(parts);
        if (scopeAllows(narrow(current, wanted), method, path)) expect(scopeAllows(current, method, path)).toBe(true);
      }),
    );
  });

  // what the properties above found: before, a path was compared as text only, so these passed as within /jobs/1
  it.each(['/jobs/1/../2', '/jobs/1/%2e%2e/2', '/jobs/1/.%2E/2/result', '/jobs/1/./result'])('refuses %s for a scope of /jobs/1', (path) => {
    expect(scopeAllows({ methods: ['GET'], paths: ['/jobs/1'] }, 'GET', path)).toBe(false);
  });
});
