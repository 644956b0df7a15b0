/**
 * Imported first by the generated entry of the functions that anonymize (infra/functions.ts):
 * it runs before the handler module, and its top-level await holds the init phase until the
 * HMAC key is in memory. The key never goes into an environment variable, a file or a log line.
 */
import { provideHmacKey } from '../../functions/core/runtime';
import { fetchSecretString } from './secret';

const secretArn = process.env.DSR_HMAC_SECRET_ARN;
if (secretArn) provideHmacKey(await fetchSecretString(secretArn));
