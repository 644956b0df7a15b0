/**
 * Allocators of customers' identifiers that must never collide: a shared phone number or IP
 * address would make two customers' data indistinguishable, and the expected counts wrong.
 */
import type { Rng } from './prng';

export class PhoneAllocator {
  private readonly pools = new Map<string, number[]>();
  private readonly reserved = new Set<string>();
  constructor(private readonly rng: Rng) {}
  reserve(phone: string): void {
    this.reserved.add(phone);
  }
  next(areaCode: string): string {
    let pool = this.pools.get(areaCode);
    if (!pool) {
      const lines: number[] = [];
      for (let l = 100; l < 2000; l++) lines.push(l);
      pool = this.rng.shuffle(lines);
      this.pools.set(areaCode, pool);
    }
    for (;;) {
      const line = pool.pop();
      if (line === undefined) throw new Error(`no fictional numbers left in area code ${areaCode}`);
      const phone = `+1${areaCode}555${String(line).padStart(4, '0')}`;
      if (!this.reserved.has(phone)) return phone;
    }
  }
}

/** Unique addresses: 100.64.0.0/10 through a bijection, IPv6 in 2001:db8::/32. */
export class IpAllocator {
  private k = 0;
  private readonly offset: number;
  constructor(private readonly rng: Rng) {
    this.offset = rng.int(0, (1 << 22) - 1);
  }
  v4(): string {
    for (;;) {
      const n = (Math.imul(this.k++, 2654435761) + this.offset) & ((1 << 22) - 1);
      const a = 100;
      const b = 64 + (n >>> 16);
      const c = (n >>> 8) & 0xff;
      const d = n & 0xff;
      if (d === 0 || d === 255) continue;
      return `${a}.${b}.${c}.${d}`;
    }
  }
  v6(): string {
    const n = this.k++;
    return `2001:db8:${(0x100 + (n >>> 16)).toString(16)}:${(n & 0xffff).toString(16)}::${this.rng.hex(4).replace(/^0+/, '') || '1'}`;
  }
}
