/**
 * Every page of ListObjectVersions under a prefix (the SDK has no paginator for it), following
 * KeyMarker / VersionIdMarker. The caller sends each request, so it keeps its own error mapping
 * and request counts, and may stop early by leaving the loop.
 */
import { ListObjectVersionsCommand, type ListObjectVersionsCommandInput, type ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import { UnexpectedResponseError } from '../core/errors';

export async function* versionPages(
  send: (command: ListObjectVersionsCommand) => Promise<ListObjectVersionsCommandOutput>,
  /** A KeyMarker here is where the first page starts (the keys after it). */
  input: Omit<ListObjectVersionsCommandInput, 'VersionIdMarker'>,
  /** What to throw for a page that says it is truncated but gives nothing to continue from. */
  noMarker: (message: string) => Error = (message) => new UnexpectedResponseError(message),
): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let keyMarker: string | undefined = input.KeyMarker;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await send(
      new ListObjectVersionsCommand({
        ...input,
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker !== undefined ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    yield page;
    if (!page.IsTruncated) return;
    if (page.NextKeyMarker === undefined && page.NextVersionIdMarker === undefined) throw noMarker('ListObjectVersions was truncated without a marker to continue from');
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}
