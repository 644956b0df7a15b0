/** Deterministic media payloads: small but valid WAV and PDF files. */
import type { Rng } from './prng';

/**
 * A mono 8 kHz 8-bit PCM WAV: a few tones with a little noise, shaped by the PRNG, so each
 * recording has its own bytes and a player opens it.
 */
export function wavBytes(rng: Rng, seconds: number): Buffer {
  const rate = 8000;
  const samples = Math.max(1, Math.round(rate * seconds));
  const buf = Buffer.alloc(44 + samples);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // PCM chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate, 28); // byte rate
  buf.writeUInt16LE(1, 32); // block align
  buf.writeUInt16LE(8, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples, 40);
  const f1 = 200 + rng.int(0, 600);
  const f2 = 300 + rng.int(0, 900);
  const segment = Math.max(1, Math.floor(samples / rng.int(2, 6)));
  for (let i = 0; i < samples; i++) {
    const f = Math.floor(i / segment) % 2 === 0 ? f1 : f2;
    const v = Math.sin((2 * Math.PI * f * i) / rate) * 80 + (rng.next() - 0.5) * 20;
    buf[44 + i] = Math.max(0, Math.min(255, Math.round(128 + v)));
  }
  return buf;
}

function pdfText(s: string): string {
  // Plain ASCII inside a PDF literal string; accents are folded, parentheses escaped.
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/([\\()])/g, '\\$1');
}

/** A one-page PDF 1.4 with the given lines of text, with a correct xref table. */
export function pdfBytes(lines: readonly string[]): Buffer {
  const content = ['BT', '/F1 11 Tf', '14 TL', '72 760 Td', ...lines.map((l) => `(${pdfText(l)}) '`), 'ET'].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
