import { readSmallBody } from '../body';
import { errors } from '../errors';
import { flag, param, sendEmpty, sendXml, type Ctx } from '../http';
import type { ObjectVersion, Retention } from '../model';
import { parseDate, parseLockMode, validateTags } from '../objectmeta';
import type { Bucket } from '../store';
import { resolveVersion, versionHeader } from '../versions';
import { child, children, isoDate, parseXml, text, type XmlNode } from '../xml';

/** Object sub-resources (tagging, retention, legal hold) address one version, the current one by default. */
function target(ctx: Ctx): { b: Bucket; v: ObjectVersion } {
  const b = ctx.store.bucket(ctx.bucket);
  return { b, v: resolveVersion(b, ctx.key, param(ctx, 'versionId')) };
}

export function getObjectTagging(ctx: Ctx): void {
  const { b, v } = target(ctx);
  const tags: XmlNode[] = v.tags.map((t) => ['Tag', [['Key', t.key], ['Value', t.value]]]);
  sendXml(ctx, 'Tagging', [['TagSet', tags]], 200, versionHeader(b, v));
}

export async function putObjectTagging(ctx: Ctx): Promise<void> {
  const body = await readSmallBody(ctx.req);
  const { b, v } = target(ctx);
  const doc = parseXml(body, 'Tagging');
  const set = child(doc, 'TagSet');
  if (!set) throw errors.malformedXml();
  const tags = children(set, 'Tag').map((t) => {
    const key = text(t, 'Key', true);
    if (key === undefined) throw errors.malformedXml();
    return { key, value: text(t, 'Value', true) ?? '' };
  });
  v.tags = validateTags(tags);
  await ctx.store.saveKey(b, ctx.key);
  sendEmpty(ctx, 200, versionHeader(b, v));
}

export async function deleteObjectTagging(ctx: Ctx): Promise<void> {
  const { b, v } = target(ctx);
  v.tags = [];
  await ctx.store.saveKey(b, ctx.key);
  sendEmpty(ctx, 204, versionHeader(b, v));
}

function lockTarget(ctx: Ctx): { b: Bucket; v: ObjectVersion } {
  const b = ctx.store.bucket(ctx.bucket);
  if (!b.meta.objectLock) throw errors.missingLockConfig();
  return target(ctx);
}

/**
 * S3's rules while a retention period runs: COMPLIANCE can only be kept or lengthened, in
 * COMPLIANCE mode (no bypass helps); GOVERNANCE can be kept or lengthened in GOVERNANCE mode,
 * and anything else (shortened, removed, or turned into COMPLIANCE) needs
 * x-amz-bypass-governance-retention. Expired retention can be changed freely.
 */
function checkRetentionChange(current: Retention | undefined, next: Retention | undefined, bypass: boolean): void {
  if (!current || current.until <= Date.now()) return;
  const keepsOrExtends = next !== undefined && next.mode === current.mode && next.until >= current.until;
  if (keepsOrExtends) return;
  if (current.mode === 'COMPLIANCE' || !bypass) throw errors.objectLocked();
}

export async function putObjectRetention(ctx: Ctx): Promise<void> {
  const body = await readSmallBody(ctx.req, true);
  const { b, v } = lockTarget(ctx);
  const doc = parseXml(body, 'Retention');
  const modeText = text(doc, 'Mode');
  const untilText = text(doc, 'RetainUntilDate');
  if ((modeText === undefined) !== (untilText === undefined)) throw errors.malformedXml();
  let next: Retention | undefined;
  if (modeText !== undefined && untilText !== undefined) {
    const mode = parseLockMode(modeText);
    const until = parseDate(untilText, 'RetainUntilDate');
    if (until <= Date.now()) throw errors.invalidArgument('The retain until date must be in the future!');
    if (mode) next = { mode, until };
  }
  checkRetentionChange(v.retention, next, flag(ctx, 'x-amz-bypass-governance-retention'));
  v.retention = next;
  await ctx.store.saveKey(b, ctx.key);
  sendEmpty(ctx, 200, versionHeader(b, v));
}

export function getObjectRetention(ctx: Ctx): void {
  const { b, v } = lockTarget(ctx);
  if (!v.retention) throw errors.noObjectLockConfig();
  sendXml(
    ctx,
    'Retention',
    [['Mode', v.retention.mode], ['RetainUntilDate', isoDate(v.retention.until)]],
    200,
    versionHeader(b, v),
  );
}

export async function putObjectLegalHold(ctx: Ctx): Promise<void> {
  const body = await readSmallBody(ctx.req, true);
  const { b, v } = lockTarget(ctx);
  const status = text(parseXml(body, 'LegalHold'), 'Status');
  if (status !== 'ON' && status !== 'OFF') throw errors.malformedXml();
  v.legalHold = status === 'ON';
  await ctx.store.saveKey(b, ctx.key);
  sendEmpty(ctx, 200, versionHeader(b, v));
}

export function getObjectLegalHold(ctx: Ctx): void {
  const { b, v } = lockTarget(ctx);
  if (v.legalHold === undefined) throw errors.noObjectLockConfig();
  sendXml(ctx, 'LegalHold', [['Status', v.legalHold ? 'ON' : 'OFF']], 200, versionHeader(b, v));
}
