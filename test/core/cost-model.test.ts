import { estimate, LAMBDA_MB_PER_VCPU, PRICES, standardScenarios } from '../../bench/cost-model';

describe('bench cost model: the arithmetic', () => {
  // 10 CPU-s per uncompressed GB = 100 MB/s per worker; gzip 8x; 1 MB stored per object; no rewrites.
  const measured = { cpuSecondsPerUncompressedGb: 10, expansion: 8, storedBytesPerObject: 1e6, rewrite: { share: 0, cpuSecondsPerUncompressedGb: 0 } };

  test('100 GB stored at concurrency 100: one batch per worker, one wave, every object read once', () => {
    const e = estimate(measured, { name: 't', storedBytes: 100e9, concurrency: 100, overheadSecondsPerBatch: 2, fixedSeconds: 10 });
    expect(e.uncompressedBytes).toBe(800e9);
    expect(e.objects).toBe(100_000);
    // 800 GB at 100 MB/s is 8,000 CPU-s; a batch may hold (450 - 2) s = 44.8 GB, so 18 would
    // do, but the concurrency asks for 100 batches of 8 GB: 80 s each plus 2 s.
    expect(e.batches).toBe(100);
    expect(e.uncompressedBytesPerBatch).toBe(8e9);
    expect(e.secondsPerBatch).toBeCloseTo(82, 9);
    expect(e.waves).toBe(1);
    expect(e.wallSeconds).toBeCloseTo(92, 9);
    expect(e.cpuSeconds).toBeCloseTo(8000, 6);
    const gbS = 100 * 82 * (LAMBDA_MB_PER_VCPU / 1024);
    expect(e.cost.lambda).toBeCloseTo(gbS * PRICES.lambdaGbSecond + 100 * PRICES.lambdaRequest, 12);
    expect(e.cost.stepFunctions).toBeCloseTo((100 * 3 + 10) * PRICES.stepFunctionsTransition, 12);
    expect(e.cost.s3).toBeCloseTo(100 * PRICES.s3List + 100_000 * PRICES.s3Get + 101 * PRICES.s3Put + 100 * PRICES.s3List, 12);
    expect(e.cost.total).toBeCloseTo(e.cost.lambda + e.cost.stepFunctions + e.cost.s3, 12);
  });

  test('a store too big for one wave is cut into batches that fit the timeout share, run in waves', () => {
    const e = estimate(measured, { name: 't', storedBytes: 10e12, concurrency: 100, overheadSecondsPerBatch: 2, fixedSeconds: 10 });
    // 80 TB uncompressed / 44.8 GB per batch = 1,786 batches, 18 waves of 100.
    expect(e.batches).toBe(Math.ceil(80e12 / 44.8e9));
    expect(e.waves).toBe(18);
    expect(e.secondsPerBatch).toBeLessThanOrEqual(450);
    expect(e.wallSeconds).toBeCloseTo(10 + 18 * (80e12 / e.batches / 1e8 + 2), 6);
  });

  test('never more batches than objects, and bad inputs are refused', () => {
    const e = estimate({ ...measured, storedBytesPerObject: 50e9 }, { name: 't', storedBytes: 100e9, concurrency: 1000 });
    expect(e.objects).toBe(2);
    expect(e.batches).toBe(2);
    expect(() => estimate({ ...measured, cpuSecondsPerUncompressedGb: 0 }, { name: 't', storedBytes: 1, concurrency: 1 })).toThrow(RangeError);
    expect(() => estimate(measured, { name: 't', storedBytes: 1, concurrency: 0 })).toThrow(RangeError);
  });

  test('rewritten objects cost their CPU and seven requests each (three of the PUT class), and slow every batch by their share', () => {
    // Half the objects rewritten at 30 CPU-s per GB: 10 + 0.5 x 30 = 25 CPU-s per GB scanned.
    const withRewrites = { ...measured, rewrite: { share: 0.5, cpuSecondsPerUncompressedGb: 30 } };
    const e = estimate(withRewrites, { name: 't', storedBytes: 100e9, concurrency: 100, overheadSecondsPerBatch: 2, fixedSeconds: 10 });
    const plain = estimate(measured, { name: 't', storedBytes: 100e9, concurrency: 100, overheadSecondsPerBatch: 2, fixedSeconds: 10 });
    expect(e.rewrittenObjects).toBe(50_000);
    expect(plain.rewrittenObjects).toBe(0);
    expect(e.batches).toBe(100);
    expect(e.secondsPerBatch).toBeCloseTo(8 * 25 + 2, 9);
    expect(e.cpuSeconds).toBeCloseTo(800 * 25, 6);
    expect(e.cost.s3 - plain.cost.s3).toBeCloseTo(50_000 * (3 * PRICES.s3Put + 4 * PRICES.s3Get), 12);
    expect(() => estimate({ ...measured, rewrite: { share: 1.5, cpuSecondsPerUncompressedGb: 1 } }, { name: 't', storedBytes: 1, concurrency: 1 })).toThrow(RangeError);
  });

  test('the standard table is 100 GB and 10 TB at concurrency 100 and 1,000, in measured-size and 8 MB objects', () => {
    expect(standardScenarios().map((s) => [s.storedBytes, s.concurrency, s.storedBytesPerObject])).toEqual([
      [100e9, 100, undefined],
      [100e9, 1000, undefined],
      [100e9, 100, 8e6],
      [100e9, 1000, 8e6],
      [10e12, 100, undefined],
      [10e12, 1000, undefined],
      [10e12, 100, 8e6],
      [10e12, 1000, 8e6],
    ]);
    // The object size sets the object count, nothing else.
    const [measuredSize, , eightMb] = standardScenarios().map((s) => estimate(measured, s));
    expect(eightMb.objects).toBe(12_500);
    expect(measuredSize.objects).toBe(100_000);
    expect(eightMb.uncompressedBytes).toBe(measuredSize.uncompressedBytes);
  });
});
