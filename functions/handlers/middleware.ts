/**
 * The middy middlewares every handler uses: input validated at the edge with zod (errors name
 * paths, never values), and a log line per invocation with its duration and outcome only.
 */
import middy from '@middy/core';
import type { z } from 'zod';
import { formatPath } from '../core/datamap';
import { InvalidInputError } from '../core/errors';
import { getRuntime } from './runtime';

/** Replaces the event with its parsed form; a mismatch fails with InvalidInput (not retried). */
export function parseInput<S extends z.ZodType>(schema: S): middy.MiddlewareObj<unknown, unknown> {
  return {
    before(request) {
      const result = schema.safeParse(request.event);
      if (!result.success) {
        throw new InvalidInputError(`invalid input: ${result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
      }
      request.event = result.data;
    },
  };
}

/** One log line per invocation: handler name, duration, error name. */
export function logInvocation(name: string): middy.MiddlewareObj<unknown, unknown> {
  let started = 0;
  return {
    before() {
      started = Date.now();
    },
    after() {
      getRuntime().logger.info('handler completed', { handler: name, durationMs: Date.now() - started });
    },
    onError(request) {
      getRuntime().logger.warn('handler failed', { handler: name, durationMs: Date.now() - started, error: request.error?.name });
    },
  };
}

/** A Task handler: `fn` gets the parsed input; the wrapper adds validation and logging. */
export function taskHandler<S extends z.ZodType, R>(name: string, schema: S, fn: (input: z.infer<S>) => Promise<R>) {
  return middy(async (event: unknown) => fn(event as z.infer<S>))
    .use(logInvocation(name))
    .use(parseInput(schema));
}
