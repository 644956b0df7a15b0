/**
 * S3 error responses. Codes, statuses and messages follow AWS's published error table so that
 * the SDK and CLI map them to the same exception names they would against real S3.
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra child elements of <Error>, e.g. Key, BucketName, VersionId. */
    readonly details: Record<string, string> = {},
    /** Extra response headers, e.g. x-amz-delete-marker on a 404 for a delete marker. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const errors = {
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string, headers: Record<string, string> = {}) =>
    new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', { Key: key, VersionId: versionId }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(
      'BucketAlreadyOwnedByYou',
      409,
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: bucket },
    ),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket }),
  invalidBucketState: (message: string) => new S3Error('InvalidBucketState', 409, message),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      'InvalidArgument',
      400,
      message,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  malformedXml: () =>
    new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  invalidRange: (range: string, size: number) =>
    new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
      RangeRequested: range,
      ActualObjectSize: String(size),
    }),
  objectLocked: () => new S3Error('AccessDenied', 403, 'Access Denied because object protected by object lock.'),
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', 403, message),
  notImplemented: (what: string) =>
    new S3Error('NotImplemented', 501, `A header or query you provided implies functionality that is not implemented: ${what}`),
  methodNotAllowed: (headers: Record<string, string> = {}) =>
    new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', {}, headers),
  badDigest: (what: string) =>
    new S3Error('BadDigest', 400, `The ${what} you specified did not match the calculated checksum.`),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  incompleteBody: () =>
    new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header'),
  entityTooLarge: (max: number) =>
    new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', {
      MaxSizeAllowed: String(max),
    }),
  entityTooSmall: () =>
    new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  invalidPart: () =>
    new S3Error(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  invalidTag: (message: string) => new S3Error('InvalidTag', 400, message),
  noLockConfig: () =>
    new S3Error('ObjectLockConfigurationNotFoundError', 404, 'Object Lock configuration does not exist for this bucket'),
  noObjectLockConfig: () =>
    new S3Error('NoSuchObjectLockConfiguration', 404, 'The specified object does not have a ObjectLock configuration'),
  missingLockConfig: () => new S3Error('InvalidRequest', 400, 'Bucket is missing Object Lock Configuration'),
  expired: (expires: string, serverTime: string) =>
    new S3Error('AccessDenied', 403, 'Request has expired', { Expires: expires, ServerTime: serverTime }),
  internal: () =>
    new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
};
