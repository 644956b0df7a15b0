/** A labelled form field whose error (from the API's `fields`) is announced and tied to it. */
import { html } from 'htm/preact';
import type { FieldIssue } from './api';

export interface FieldProps {
  id: string;
  name: string;
  label: string;
  errors: FieldIssue[];
  type?: string;
  required?: boolean;
  value?: string;
  options?: readonly string[];
  hint?: string;
}

export function Field(p: FieldProps) {
  const issue = p.errors.find((e) => e.field === p.name);
  const described = [p.hint ? `${p.id}-hint` : '', issue ? `${p.id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id: p.id, name: p.name, required: p.required, 'aria-invalid': issue ? 'true' : undefined, 'aria-describedby': described };
  return html`<div>
    <label for=${p.id}>${p.label}</label>
    ${p.hint && html`<p class="muted hint" id=${`${p.id}-hint`}>${p.hint}</p>`}
    ${p.options
      ? html`<select ...${common}>${p.options.map((o) => html`<option value=${o} selected=${o === p.value}>${o}</option>`)}</select>`
      : html`<input ...${common} type=${p.type ?? 'text'} value=${p.value} autocomplete="off" />`}
    ${issue && html`<p class="field-error" id=${`${p.id}-error`}>${issue.message}</p>`}
  </div>`;
}

/** The form's values, empty fields left out (an empty optional field is not a value). */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}
