/**
 * Payload templates for the Distributed Map fields the adapter evaluates itself (ItemSelector,
 * ItemReader/ResultWriter Parameters, BatchInput): keys ending in `.$` take a path over the
 * state input (`$...`) or the context object (`$$...`). Intrinsic functions are not evaluated.
 */
import { simplePath } from './definition';

export function resolveTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => resolveTemplate(t, input, context));
  if (typeof template !== 'object' || template === null) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      out[key.slice(0, -2)] = value.startsWith('$$') ? simplePath(value.slice(1), context) : simplePath(value, input);
    } else out[key] = resolveTemplate(value, input, context);
  }
  return out;
}
