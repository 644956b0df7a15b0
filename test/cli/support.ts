/**
 * What the per-command CLI tests share: the verification flags, the last JSON line of an
 * output, a subject that fits, and the check that printed text names no subject.
 */
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';

export const NOW = '2026-11-02T12:00:00.000Z';
export const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-5', '--verified-at', NOW];

export const lastJson = <T = Record<string, unknown>>(out: string): T => JSON.parse(out.trim().split('\n').pop() ?? '{}') as T;

/** A plain subject (no fraud flag, no held media, no special characters), not among `taken`. */
export function plainSubject(report: SubjectsReport, taken: string[], pred: (s: SubjectEntry) => boolean = () => true): SubjectEntry {
  const s = report.subjects.find((x) => pred(x) && !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && !taken.includes(x.subjectId));
  if (!s) throw new Error('no subject fits');
  taken.push(s.subjectId);
  return s;
}

/** Every identifier of every subject that appears in `text` (should be none). */
export function personalValuesIn(text: string, report: SubjectsReport): string[] {
  const values = report.subjects.flatMap((s) => Object.values(s.identifiers).flat()).filter((v) => v.length >= 4);
  // Whole tokens only: a short account number may occur inside a hash.
  return [...new Set(values.filter((v) => new RegExp(`(^|[^0-9A-Za-z])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^0-9A-Za-z])`).test(text)))];
}
